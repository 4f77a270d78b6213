/* header_lookup.c - finding a header by name. See header_lookup.h. */
#include "http/header_lookup.h"

#include <string.h>

int http_header_name_is(const asgid_header *h, const char *lowercase) {
  size_t len = strlen(lowercase);
  return h->name_len == len && memcmp(h->name, lowercase, len) == 0;
}

asgid_header *http_header_find(const asgid_header *headers, size_t count, const char *lowercase) {
  for (size_t i = 0; i < count; i++)
    if (http_header_name_is(&headers[i], lowercase)) return (asgid_header *)&headers[i];
  return NULL;
}
