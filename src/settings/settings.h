/*
 * settings.h - the values of asgid's settings and the code the table drives.
 *
 * The table is settings_table.h. This header turns each row into a typed member of
 * struct asgid_settings, and declares the loaders (defaults < file < environment < command
 * line), the printers (--help, --print-config, docs/settings.md, conf/asgid.ini) and
 * serialization (used to hand settings to spawned workers).
 */
#ifndef ASGID_SETTINGS_H
#define ASGID_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "settings/settings_table.h"

/* A LIST setting: every value given, in order. */
typedef struct asgid_string_list {
  char **items;
  size_t count;
} asgid_string_list;

/* The C type each kind is stored as. */
#define ASGID_SETTING_CTYPE_STR char *
#define ASGID_SETTING_CTYPE_INT long
#define ASGID_SETTING_CTYPE_BOOL int
#define ASGID_SETTING_CTYPE_SIZE uint64_t     /* bytes */
#define ASGID_SETTING_CTYPE_DURATION uint64_t /* milliseconds */
#define ASGID_SETTING_CTYPE_ENUM int          /* index into choices */
#define ASGID_SETTING_CTYPE_MODE unsigned
#define ASGID_SETTING_CTYPE_LIST asgid_string_list

typedef enum asgid_setting_kind {
  ASGID_KIND_STR,
  ASGID_KIND_INT,
  ASGID_KIND_BOOL,
  ASGID_KIND_SIZE,
  ASGID_KIND_DURATION,
  ASGID_KIND_ENUM,
  ASGID_KIND_MODE,
  ASGID_KIND_LIST
} asgid_setting_kind;

/* When a changed value takes effect (the table's `applies` column). */
typedef enum asgid_setting_applies {
  ASGID_APPLIES_RELOAD, /* on HUP: the master re-reads it, new workers start with it */
  ASGID_APPLIES_START   /* when the master starts (a restart, or USR2) */
} asgid_setting_applies;

/* Where a value came from, for --print-config. */
typedef enum asgid_setting_source {
  ASGID_SOURCE_DEFAULT,
  ASGID_SOURCE_FILE,
  ASGID_SOURCE_ENV,
  ASGID_SOURCE_CLI
} asgid_setting_source;

/* Enum values, in the order of their row's choices. */
enum { ASGID_LIFESPAN_AUTO, ASGID_LIFESPAN_ON, ASGID_LIFESPAN_OFF };
enum { ASGID_WORKER_START_FORK, ASGID_WORKER_START_SPAWN };
enum { ASGID_FORWARDED_HEADERS_X_FORWARDED, ASGID_FORWARDED_HEADERS_FORWARDED };
enum { ASGID_LEVEL_DEBUG, ASGID_LEVEL_INFO, ASGID_LEVEL_WARNING, ASGID_LEVEL_ERROR };

/* ASGID_SETTING_INDEX_<name>: the row number of each setting; ASGID_SETTING_COUNT rows. */
#define ASGID_SETTING_INDEX(name, section, kind, def, short_flag, min, max, choices, applies,   \
                            help)                                                              \
  ASGID_SETTING_INDEX_##name,
enum { ASGID_SETTINGS_TABLE(ASGID_SETTING_INDEX) ASGID_SETTING_COUNT };

#define ASGID_SETTING_MEMBER(name, section, kind, def, short_flag, min, max, choices, applies,  \
                             help)                                                             \
  ASGID_SETTING_CTYPE_##kind name;
#define ASGID_SETTING_SOURCE_MEMBER(name, section, kind, def, short_flag, min, max, choices,   \
                                    applies, help)                                             \
  asgid_setting_source name;
#define ASGID_SETTING_ORIGIN_MEMBER(name, section, kind, def, short_flag, min, max, choices,   \
                                    applies, help)                                             \
  char *name;

typedef struct asgid_settings {
  ASGID_SETTINGS_TABLE(ASGID_SETTING_MEMBER)
  /* which layer set each value */
  struct {
    ASGID_SETTINGS_TABLE(ASGID_SETTING_SOURCE_MEMBER)
  } source;
  /* where each value read from INI text was set, "path:line" (for a LIST, its first value in
   * the winning layer); NULL for values from elsewhere. Owned by the struct. */
  struct {
    ASGID_SETTINGS_TABLE(ASGID_SETTING_ORIGIN_MEMBER)
  } origin;
  char *config_path; /* the configuration file read by asgid_settings_load_args, or NULL */
  char *control_command; /* --control's COMMAND (ASGID_ACTION_CONTROL), or NULL */
} asgid_settings;

/* What main() should do after asgid_settings_load_args. */
typedef enum asgid_settings_action {
  ASGID_ACTION_RUN,
  ASGID_ACTION_HELP,
  ASGID_ACTION_VERSION,
  ASGID_ACTION_PRINT_CONFIG,
  ASGID_ACTION_CHECK_CONFIG,
  ASGID_ACTION_SETTINGS_DOC,  /* --settings-doc: print docs/settings.md */
  ASGID_ACTION_EXAMPLE_CONF,  /* --example-config: print conf/asgid.ini */
  ASGID_ACTION_CONTROL,       /* --control COMMAND: send COMMAND to the running master */
  ASGID_ACTION_ERROR          /* errors were already written to the error stream */
} asgid_settings_action;

/* Sets every member to its default (parsed from the table). Returns 0, or -1 when memory
 * ran out (the struct can then still be passed to asgid_settings_free). */
int asgid_settings_init_defaults(asgid_settings *s);

/* Initialises `s` and loads settings with full precedence: defaults < file (from -c/--config,
 * or ASGID_CONFIG) < environment (ASGID_*) < command line. Every error is written to `err` as
 * one line ("file:line: message" for the file, "environment ASGID_X: ..." , "command line
 * --x: ...") and the function goes on to report all of them, then returns ASGID_ACTION_ERROR.
 * -h/--help, -v/--version, --settings-doc and --example-config return at once without
 * reading the file or the environment. `envp` is the environment to read (NULL-terminated,
 * like environ; NULL for none); an ASGID_* variable that names no setting (nor one asgid
 * uses itself, such as ASGID_CONFIG) is written to `err` as a line starting "warning: ",
 * with the nearest setting, and does not fail the load, as environments carry stale
 * variables. Call asgid_settings_free afterwards whatever the result. */
asgid_settings_action asgid_settings_load_args(asgid_settings *s, int argc, char **argv,
                                               char **envp, FILE *err);

/* Applies INI text (a configuration file) on top of the current values.
 * The text is one layer: the first value it gives a LIST replaces the values from below,
 * later ones append. Keys must not be indented (inih would read an indented line as the
 * continuation of the previous value) and lines are limited to the length inih was built
 * for (INI_MAX_LINE). Errors are written to `err` as "origin:line: message", all of them.
 * Returns the number of errors (0 on success). */
int asgid_settings_apply_ini(asgid_settings *s, const char *text, const char *origin,
                             asgid_setting_source source, FILE *err);

/* Frees everything a settings struct owns. */
void asgid_settings_free(asgid_settings *s);

/* Writes every setting, grouped under its [section], one line per value:
 * "name = value    # source" where source is "default", "file PATH:LINE",
 * "environment ASGID_X" or "command line". Values are written as they are parsed. */
void asgid_settings_print_config(const asgid_settings *s, FILE *out);

/* --help text, docs/settings.md, conf/asgid.ini: all generated from the table. */
void asgid_settings_print_help(FILE *out, const char *program);
void asgid_settings_print_doc(FILE *out);
void asgid_settings_print_example_conf(FILE *out);

/* Serializes the current values for a spawned worker: one record per value,
 * "NAME LENGTH\n" and then LENGTH bytes, the value as it parses back. No value is too long
 * for it (unlike an INI line). Returns malloc'd data, NUL-terminated (no value holds a NUL),
 * with its length in *length; NULL when memory ran out. */
char *asgid_settings_serialize(const asgid_settings *s, size_t *length);

/* Applies what asgid_settings_serialize wrote, as one layer on top of the current values
 * (call it on defaults): the values come back identical (their sources do not). Errors are
 * written to `err`, one line each; returns their number (0 on success). */
int asgid_settings_deserialize(asgid_settings *s, const char *data, size_t length, FILE *err);

/* Makes `to` (uninitialised) a copy of `from`: values, sources, origins. Returns 0, or -1
 * when memory ran out (`to` can then still be passed to asgid_settings_free). */
int asgid_settings_copy(asgid_settings *to, const asgid_settings *from);

/* Whether setting `name` (e.g. "app") has the same value in `a` and `b`; false for an
 * unknown name. */
bool asgid_settings_same(const asgid_settings *a, const asgid_settings *b, const char *name);

/* Gives setting `name` of `to` the value it has in `from`, with its source and origin.
 * Returns 0, or -1 for an unknown name or when memory ran out. */
int asgid_settings_copy_value(asgid_settings *to, const asgid_settings *from, const char *name);

/* The longest value text asgid_settings_compare hands over, terminator included. */
#define ASGID_SETTINGS_SHOWN_SIZE 256

/* Called by asgid_settings_compare for a setting whose value differs: its name, when a change
 * applies, and both values as the log shows them (scalars as they parse back, text quoted and
 * escaped, a LIST's values separated by ", ", cut with "..." beyond
 * ASGID_SETTINGS_SHOWN_SIZE). It may change that setting in `after`. */
typedef void asgid_settings_change_fn(void *data, const char *name,
                                      asgid_setting_applies applies, const char *before,
                                      const char *after);

/* Calls `changed` for each setting whose value differs between `before` and `after`, in the
 * table's order. */
void asgid_settings_compare(const asgid_settings *before, asgid_settings *after,
                            asgid_settings_change_fn *changed, void *data);

/* The text of an ENUM value, e.g. asgid_settings_enum_name("lifespan", 0) == "auto"; NULL
 * for an unknown setting, a setting that is not an ENUM or an index out of range. The string
 * is static. */
const char *asgid_settings_enum_name(const char *setting, int index);

#endif /* ASGID_SETTINGS_H */
