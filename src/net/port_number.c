/* port_number.c - a decimal TCP port. See port_number.h. */
#include "net/port_number.h"

int port_number_parse(const char *text, size_t len) {
  if (len == 0) return -1;
  long value = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
    if (value > 65535) return -1; /* also keeps a long run of digits from overflowing */
  }
  return (int)value;
}
