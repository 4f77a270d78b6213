/* fields.c - header field character classes. See fields.h. */
#include "abi/fields.h"

#include <string.h>


/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" /
 *         "~" / DIGIT / ALPHA. A table: this runs on every header byte of every response. */
static const unsigned char tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

int asgi_field_name_valid(const char *name, size_t len) {
  if (len == 0) return 0;
  for (size_t i = 0; i < len; i++)
    if (!tchar[(unsigned char)name[i]]) return 0;
  return 1;
}

int asgi_field_value_valid(const char *value, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)value[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
  }
  return 1;
}

int asgi_field_equals_n(const char *field, size_t len, const char *lowercase, size_t n) {
  if (len != n) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)field[i];
    if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
    if (c != (unsigned char)lowercase[i]) return 0;
  }
  return 1;
}

int asgi_field_parse_length(const char *value, size_t len, uint64_t *out) {
  if (len == 0 || len > 19) return -1;
  uint64_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (value[i] < '0' || value[i] > '9') return -1;
    n = n * 10 + (uint64_t)(value[i] - '0');
  }
  *out = n;
  return 0;
}

size_t asgi_headers_size(const asgid_header *headers, size_t n) {
  size_t bytes = n * sizeof *headers;
  for (size_t i = 0; i < n; i++) bytes += headers[i].name_len + headers[i].value_len;
  return bytes;
}

asgid_header *asgi_headers_copy(const asgid_header *headers, size_t n, void *dst) {
  asgid_header *copy = dst;
  char *cursor = (char *)(copy + n);
  for (size_t i = 0; i < n; i++) {
    const asgid_header *h = &headers[i];
    if (h->name_len) memcpy(cursor, h->name, h->name_len);
    copy[i].name = cursor;
    copy[i].name_len = h->name_len;
    cursor += h->name_len;
    if (h->value_len) memcpy(cursor, h->value, h->value_len);
    copy[i].value = cursor;
    copy[i].value_len = h->value_len;
    cursor += h->value_len;
  }
  return copy;
}
