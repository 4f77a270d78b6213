/* proxy_session.c - reading the PROXY protocol header, then starting HTTP/1.1. See
 * proxy_session.h. */
#include "http/proxy_session.h"

#include <stdlib.h>
#include <string.h>

#include "http/h1_session.h"
#include "log/log_rate_limit.h"
#include "net/proxy_protocol.h"

typedef struct proxy_session {
  http_service *service;
  transport *transport;
  uint64_t deadline; /* loop milliseconds: proxy_protocol_timeout from the accept */
} proxy_session;

static void refuse(proxy_session *s, const char *rule) {
  log_rate_limited(&s->service->proxy_refusal_log, uv_now(s->transport->group->loop),
                   "closing connection from %s on a proxy_protocol listener: %s",
                   transport_peer_name(s->transport), rule);
  transport_close(s->transport);
}

static void on_input(void *data, size_t received) {
  (void)received;
  proxy_session *s = data;
  transport *t = s->transport;
  size_t len;
  const char *bytes = transport_unread(t, &len);
  proxy_header header;
  const char *rule;
  /* A v2 header must fit the read buffer whole: the transport never grows it. */
  switch (proxy_protocol_parse(bytes, len, TRANSPORT_READ_BUFFER_SIZE, &header, &rule)) {
  case PROXY_PARSE_MORE:
    return;
  case PROXY_PARSE_INVALID:
    refuse(s, rule);
    return;
  case PROXY_PARSE_DONE:
    break;
  }
  /* LOCAL, UNKNOWN and AF_UNIX sources name no client: the real peer stays. */
  if (header.has_source) {
    memcpy(t->client_host, header.source_host, sizeof t->client_host);
    t->client_port = header.source_port;
  }
  transport_consume(t, header.length);
  /* HTTP takes the transport over, or, out of memory, closes it while this session still
   * owns it: then its on_close frees s, so s is freed here only once HTTP owns t. */
  if (h1_session_start(s->service, t) == 0) free(s);
}

static void on_peer_eof(void *data) {
  proxy_session *s = data;
  size_t unread;
  transport_unread(s->transport, &unread);
  if (unread) {
    refuse(s, "the peer closed before a whole PROXY protocol header arrived");
    return;
  }
  /* Connected and closed without a byte: a TCP health check, not worth a line. */
  transport_close(s->transport);
}

static void nothing(void *data) { (void)data; }

static uint64_t next_deadline(void *data) { return ((proxy_session *)data)->deadline; }

static void on_deadline(void *data, uint64_t now) {
  (void)now;
  refuse(data, "no whole PROXY protocol header within proxy_protocol_timeout");
}

/* No request has begun: a stopping worker has nothing to finish here. */
static void on_stop(void *data) { transport_close(((proxy_session *)data)->transport); }

static void on_close(void *data) { free(data); }

static const transport_session_ops proxy_ops = {
    .on_input = on_input,
    .on_peer_eof = on_peer_eof,
    .on_sent = nothing,
    .before_flush = nothing,
    .next_deadline = next_deadline,
    .on_deadline = on_deadline,
    .on_stop = on_stop,
    .on_close = on_close,
};

int proxy_session_start(http_service *service, transport *t) {
  proxy_session *s = calloc(1, sizeof *s);
  if (!s) {
    transport_close(t);
    return -1;
  }
  s->service = service;
  s->transport = t;
  s->deadline = uv_now(t->group->loop) + (uint64_t)service->settings->proxy_protocol_timeout;
  transport_start(t, &proxy_ops, s);
  return 0;
}
