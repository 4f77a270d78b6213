/*
 * settings_load.c - stacking the layers: defaults < file < environment < command line; and
 * the environment layer (ASGID_<NAME>; a LIST takes comma-separated values).
 */
#include "settings/settings_load.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The value of `name` in `envp`, or NULL. */
static const char *find_variable(char **envp, const char *name) {
  size_t length = strlen(name);
  for (char **entry = envp; entry && *entry; entry++)
    if (strncmp(*entry, name, length) == 0 && (*entry)[length] == '=')
      return *entry + length + 1;
  return NULL;
}

/* Sets a LIST from "a, b, c": each item trimmed of surrounding whitespace is one value. */
static int set_list_from_variable(asgid_settings *s, const settings_descriptor *d,
                                  const char *value, settings_layer *layer, char *message,
                                  size_t size) {
  char *items = strdup(value);
  if (!items) {
    snprintf(message, size, "out of memory");
    return -1;
  }
  int result;
  for (char *item = items;;) {
    char *comma = strchr(item, ',');
    char *end = comma ? comma : item + strlen(item);
    while (end > item && isspace((unsigned char)end[-1]))
      end--;
    *end = '\0';
    while (isspace((unsigned char)*item))
      item++;
    result = settings_set(s, d, item, layer, NULL, message, size);
    if (result < 0 || !comma)
      break;
    item = comma + 1;
  }
  free(items);
  return result;
}

static int apply_environment(asgid_settings *s, char **envp, FILE *err) {
  settings_layer layer = {.source = ASGID_SOURCE_ENV};
  int errors = 0;
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    const settings_descriptor *d = &settings_descriptors[i];
    char name[SETTINGS_ENV_NAME_SIZE];
    settings_env_name(d, name);
    const char *value = find_variable(envp, name);
    if (!value)
      continue;
    char message[512];
    int result = d->kind == ASGID_KIND_LIST
                     ? set_list_from_variable(s, d, value, &layer, message, sizeof message)
                     : settings_set(s, d, value, &layer, NULL, message, sizeof message);
    if (result < 0) {
      fprintf(err, "environment %s: %s\n", name, message);
      errors++;
    }
  }
  return errors;
}

/* ASGID_ variables that are not settings but are asgid's own: ASGID_CONFIG names the file;
 * a master started by USR2 inherits its listeners through ASGID_INHERIT_FDS and
 * ASGID_INHERIT_FDNAMES (master/listeners.h); the build and test scripts pass the others
 * (scripts/test.sh and test-windows.sh, ctest's environment in CMakeLists.txt,
 * tests/integration/conftest.py, tests/fuzz/run.sh), and asgid runs in their environment. */
static const char *const own_variables[] = {
    "ASGID_CONFIG",     "ASGID_INHERIT_FDS",  "ASGID_INHERIT_FDNAMES", "ASGID_BIN",
    "ASGID_BINARY",     "ASGID_EXAMPLES",     "ASGID_SOURCE_DIR",      "ASGID_WS_REFERENCE",
    "ASGID_WIN_BUILD",  "ASGID_WIN_DEPS",     "ASGID_FUZZ_SECONDS"};
#define OWN_VARIABLE_PREFIX "ASGID_TEST_" /* the test suites' own switches */

static bool is_own_variable(const char *name, size_t length) {
  if (length >= strlen(OWN_VARIABLE_PREFIX) &&
      memcmp(name, OWN_VARIABLE_PREFIX, strlen(OWN_VARIABLE_PREFIX)) == 0)
    return true;
  for (size_t i = 0; i < sizeof own_variables / sizeof own_variables[0]; i++)
    if (strlen(own_variables[i]) == length && memcmp(own_variables[i], name, length) == 0)
      return true;
  return false;
}

/* An ASGID_ variable that names no setting is most likely a typo, so it is reported; only as
 * a warning, as environments carry stale variables from other versions and scripts. */
static void warn_unknown_variables(char **envp, FILE *err) {
  for (char **entry = envp; entry && *entry; entry++) {
    const char *name = *entry;
    if (strncmp(name, "ASGID_", 6) != 0)
      continue;
    const char *equals = strchr(name, '=');
    size_t length = equals ? (size_t)(equals - name) : strlen(name);
    if (is_own_variable(name, length))
      continue;
    bool is_setting = false;
    for (size_t i = 0; i < ASGID_SETTING_COUNT && !is_setting; i++) {
      char setting_name[SETTINGS_ENV_NAME_SIZE];
      settings_env_name(&settings_descriptors[i], setting_name);
      is_setting = strlen(setting_name) == length && memcmp(setting_name, name, length) == 0;
    }
    if (is_setting)
      continue;
    char copy[SETTINGS_ENV_NAME_SIZE * 4], shown[SETTINGS_ENV_NAME_SIZE * 4];
    snprintf(copy, sizeof copy, "%.*s", (int)length, name);
    settings_escaped(copy, shown, sizeof shown);
    const settings_descriptor *nearest = settings_nearest(name + 6, length - 6);
    if (nearest) {
      char nearest_name[SETTINGS_ENV_NAME_SIZE];
      settings_env_name(nearest, nearest_name);
      fprintf(err, "warning: environment %s: not a setting, ignored; did you mean %s?\n", shown,
              nearest_name);
    } else {
      fprintf(err, "warning: environment %s: not a setting, ignored (docs/settings.md lists "
                   "them)\n", shown);
    }
  }
}

/* The configuration file: -c/--config, else ASGID_CONFIG (empty means none). */
static int apply_config_file(asgid_settings *s, const settings_cli *cli, char **envp, FILE *err) {
  const char *path = cli->config_path;
  const char *named_by = cli->config_flag;
  if (!path) {
    path = find_variable(envp, "ASGID_CONFIG");
    named_by = "ASGID_CONFIG";
    if (!path || !*path)
      return 0;
  }
  s->config_path = strdup(path);
  if (!s->config_path) {
    fprintf(err, "%s: out of memory\n", path);
    return 1;
  }
  return settings_apply_file(s, path, named_by, err);
}

asgid_settings_action asgid_settings_load_args(asgid_settings *s, int argc, char **argv,
                                               char **envp, FILE *err) {
  int errors = 0;
  if (asgid_settings_init_defaults(s) < 0) {
    fputs("settings: out of memory\n", err);
    errors++;
  }
  settings_cli cli;
  errors += settings_cli_parse(&cli, argc, argv, err);
  asgid_settings_action action = cli.action;
  /* --control reads them too: the pidfile (and control_timeout) may come from any layer, so
   * that `asgid -c FILE --control reload` finds the master FILE configures. */
  bool needs_settings = action == ASGID_ACTION_RUN || action == ASGID_ACTION_PRINT_CONFIG ||
                        action == ASGID_ACTION_CHECK_CONFIG || action == ASGID_ACTION_CONTROL;
  if (needs_settings) {
    errors += apply_config_file(s, &cli, envp, err);
    errors += apply_environment(s, envp, err);
    warn_unknown_variables(envp, err);
    errors += settings_cli_apply(s, &cli, err);
  }
  if (cli.action_value && !(s->control_command = strdup(cli.action_value))) {
    fputs("command line: out of memory\n", err);
    errors++;
  }
  settings_cli_free(&cli);
  return errors ? ASGID_ACTION_ERROR : action;
}
