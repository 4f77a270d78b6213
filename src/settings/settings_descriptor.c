/*
 * settings_descriptor.c - the table rows as an array, and lookups in it.
 */
#include "settings/settings_descriptor.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#define SETTINGS_DESCRIBE(name_, section_, kind_, default_, short_flag_, min_, max_, choices_,     \
                          applies_, help_)                                                                   \
  {.name = #name_,                                                                                 \
   .section = section_,                                                                            \
   .kind = ASGID_KIND_##kind_,                                                                     \
   .default_text = default_,                                                                       \
   .short_flag = short_flag_,                                                                      \
   .min = min_,                                                                                    \
   .max = max_,                                                                                    \
   .choices = choices_,                                                                            \
   .applies = ASGID_APPLIES_##applies_,                                                            \
   .help = help_,                                                                                  \
   .value_offset = offsetof(asgid_settings, name_),                                                \
   .source_offset = offsetof(asgid_settings, source.name_),                                        \
   .origin_offset = offsetof(asgid_settings, origin.name_)},

const settings_descriptor settings_descriptors[ASGID_SETTING_COUNT] = {
    ASGID_SETTINGS_TABLE(SETTINGS_DESCRIBE)};

const settings_descriptor *settings_find(const char *name, size_t length) {
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    const settings_descriptor *d = &settings_descriptors[i];
    if (strlen(d->name) == length && memcmp(d->name, name, length) == 0)
      return d;
  }
  return NULL;
}

const settings_descriptor *settings_find_short(char flag) {
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++)
    if (flag != 0 && settings_descriptors[i].short_flag == flag)
      return &settings_descriptors[i];
  return NULL;
}

bool settings_starts_section(size_t index) {
  return index == 0 ||
         strcmp(settings_descriptors[index].section, settings_descriptors[index - 1].section) != 0;
}

void settings_env_name(const settings_descriptor *d, char *buf) {
  static const char prefix[] = "ASGID_";
  size_t n = sizeof prefix - 1;
  memcpy(buf, prefix, n);
  for (const char *p = d->name; *p && n + 1 < SETTINGS_ENV_NAME_SIZE; p++)
    buf[n++] = (char)toupper((unsigned char)*p);
  buf[n] = '\0';
}

int settings_choice_index(const char *choices, const char *word, size_t length) {
  int index = 0;
  for (const char *start = choices;; index++) {
    const char *end = strchr(start, '|');
    size_t choice_length = end ? (size_t)(end - start) : strlen(start);
    if (choice_length == length && memcmp(start, word, length) == 0)
      return index;
    if (!end)
      return -1;
    start = end + 1;
  }
}

const char *settings_value_placeholder(const settings_descriptor *d) {
  switch (d->kind) {
  case ASGID_KIND_INT:
    return "N";
  case ASGID_KIND_BOOL:
    return "on|off";
  case ASGID_KIND_SIZE:
    return "SIZE";
  case ASGID_KIND_DURATION:
    return "DURATION";
  case ASGID_KIND_ENUM:
    return d->choices;
  case ASGID_KIND_MODE:
    return "MODE";
  case ASGID_KIND_STR:
  case ASGID_KIND_LIST:
    break;
  }
  return "VALUE";
}

void settings_write_long_option(FILE *out, const settings_descriptor *d) {
  fputs("--", out);
  for (const char *p = d->name; *p; p++)
    fputc(*p == '_' ? '-' : *p, out);
  /* a BOOL's value is optional: --reuse-port alone means on */
  fprintf(out, d->kind == ASGID_KIND_BOOL ? " [%s]" : " %s", settings_value_placeholder(d));
}

/* asgid_settings_enum_name hands out static strings, so each ENUM row's choices are copied
 * once with '|' turned into '\0'; uv_once makes that safe when threads ask first. */
static char *enum_words[ASGID_SETTING_COUNT];
static uv_once_t enum_words_once = UV_ONCE_INIT;

static void split_enum_choices(void) {
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    if (settings_descriptors[i].kind != ASGID_KIND_ENUM)
      continue;
    char *words = strdup(settings_descriptors[i].choices);
    for (char *p = words; p && *p; p++)
      if (*p == '|')
        *p = '\0';
    enum_words[i] = words;
  }
}

const char *asgid_settings_enum_name(const char *setting, int index) {
  const settings_descriptor *d = settings_find(setting, strlen(setting));
  if (!d || d->kind != ASGID_KIND_ENUM || index < 0)
    return NULL;
  uv_once(&enum_words_once, split_enum_choices);
  const char *word = enum_words[d - settings_descriptors];
  if (!word) /* the copy ran out of memory */
    return NULL;
  const char *words_end = word + strlen(d->choices);
  for (int i = 0; i < index && word < words_end; i++)
    word += strlen(word) + 1;
  return word < words_end ? word : NULL;
}

const char *settings_applies_text(const settings_descriptor *d) {
  return d->applies == ASGID_APPLIES_START ? "at start (restart, or USR2)" : "on reload (HUP)";
}
