/*
 * settings_load.h - the layers asgid_settings_load_args stacks: the configuration file and
 * the command line (the environment layer is small enough to live in settings_load.c).
 *
 * Internal to src/settings/.
 */
#ifndef ASGID_SETTINGS_LOAD_H
#define ASGID_SETTINGS_LOAD_H

#include <stddef.h>
#include <stdio.h>

#include "settings/settings_descriptor.h"

/* Reads the INI file at `path` as the file layer of `s`. `named_by` says where the path came
 * from ("--config", "ASGID_CONFIG") for the message when the file cannot be read. Returns the
 * number of errors written to `err`. */
int settings_apply_file(asgid_settings *s, const char *path, const char *named_by, FILE *err);

/* An option that is an action rather than a setting (--help, --print-config, ...). */
typedef struct settings_action_option {
  const char *long_name; /* without the leading "--" */
  char short_flag;       /* or 0 */
  asgid_settings_action action;
  const char *help;
  const char *value_name; /* the value it takes ("COMMAND"), or NULL for none */
} settings_action_option;

extern const settings_action_option settings_action_options[];
extern const size_t settings_action_option_count;

/* One setting given on the command line, kept until the lower layers are loaded. */
typedef struct settings_cli_value {
  const settings_descriptor *setting;
  const char *text;
  const char *flag; /* the option as written ("-w", "--workers"), for messages */
  int flag_length;
} settings_cli_value;

/* The command line, parsed but not yet applied. */
typedef struct settings_cli {
  settings_cli_value *values; /* in command line order */
  size_t count;
  const char *config_path;      /* -c/--config, or NULL */
  const char *config_flag;      /* how config_path was given, for messages */
  asgid_settings_action action; /* ASGID_ACTION_RUN unless an action option was given */
  const char *action_value;     /* the value of an action that takes one, or NULL */
} settings_cli;

/* Parses argv (argv[0] is the program) into `cli`, writing each error to `err` as one line
 * "command line <option>: message". Returns the number of errors; `cli` must be freed with
 * settings_cli_free in every case. */
int settings_cli_parse(settings_cli *cli, int argc, char **argv, FILE *err);

/* Applies the command line's settings as the top layer of `s`. Returns the number of
 * errors written to `err`. */
int settings_cli_apply(asgid_settings *s, const settings_cli *cli, FILE *err);

/* Frees what settings_cli_parse allocated. */
void settings_cli_free(settings_cli *cli);

#endif /* ASGID_SETTINGS_LOAD_H */
