/* portable.c - what C11 lacks and asgid needs on every platform, in portable C. See
 * platform.h. */
#include <stdlib.h>
#include <string.h>

#include "platform/platform.h"

char *platform_strndup(const char *s, size_t len) {
  const char *end = memchr(s, '\0', len);
  size_t n = end ? (size_t)(end - s) : len;
  char *copy = malloc(n + 1);
  if (!copy) return NULL;
  memcpy(copy, s, n);
  copy[n] = '\0';
  return copy;
}
