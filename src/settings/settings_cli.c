/*
 * settings_cli.c - the command line: action options, -c/--config, one option per setting
 * (--name VALUE, --name=VALUE, the row's short flag, bare BOOL options) and the app as a
 * single positional argument, like `gunicorn module:app`.
 */
#include "settings/settings_load.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "platform/platform.h"

const settings_action_option settings_action_options[] = {
    {"help", 'h', ASGID_ACTION_HELP, "show this help and exit", NULL},
    {"version", 'v', ASGID_ACTION_VERSION, "print the version and exit", NULL},
    {"check-config", 0, ASGID_ACTION_CHECK_CONFIG,
     "load the configuration; report every error, or \"configuration OK\"", NULL},
    {"print-config", 0, ASGID_ACTION_PRINT_CONFIG,
     "print every setting's value and where it came from", NULL},
    {"settings-doc", 0, ASGID_ACTION_SETTINGS_DOC,
     "print the settings reference (docs/settings.md)", NULL},
    {"example-config", 0, ASGID_ACTION_EXAMPLE_CONF,
     "print a commented configuration file (conf/asgid.ini)", NULL},
    /* The commands are master/control_commands.c's table; a unit test checks this list. */
    {"control", 0, ASGID_ACTION_CONTROL,
     "send COMMAND to the master named by --pidfile: stop, quit, reload, reopen, incr, decr, "
     "upgrade (docs/operations.md)",
     "COMMAND"},
};
const size_t settings_action_option_count =
    sizeof settings_action_options / sizeof settings_action_options[0];

/* The option being parsed: argv[*index], which may take the next argument as its value. */
typedef struct cli_option {
  const char *flag; /* "-w" or "--workers", as written */
  int flag_length;
  const char *attached_value; /* after '=' (long) or the letter (short), or NULL */
} cli_option;

/* Room for an argument shown in a message. */
enum { SHOWN_SIZE = 256 };

/* The first `length` bytes of an argument, made safe to show in a message (settings_escaped):
 * an argument may hold any byte, a terminal's escape sequences included. */
static const char *shown(const char *arg, int length, char buf[SHOWN_SIZE]) {
  char copy[SHOWN_SIZE];
  snprintf(copy, sizeof copy, "%.*s", length, arg);
  return settings_escaped(copy, buf, SHOWN_SIZE);
}

static void report(FILE *err, const cli_option *option, const char *format, ...)
    PLATFORM_PRINTF(3, 4);
static void report(FILE *err, const cli_option *option, const char *format, ...) {
  char flag[SHOWN_SIZE];
  fprintf(err, "command line %s: ", shown(option->flag, option->flag_length, flag));
  va_list args;
  va_start(args, format);
  vfprintf(err, format, args);
  va_end(args);
  fputc('\n', err);
}

/* The option's value: attached, or the next argument (consumed). NULL if there is none. */
static const char *take_value(const cli_option *option, int argc, char **argv, int *index) {
  if (option->attached_value)
    return option->attached_value;
  if (*index + 1 < argc)
    return argv[++*index];
  return NULL;
}

static const settings_action_option *find_action(const char *long_name, size_t length,
                                                 char short_flag) {
  for (size_t i = 0; i < settings_action_option_count; i++) {
    const settings_action_option *a = &settings_action_options[i];
    if (long_name ? strlen(a->long_name) == length && memcmp(a->long_name, long_name, length) == 0
                  : a->short_flag != 0 && a->short_flag == short_flag)
      return a;
  }
  return NULL;
}

static int choose_action(settings_cli *cli, const settings_action_option *a,
                         const cli_option *option, int argc, char **argv, int *index, FILE *err) {
  if (option->attached_value && !a->value_name) {
    report(err, option, "takes no value");
    return 1;
  }
  const char *value = a->value_name ? take_value(option, argc, argv, index) : NULL;
  if (a->value_name && !value) {
    report(err, option, "needs a value (%s)", a->value_name);
    return 1;
  }
  if (cli->action != ASGID_ACTION_RUN && (cli->action != a->action || value)) {
    report(err, option, "only one action at a time");
    return 1;
  }
  cli->action = a->action;
  cli->action_value = value;
  return 0;
}

/* The setting a long option names: "--keepalive-timeout" is keepalive_timeout. */
static const settings_descriptor *find_long_setting(const char *name, size_t length) {
  char key[SETTINGS_ENV_NAME_SIZE];
  if (length >= sizeof key)
    return NULL;
  for (size_t i = 0; i < length; i++)
    key[i] = name[i] == '-' ? '_' : name[i];
  return settings_find(key, length);
}

/* The long option nearest to `name` (`length` bytes, without "--"): a setting's, an
 * action's or --config; NULL when none is near. */
static const char *nearest_long_option(const char *name, size_t length) {
  settings_guess guess = {.name = name, .length = length};
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++)
    settings_guess_offer(&guess, settings_descriptors[i].name);
  for (size_t i = 0; i < settings_action_option_count; i++)
    settings_guess_offer(&guess, settings_action_options[i].long_name);
  settings_guess_offer(&guess, "config");
  if (guess.nearest)
    return guess.nearest;
  const settings_descriptor *d = settings_nearest(name, length); /* a shortened name */
  return d ? d->name : NULL;
}

/* "unknown option", with the nearest long option when one is near (`name`: a long option's
 * name, NULL for a short one). */
static void report_unknown_option(FILE *err, const cli_option *option, const char *name,
                                  size_t length) {
  const char *nearest = name ? nearest_long_option(name, length) : NULL;
  if (!nearest) {
    report(err, option, "unknown option (see --help)");
    return;
  }
  char written[SETTINGS_ENV_NAME_SIZE];
  snprintf(written, sizeof written, "%s", nearest);
  for (char *p = written; *p; p++)
    if (*p == '_')
      *p = '-';
  report(err, option, "unknown option; did you mean --%s? (see --help)", written);
}

/* The value of a BOOL option given without '=': the next argument when it is a boolean word
 * (--reuse-port on, --factory false), consumed; otherwise "on", and the next argument is left
 * alone (the app, or another option). */
static const char *bool_value(const settings_descriptor *d, int argc, char **argv, int *index) {
  settings_scalar ignored;
  char message[128];
  if (*index + 1 < argc && settings_parse_scalar(d, argv[*index + 1], &ignored, message,
                                                 sizeof message) == 0)
    return argv[++*index];
  return "on";
}

/* argv[*index], an option: an action, -c/--config, or a setting. Returns the errors. */
static int parse_option(settings_cli *cli, int argc, char **argv, int *index, FILE *err) {
  const char *arg = argv[*index];
  bool is_long = arg[1] == '-';
  cli_option option = {.flag = arg};
  const char *name = NULL;
  size_t name_length = 0;
  if (is_long) {
    name = arg + 2;
    const char *equals = strchr(name, '=');
    name_length = equals ? (size_t)(equals - name) : strlen(name);
    option.flag_length = (int)(2 + name_length);
    option.attached_value = equals ? equals + 1 : NULL;
  } else {
    option.flag_length = 2;
    option.attached_value = arg[2] ? arg + 2 : NULL;
  }

  const settings_action_option *action = find_action(name, name_length, arg[1]);
  if (action)
    return choose_action(cli, action, &option, argc, argv, index, err);

  bool is_config = is_long ? name_length == 6 && memcmp(name, "config", 6) == 0 : arg[1] == 'c';
  const settings_descriptor *d =
      is_long ? find_long_setting(name, name_length) : settings_find_short(arg[1]);
  if (!is_config && !d) {
    report_unknown_option(err, &option, is_long ? name : NULL, name_length);
    return 1;
  }
  const char *value = d && d->kind == ASGID_KIND_BOOL && !option.attached_value
                          ? bool_value(d, argc, argv, index)
                          : take_value(&option, argc, argv, index);
  if (!value) {
    report(err, &option, "needs a value");
    return 1;
  }
  if (is_config) {
    if (cli->config_path) {
      report(err, &option, "only one configuration file can be read");
      return 1;
    }
    cli->config_path = value;
    cli->config_flag = is_long ? "--config" : "-c";
    return 0;
  }
  cli->values[cli->count++] = (settings_cli_value){
      .setting = d, .text = value, .flag = option.flag, .flag_length = option.flag_length};
  return 0;
}

/* Whether `arg` is a BOOL option without an attached value ("--reuse-port", "-x"). */
static bool is_bare_bool_option(const char *arg) {
  if (arg[0] != '-' || strchr(arg, '='))
    return false;
  const settings_descriptor *d = arg[1] == '-' ? find_long_setting(arg + 2, strlen(arg + 2))
                                 : arg[1] && !arg[2] ? settings_find_short(arg[1])
                                                     : NULL;
  return d && d->kind == ASGID_KIND_BOOL;
}

/* The app taken from the arguments: the positional one, and the BOOL option right before it
 * (NULL if none), which a word that is not a boolean ("--reuse-port enabled") left alone. */
typedef struct positional_app {
  const char *app;
  const char *after_bool;
} positional_app;

/* Ends a message about the positional app: when it followed a BOOL option, how that
 * option's value is written, as it was likely meant for it. */
static void end_app_message(FILE *err, const positional_app *positional) {
  if (positional->after_bool) {
    char flag[SHOWN_SIZE];
    const char *option = positional->after_bool;
    fprintf(err, "; if it was meant as the value of %s, write on, off, true, false, yes, no, 1 "
                 "or 0",
            shown(option, (int)strlen(option), flag));
  }
  fputc('\n', err);
}

/* A single positional argument is the app, unless --app/-a gives it. */
static int add_positional_app(settings_cli *cli, const positional_app *positional, FILE *err) {
  const char *app = positional->app;
  const settings_descriptor *d = settings_find("app", 3);
  for (size_t i = 0; i < cli->count; i++) {
    if (cli->values[i].setting == d) {
      char shown_app[SHOWN_SIZE], flag[SHOWN_SIZE];
      fprintf(err, "command line %s: the app is given by %s too",
              shown(app, (int)strlen(app), shown_app),
              shown(cli->values[i].flag, cli->values[i].flag_length, flag));
      end_app_message(err, positional);
      return 1;
    }
  }
  cli->values[cli->count++] =
      (settings_cli_value){.setting = d, .text = app, .flag = app, .flag_length = (int)strlen(app)};
  return 0;
}

int settings_cli_parse(settings_cli *cli, int argc, char **argv, FILE *err) {
  *cli = (settings_cli){.action = ASGID_ACTION_RUN};
  /* each argument gives at most one value, the positional app included */
  cli->values = malloc(sizeof *cli->values * (argc > 0 ? (size_t)argc : 1));
  if (!cli->values) {
    fputs("command line: out of memory\n", err);
    return 1;
  }
  int errors = 0;
  positional_app positional = {0};
  bool options_ended = false;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (!options_ended && strcmp(arg, "--") == 0) {
      options_ended = true;
    } else if (!options_ended && arg[0] == '-' && arg[1] != '\0') {
      errors += parse_option(cli, argc, argv, &i, err);
    } else if (positional.app) {
      char shown_arg[SHOWN_SIZE], shown_app[SHOWN_SIZE];
      const char *app = positional.app;
      fprintf(err, "command line %s: unexpected argument (the app is already %s)",
              shown(arg, (int)strlen(arg), shown_arg), shown(app, (int)strlen(app), shown_app));
      end_app_message(err, &positional);
      errors++;
    } else {
      positional.app = arg;
      if (!options_ended && is_bare_bool_option(argv[i - 1]))
        positional.after_bool = argv[i - 1];
    }
  }
  if (positional.app)
    errors += add_positional_app(cli, &positional, err);
  return errors;
}

int settings_cli_apply(asgid_settings *s, const settings_cli *cli, FILE *err) {
  settings_layer layer = {.source = ASGID_SOURCE_CLI};
  int errors = 0;
  for (size_t i = 0; i < cli->count; i++) {
    const settings_cli_value *v = &cli->values[i];
    char message[512];
    if (settings_set(s, v->setting, v->text, &layer, NULL, message, sizeof message) < 0) {
      char flag[SHOWN_SIZE];
      fprintf(err, "command line %s: %s\n", shown(v->flag, v->flag_length, flag), message);
      errors++;
    }
  }
  return errors;
}

void settings_cli_free(settings_cli *cli) {
  free(cli->values);
  cli->values = NULL;
  cli->count = 0;
}
