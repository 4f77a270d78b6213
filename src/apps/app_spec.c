/* app_spec.c - app spec parsing. See app_spec.h. */
#include "apps/app_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asgid/asgid.h"
#include "platform/platform.h"

static int is_identifier(const char *s) {
  if (!*s || (*s >= '0' && *s <= '9')) return 0;
  for (; *s; s++) {
    char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return 1;
}

static int ends_with(const char *s, size_t len, const char *suffix) {
  size_t n = strlen(suffix);
  return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* "libapp.so.1.2": a versioned shared object name. */
static int has_versioned_so(const char *s, size_t len) {
  for (const char *p = s; (p = strstr(p, ".so.")) && (size_t)(p - s) + 4 < len; p += 4)
    if (p[4] >= '0' && p[4] <= '9') return 1;
  return 0;
}

app_kind app_spec_kind(const char *spec) {
  /* The file part: the spec without a trailing ":symbol" (or Python's ":attribute"). */
  const char *colon = strrchr(spec, ':');
  size_t len = colon && is_identifier(colon + 1) ? (size_t)(colon - spec) : strlen(spec);
  if (memchr(spec, '/', len) || ends_with(spec, len, ".so") || has_versioned_so(spec, len) ||
      ends_with(spec, len, ".dylib") || ends_with(spec, len, ".dll"))
    return APP_KIND_NATIVE;
  return APP_KIND_PYTHON;
}

int app_spec_split_native(const char *spec, char **path, char **symbol) {
  const char *colon = strrchr(spec, ':');
  if (colon && is_identifier(colon + 1)) {
    *path = platform_strndup(spec, (size_t)(colon - spec));
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

int app_spec_python_file_hint(const char *spec, const char *app_dir, char *hint, size_t size) {
  const char *colon = strrchr(spec, ':');
  int has_attribute = colon && is_identifier(colon + 1);
  size_t file_len = has_attribute ? (size_t)(colon - spec) : strlen(spec);
  if (!ends_with(spec, file_len, ".py")) return 0;
  const char *slash = NULL;
  for (const char *p = spec; p < spec + file_len; p++)
    if (*p == '/') slash = p;
  const char *base = slash ? slash + 1 : spec;
  size_t dir_len = slash ? (size_t)(slash - spec) : 0;
  if (slash == spec) dir_len = 1; /* "/x.py": the root directory */
  char module[256];
  size_t module_len = (size_t)(spec + file_len - base) - 3;
  if (module_len == 0 || module_len >= sizeof module) return 0;
  memcpy(module, base, module_len);
  module[module_len] = '\0';
  if (!is_identifier(module)) return 0; /* not importable under any name: the load error says */
  /* the directory it is imported from: the file's, under app_dir when that is relative */
  char directory[1024] = "";
  if (dir_len && spec[0] != '/' && app_dir[0])
    snprintf(directory, sizeof directory, "%s/%.*s", app_dir, (int)dir_len, spec);
  else if (dir_len)
    snprintf(directory, sizeof directory, "%.*s", (int)dir_len, spec);
  snprintf(hint, size,
           "app \"%s\" names a Python file; a Python app is named module:attribute, imported "
           "from app_dir: did you mean --app %s:%s%s%s?",
           spec, module, has_attribute ? colon + 1 : "app", directory[0] ? " --app-dir " : "",
           directory);
  return 1;
}
