/*
 * settings_print_config.c - --print-config: every value and the layer it came from.
 */
#include "settings/settings_descriptor.h"

/* Values are padded to this column so that the sources line up. */
enum { SOURCE_COLUMN = 44 };

static void print_source(FILE *out, const settings_descriptor *d, const asgid_settings *s) {
  switch (settings_source_of(d, s)) {
  case ASGID_SOURCE_DEFAULT:
    fputs("default", out);
    break;
  case ASGID_SOURCE_FILE: {
    const char *origin = settings_origin_of(d, s);
    fprintf(out, "file%s%s", origin ? " " : "", origin ? origin : "");
    break;
  }
  case ASGID_SOURCE_ENV: {
    char name[SETTINGS_ENV_NAME_SIZE];
    settings_env_name(d, name);
    fprintf(out, "environment %s", name);
    break;
  }
  case ASGID_SOURCE_CLI:
    fputs("command line", out);
    break;
  }
}

void asgid_settings_print_config(const asgid_settings *s, FILE *out) {
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    const settings_descriptor *d = &settings_descriptors[i];
    if (settings_starts_section(i))
      fprintf(out, "%s[%s]\n", i == 0 ? "" : "\n", d->section);
    /* a LIST prints one line per value, each as it would be written in the file */
    for (size_t item = 0; item < settings_value_count(d, s); item++) {
      char buf[SETTINGS_VALUE_TEXT_SIZE];
      int width = fprintf(out, "%s = %s", d->name, settings_value_text(d, s, item, buf));
      fprintf(out, "%*s# ", width < SOURCE_COLUMN - 4 ? SOURCE_COLUMN - width : 4, "");
      print_source(out, d, s);
      fputs(d->applies == ASGID_APPLIES_START ? "; applies at start\n" : "\n", out);
    }
  }
}
