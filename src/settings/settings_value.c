/*
 * settings_value.c - the syntax of each kind of value: parsing text, checking bounds, and
 * writing values back as text that parses to the same value.
 */
#include "settings/settings_descriptor.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>


/* A unit suffix and how many stored units (bytes, milliseconds) it stands for. */
typedef struct settings_unit {
  const char *suffix;
  uint64_t scale;
} settings_unit;

/* Largest scale first: a value is written with the first unit that divides it. */
static const settings_unit size_units[] = {
    {"g", UINT64_C(1) << 30}, {"m", UINT64_C(1) << 20}, {"k", UINT64_C(1) << 10}, {"", 1}};

/* The bare number (seconds) comes last so that it is only ever parsed, never written:
 * "ms" divides every value first. */
static const settings_unit duration_units[] = {
    {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}, {"", 1000}};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

/* The length of the UTF-8 sequence starting at p when it encodes a printable character
 * (RFC 3629: no overlong forms, surrogates or code points above U+10FFFF; not a C1 control,
 * U+0080 to U+009F, which some terminals obey like C0 ones), else 0. Reads no further than
 * the first byte that is not a continuation byte, so never past the terminator. */
static size_t printable_utf8_length(const unsigned char *p) {
  size_t length;
  uint32_t code_point, least;
  if (p[0] >= 0xc2 && p[0] <= 0xdf) {
    length = 2, code_point = p[0] & 0x1fu, least = 0xa0;
  } else if ((p[0] & 0xf0) == 0xe0) {
    length = 3, code_point = p[0] & 0x0fu, least = 0x800;
  } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
    length = 4, code_point = p[0] & 0x07u, least = 0x10000;
  } else {
    return 0;
  }
  for (size_t i = 1; i < length; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    code_point = code_point << 6 | (p[i] & 0x3fu);
  }
  bool surrogate = code_point >= 0xd800 && code_point <= 0xdfff;
  return code_point < least || code_point > 0x10ffff || surrogate ? 0 : length;
}

const char *settings_escaped(const char *text, char *buf, size_t size) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)text; *p;) {
    size_t length = *p >= 0x20 && *p < 0x7f ? 1 : printable_utf8_length(p);
    bool hex = length == 0;
    /* what this character takes once written: 4 per byte as \xNN, 2 for \" or \\ */
    size_t written = hex ? 4 : (*p == '"' || *p == '\\') ? 2 : length;
    /* room for it and for a "..." that may still have to follow, and the terminator */
    if (n + written + 3 + 1 > size) {
      if (n + 3 + 1 <= size) {
        memcpy(buf + n, "...", 3);
        n += 3;
      }
      break;
    }
    if (hex) {
      n += (size_t)snprintf(buf + n, size - n, "\\x%02x", *p);
      p++;
      continue;
    }
    if (length == 1 && (*p == '"' || *p == '\\'))
      buf[n++] = '\\';
    memcpy(buf + n, p, length);
    n += length;
    p += length;
  }
  if (size > 0)
    buf[n] = '\0';
  return buf;
}

const char *settings_quoted(const char *text, char buf[SETTINGS_QUOTED_SIZE]) {
  buf[0] = '"';
  size_t n = strlen(settings_escaped(text, buf + 1, SETTINGS_QUOTED_SIZE - 2)) + 1;
  buf[n++] = '"';
  buf[n] = '\0';
  return buf;
}

static bool same_ignoring_case(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return false;
  return *a == *b;
}

/* Reads the digits of `base` (10 or 8) at *text into *value and moves *text past them.
 * Returns -1 when there is no digit, 1 when the number does not fit in 64 bits (the digits
 * are still consumed and *value is UINT64_MAX), 0 otherwise. */
static int read_digits(const char **text, unsigned base, uint64_t *value) {
  const char *p = *text;
  uint64_t n = 0;
  bool overflow = false;
  for (; *p >= '0' && *p < (char)('0' + base); p++) {
    unsigned digit = (unsigned)(*p - '0');
    if (n > (UINT64_MAX - digit) / base)
      overflow = true;
    else
      n = n * base + digit;
  }
  if (p == *text)
    return -1;
  *text = p;
  *value = overflow ? UINT64_MAX : n;
  return overflow ? 1 : 0;
}

/* A number of stored units beyond INT64_MAX is compared with the bounds as INT64_MAX: it is
 * above every maximum anyway. */
static int64_t saturated(uint64_t value) {
  return value > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)value;
}

static int check_bounds(const settings_descriptor *d, const char *text, int64_t value,
                        char *message, size_t size) {
  char bound[SETTINGS_VALUE_TEXT_SIZE];
  if (value < d->min) {
    snprintf(message, size, "%s is below the minimum %s", text,
             settings_bound_text(d, d->min, bound));
    return -1;
  }
  if (value > d->max) {
    snprintf(message, size, "%s is above the maximum %s", text,
             settings_bound_text(d, d->max, bound));
    return -1;
  }
  return 0;
}

static int parse_int(const settings_descriptor *d, const char *text, long *out, char *message,
                     size_t size) {
  const char *p = text;
  bool negative = *p == '-';
  if (negative)
    p++;
  uint64_t magnitude;
  char quote[SETTINGS_QUOTED_SIZE];
  if (read_digits(&p, 10, &magnitude) < 0 || *p) {
    snprintf(message, size, "%s is not a whole number", settings_quoted(text, quote));
    return -1;
  }
  int64_t value = negative ? -saturated(magnitude) : saturated(magnitude);
  if (check_bounds(d, text, value, message, size) < 0)
    return -1;
  *out = (long)value; /* the bounds fit in a long (a unit test checks the table) */
  return 0;
}

/* Digits and one of `units` (case-insensitive), scaled to stored units. */
static int parse_with_units(const settings_descriptor *d, const char *text,
                            const settings_unit *units, size_t unit_count, uint64_t *out,
                            char *message, size_t size) {
  const char *p = text;
  uint64_t number;
  if (read_digits(&p, 10, &number) < 0)
    return 1;
  for (size_t i = 0; i < unit_count; i++) {
    if (!same_ignoring_case(p, units[i].suffix))
      continue;
    uint64_t value = number > UINT64_MAX / units[i].scale ? UINT64_MAX : number * units[i].scale;
    if (check_bounds(d, text, saturated(value), message, size) < 0)
      return -1;
    *out = value;
    return 0;
  }
  return 1;
}

static int parse_size(const settings_descriptor *d, const char *text, uint64_t *out, char *message,
                      size_t size) {
  int result = parse_with_units(d, text, size_units, COUNT_OF(size_units), out, message, size);
  if (result > 0) {
    char quote[SETTINGS_QUOTED_SIZE];
    snprintf(message, size, "%s is not a size (use bytes or k, m, g: e.g. 512, 64k, 1m, 2g)",
             settings_quoted(text, quote));
    return -1;
  }
  return result;
}

static int parse_duration(const settings_descriptor *d, const char *text, uint64_t *out,
                          char *message, size_t size) {
  int result =
      parse_with_units(d, text, duration_units, COUNT_OF(duration_units), out, message, size);
  if (result > 0) {
    char quote[SETTINGS_QUOTED_SIZE];
    snprintf(message, size, "%s is not a duration (use e.g. 500ms, 30s, 2m)",
             settings_quoted(text, quote));
    return -1;
  }
  return result;
}

static int parse_bool(const char *text, int *out, char *message, size_t size) {
  static const char *const truths[] = {"on", "true", "yes", "1"};
  static const char *const falsehoods[] = {"off", "false", "no", "0"};
  for (size_t i = 0; i < COUNT_OF(truths); i++) {
    if (same_ignoring_case(text, truths[i])) {
      *out = 1;
      return 0;
    }
    if (same_ignoring_case(text, falsehoods[i])) {
      *out = 0;
      return 0;
    }
  }
  char quote[SETTINGS_QUOTED_SIZE];
  snprintf(message, size, "%s is not a boolean (use on/off, true/false, yes/no or 1/0)",
           settings_quoted(text, quote));
  return -1;
}

static int parse_enum(const settings_descriptor *d, const char *text, int *out, char *message,
                      size_t size) {
  int index = settings_choice_index(d->choices, text, strlen(text));
  if (index < 0) {
    char quote[SETTINGS_QUOTED_SIZE];
    snprintf(message, size, "%s is not one of %s", settings_quoted(text, quote), d->choices);
    return -1;
  }
  *out = index;
  return 0;
}

static int parse_mode(const settings_descriptor *d, const char *text, unsigned *out, char *message,
                      size_t size) {
  const char *p = text;
  uint64_t mode;
  if (read_digits(&p, 8, &mode) < 0 || *p) {
    char quote[SETTINGS_QUOTED_SIZE];
    snprintf(message, size, "%s is not an octal file mode (e.g. 022, 0660)",
             settings_quoted(text, quote));
    return -1;
  }
  if (check_bounds(d, text, saturated(mode), message, size) < 0)
    return -1;
  *out = (unsigned)mode;
  return 0;
}

int settings_parse_scalar(const settings_descriptor *d, const char *text, settings_scalar *out,
                          char *message, size_t size) {
  switch (d->kind) {
  case ASGID_KIND_INT:
    return parse_int(d, text, &out->integer, message, size);
  case ASGID_KIND_BOOL:
    return parse_bool(text, &out->boolean, message, size);
  case ASGID_KIND_SIZE:
    return parse_size(d, text, &out->amount, message, size);
  case ASGID_KIND_DURATION:
    return parse_duration(d, text, &out->amount, message, size);
  case ASGID_KIND_ENUM:
    return parse_enum(d, text, &out->choice, message, size);
  case ASGID_KIND_MODE:
    return parse_mode(d, text, &out->mode, message, size);
  case ASGID_KIND_STR:
  case ASGID_KIND_LIST:
    break;
  }
  snprintf(message, size, "%s is not a scalar setting", d->name);
  return -1;
}

/* The same text must mean the same value in every layer, and --print-config shows values in
 * the file's syntax: so no layer may give a value that an asgid.ini line would change. inih
 * strips surrounding whitespace and starts a comment at ';' after whitespace; a line break
 * ends the line. The length of a file's line is checked where the file is read
 * (settings_ini.c): the other layers have no length limit. */
int settings_check_text(const char *text, char *message, size_t size) {
  char quote[SETTINGS_QUOTED_SIZE];
  size_t length = strlen(text);
  if (strpbrk(text, "\r\n")) {
    snprintf(message, size, "%s contains a line break, which an asgid.ini line cannot hold",
             settings_quoted(text, quote));
    return -1;
  }
  if (length > 0 && (isspace((unsigned char)text[0]) || isspace((unsigned char)text[length - 1]))) {
    snprintf(message, size, "%s starts or ends with whitespace, which asgid.ini strips",
             settings_quoted(text, quote));
    return -1;
  }
  for (const char *p = text; *p; p++) {
    if (*p == ';' && (p == text || isspace((unsigned char)p[-1]))) {
      snprintf(message, size,
               "%s has a ';' at its start or after whitespace, which asgid.ini reads as a "
               "comment",
               settings_quoted(text, quote));
      return -1;
    }
  }
  return 0;
}

static const char *format_with_units(uint64_t value, const settings_unit *units, size_t unit_count,
                                     char *buf) {
  size_t i = 0;
  while (value != 0 && i + 1 < unit_count && value % units[i].scale != 0)
    i++;
  /* zero is written bare: "0" parses to zero in every unit */
  const char *suffix = value == 0 ? "" : units[i].suffix;
  uint64_t scale = value == 0 ? 1 : units[i].scale;
  snprintf(buf, SETTINGS_VALUE_TEXT_SIZE, "%" PRIu64 "%s", value / scale, suffix);
  return buf;
}

const char *settings_format_scalar(const settings_descriptor *d, settings_scalar value, char *buf) {
  switch (d->kind) {
  case ASGID_KIND_INT:
    snprintf(buf, SETTINGS_VALUE_TEXT_SIZE, "%ld", value.integer);
    break;
  case ASGID_KIND_BOOL:
    snprintf(buf, SETTINGS_VALUE_TEXT_SIZE, "%s", value.boolean ? "on" : "off");
    break;
  case ASGID_KIND_SIZE:
    return format_with_units(value.amount, size_units, COUNT_OF(size_units), buf);
  case ASGID_KIND_DURATION:
    return format_with_units(value.amount, duration_units, COUNT_OF(duration_units), buf);
  case ASGID_KIND_ENUM: {
    const char *word = d->choices;
    for (int i = 0; i < value.choice && strchr(word, '|'); i++)
      word = strchr(word, '|') + 1;
    snprintf(buf, SETTINGS_VALUE_TEXT_SIZE, "%.*s", (int)strcspn(word, "|"), word);
    break;
  }
  case ASGID_KIND_MODE:
    snprintf(buf, SETTINGS_VALUE_TEXT_SIZE, "%04o", value.mode);
    break;
  case ASGID_KIND_STR:
  case ASGID_KIND_LIST:
    buf[0] = '\0';
    break;
  }
  return buf;
}

const char *settings_bound_text(const settings_descriptor *d, int64_t value, char *buf) {
  settings_scalar scalar;
  switch (d->kind) {
  case ASGID_KIND_SIZE:
  case ASGID_KIND_DURATION:
    scalar.amount = (uint64_t)value;
    break;
  case ASGID_KIND_MODE:
    scalar.mode = (unsigned)value;
    break;
  default:
    snprintf(buf, SETTINGS_VALUE_TEXT_SIZE, "%" PRId64, value);
    return buf;
  }
  return settings_format_scalar(d, scalar, buf);
}

const char *settings_default_text(const settings_descriptor *d, char *buf) {
  settings_scalar value;
  char message[256];
  if (d->kind == ASGID_KIND_STR || d->kind == ASGID_KIND_LIST ||
      settings_parse_scalar(d, d->default_text, &value, message, sizeof message) < 0)
    return d->default_text;
  return settings_format_scalar(d, value, buf);
}

bool settings_has_bounds(const settings_descriptor *d) {
  return d->kind == ASGID_KIND_INT || d->kind == ASGID_KIND_SIZE ||
         d->kind == ASGID_KIND_DURATION || d->kind == ASGID_KIND_MODE;
}
