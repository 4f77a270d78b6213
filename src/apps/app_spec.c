/* app_spec.c - app spec parsing. See app_spec.h. */
#include "apps/app_spec.h"

#include <stdlib.h>
#include <string.h>

#include "asgid/asgid.h"

static int is_identifier(const char *s) {
  if (!*s || (*s >= '0' && *s <= '9')) return 0;
  for (; *s; s++) {
    char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return 1;
}

app_kind app_spec_kind(const char *spec) {
  if (strchr(spec, '/') || strstr(spec, ".so") || strstr(spec, ".dylib") || strstr(spec, ".dll"))
    return APP_KIND_NATIVE;
  return APP_KIND_PYTHON;
}

int app_spec_split_native(const char *spec, char **path, char **symbol) {
  const char *colon = strrchr(spec, ':');
  if (colon && is_identifier(colon + 1)) {
    *path = strndup(spec, (size_t)(colon - spec));
    *symbol = strdup(colon + 1);
  } else {
    *path = strdup(spec);
    *symbol = strdup(ASGID_APP_ENTRY_SYMBOL);
  }
  if (!*path || !*symbol) {
    free(*path);
    free(*symbol);
    return -1;
  }
  return 0;
}
