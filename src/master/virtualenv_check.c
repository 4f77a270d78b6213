/* virtualenv_check.c - the Python version a virtualenv was made for. See virtualenv_check.h. */
#include "master/virtualenv_check.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* The length of "X.Y" at the start of a version ("3.11" of "3.11.2"), or 0 when it does not
 * start so. */
static size_t major_minor_length(const char *version) {
  const char *p = version;
  if (!isdigit((unsigned char)*p)) return 0;
  while (isdigit((unsigned char)*p)) p++;
  if (*p++ != '.' || !isdigit((unsigned char)*p)) return 0;
  while (isdigit((unsigned char)*p)) p++;
  return (size_t)(p - version);
}

/* A line of pyvenv.cfg, "key = value": the value when the key is `key`, else NULL. The line
 * is trimmed in place. */
static char *value_of(char *line, const char *key) {
  char *equals = strchr(line, '=');
  if (!equals) return NULL;
  char *end = equals;
  while (end > line && isspace((unsigned char)end[-1])) end--;
  if ((size_t)(end - line) != strlen(key) || strncmp(line, key, strlen(key)) != 0) return NULL;
  char *value = equals + 1;
  while (isspace((unsigned char)*value)) value++;
  char *value_end = value + strlen(value);
  while (value_end > value && isspace((unsigned char)value_end[-1])) *--value_end = '\0';
  return value;
}

int virtualenv_check(const char *virtualenv, const char *python_version, char *err,
                     size_t err_size) {
  uv_fs_t req;
  int rc = uv_fs_stat(NULL, &req, virtualenv, NULL);
  int is_directory = rc == 0 && (req.statbuf.st_mode & S_IFMT) == S_IFDIR;
  uv_fs_req_cleanup(&req);
  if (!is_directory) {
    snprintf(err, err_size, "virtualenv %s: %s (create it with python3 -m venv %s)", virtualenv,
             rc != 0 ? uv_strerror(rc) : "not a directory", virtualenv);
    return -1;
  }
  size_t path_size = strlen(virtualenv) + sizeof "/pyvenv.cfg";
  char *path = malloc(path_size);
  if (!path) return 0; /* the worker's own checks follow */
  snprintf(path, path_size, "%s/pyvenv.cfg", virtualenv);
  FILE *cfg = fopen(path, "r");
  free(path);
  if (!cfg) return 0;
  char line[512], made_by[64] = "", key[16] = "";
  while (fgets(line, sizeof line, cfg)) {
    line[strcspn(line, "\r\n")] = '\0';
    const char *value = value_of(line, "version");
    /* `version` wins over virtualenv's `version_info` when a file has both */
    if (value || (!made_by[0] && (value = value_of(line, "version_info")))) {
      snprintf(made_by, sizeof made_by, "%s", value);
      snprintf(key, sizeof key, "%s", strncmp(line, "version_info", 12) == 0 ? "version_info"
                                                                             : "version");
    }
  }
  fclose(cfg);
  size_t theirs = major_minor_length(made_by), ours = major_minor_length(python_version);
  if (!theirs || !ours) return 0;
  if (theirs == ours && strncmp(made_by, python_version, ours) == 0) return 0;
  snprintf(err, err_size,
           "virtualenv %s was made for Python %.*s (its pyvenv.cfg says %s = %s) but asgid "
           "embeds Python %s: the app could not import its packages; recreate it with "
           "python%.*s -m venv %s",
           virtualenv, (int)theirs, made_by, key, made_by, python_version, (int)ours,
           python_version, virtualenv);
  return -1;
}
