/*
 * settings_descriptor.h - the settings table as data, and the one parser of values.
 *
 * Internal to src/settings/. The X-macro rows of settings_table.h become an array of
 * descriptors that every loader and printer walks; settings_set is the only code that turns
 * text into a setting's value, whichever layer the text comes from.
 */
#ifndef ASGID_SETTINGS_DESCRIPTOR_H
#define ASGID_SETTINGS_DESCRIPTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "settings/settings.h"

/* One row of the table, with where its value, source and origin live in asgid_settings. */
typedef struct settings_descriptor {
  const char *name;
  const char *section;
  asgid_setting_kind kind;
  const char *default_text;
  char short_flag;
  int64_t min, max;    /* bounds of INT, SIZE, DURATION and MODE values, inclusive */
  const char *choices; /* "a|b|c" for ENUM, NULL otherwise */
  asgid_setting_applies applies;
  const char *help;
  size_t value_offset;
  size_t source_offset;
  size_t origin_offset;
} settings_descriptor;

extern const settings_descriptor settings_descriptors[ASGID_SETTING_COUNT];

/* Longest "ASGID_<NAME>" plus its terminator; a unit test checks every name fits. */
#define SETTINGS_ENV_NAME_SIZE 64

/* Large enough for any scalar value as text (a 64-bit number and a unit). */
#define SETTINGS_VALUE_TEXT_SIZE 32

/* The row named `name` (the INI key, e.g. "keepalive_timeout"), or NULL. `length` is the
 * number of bytes of `name` to compare, so that "--name=value" needs no copy. */
const settings_descriptor *settings_find(const char *name, size_t length);

/* The row whose short flag is `flag`, or NULL. */
const settings_descriptor *settings_find_short(char flag);

/* True when row `index` is the first of its section (rows of one section are contiguous;
 * a unit test checks it). */
bool settings_starts_section(size_t index);

/* The Damerau-Levenshtein distance (optimal string alignment) between two names, ignoring
 * case and taking '-' for '_'; (size_t)-1 for names longer than SETTINGS_ENV_NAME_SIZE. */
size_t settings_edit_distance(const char *a, size_t a_length, const char *b, size_t b_length);

/* Whether `candidate` is close enough to `name` (`length` bytes) to be suggested for it: at
 * most two edits, and fewer edits than `name` has characters. */
bool settings_name_is_near(const char *name, size_t length, const char *candidate);

/* The nearest of names offered one by one to a misspelt `name` (`length` bytes): start with
 * {.name, .length}, offer each candidate; `nearest` is then the first of the nearest that
 * settings_name_is_near accepts, or NULL. */
typedef struct settings_guess {
  const char *name;
  size_t length;
  const char *nearest;
  size_t nearest_distance;
} settings_guess;

void settings_guess_offer(settings_guess *guess, const char *candidate);

/* The setting to suggest for `name` (`length` bytes), which names none: the nearest within
 * two edits, else the first whose name begins with it when it has 4 characters or more
 * ("keepalive" -> keepalive_timeout); NULL when nothing is near. */
const settings_descriptor *settings_nearest(const char *name, size_t length);

/* Writes "ASGID_<NAME>" for row `d` into `buf` (SETTINGS_ENV_NAME_SIZE bytes). */
void settings_env_name(const settings_descriptor *d, char *buf);

/* Position of `word` (`length` bytes) among the '|'-separated `choices`, or -1. */
int settings_choice_index(const char *choices, const char *word, size_t length);

/* A scalar value (every kind but STR and LIST), as settings_parse_scalar returns it. */
typedef union settings_scalar {
  long integer;    /* INT */
  int boolean;     /* BOOL */
  uint64_t amount; /* SIZE (bytes), DURATION (milliseconds) */
  int choice;      /* ENUM: index into the choices */
  unsigned mode;   /* MODE */
} settings_scalar;

/* Parses `text` as a scalar of row `d`, checking syntax and bounds. On failure writes into
 * `message` (`size` bytes) why, naming the value and what is accepted, and returns -1. */
int settings_parse_scalar(const settings_descriptor *d, const char *text, settings_scalar *out,
                          char *message, size_t size);

/* Text from a user (a value, an unknown key or section name) made safe to show in a
 * message: control characters (C0, DEL, C1) and bytes that are not valid UTF-8 are written as
 * \xNN, '"' and '\' as \" and \\; valid UTF-8 text stays as it is. settings_escaped writes
 * into `buf` (`size` bytes), cutting the text with "..." when it does not fit;
 * settings_quoted also puts it in double quotes, in a buffer sized for one message. Both
 * return `buf`. */
#define SETTINGS_QUOTED_SIZE 96
const char *settings_escaped(const char *text, char *buf, size_t size);
const char *settings_quoted(const char *text, char buf[SETTINGS_QUOTED_SIZE]);

/* Checks that `text`, a STR or LIST value, means the same in every layer: written as
 * "name = text" in asgid.ini, inih would read it back unchanged (length aside: only a file's
 * lines are limited). Returns 0, or -1 with the reason in `message`. */
int settings_check_text(const char *text, char *message, size_t size);

/* Writes scalar `value` of row `d` as it parses back into `buf` (SETTINGS_VALUE_TEXT_SIZE
 * bytes): canonical units for sizes and durations (1g, 8190, 5s), on/off, the choice name,
 * octal modes. Returns `buf`. */
const char *settings_format_scalar(const settings_descriptor *d, settings_scalar value, char *buf);

/* The default of row `d` as settings_format_scalar writes it (the table's text for STR and
 * LIST); `buf` is SETTINGS_VALUE_TEXT_SIZE bytes. Allocates nothing. */
const char *settings_default_text(const settings_descriptor *d, char *buf);

/* When a change of row `d` takes effect, for people: "on reload (HUP)" or "at start (restart,
 * or USR2)". */
const char *settings_applies_text(const settings_descriptor *d);

/* True for the kinds that have bounds: INT, SIZE, DURATION, MODE. */
bool settings_has_bounds(const settings_descriptor *d);

/* The value placeholder of row `d` in usage text: VALUE, N, SIZE, DURATION, MODE, the
 * choices of an ENUM, on|off for a BOOL. */
const char *settings_value_placeholder(const settings_descriptor *d);

/* Writes the long option of row `d` with its placeholder: "--keepalive-timeout DURATION", or
 * "--server-header [on|off]" for a BOOL, whose value may be left out (on). */
void settings_write_long_option(FILE *out, const settings_descriptor *d);

/* One layer of values: the file, the environment, the command line, or one
 * asgid_settings_apply_ini call. The first value a LIST gets in a layer replaces the values
 * of the layers below; later values in the same layer append. */
typedef struct settings_layer {
  asgid_setting_source source;
  bool list_replaced[ASGID_SETTING_COUNT];
} settings_layer;

/* Parses `text` as a value of row `d`, stores it in `s` and records the layer's source and
 * `origin` ("path:line", copied; NULL for none). On failure leaves the value alone, writes
 * into `message` (`size` bytes) why, naming the value and what is accepted but not the
 * setting (callers prefix where the text came from), and returns -1. */
int settings_set(asgid_settings *s, const settings_descriptor *d, const char *text,
                 settings_layer *layer, const char *origin, char *message, size_t size);

/* Number of values row `d` holds: the items of a LIST, 1 for every other kind. */
size_t settings_value_count(const settings_descriptor *d, const asgid_settings *s);

/* Value `item` of row `d` in `s` as it parses back: the stored string for STR and LIST,
 * otherwise settings_format_scalar's text in `buf` (SETTINGS_VALUE_TEXT_SIZE bytes). */
const char *settings_value_text(const settings_descriptor *d, const asgid_settings *s, size_t item,
                                char *buf);

/* The bound `value` of row `d` in the syntax of its kind, into `buf`
 * (SETTINGS_VALUE_TEXT_SIZE bytes). Returns `buf`. */
const char *settings_bound_text(const settings_descriptor *d, int64_t value, char *buf);

/* The source of row `d` in `s`. */
asgid_setting_source settings_source_of(const settings_descriptor *d, const asgid_settings *s);

/* The "path:line" origin of row `d` in `s`, or NULL. */
const char *settings_origin_of(const settings_descriptor *d, const asgid_settings *s);

#endif /* ASGID_SETTINGS_DESCRIPTOR_H */
