/* handshake.c - see handshake.h. */
#include "websocket/handshake.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "websocket/header_list.h"

/* RFC 6455 §1.3: appended to the key before hashing. */
static const char ACCEPT_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static ws_upgrade refuse(ws_handshake *hs, int status, const char *rule) {
  hs->upgrade = WS_UPGRADE_REFUSED;
  hs->status = status;
  hs->rule = rule;
  return hs->upgrade;
}

/* Base64 of 16 bytes: 24 characters ending in "==", and nothing EVP_DecodeBlock refuses. */
static int key_valid(const char *key, size_t len) {
  if (len != 24 || key[22] != '=' || key[23] != '=') return 0;
  unsigned char decoded[18];
  /* It decodes whole groups of four, padding included: 24 characters give 18 bytes, the
   * last two of them the padding's. */
  return EVP_DecodeBlock(decoded, (const unsigned char *)key, 24) == 18;
}

static int compute_accept(const char *key, size_t len, char accept[WS_ACCEPT_LEN + 1]) {
  unsigned char input[24 + sizeof ACCEPT_GUID - 1];
  memcpy(input, key, len);
  memcpy(input + len, ACCEPT_GUID, sizeof ACCEPT_GUID - 1);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(input, len + sizeof ACCEPT_GUID - 1, digest, &digest_len, EVP_sha1(), NULL) != 1 ||
      digest_len != 20)
    return -1;
  return EVP_EncodeBlock((unsigned char *)accept, digest, 20) == WS_ACCEPT_LEN ? 0 : -1;
}

static ws_upgrade check(const ws_handshake_request *req, const ws_deflate_config *deflate,
                        ws_handshake *hs) {
  const asgid_header *h = req->headers;
  size_t n = req->header_count;
  if (!ws_list_has(h, n, "upgrade", "websocket")) return WS_UPGRADE_NONE;
  /* It asks for WebSocket; unless it qualifies, it is an ordinary request. */
  if (!ws_list_has(h, n, "connection", "upgrade")) {
    hs->rule = "Upgrade: websocket without Connection: upgrade; served as plain HTTP";
    return WS_UPGRADE_NONE;
  }
  if (req->method_len != 3 || memcmp(req->method, "GET", 3) != 0) {
    hs->rule = "Upgrade: websocket on a method other than GET; served as plain HTTP";
    return WS_UPGRADE_NONE;
  }
  if (req->http_minor != 1) {
    hs->rule = "Upgrade: websocket on HTTP/1.0; served as plain HTTP";
    return WS_UPGRADE_NONE;
  }
  if (req->has_body) {
    hs->rule = "Upgrade: websocket on a request with a body; served as plain HTTP";
    return WS_UPGRADE_NONE;
  }

  const char *value;
  size_t len;
  if (ws_field(h, n, "sec-websocket-version", &value, &len) != 1 || len != 2 ||
      memcmp(value, "13", 2) != 0)
    return refuse(hs, 426, "Sec-WebSocket-Version is not 13");
  size_t keys = ws_field(h, n, "sec-websocket-key", &value, &len);
  if (keys != 1) return refuse(hs, 400, keys ? "several Sec-WebSocket-Key fields"
                                             : "no Sec-WebSocket-Key");
  if (!key_valid(value, len)) return refuse(hs, 400, "Sec-WebSocket-Key is not 16 bytes in base64");
  ws_list protocols;
  ws_list_init(&protocols, h, n, "sec-websocket-protocol");
  const char *item;
  size_t item_len;
  while (ws_list_next(&protocols, &item, &item_len))
    if (!ws_is_token(item, item_len))
      return refuse(hs, 400, "Sec-WebSocket-Protocol is not a list of tokens");
  const char *rule = NULL;
  int agreed = ws_deflate_negotiate(deflate, h, n, &hs->deflate_params, hs->extensions, &rule);
  if (agreed < 0) return refuse(hs, 400, rule);
  hs->deflate = agreed;
  if (compute_accept(value, len, hs->accept) != 0)
    return refuse(hs, 500, "SHA-1 unavailable in libcrypto");
  return hs->upgrade = WS_UPGRADE_VALID;
}

void ws_handshake_check(const ws_handshake_request *req, const ws_deflate_config *deflate,
                        ws_handshake *hs) {
  memset(hs, 0, sizeof *hs);
  hs->upgrade = check(req, deflate, hs);
}

int ws_handshake_subprotocols(const ws_handshake_request *req, char ***list, size_t *count) {
  *list = NULL;
  *count = 0;
  ws_list l;
  const char *item;
  size_t len, bytes = 0, n = 0;
  ws_list_init(&l, req->headers, req->header_count, "sec-websocket-protocol");
  while (ws_list_next(&l, &item, &len)) {
    n++;
    bytes += len + 1;
  }
  if (n == 0) return 0;
  char **pointers = malloc(n * sizeof *pointers + bytes);
  if (!pointers) return -1;
  char *text = (char *)(pointers + n);
  ws_list_init(&l, req->headers, req->header_count, "sec-websocket-protocol");
  for (size_t i = 0; ws_list_next(&l, &item, &len); i++) {
    pointers[i] = text;
    memcpy(text, item, len);
    text[len] = '\0';
    text += len + 1;
  }
  *list = pointers;
  *count = n;
  return 0;
}

/* Appends to out[0..cap) while it fits; counts the length either way. */
typedef struct writer {
  char *out;
  size_t cap, len;
} writer;

static void put(writer *w, const char *s, size_t len) {
  if (w->len < w->cap && len <= w->cap - w->len) memcpy(w->out + w->len, s, len);
  w->len += len;
}

static void put_str(writer *w, const char *s) { put(w, s, strlen(s)); }

static void put_field(writer *w, const char *name, size_t name_len, const char *value,
                      size_t value_len) {
  put(w, name, name_len);
  put(w, ": ", 2);
  put(w, value, value_len);
  put(w, "\r\n", 2);
}

static void put_fields(writer *w, const asgid_header *h, size_t n) {
  for (size_t i = 0; i < n; i++) put_field(w, h[i].name, h[i].name_len, h[i].value, h[i].value_len);
}

size_t ws_handshake_response(char *out, size_t cap, const ws_handshake *hs,
                             const char *subprotocol, const asgid_header *server_headers,
                             size_t server_header_count, const asgid_header *app_headers,
                             size_t app_header_count) {
  writer w = {.out = out, .cap = cap};
  put_str(&w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Accept: ");
  put(&w, hs->accept, WS_ACCEPT_LEN);
  put(&w, "\r\n", 2);
  if (subprotocol)
    put_field(&w, "Sec-WebSocket-Protocol", 22, subprotocol, strlen(subprotocol));
  if (hs->deflate)
    put_field(&w, "Sec-WebSocket-Extensions", 24, hs->extensions, strlen(hs->extensions));
  put_fields(&w, server_headers, server_header_count);
  put_fields(&w, app_headers, app_header_count);
  put(&w, "\r\n", 2);
  return w.len;
}
