/*
 * settings_help.c - --help, generated from the action options and the settings table.
 */
#include "settings/settings_load.h"

/* Option names are padded to this column, then the help follows. */
enum { HELP_COLUMN = 24 };

static void print_actions(FILE *out) {
  fputs("Actions:\n", out);
  for (size_t i = 0; i < settings_action_option_count; i++) {
    const settings_action_option *a = &settings_action_options[i];
    int width = a->short_flag ? fprintf(out, "  -%c, --%s", a->short_flag, a->long_name)
                              : fprintf(out, "      --%s", a->long_name);
    if (a->value_name) width += fprintf(out, " %s", a->value_name);
    fprintf(out, "%*s%s\n", width < HELP_COLUMN ? HELP_COLUMN - width : 2, "", a->help);
  }
}

static void print_setting(FILE *out, const settings_descriptor *d) {
  if (d->short_flag)
    fprintf(out, "  -%c, ", d->short_flag);
  else
    fputs("      ", out);
  settings_write_long_option(out, d);
  fprintf(out, "\n        %s\n", d->help);

  char name[SETTINGS_ENV_NAME_SIZE];
  char buf[SETTINGS_VALUE_TEXT_SIZE];
  settings_env_name(d, name);
  const char *default_text = settings_default_text(d, buf);
  fprintf(out, "        %s, default %s", name, *default_text ? default_text : "empty");
  if (settings_has_bounds(d)) {
    char low[SETTINGS_VALUE_TEXT_SIZE], high[SETTINGS_VALUE_TEXT_SIZE];
    fprintf(out, ", %s to %s", settings_bound_text(d, d->min, low),
            settings_bound_text(d, d->max, high));
  }
  fputc('\n', out);
}

void asgid_settings_print_help(FILE *out, const char *program) {
  fprintf(out, "Usage: %s [OPTION]... [APP]\n", program);
  fputs("An ASGI-style application server. APP is the same as --app APP.\n\n", out);
  print_actions(out);
  fputs("\nConfiguration file:\n"
        "  -c, --config FILE     read settings from this INI file (else from $ASGID_CONFIG)\n\n",
        out);
  fputs("Settings, by section of the configuration file. Precedence: defaults < file <\n"
        "environment (the variable shown) < command line. Sizes take k, m, g (powers of 1024);\n"
        "durations ms, s, m, h (a bare number is seconds). A boolean option alone means on;\n"
        "its value may follow it or be attached (--reuse-port off, --reuse-port=off). A\n"
        "list setting takes its option once per value; in the environment, separate values\n"
        "with commas.\n",
        out);
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    if (settings_starts_section(i))
      fprintf(out, "\n[%s]\n", settings_descriptors[i].section);
    print_setting(out, &settings_descriptors[i]);
  }
}
