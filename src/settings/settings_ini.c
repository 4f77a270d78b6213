/*
 * settings_ini.c - INI text (a configuration file) as a layer of settings, parsed by inih.
 *
 * inih's handler gets no line number unless the library was built with INI_HANDLER_LINENO,
 * which distributions do not do. So inih reads through our own line reader: it hands inih
 * one line per call and counts them, and inih calls the handler for a line before it asks
 * for the next one, so the count is the line of every key the handler sees.
 */
#include "settings/settings_load.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "platform/platform.h"

/* The state shared by the line reader and the key handler during one parse. */
typedef struct ini_parse_state {
  asgid_settings *settings;
  settings_layer layer;
  const char *origin; /* the name used in messages: a path, or what the text is */
  FILE *err;
  int errors;
  const char *next;   /* the text not handed to inih yet */
  unsigned line;      /* the line inih is parsing */
  bool line_indented; /* whether that line starts with whitespace */
  unsigned set_at[ASGID_SETTING_COUNT]; /* the line that set each setting, 0: none yet */
} ini_parse_state;

static void begin_error(ini_parse_state *state, unsigned line) {
  fprintf(state->err, "%s:%u: ", state->origin, line);
  state->errors++;
}

static void report(ini_parse_state *state, unsigned line, const char *format, ...)
    PLATFORM_PRINTF(3, 4);
static void report(ini_parse_state *state, unsigned line, const char *format, ...) {
  begin_error(state, line);
  va_list args;
  va_start(args, format);
  vfprintf(state->err, format, args);
  va_end(args);
  fputc('\n', state->err);
}

/* An ini_reader: the next line of the text, whole. A line too long for inih's buffer
 * (`size`, with room for "\r\n" and the terminator) would reach the handler in pieces, so it
 * is reported and replaced by an empty line. */
static char *read_line(char *buf, int size, void *stream) {
  ini_parse_state *state = stream;
  if (!*state->next)
    return NULL;
  state->line++;
  const char *newline = strchr(state->next, '\n');
  size_t length = newline ? (size_t)(newline - state->next) + 1 : strlen(state->next);
  size_t content = length - (newline ? 1 : 0);
  if (content > 0 && state->next[content - 1] == '\r')
    content--;
  if (content + 3 > (size_t)size) {
    report(state, state->line, "the line is %zu characters long; inih reads at most %d", content,
           size - 3);
    strcpy(buf, "\n");
  } else {
    memcpy(buf, state->next, length);
    buf[length] = '\0';
  }
  state->line_indented = isspace((unsigned char)state->next[0]);
  state->next += length;
  return buf;
}

static bool section_exists(const char *section) {
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++)
    if (strcmp(settings_descriptors[i].section, section) == 0)
      return true;
  return false;
}

/* Writes ", "-separated: the keys of `section`, or the sections when `section` is NULL. */
static void list_names(FILE *out, const char *section) {
  const char *separator = "";
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    const settings_descriptor *d = &settings_descriptors[i];
    if (section ? strcmp(d->section, section) == 0 : settings_starts_section(i)) {
      fprintf(out, "%s%s", separator, section ? d->name : d->section);
      separator = ", ";
    }
  }
}

/* The section to suggest for a misspelt one ("[worker]"), or NULL. */
static const char *nearest_section(const char *section) {
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++)
    if (settings_starts_section(i) &&
        settings_name_is_near(section, strlen(section), settings_descriptors[i].section))
      return settings_descriptors[i].section;
  return NULL;
}

/* A key that is not a setting of `section`: say where it belongs, or what there is. The key
 * and the section come from the file as they are, so they are shown escaped (a control
 * character could rewrite the terminal the message is read in). */
static void report_misplaced_key(ini_parse_state *state, const char *section, const char *key) {
  const settings_descriptor *d = settings_find(key, strlen(key));
  char shown_key[SETTINGS_QUOTED_SIZE], shown_section[SETTINGS_QUOTED_SIZE];
  settings_quoted(key, shown_key);
  settings_escaped(section, shown_section, sizeof shown_section);
  if (d && !*section) {
    report(state, state->line, "%s must be under [%s]", key, d->section);
  } else if (d) {
    report(state, state->line, "%s belongs in [%s], not [%s]", key, d->section, shown_section);
  } else if (section_exists(section)) {
    begin_error(state, state->line);
    fprintf(state->err, "unknown key %s in section [%s]", shown_key, section);
    const settings_descriptor *nearest = settings_nearest(key, strlen(key));
    if (nearest) {
      fprintf(state->err, "; did you mean %s", nearest->name);
      if (strcmp(nearest->section, section) != 0)
        fprintf(state->err, " in [%s]", nearest->section);
      fputs("?\n", state->err);
      return;
    }
    fputs(" (its keys: ", state->err);
    list_names(state->err, section);
    fputs(")\n", state->err);
  } else {
    begin_error(state, state->line);
    if (*section)
      fprintf(state->err, "unknown key %s in unknown section [%s] (sections: ", shown_key,
              shown_section);
    else
      fprintf(state->err, "unknown key %s before any [section] (sections: ", shown_key);
    list_names(state->err, NULL);
    fputs(")", state->err);
    const char *suggested = *section ? nearest_section(section) : NULL;
    const settings_descriptor *nearest = settings_nearest(key, strlen(key));
    if (suggested)
      fprintf(state->err, "; did you mean [%s]?", suggested);
    else if (nearest)
      fprintf(state->err, "; did you mean %s in [%s]?", nearest->name, nearest->section);
    fputc('\n', state->err);
  }
}

/* An ini_handler: one "key = value" line. Always returns 1 (go on), so that inih's result
 * means a syntax error only; our errors are counted in the state. */
static int on_key(void *user, const char *section, const char *key, const char *value) {
  ini_parse_state *state = user;
  if (state->line_indented) {
    report(state, state->line,
           "indented line: start it at the beginning of the line (inih would read it as the "
           "continuation of the value above)");
    return 1;
  }
  const settings_descriptor *d = settings_find(key, strlen(key));
  if (!d || strcmp(d->section, section) != 0) {
    report_misplaced_key(state, section, key);
    return 1;
  }
  /* A LIST repeats its key, one value a line; any other key given twice is a mistake: the
   * later line would silently win over the one the reader finds first. */
  unsigned *set_at = &state->set_at[d - settings_descriptors];
  if (d->kind != ASGID_KIND_LIST && *set_at) {
    report(state, state->line, "%s is already set at line %u", key, *set_at);
    return 1;
  }
  *set_at = state->line;
  size_t origin_size = strlen(state->origin) + 16;
  char *origin = malloc(origin_size);
  char message[512];
  if (!origin)
    snprintf(message, sizeof message, "out of memory");
  else
    snprintf(origin, origin_size, "%s:%u", state->origin, state->line);
  if (!origin ||
      settings_set(state->settings, d, value, &state->layer, origin, message, sizeof message) < 0)
    report(state, state->line, "%s: %s", key, message);
  free(origin);
  return 1;
}

int asgid_settings_apply_ini(asgid_settings *s, const char *text, const char *origin,
                             asgid_setting_source source, FILE *err) {
  ini_parse_state state = {
      .settings = s, .layer = {.source = source}, .origin = origin, .err = err, .next = text};
  int result = ini_parse_stream(read_line, &state, on_key, &state);
  if (result > 0)
    report(&state, (unsigned)result,
           "not a [section], a key = value line or a comment (inih reports only the first such "
           "line)");
  else if (result < 0)
    report(&state, state.line, "inih could not parse the text (error %d)", result);
  return state.errors;
}

/* The whole file at `path`, NUL-terminated, with its length in *length; or NULL with errno
 * set. */
static char *read_file(const char *path, size_t *length) {
  FILE *file = fopen(path, "rb");
  if (!file)
    return NULL;
  char *text = NULL;
  size_t used = 0, capacity = 0;
  int error = 0;
  for (;;) {
    if (capacity - used < 4096) {
      size_t bigger_capacity = capacity * 2 + 4096;
      char *bigger = realloc(text, bigger_capacity);
      if (!bigger) {
        error = ENOMEM;
        break;
      }
      text = bigger;
      capacity = bigger_capacity;
    }
    errno = 0;
    size_t got = fread(text + used, 1, capacity - used - 1, file); /* 1 left for the NUL */
    used += got;
    if (got == 0) {
      if (ferror(file)) /* e.g. EISDIR: fopen opens a directory, reading it fails */
        error = errno ? errno : EIO;
      break;
    }
  }
  fclose(file);
  if (error) {
    free(text);
    errno = error;
    return NULL;
  }
  text[used] = '\0';
  *length = used;
  return text;
}

int settings_apply_file(asgid_settings *s, const char *path, const char *named_by, FILE *err) {
  size_t length;
  char *text = read_file(path, &length);
  if (!text) {
    fprintf(err, "%s: cannot read the configuration file (named by %s): %s\n", path, named_by,
            strerror(errno));
    return 1;
  }
  int errors;
  if (strlen(text) != length) {
    fprintf(err, "%s: the configuration file contains a NUL byte; is it text?\n", path);
    errors = 1;
  } else {
    errors = asgid_settings_apply_ini(s, text, path, ASGID_SOURCE_FILE, err);
  }
  free(text);
  return errors;
}
