/*
 * settings_serialize.c - the current values as length-prefixed records, for spawned workers.
 *
 * Not INI text: an INI line is limited to what inih reads (INI_MAX_LINE), and values from
 * the command line or the environment are not.
 */
#include "settings/settings_descriptor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "platform/platform.h"

/* A growing string; `text` becomes NULL for good when memory runs out. */
typedef struct text_buffer {
  char *text;
  size_t length, capacity;
} text_buffer;

/* Makes room for `more` bytes and the terminator. Returns false (and drops the text) when
 * memory runs out. */
static bool reserve(text_buffer *b, size_t more) {
  if (!b->text)
    return false;
  if (b->capacity - b->length > more)
    return true;
  size_t capacity = b->capacity * 2 + more + 1;
  char *bigger = realloc(b->text, capacity);
  if (!bigger) {
    free(b->text);
    b->text = NULL;
    return false;
  }
  b->text = bigger;
  b->capacity = capacity;
  return true;
}

static void append_bytes(text_buffer *b, const char *bytes, size_t length) {
  if (!reserve(b, length))
    return;
  memcpy(b->text + b->length, bytes, length);
  b->length += length;
  b->text[b->length] = '\0';
}

static void append_record(text_buffer *b, const char *name, const char *value) {
  char header[SETTINGS_ENV_NAME_SIZE + 32];
  size_t value_length = strlen(value);
  int n = snprintf(header, sizeof header, "%s %zu\n", name, value_length);
  append_bytes(b, header, (size_t)n);
  append_bytes(b, value, value_length);
}

/* Every value is written, defaults included, so the reader's own defaults do not matter
 * (a LIST always has values: a layer can only replace them with at least one). */
char *asgid_settings_serialize(const asgid_settings *s, size_t *length) {
  text_buffer b = {.capacity = 4096};
  b.text = malloc(b.capacity);
  if (b.text)
    b.text[0] = '\0';
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    const settings_descriptor *d = &settings_descriptors[i];
    for (size_t item = 0; item < settings_value_count(d, s); item++) {
      char buf[SETTINGS_VALUE_TEXT_SIZE];
      append_record(&b, d->name, settings_value_text(d, s, item, buf));
    }
  }
  *length = b.text ? b.length : 0;
  return b.text;
}

int asgid_settings_deserialize(asgid_settings *s, const char *data, size_t length, FILE *err) {
  settings_layer layer = {.source = ASGID_SOURCE_FILE};
  const char *end = data + length;
  int errors = 0;
  for (const char *p = data; p < end;) {
    const char *newline = memchr(p, '\n', (size_t)(end - p));
    const char *space = newline ? memchr(p, ' ', (size_t)(newline - p)) : NULL;
    const settings_descriptor *d = space ? settings_find(p, (size_t)(space - p)) : NULL;
    char *after = NULL;
    errno = 0;
    unsigned long long value_length = space ? strtoull(space + 1, &after, 10) : 0;
    if (!d || after != newline || errno || value_length > (size_t)(end - newline - 1)) {
      fprintf(err, "settings from the master: malformed record at byte %zu\n",
              (size_t)(p - data));
      return errors + 1;
    }
    char *value = platform_strndup(newline + 1, (size_t)value_length);
    char message[512];
    if (!value)
      snprintf(message, sizeof message, "out of memory");
    if (!value || settings_set(s, d, value, &layer, NULL, message, sizeof message) < 0) {
      fprintf(err, "settings from the master: %s: %s\n", d->name, message);
      errors++;
    }
    free(value);
    p = newline + 1 + value_length;
  }
  return errors;
}
