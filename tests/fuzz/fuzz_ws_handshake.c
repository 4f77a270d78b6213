/*
 * fuzz_ws_handshake.c - the WebSocket opening handshake (src/websocket/handshake.c) and the
 * permessage-deflate offers (deflate.c) on fields a client chose, as the HTTP/1 session hands
 * them over: names lowercase, values trimmed.
 *
 * Input layout: byte 0 the request: bits 0-1 the method (GET, POST, HEAD, GETS), bit 2
 * HTTP/1.1 (else 1.0), bit 3 a body; byte 1 the server's deflate configuration: bit 0
 * enabled, bit 1 server_no_context_takeover, bit 2 client_no_context_takeover, bits 3-5 the
 * window (9 + value % 7); then header lines "name:value" separated by newlines (up to 64).
 *
 * Checked beyond "no crash": the answer is one of the three with a status and rule that fit
 * it (a rule for NONE only when WebSocket was asked for); a valid handshake is a GET on 1.1
 * without a body and its accept key is base64 of 20 bytes; the negotiated extension stays
 * within the configuration, and the response field the server writes is itself an offer the
 * negotiation accepts with the same parameters; subprotocols are tokens; the 101 response is
 * as long as announced, starts with the status line and ends the head.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "websocket/deflate.h"
#include "websocket/handshake.h"
#include "websocket/header_list.h"

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

#define MAX_FIELDS 64

static void check_rule(const char *rule) {
  FUZZ_CHECK(rule != NULL && rule[0] != '\0');
  for (const char *c = rule; *c; c++) FUZZ_CHECK(*c >= 0x20 && *c < 0x7F);
}

/* A response value from the negotiation, read back as an offer by a server that takes
 * anything, gives the same parameters. */
static void check_response(const char *response, const ws_deflate_params *p,
                           const ws_deflate_config *cfg) {
  FUZZ_CHECK(strncmp(response, "permessage-deflate", 18) == 0);
  FUZZ_CHECK(strlen(response) < WS_DEFLATE_RESPONSE_MAX);
  FUZZ_CHECK(p->server_window_bits >= 9 && p->server_window_bits <= cfg->window_bits);
  FUZZ_CHECK(p->client_window_bits >= 8 && p->client_window_bits <= 15);
  FUZZ_CHECK(p->server_no_context_takeover >= cfg->server_no_context_takeover);
  FUZZ_CHECK(p->client_no_context_takeover >= cfg->client_no_context_takeover);
  asgid_header field = {"sec-websocket-extensions", 24, response, strlen(response)};
  ws_deflate_config any = {.enabled = 1, .window_bits = 15, .mem_level = 8, .level = -1};
  ws_deflate_params back;
  char again[WS_DEFLATE_RESPONSE_MAX];
  const char *rule = NULL;
  FUZZ_CHECK(ws_deflate_negotiate(&any, &field, 1, &back, again, &rule) == 1);
  FUZZ_CHECK(back.server_window_bits == p->server_window_bits);
  FUZZ_CHECK(back.server_no_context_takeover == p->server_no_context_takeover);
  FUZZ_CHECK(back.client_no_context_takeover == p->client_no_context_takeover);
  if (strstr(response, "client_max_window_bits")) FUZZ_CHECK(back.client_window_bits == p->client_window_bits);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
  if (size < 2) return 0;
  static const char *const methods[] = {"GET", "POST", "HEAD", "GETS"};
  const char *method = methods[input[0] & 3];
  ws_handshake_request req = {.method = method, .method_len = strlen(method),
                              .http_minor = (input[0] >> 2) & 1, .has_body = (input[0] >> 3) & 1};
  ws_deflate_config cfg = {.enabled = input[1] & 1,
                           .server_no_context_takeover = (input[1] >> 1) & 1,
                           .client_no_context_takeover = (input[1] >> 2) & 1,
                           .window_bits = 9 + ((input[1] >> 3) & 7) % 7,
                           .mem_level = 5, .level = -1};
  /* the fields: names lowercased, values trimmed, as the HTTP parser hands them over */
  char *text = malloc(size - 2 + 1);
  memcpy(text, input + 2, size - 2);
  asgid_header fields[MAX_FIELDS];
  size_t count = 0;
  for (size_t at = 0; at < size - 2 && count < MAX_FIELDS;) {
    char *line = text + at;
    char *end = memchr(line, '\n', size - 2 - at);
    size_t len = end ? (size_t)(end - line) : size - 2 - at;
    at += len + 1;
    char *colon = memchr(line, ':', len);
    if (!colon || colon == line) continue;
    for (char *c = line; c < colon; c++)
      if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    const char *value = colon + 1;
    size_t value_len = len - (size_t)(colon + 1 - line);
    while (value_len && (*value == ' ' || *value == '\t')) value++, value_len--;
    while (value_len && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t')) value_len--;
    fields[count++] = (asgid_header){line, (size_t)(colon - line), value, value_len};
  }
  req.headers = fields;
  req.header_count = count;

  /* the negotiation alone */
  ws_deflate_params params;
  char response[WS_DEFLATE_RESPONSE_MAX];
  const char *rule = NULL;
  int agreed = ws_deflate_negotiate(&cfg, fields, count, &params, response, &rule);
  FUZZ_CHECK(agreed >= -1 && agreed <= 1);
  if (agreed < 0) check_rule(rule);
  if (agreed == 1) check_response(response, &params, &cfg);
  else FUZZ_CHECK(response[0] == '\0');
  if (!cfg.enabled) FUZZ_CHECK(agreed <= 0);

  ws_handshake hs;
  ws_handshake_check(&req, &cfg, &hs);
  int asked = ws_list_has(fields, count, "upgrade", "websocket");
  switch (hs.upgrade) {
    case WS_UPGRADE_NONE:
      if (hs.rule) check_rule(hs.rule);
      FUZZ_CHECK(!hs.rule == !asked);
      break;
    case WS_UPGRADE_REFUSED:
      FUZZ_CHECK(asked);
      FUZZ_CHECK(hs.status == 400 || hs.status == 426 || hs.status == 500);
      check_rule(hs.rule);
      break;
    case WS_UPGRADE_VALID: {
      FUZZ_CHECK(asked && req.http_minor == 1 && !req.has_body && strcmp(method, "GET") == 0);
      FUZZ_CHECK(ws_list_has(fields, count, "connection", "upgrade"));
      FUZZ_CHECK(strlen(hs.accept) == WS_ACCEPT_LEN && hs.accept[WS_ACCEPT_LEN - 1] == '=');
      for (size_t i = 0; i < WS_ACCEPT_LEN - 1; i++)
        FUZZ_CHECK(ws_is_tchar((unsigned char)hs.accept[i]) || hs.accept[i] == '/');
      FUZZ_CHECK(hs.deflate == agreed);
      if (hs.deflate) {
        FUZZ_CHECK(strcmp(hs.extensions, response) == 0);
        check_response(hs.extensions, &hs.deflate_params, &cfg);
      }
      char **list;
      size_t n;
      FUZZ_CHECK(ws_handshake_subprotocols(&req, &list, &n) == 0);
      FUZZ_CHECK(!n == !list);
      for (size_t i = 0; i < n; i++) FUZZ_CHECK(ws_is_token(list[i], strlen(list[i])));
      const char *chosen = n ? list[n - 1] : NULL;
      size_t need = ws_handshake_response(NULL, 0, &hs, chosen, fields, count > 2 ? 2 : count,
                                          NULL, 0);
      char *head = malloc(need);
      FUZZ_CHECK(ws_handshake_response(head, need, &hs, chosen, fields, count > 2 ? 2 : count,
                                       NULL, 0) == need);
      FUZZ_CHECK(need > 36 && memcmp(head, "HTTP/1.1 101 Switching Protocols\r\n", 34) == 0);
      FUZZ_CHECK(memcmp(head + need - 4, "\r\n\r\n", 4) == 0);
      free(head);
      free(list);
      break;
    }
    default:
      FUZZ_CHECK(0);
  }
  free(text);
  return 0;
}
