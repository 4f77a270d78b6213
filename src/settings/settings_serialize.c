/*
 * settings_serialize.c - the current values as INI text, for spawned workers.
 */
#include "settings/settings_descriptor.h"

#include <stdarg.h>
#include <stdlib.h>

/* A growing string; `text` becomes NULL for good when memory runs out. */
typedef struct text_buffer {
  char *text;
  size_t length, capacity;
} text_buffer;

static void append(text_buffer *b, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void append(text_buffer *b, const char *format, ...) {
  if (!b->text)
    return;
  for (;;) {
    va_list args;
    va_start(args, format);
    int n = vsnprintf(b->text + b->length, b->capacity - b->length, format, args);
    va_end(args);
    if (n < 0) {
      free(b->text);
      b->text = NULL;
      return;
    }
    if ((size_t)n < b->capacity - b->length) {
      b->length += (size_t)n;
      return;
    }
    size_t capacity = b->capacity * 2 + (size_t)n;
    char *bigger = realloc(b->text, capacity);
    if (!bigger) {
      free(b->text);
      b->text = NULL;
      return;
    }
    b->text = bigger;
    b->capacity = capacity;
  }
}

/* Every value is written, defaults included, so the reader's own defaults do not matter.
 * The loaders only accept values that survive this (settings_check_ini_text). */
char *asgid_settings_serialize(const asgid_settings *s) {
  text_buffer b = {.capacity = 4096};
  b.text = malloc(b.capacity);
  if (b.text)
    b.text[0] = '\0';
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    const settings_descriptor *d = &settings_descriptors[i];
    if (settings_starts_section(i))
      append(&b, "[%s]\n", d->section);
    for (size_t item = 0; item < settings_value_count(d, s); item++) {
      char buf[SETTINGS_VALUE_TEXT_SIZE];
      append(&b, "%s = %s\n", d->name, settings_value_text(d, s, item, buf));
    }
  }
  return b.text;
}
