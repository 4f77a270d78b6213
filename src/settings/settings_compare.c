/*
 * settings_compare.c - two configurations side by side, for a reload: which settings differ,
 * and their values as text for the log.
 */
#include "settings/settings_descriptor.h"

#include <stdio.h>
#include <string.h>

static bool same_values(const settings_descriptor *d, const asgid_settings *a,
                        const asgid_settings *b) {
  size_t count = settings_value_count(d, a);
  if (count != settings_value_count(d, b))
    return false;
  for (size_t item = 0; item < count; item++) {
    /* formatted scalars compare like values: each value has one canonical text */
    char a_buf[SETTINGS_VALUE_TEXT_SIZE], b_buf[SETTINGS_VALUE_TEXT_SIZE];
    if (strcmp(settings_value_text(d, a, item, a_buf), settings_value_text(d, b, item, b_buf)))
      return false;
  }
  return true;
}

bool asgid_settings_same(const asgid_settings *a, const asgid_settings *b, const char *name) {
  const settings_descriptor *d = settings_find(name, strlen(name));
  return d && same_values(d, a, b);
}

/* The values of row `d` in `s` as the log shows them: scalars as they parse back, text in
 * double quotes and escaped, a LIST's values separated by ", "; cut with "..." when they do
 * not fit. */
static const char *shown_values(const settings_descriptor *d, const asgid_settings *s,
                                char buf[ASGID_SETTINGS_SHOWN_SIZE]) {
  size_t n = 0;
  buf[0] = '\0';
  bool text = d->kind == ASGID_KIND_STR || d->kind == ASGID_KIND_LIST;
  for (size_t item = 0; item < settings_value_count(d, s); item++) {
    char value_buf[SETTINGS_VALUE_TEXT_SIZE], quote[SETTINGS_QUOTED_SIZE];
    const char *value = settings_value_text(d, s, item, value_buf);
    const char *shown = text ? settings_quoted(value, quote) : value;
    const char *separator = item ? ", " : "";
    /* room for this value, a "..." that may still follow, and the terminator */
    if (n + strlen(separator) + strlen(shown) + 3 + 1 > ASGID_SETTINGS_SHOWN_SIZE) {
      strcpy(buf + n, "...");
      break;
    }
    n += (size_t)snprintf(buf + n, ASGID_SETTINGS_SHOWN_SIZE - n, "%s%s", separator, shown);
  }
  return buf;
}

void asgid_settings_compare(const asgid_settings *before, asgid_settings *after,
                            asgid_settings_change_fn *changed, void *data) {
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    const settings_descriptor *d = &settings_descriptors[i];
    if (same_values(d, before, after))
      continue;
    char before_buf[ASGID_SETTINGS_SHOWN_SIZE], after_buf[ASGID_SETTINGS_SHOWN_SIZE];
    changed(data, d->name, d->applies, shown_values(d, before, before_buf),
            shown_values(d, after, after_buf));
  }
}
