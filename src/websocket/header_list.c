/* header_list.c - see header_list.h. */
#include "websocket/header_list.h"

#include <string.h>

int ws_is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int ws_is_token(const char *s, size_t len) {
  if (len == 0) return 0;
  for (size_t i = 0; i < len; i++)
    if (!ws_is_tchar((unsigned char)s[i])) return 0;
  return 1;
}

int ws_equal_nocase(const char *s, size_t len, const char *lower) {
  size_t n = strlen(lower);
  if (len != n) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + ('a' - 'A'));
    if (c != (unsigned char)lower[i]) return 0;
  }
  return 1;
}

static int is_name(const asgid_header *h, const char *name) {
  return h->name_len == strlen(name) && memcmp(h->name, name, h->name_len) == 0;
}

void ws_list_init(ws_list *l, const asgid_header *headers, size_t count, const char *name) {
  *l = (ws_list){.headers = headers, .count = count, .name = name};
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }

int ws_list_next(ws_list *l, const char **item, size_t *len) {
  for (; l->index < l->count; l->index++, l->offset = 0) {
    const asgid_header *h = &l->headers[l->index];
    if (!is_name(h, l->name)) continue;
    while (l->offset < h->value_len) {
      size_t start = l->offset, end = start;
      while (end < h->value_len && h->value[end] != ',') end++;
      l->offset = end < h->value_len ? end + 1 : end;
      while (start < end && is_ows(h->value[start])) start++;
      while (end > start && is_ows(h->value[end - 1])) end--;
      if (end > start) {
        *item = h->value + start;
        *len = end - start;
        return 1;
      }
    }
  }
  return 0;
}

int ws_list_has(const asgid_header *headers, size_t count, const char *name, const char *lower) {
  ws_list l;
  ws_list_init(&l, headers, count, name);
  const char *item;
  size_t len;
  while (ws_list_next(&l, &item, &len))
    if (ws_equal_nocase(item, len, lower)) return 1;
  return 0;
}

size_t ws_field(const asgid_header *headers, size_t count, const char *name, const char **value,
                size_t *len) {
  size_t found = 0;
  for (size_t i = 0; i < count; i++) {
    if (!is_name(&headers[i], name)) continue;
    found++;
    *value = headers[i].value;
    *len = headers[i].value_len;
  }
  return found;
}
