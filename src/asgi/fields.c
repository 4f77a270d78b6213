/* fields.c - header field character classes. See fields.h. */
#include "asgi/fields.h"

#include <string.h>

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" /
 *         "~" / DIGIT / ALPHA */
static int is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int asgi_field_name_valid(const char *name, size_t len) {
  if (len == 0) return 0;
  for (size_t i = 0; i < len; i++)
    if (!is_tchar((unsigned char)name[i])) return 0;
  return 1;
}

int asgi_field_value_valid(const char *value, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)value[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
  }
  return 1;
}

int asgi_field_equals(const char *field, size_t len, const char *lowercase) {
  size_t n = strlen(lowercase);
  if (len != n) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)field[i];
    if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
    if (c != (unsigned char)lowercase[i]) return 0;
  }
  return 1;
}
