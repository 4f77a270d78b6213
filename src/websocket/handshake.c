/* handshake.c - see handshake.h. */
#include "websocket/handshake.h"

#include <stdlib.h>
#include <string.h>

#include "platform/platform.h"
#include "websocket/header_list.h"

/* RFC 6455 §1.3: appended to the key before hashing. */
static const char ACCEPT_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static ws_upgrade refuse(ws_handshake *hs, int status, const char *rule) {
  hs->upgrade = WS_UPGRADE_REFUSED;
  hs->status = status;
  hs->rule = rule;
  return hs->upgrade;
}

static const char BASE64_ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of 16 bytes: 22 characters of the base64 alphabet, then "==" (RFC 6455 §4.1). */
static int key_valid(const char *key, size_t len) {
  if (len != 24 || key[22] != '=' || key[23] != '=') return 0;
  for (size_t i = 0; i < 22; i++)
    if (key[i] == '\0' || !strchr(BASE64_ALPHABET, key[i])) return 0;
  return 1;
}

/* Base64 of the 20-byte SHA-1 digest: 27 characters and one "=". */
static void base64_digest(const unsigned char digest[20], char out[WS_ACCEPT_LEN + 1]) {
  size_t o = 0;
  for (size_t i = 0; i < 20; i += 3) {
    unsigned v = (unsigned)digest[i] << 16 | (i + 1 < 20 ? (unsigned)digest[i + 1] << 8 : 0) |
                 (i + 2 < 20 ? digest[i + 2] : 0);
    out[o++] = BASE64_ALPHABET[v >> 18 & 63];
    out[o++] = BASE64_ALPHABET[v >> 12 & 63];
    out[o++] = i + 1 < 20 ? BASE64_ALPHABET[v >> 6 & 63] : '=';
    out[o++] = i + 2 < 20 ? BASE64_ALPHABET[v & 63] : '=';
  }
  out[o] = '\0';
}

static int compute_accept(const char *key, size_t len, char accept[WS_ACCEPT_LEN + 1]) {
  unsigned char input[24 + sizeof ACCEPT_GUID - 1];
  memcpy(input, key, len);
  memcpy(input + len, ACCEPT_GUID, sizeof ACCEPT_GUID - 1);
  unsigned char digest[20];
  if (platform_sha1(input, len + sizeof ACCEPT_GUID - 1, digest) != 0) return -1;
  base64_digest(digest, accept);
  return 0;
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
