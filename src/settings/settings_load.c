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
    errors += settings_cli_apply(s, &cli, err);
  }
  if (cli.action_value && !(s->control_command = strdup(cli.action_value))) {
    fputs("command line: out of memory\n", err);
    errors++;
  }
  settings_cli_free(&cli);
  return errors ? ASGID_ACTION_ERROR : action;
}
