/*
 * test_settings.c - the settings module: the table, every kind of value, the layers and
 * their precedence, error messages, --print-config, serialization, and that the generated
 * docs/settings.md and conf/asgid.ini are up to date.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ini.h>
#include <uv.h>

#include "platform/platform.h"
#include "settings/settings.h"
#include "settings/settings_descriptor.h"
#include "settings/settings_load.h"

/* ------------------------------------------------------------------ helpers */

/* A stream standing in for the error or output stream, its text read back. */
typedef platform_text_capture capture;

static FILE *capture_open(capture *c) {
  assert_int_equal(platform_text_capture_open(c), 0);
  return c->stream;
}

/* Closes the stream; the caller frees the returned text. */
static char *capture_close(capture *c) {
  char *text = platform_text_capture_close(c);
  assert_non_null(text);
  return text;
}

#define ARGS(...) ((const char *[]){__VA_ARGS__, NULL})
#define NO_ARGS ((const char *[]){NULL})

/* Runs asgid_settings_load_args with "asgid" followed by `args`, and `env`; the text written
 * to the error stream goes to *errors (to be freed). */
static asgid_settings_action load(asgid_settings *s, const char *const *args,
                                  const char *const *env, char **errors) {
  char *argv[64] = {"asgid"};
  int argc = 1;
  for (; args[argc - 1]; argc++) {
    assert_true(argc < 63);
    argv[argc] = (char *)args[argc - 1];
  }
  capture err;
  asgid_settings_action action =
      asgid_settings_load_args(s, argc, argv, (char **)env, capture_open(&err));
  *errors = capture_close(&err);
  return action;
}

/* Loads and expects success with nothing written to the error stream. */
static void load_ok(asgid_settings *s, const char *const *args, const char *const *env) {
  char *errors;
  asgid_settings_action action = load(s, args, env, &errors);
  if (*errors)
    fail_msg("unexpected errors:\n%s", errors);
  assert_int_equal(action, ASGID_ACTION_RUN);
  free(errors);
}

/* Loads and expects ASGID_ACTION_ERROR with exactly `expected` written to the error stream. */
static void load_fails(const char *const *args, const char *const *env, const char *expected) {
  asgid_settings s;
  char *errors;
  assert_int_equal(load(&s, args, env, &errors), ASGID_ACTION_ERROR);
  assert_string_equal(errors, expected);
  free(errors);
  asgid_settings_free(&s);
}

/* Applies INI text to defaults, expecting `expected` (possibly "") on the error stream and
 * as many errors as it has lines. */
static void apply(asgid_settings *s, const char *text, const char *expected) {
  assert_int_equal(asgid_settings_init_defaults(s), 0);
  capture err;
  int errors = asgid_settings_apply_ini(s, text, "conf.ini", ASGID_SOURCE_FILE, capture_open(&err));
  char *written = capture_close(&err);
  assert_string_equal(written, expected);
  int lines = 0;
  for (const char *p = written; *p; p++)
    lines += *p == '\n';
  assert_int_equal(errors, lines);
  free(written);
}

/* Applies one "key = value" line of `section` and expects it to be refused with `message`. */
static void expect_refused(const char *section, const char *key, const char *value,
                           const char *message) {
  char text[512], expected[512];
  snprintf(text, sizeof text, "[%s]\n%s = %s\n", section, key, value);
  snprintf(expected, sizeof expected, "conf.ini:2: %s: %s\n", key, message);
  asgid_settings s;
  apply(&s, text, expected);
  asgid_settings_free(&s);
}

/* Writes `text` to a new temporary file; returns its malloc'd path. */
static char *write_temp_file(const char *text) {
  char directory[4096], path[4096 + 32];
  size_t size = sizeof directory;
  assert_int_equal(uv_os_tmpdir(directory, &size), 0);
  snprintf(path, sizeof path, "%s/asgid-test-XXXXXX", directory);
  uv_fs_t req;
  assert_true(uv_fs_mkstemp(NULL, &req, path, NULL) >= 0);
  uv_fs_t close_req;
  uv_fs_close(NULL, &close_req, (uv_file)req.result, NULL);
  uv_fs_req_cleanup(&close_req);
  char *created = strdup(req.path);
  uv_fs_req_cleanup(&req);
  FILE *file = fopen(created, "wb");
  assert_non_null(file);
  size_t length = strlen(text);
  assert_int_equal(fwrite(text, 1, length, file), length);
  fclose(file);
  return created;
}

/* The whole file at `path`, or NULL. */
static char *read_whole_file(const char *path) {
  FILE *file = fopen(path, "rb");
  if (!file)
    return NULL;
  capture c;
  FILE *out = capture_open(&c);
  char chunk[4096];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, file)) > 0)
    fwrite(chunk, 1, got, out);
  fclose(file);
  return capture_close(&c);
}

/* Checks that `config` (--print-config output) has a line "<line_start>...# <source>". */
static void assert_config_line(const char *config, const char *line_start, const char *source) {
  size_t start_length = strlen(line_start);
  for (const char *line = config; *line; line = strchr(line, '\n') + 1) {
    size_t length = strcspn(line, "\n");
    if (strncmp(line, line_start, start_length) != 0 || line[start_length] != ' ')
      continue;
    const char *comment = strstr(line, "# ");
    assert_non_null(comment);
    assert_true(comment < line + length);
    if ((size_t)(line + length - comment - 2) != strlen(source) ||
        strncmp(comment + 2, source, strlen(source)) != 0)
      fail_msg("line \"%.*s\" does not end with \"# %s\"", (int)length, line, source);
    return;
  }
  fail_msg("no line \"%s ...\" in:\n%s", line_start, config);
}

/* ------------------------------------------------------------------ the table */

static void test_table_is_consistent(void **state) {
  (void)state;
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    const settings_descriptor *d = &settings_descriptors[i];
    char env_name[SETTINGS_ENV_NAME_SIZE];
    settings_env_name(d, env_name);
    assert_int_equal(strlen(env_name), strlen("ASGID_") + strlen(d->name)); /* not cut */
    assert_ptr_equal(settings_find(d->name, strlen(d->name)), d);           /* unique */
    assert_true(*d->help);
    assert_int_equal(d->kind == ASGID_KIND_ENUM, d->choices != NULL);
    if (settings_has_bounds(d)) {
      assert_true(d->min <= d->max);
      assert_true(d->min >= 0 || d->kind == ASGID_KIND_INT);
      if (d->kind == ASGID_KIND_INT)
        assert_true(d->min >= LONG_MIN && d->max <= LONG_MAX);
    } else {
      assert_true(d->min == 0 && d->max == 0);
    }
    /* a section's rows are contiguous: a section never starts twice */
    for (size_t j = i + 1; settings_starts_section(i) && j < ASGID_SETTING_COUNT; j++)
      if (settings_starts_section(j))
        assert_string_not_equal(settings_descriptors[j].section, d->section);
    /* short flags are unique and clash with no action and not with -c */
    if (d->short_flag) {
      assert_ptr_equal(settings_find_short(d->short_flag), d);
      assert_int_not_equal(d->short_flag, 'c');
      for (size_t a = 0; a < settings_action_option_count; a++)
        assert_int_not_equal(d->short_flag, settings_action_options[a].short_flag);
    }
  }
}

static void test_defaults_parse_and_apply(void **state) {
  (void)state;
  asgid_settings s;
  assert_int_equal(asgid_settings_init_defaults(&s), 0);
  assert_int_equal(s.bind.count, 1);
  assert_string_equal(s.bind.items[0], "127.0.0.1:8000");
  assert_int_equal(s.backlog, 2048);
  assert_int_equal(s.server_header, 1);
  assert_string_equal(s.root_path, "");
  assert_string_equal(s.worker_class, "auto");
  assert_int_equal(s.lifespan, ASGID_LIFESPAN_AUTO);
  assert_int_equal(s.worker_start, ASGID_WORKER_START_FORK);
  assert_int_equal(s.timeout, 30000);
  assert_int_equal(s.keepalive_timeout, 5000);
  assert_int_equal(s.limit_request_line, 8190);
  assert_int_equal(s.max_body_size, UINT64_C(1) << 30);
  assert_int_equal(s.drain_limit, UINT64_C(1) << 20);
  assert_int_equal(s.log_level, ASGID_LEVEL_INFO);
  assert_string_equal(s.error_log, "-");
  assert_int_equal(s.umask, 022);
  assert_int_equal(s.source.workers, ASGID_SOURCE_DEFAULT);
  assert_int_equal(s.source.bind, ASGID_SOURCE_DEFAULT);
  assert_null(s.origin.workers);
  assert_null(s.config_path);
  asgid_settings_free(&s);
}

/* ------------------------------------------------------------------ each kind of value */

static void test_int_values(void **state) {
  (void)state;
  asgid_settings s;
  apply(&s, "[workers]\nworkers = 4096\nmax_requests = 0\n", "");
  assert_int_equal(s.workers, 4096);
  assert_int_equal(s.max_requests, 0);
  asgid_settings_free(&s);
  expect_refused("workers", "workers", "5000", "5000 is above the maximum 4096");
  expect_refused("server", "backlog", "0", "0 is below the minimum 1");
  expect_refused("workers", "workers", "-1", "-1 is below the minimum 0");
  expect_refused("workers", "workers", "99999999999999999999999",
                 "99999999999999999999999 is above the maximum 4096");
  expect_refused("workers", "workers", "4x", "\"4x\" is not a whole number");
  expect_refused("workers", "workers", "", "\"\" is not a whole number");
  expect_refused("workers", "workers", "0x10", "\"0x10\" is not a whole number");
}

static void test_bool_values(void **state) {
  (void)state;
  static const char *const truths[] = {"on", "true", "yes", "1", "ON", "True"};
  static const char *const falsehoods[] = {"off", "false", "no", "0", "OFF", "No"};
  for (size_t i = 0; i < sizeof truths / sizeof truths[0]; i++) {
    char text[64];
    asgid_settings s;
    snprintf(text, sizeof text, "[server]\nserver_header = %s\n", falsehoods[i]);
    apply(&s, text, "");
    assert_int_equal(s.server_header, 0);
    asgid_settings_free(&s);
    snprintf(text, sizeof text, "[server]\nreuse_port = %s\n", truths[i]);
    apply(&s, text, "");
    assert_int_equal(s.reuse_port, 1);
    asgid_settings_free(&s);
    /* on the command line, as the option's next argument too (--reuse-port on) */
    load_ok(&s, ARGS("--server-header", falsehoods[i], "--reuse-port", truths[i], "x.so"),
            NO_ARGS);
    assert_int_equal(s.server_header, 0);
    assert_int_equal(s.reuse_port, 1);
    assert_string_equal(s.app, "x.so");
    asgid_settings_free(&s);
    snprintf(text, sizeof text, "[server]\nserver_header = %s\n", truths[i]);
    apply(&s, text, "");
    assert_int_equal(s.server_header, 1);
    asgid_settings_free(&s);
  }
  expect_refused("server", "server_header", "maybe",
                 "\"maybe\" is not a boolean (use on/off, true/false, yes/no or 1/0)");
}

static void test_size_values(void **state) {
  (void)state;
  asgid_settings s;
  apply(&s,
        "[http]\nlimit_request_line = 512\nlimit_request_field_size = 64k\n"
        "limit_chunk_extension = 1M\nmax_body_size = 2g\ndrain_limit = 0\n",
        "");
  assert_int_equal(s.limit_request_line, 512);
  assert_int_equal(s.limit_request_field_size, 64 * 1024);
  assert_int_equal(s.limit_chunk_extension, 1024 * 1024);
  assert_int_equal(s.max_body_size, UINT64_C(2) << 30);
  assert_int_equal(s.drain_limit, 0);
  asgid_settings_free(&s);
  const char *not_a_size = "is not a size (use bytes or k, m, g: e.g. 512, 64k, 1m, 2g)";
  char message[128];
  snprintf(message, sizeof message, "\"1t\" %s", not_a_size);
  expect_refused("http", "max_body_size", "1t", message);
  snprintf(message, sizeof message, "\"1.5m\" %s", not_a_size);
  expect_refused("http", "max_body_size", "1.5m", message);
  snprintf(message, sizeof message, "\"k\" %s", not_a_size);
  expect_refused("http", "max_body_size", "k", message);
  expect_refused("http", "limit_request_line", "2m", "2m is above the maximum 1m");
  expect_refused("http", "limit_request_line", "63", "63 is below the minimum 64");
  expect_refused("http", "max_body_size", "99999999999g",
                 "99999999999g is above the maximum 1048576g");
}

static void test_duration_values(void **state) {
  (void)state;
  asgid_settings s;
  apply(&s,
        "[http]\nkeepalive_timeout = 0\nheader_timeout = 500ms\nbody_timeout = 2m\n"
        "write_timeout = 1H\n[workers]\ntimeout = 45\ngraceful_timeout = 3s\n",
        "");
  assert_int_equal(s.keepalive_timeout, 0);
  assert_int_equal(s.header_timeout, 500);
  assert_int_equal(s.body_timeout, 120000);
  assert_int_equal(s.write_timeout, 3600000);
  assert_int_equal(s.timeout, 45000); /* a bare number is seconds */
  assert_int_equal(s.graceful_timeout, 3000);
  asgid_settings_free(&s);
  expect_refused("http", "keepalive_timeout", "abc",
                 "\"abc\" is not a duration (use e.g. 500ms, 30s, 2m)");
  expect_refused("http", "keepalive_timeout", "5 s",
                 "\"5 s\" is not a duration (use e.g. 500ms, 30s, 2m)");
  expect_refused("http", "keepalive_timeout", "2d",
                 "\"2d\" is not a duration (use e.g. 500ms, 30s, 2m)");
  expect_refused("workers", "timeout", "500ms", "500ms is below the minimum 1s");
  expect_refused("http", "keepalive_timeout", "61m", "61m is above the maximum 1h");
}

static void test_enum_values(void **state) {
  (void)state;
  asgid_settings s;
  apply(&s, "[app]\nlifespan = off\n[workers]\nworker_start = spawn\n[log]\nlog_level = error\n",
        "");
  assert_int_equal(s.lifespan, ASGID_LIFESPAN_OFF);
  assert_int_equal(s.worker_start, ASGID_WORKER_START_SPAWN);
  assert_int_equal(s.log_level, ASGID_LEVEL_ERROR);
  asgid_settings_free(&s);
  expect_refused("app", "lifespan", "maybe", "\"maybe\" is not one of auto|on|off");
  expect_refused("app", "lifespan", "o", "\"o\" is not one of auto|on|off");
  expect_refused("log", "log_level", "warn", "\"warn\" is not one of debug|info|warning|error");

  assert_string_equal(asgid_settings_enum_name("lifespan", ASGID_LIFESPAN_AUTO), "auto");
  assert_string_equal(asgid_settings_enum_name("lifespan", ASGID_LIFESPAN_OFF), "off");
  assert_string_equal(asgid_settings_enum_name("worker_start", ASGID_WORKER_START_SPAWN), "spawn");
  assert_string_equal(asgid_settings_enum_name("log_level", ASGID_LEVEL_WARNING), "warning");
  assert_null(asgid_settings_enum_name("lifespan", 3));
  assert_null(asgid_settings_enum_name("lifespan", -1));
  assert_null(asgid_settings_enum_name("workers", 0));
  assert_null(asgid_settings_enum_name("nothing", 0));
}

static void test_mode_values(void **state) {
  (void)state;
  asgid_settings s;
  apply(&s, "[process]\numask = 0077\n", "");
  assert_int_equal(s.umask, 077);
  asgid_settings_free(&s);
  apply(&s, "[process]\numask = 7\n", "");
  assert_int_equal(s.umask, 07);
  asgid_settings_free(&s);
  expect_refused("process", "umask", "999", "\"999\" is not an octal file mode (e.g. 022, 0660)");
  expect_refused("process", "umask", "rwx", "\"rwx\" is not an octal file mode (e.g. 022, 0660)");
  expect_refused("process", "umask", "1777", "1777 is above the maximum 0777");
}

static void test_text_values_mean_the_same_in_every_layer(void **state) {
  (void)state;
  asgid_settings s;
  /* '#' and ';' inside a word are plain characters */
  apply(&s, "[log]\naccess_log_format = %(h)s #1;x \"%(r)s\"\n", "");
  assert_string_equal(s.access_log_format, "%(h)s #1;x \"%(r)s\"");
  asgid_settings_free(&s);

  /* other layers are held to what the file can express */
  load_fails(ARGS("--root-path", " /x"), NO_ARGS,
             "command line --root-path: \" /x\" starts or ends with whitespace, which asgid.ini "
             "strips\n");
  load_fails(ARGS("--access-log-format", "%(h)s ;%(r)s"), NO_ARGS,
             "command line --access-log-format: \"%(h)s ;%(r)s\" has a ';' at its start or "
             "after whitespace, which asgid.ini reads as a comment\n");
  load_fails(NO_ARGS, ARGS("ASGID_ERROR_LOG=;x"),
             "environment ASGID_ERROR_LOG: \";x\" has a ';' at its start or after whitespace, "
             "which asgid.ini reads as a comment\n");
  load_fails(ARGS("--pidfile=a\nb"), NO_ARGS,
             "command line --pidfile: \"a\\x0ab\" contains a line break, which an asgid.ini line "
             "cannot hold\n");

  /* but not to the length of its lines: the command line and the environment take a value
   * of any length (a file's line is limited by inih, see test_file_lines_are_counted_exactly) */
  char long_value[4097];
  memset(long_value, 'x', sizeof long_value - 1);
  long_value[sizeof long_value - 1] = '\0';
  char variable[4200];
  snprintf(variable, sizeof variable, "ASGID_ROOT_PATH=/%s", long_value + 1);
  load_ok(&s, ARGS("-a", long_value), ARGS(variable));
  assert_int_equal(strlen(s.app), 4096);
  assert_int_equal(strlen(s.root_path), 4096);
  asgid_settings_free(&s);
}

/* ------------------------------------------------------------------ layers and precedence */

static void test_scalar_precedence(void **state) {
  (void)state;
  char *path = write_temp_file("[http]\nkeepalive_timeout = 10s\n");
  asgid_settings s;

  load_ok(&s, NO_ARGS, NO_ARGS);
  assert_int_equal(s.keepalive_timeout, 5000);
  assert_int_equal(s.source.keepalive_timeout, ASGID_SOURCE_DEFAULT);
  asgid_settings_free(&s);

  load_ok(&s, ARGS("-c", path), NO_ARGS);
  assert_int_equal(s.keepalive_timeout, 10000);
  assert_int_equal(s.source.keepalive_timeout, ASGID_SOURCE_FILE);
  assert_string_equal(s.config_path, path);
  asgid_settings_free(&s);

  load_ok(&s, ARGS("-c", path), ARGS("ASGID_KEEPALIVE_TIMEOUT=20s"));
  assert_int_equal(s.keepalive_timeout, 20000);
  assert_int_equal(s.source.keepalive_timeout, ASGID_SOURCE_ENV);
  asgid_settings_free(&s);

  load_ok(&s, ARGS("--keepalive-timeout", "30s", "-c", path), ARGS("ASGID_KEEPALIVE_TIMEOUT=20s"));
  assert_int_equal(s.keepalive_timeout, 30000);
  assert_int_equal(s.source.keepalive_timeout, ASGID_SOURCE_CLI);
  asgid_settings_free(&s);

  /* the file named by ASGID_CONFIG; -c wins over it */
  char env_config[4200];
  snprintf(env_config, sizeof env_config, "ASGID_CONFIG=%s", path);
  load_ok(&s, NO_ARGS, ARGS(env_config));
  assert_int_equal(s.keepalive_timeout, 10000);
  asgid_settings_free(&s);
  char *other = write_temp_file("[http]\nkeepalive_timeout = 7s\n");
  load_ok(&s, ARGS("--config", other), ARGS(env_config));
  assert_int_equal(s.keepalive_timeout, 7000);
  asgid_settings_free(&s);

  remove(other);
  free(other);
  remove(path);
  free(path);
}

static void assert_list(const asgid_string_list *list, const char *const *expected) {
  size_t count = 0;
  while (expected[count])
    count++;
  assert_int_equal(list->count, count);
  for (size_t i = 0; i < count; i++)
    assert_string_equal(list->items[i], expected[i]);
}

static void test_list_precedence(void **state) {
  (void)state;
  char *path = write_temp_file("[server]\nbind = c:1\nbind = d:2\n");
  asgid_settings s;

  load_ok(&s, NO_ARGS, NO_ARGS);
  assert_list(&s.bind, ARGS("127.0.0.1:8000"));
  asgid_settings_free(&s);

  /* the file's first value replaces the default, its second appends */
  load_ok(&s, ARGS("-c", path), NO_ARGS);
  assert_list(&s.bind, ARGS("c:1", "d:2"));
  assert_int_equal(s.source.bind, ASGID_SOURCE_FILE);
  asgid_settings_free(&s);

  load_ok(&s, ARGS("-c", path), ARGS("ASGID_BIND= e:3 ,f:4"));
  assert_list(&s.bind, ARGS("e:3", "f:4"));
  assert_int_equal(s.source.bind, ASGID_SOURCE_ENV);
  asgid_settings_free(&s);

  load_ok(&s, ARGS("-c", path, "-b", "a:5", "--bind=b:6"), ARGS("ASGID_BIND=e:3,f:4"));
  assert_list(&s.bind, ARGS("a:5", "b:6"));
  assert_int_equal(s.source.bind, ASGID_SOURCE_CLI);
  asgid_settings_free(&s);

  load_ok(&s, ARGS("-b", "a:5"), NO_ARGS);
  assert_list(&s.bind, ARGS("a:5"));
  asgid_settings_free(&s);

  load_fails(NO_ARGS, ARGS("ASGID_BIND=a:1,,b:2"),
             "environment ASGID_BIND: an empty value is not allowed\n");
  remove(path);
  free(path);
}

/* ------------------------------------------------------------------ the command line */

static void test_command_line_forms(void **state) {
  (void)state;
  asgid_settings s;
  load_ok(&s,
          ARGS("--workers", "3", "--threads=5", "-t45s", "-k", "thread", "--server-header=off",
               "--max_requests", "10", "mod.so:app"),
          NO_ARGS);
  assert_int_equal(s.workers, 3);
  assert_int_equal(s.threads, 5);
  assert_int_equal(s.timeout, 45000);
  assert_string_equal(s.worker_class, "thread");
  assert_int_equal(s.server_header, 0);
  assert_int_equal(s.max_requests, 10);
  assert_string_equal(s.app, "mod.so:app");
  assert_int_equal(s.source.app, ASGID_SOURCE_CLI);
  asgid_settings_free(&s);

  /* a bare BOOL option means on and leaves the next argument alone */
  load_ok(&s, ARGS("--server-header=off", "--server-header", "app.so"), NO_ARGS);
  assert_int_equal(s.server_header, 1);
  assert_string_equal(s.app, "app.so");
  asgid_settings_free(&s);

  /* after "--" everything is an argument */
  load_ok(&s, ARGS("--", "-odd.so"), NO_ARGS);
  assert_string_equal(s.app, "-odd.so");
  asgid_settings_free(&s);

  load_fails(ARGS("--wrokers=2", "--worker=3", "--keepalive=9", "--check-conifg",
                  "--confg=a.ini"),
             NO_ARGS,
             "command line --wrokers: unknown option; did you mean --workers? (see --help)\n"
             "command line --worker: unknown option; did you mean --workers? (see --help)\n"
             "command line --keepalive: unknown option; did you mean --keepalive-timeout? (see "
             "--help)\n"
             "command line --check-conifg: unknown option; did you mean --check-config? (see "
             "--help)\n"
             "command line --confg: unknown option; did you mean --config? (see --help)\n");
  /* a word after a BOOL option that is no boolean becomes the app: when that clashes, the
   * error says how the option's value is written */
  load_fails(ARGS("--reuse-port", "enabled", "app.so"), NO_ARGS,
             "command line app.so: unexpected argument (the app is already enabled); if it was "
             "meant as the value of --reuse-port, write on, off, true, false, yes, no, 1 or 0\n");
  load_fails(ARGS("--app", "x.so", "--factory", "y"), NO_ARGS,
             "command line y: the app is given by --app too; if it was meant as the value of "
             "--factory, write on, off, true, false, yes, no, 1 or 0\n");
  /* a boolean word after a BOOL option is its value; anything else is left alone */
  load_ok(&s, ARGS("--factory", "--reuse-port", "off", "on.so"), NO_ARGS);
  assert_int_equal(s.factory, 1);
  assert_int_equal(s.reuse_port, 0);
  assert_string_equal(s.app, "on.so");
  asgid_settings_free(&s);

  load_fails(ARGS("--bogus", "-x", "--workers"), NO_ARGS,
             "command line --bogus: unknown option (see --help)\n"
             "command line -x: unknown option (see --help)\n"
             "command line --workers: needs a value\n");
  load_fails(ARGS("a.so", "b.so"), NO_ARGS,
             "command line b.so: unexpected argument (the app is already a.so)\n");
  load_fails(ARGS("a.so", "--app", "b.so"), NO_ARGS,
             "command line a.so: the app is given by --app too\n");
  load_fails(ARGS("-w", "5000", "--lifespan=maybe"), NO_ARGS,
             "command line -w: 5000 is above the maximum 4096\n"
             "command line --lifespan: \"maybe\" is not one of auto|on|off\n");
  load_fails(ARGS("--help=yes"), NO_ARGS, "command line --help: takes no value\n");
  load_fails(ARGS("--print-config", "--check-config"), NO_ARGS,
             "command line --check-config: only one action at a time\n");
  /* loading goes on after an error, to report every other one */
  load_fails(ARGS("-c", "/nonexistent/a.ini", "--config=b.ini"), NO_ARGS,
             "command line --config: only one configuration file can be read\n"
             "/nonexistent/a.ini: cannot read the configuration file (named by -c): No such file "
             "or directory\n");
}

static void test_actions(void **state) {
  (void)state;
  static const struct {
    const char *option;
    asgid_settings_action action;
  } cases[] = {
      {"-h", ASGID_ACTION_HELP},
      {"--help", ASGID_ACTION_HELP},
      {"-v", ASGID_ACTION_VERSION},
      {"--version", ASGID_ACTION_VERSION},
      {"--print-config", ASGID_ACTION_PRINT_CONFIG},
      {"--check-config", ASGID_ACTION_CHECK_CONFIG},
      {"--settings-doc", ASGID_ACTION_SETTINGS_DOC},
      {"--example-config", ASGID_ACTION_EXAMPLE_CONF},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    asgid_settings s;
    char *errors;
    assert_int_equal(load(&s, ARGS(cases[i].option), NO_ARGS, &errors), cases[i].action);
    assert_string_equal(errors, "");
    free(errors);
    asgid_settings_free(&s);
  }
  /* help does not read the configuration, so it works when the configuration is broken */
  asgid_settings s;
  char *errors;
  assert_int_equal(load(&s, ARGS("--help"),
                        ARGS("ASGID_CONFIG=/nonexistent/asgid.ini", "ASGID_WORKERS=lots"), &errors),
                   ASGID_ACTION_HELP);
  assert_string_equal(errors, "");
  free(errors);
  asgid_settings_free(&s);
  /* --check-config does, and reports every error */
  load_fails(ARGS("--check-config"),
             ARGS("ASGID_CONFIG=/nonexistent/asgid.ini", "ASGID_WORKERS=lots"),
             "/nonexistent/asgid.ini: cannot read the configuration file (named by "
             "ASGID_CONFIG): No such file or directory\n"
             "environment ASGID_WORKERS: \"lots\" is not a whole number\n");
}

/* ------------------------------------------------------------------ the environment */

static void test_environment(void **state) {
  (void)state;
  asgid_settings s;
  load_ok(&s, NO_ARGS,
          ARGS("PATH=/bin", "ASGID_WORKERS=2", "ASGID_SERVER_HEADER=no", "ASGID_LIFESPAN=on",
               "ASGID_MAX_REQUESTS_JITTER=9", "ASGID_CONFIG=", "ASGID_TEST_WORKER_START=spawn",
               "ASGID_BIN=/x/asgid", "ASGID_BINARY=/x/asgid", "ASGID_INHERIT_FDS=3"));
  assert_int_equal(s.workers, 2);
  assert_int_equal(s.server_header, 0);
  assert_int_equal(s.lifespan, ASGID_LIFESPAN_ON);
  assert_int_equal(s.max_requests_jitter, 9);
  assert_int_equal(s.source.workers, ASGID_SOURCE_ENV);
  assert_int_equal(s.source.threads, ASGID_SOURCE_DEFAULT);
  asgid_settings_free(&s);

  /* an ASGID_ variable that names no setting (nor one of asgid's own) is a warning that
   * suggests the nearest setting, and loading goes on */
  char *errors;
  assert_int_equal(load(&s, NO_ARGS,
                        ARGS("ASGID_WORKERSX=1", "ASGID_WORKERS=3", "ASGID_KEEPALIVE=9",
                             "ASGID_LOGLEVEL=debug", "ASGID_UNKNOWN_THING=1", "ASGID_=1",
                             "ASGID_\x1b[2J=1"),
                        &errors),
                   ASGID_ACTION_RUN);
  assert_string_equal(
      errors,
      "warning: environment ASGID_WORKERSX: not a setting, ignored; did you mean "
      "ASGID_WORKERS?\n"
      "warning: environment ASGID_KEEPALIVE: not a setting, ignored; did you mean "
      "ASGID_KEEPALIVE_TIMEOUT?\n"
      "warning: environment ASGID_LOGLEVEL: not a setting, ignored; did you mean "
      "ASGID_LOG_LEVEL?\n"
      "warning: environment ASGID_UNKNOWN_THING: not a setting, ignored (docs/settings.md lists "
      "them)\n"
      "warning: environment ASGID_: not a setting, ignored (docs/settings.md lists them)\n"
      "warning: environment ASGID_\\x1b[2J: not a setting, ignored (docs/settings.md lists "
      "them)\n");
  assert_int_equal(s.workers, 3);
  free(errors);
  asgid_settings_free(&s);

  load_fails(NO_ARGS, ARGS("ASGID_WORKERS=", "ASGID_TIMEOUT=2x", "ASGID_UMASK=8"),
             "environment ASGID_WORKERS: \"\" is not a whole number\n"
             "environment ASGID_TIMEOUT: \"2x\" is not a duration (use e.g. 500ms, 30s, 2m)\n"
             "environment ASGID_UMASK: \"8\" is not an octal file mode (e.g. 022, 0660)\n");
}

/* ------------------------------------------------------------------ the file */

static void test_file_errors_name_file_and_line(void **state) {
  (void)state;
  asgid_settings s;
  apply(&s,
        "; a comment\n"
        "[http]\n"
        "keepalive_timeout = abc\n"
        "keepalive = 5s\n"
        "\n"
        "[app]\n"
        "lifespan = maybe\n"
        "workers = 3\n"
        "[nowhere]\n"
        "thing = 1\n"
        "threads = 4\n"
        "[server]\n"
        "backlog = 10\n"
        "  max_connections = 5\n"
        "this line is wrong\n"
        "server_header = off\n",
        "conf.ini:3: keepalive_timeout: \"abc\" is not a duration (use e.g. 500ms, 30s, 2m)\n"
        "conf.ini:4: unknown key \"keepalive\" in section [http]; did you mean "
        "keepalive_timeout?\n"
        "conf.ini:7: lifespan: \"maybe\" is not one of auto|on|off\n"
        "conf.ini:8: workers belongs in [workers], not [app]\n"
        "conf.ini:10: unknown key \"thing\" in unknown section [nowhere] (sections: server, app, "
        "workers, http, websocket, log, process)\n"
        "conf.ini:11: threads belongs in [app], not [nowhere]\n"
        "conf.ini:14: indented line: start it at the beginning of the line (inih would read it "
        "as the continuation of the value above)\n"
        "conf.ini:15: not a [section], a key = value line or a comment (inih reports only the "
        "first such line)\n");
  /* the good lines around the bad ones still apply */
  assert_int_equal(s.backlog, 10);
  assert_int_equal(s.server_header, 0);
  assert_int_equal(s.max_connections, 4096);
  asgid_settings_free(&s);

  apply(&s, "workers = 2\n[process]\nnothing = 1\n",
        "conf.ini:1: workers must be under [workers]\n"
        "conf.ini:3: unknown key \"nothing\" in section [process] (its keys: pidfile, "
        "control_timeout, user, group, umask)\n");
  asgid_settings_free(&s);
}

/* Unknown keys and section names are shown escaped: control characters (C0, DEL, C1) and
 * bytes that are not valid UTF-8 as \xNN, quotes and backslashes with a backslash; valid
 * UTF-8 (the é) as it is. */
static void test_file_errors_escape_unknown_names(void **state) {
  (void)state;
  asgid_settings s;
  apply(&s,
        "[log]\n"
        "lev\x1b[2Jel = 1\n"
        "a\"b\\c\x7f = 1\n"
        "[we\x01" "b\xff]\n"
        "x\xc3\xa9\xc2\x9b\xc0\xaf\xed\xa0\x80 = 1\n"
        "workers = 2\n",
        "conf.ini:2: unknown key \"lev\\x1b[2Jel\" in section [log] (its keys: log_level, "
        "error_log, access_log, access_log_format, log_timezone, log_format, log_config)\n"
        "conf.ini:3: unknown key \"a\\\"b\\\\c\\x7f\" in section [log] (its keys: log_level, "
        "error_log, access_log, access_log_format, log_timezone, log_format, log_config)\n"
        "conf.ini:5: unknown key \"x\xc3\xa9\\xc2\\x9b\\xc0\\xaf\\xed\\xa0\\x80\" in unknown "
        "section [we\\x01" "b\\xff] (sections: server, app, workers, http, websocket, log, process)\n"
        "conf.ini:6: workers belongs in [workers], not [we\\x01" "b\\xff]\n");
  asgid_settings_free(&s);

  /* a long name is cut with "..." and never inside an escape */
  char text[512] = "[log]\n";
  size_t n = strlen(text);
  for (int i = 0; i < 60; i++)
    text[n++] = '\x01';
  strcpy(text + n, " = 1\n");
  char expected[512] = "conf.ini:2: unknown key \"";
  for (int i = 0; i < 22; i++)
    strcat(expected, "\\x01");
  strcat(expected, "...\" in section [log] (its keys: log_level, error_log, access_log, "
                   "access_log_format, log_timezone, log_format, log_config)\n");
  apply(&s, text, expected);
  asgid_settings_free(&s);
}

/* What the command line's errors echo of it is escaped too (found by tests/fuzz, which
 * checks every error message for control characters and invalid UTF-8). */
static void test_command_line_errors_escape_arguments(void **state) {
  (void)state;
  load_fails(ARGS("--bo\x1b[2Jgus", "a\x01.so", "b\xff.so"), NO_ARGS,
             "command line --bo\\x1b[2Jgus: unknown option (see --help)\n"
             "command line b\\xff.so: unexpected argument (the app is already a\\x01.so)\n");
  load_fails(ARGS("--app", "x.so", "\x7f.so"), NO_ARGS,
             "command line \\x7f.so: the app is given by --app too\n");
}

/* A key given twice is an error naming both lines; a LIST's key repeats legitimately. */
static void test_file_duplicate_keys(void **state) {
  (void)state;
  asgid_settings s;
  apply(&s,
        "[server]\n"
        "bind = 127.0.0.1:8000\n"
        "backlog = 10\n"
        "bind = unix:/tmp/a.sock\n"
        "[workers]\n"
        "workers = 2\n"
        "\n"
        "workers = 3\n"
        "[server]\n"
        "backlog = 20\n",
        "conf.ini:8: workers is already set at line 6\n"
        "conf.ini:10: backlog is already set at line 3\n");
  assert_int_equal(s.bind.count, 2);
  assert_int_equal(s.workers, 2);
  asgid_settings_free(&s);
}

/* Misspelt keys and sections get the nearest name. */
static void test_file_suggestions(void **state) {
  (void)state;
  asgid_settings s;
  apply(&s,
        "[workers]\n"
        "worker = 2\n"
        "graceful-timeout = 5s\n"
        "[log]\n"
        "loglevel = debug\n"
        "errorlog = -\n"
        "[app]\n"
        "wrokers = 3\n"
        "[worker]\n"
        "workers = 1\n",
        "conf.ini:2: unknown key \"worker\" in section [workers]; did you mean workers?\n"
        "conf.ini:3: unknown key \"graceful-timeout\" in section [workers]; did you mean "
        "graceful_timeout?\n"
        "conf.ini:5: unknown key \"loglevel\" in section [log]; did you mean log_level?\n"
        "conf.ini:6: unknown key \"errorlog\" in section [log]; did you mean error_log?\n"
        "conf.ini:8: unknown key \"wrokers\" in section [app]; did you mean workers in "
        "[workers]?\n"
        "conf.ini:10: workers belongs in [workers], not [worker]\n");
  asgid_settings_free(&s);
  apply(&s, "[wrokers]\nthing = 1\n",
        "conf.ini:2: unknown key \"thing\" in unknown section [wrokers] (sections: server, app, "
        "workers, http, websocket, log, process); did you mean [workers]?\n");
  asgid_settings_free(&s);
}

/* The distance behind the suggestions: transpositions count one, case and '-'/'_' none. */
static void test_edit_distance(void **state) {
  (void)state;
  assert_int_equal(settings_edit_distance("workers", 7, "workers", 7), 0);
  assert_int_equal(settings_edit_distance("WORKERS", 7, "workers", 7), 0);
  assert_int_equal(settings_edit_distance("reuse-port", 10, "reuse_port", 10), 0);
  assert_int_equal(settings_edit_distance("wrokers", 7, "workers", 7), 1);
  assert_int_equal(settings_edit_distance("worker", 6, "workers", 7), 1);
  assert_int_equal(settings_edit_distance("", 0, "app", 3), 3);
  assert_int_equal(settings_edit_distance("kitten", 6, "sitting", 7), 3);
  assert_true(settings_name_is_near("ap", 2, "app"));
  assert_false(settings_name_is_near("ab", 2, "app")); /* two edits of two letters */
  assert_false(settings_name_is_near("threadz_x", 9, "threads"));
  assert_null(settings_nearest("zzz", 3));
  assert_null(settings_nearest("w", 1)); /* too short to be a beginning */
  assert_string_equal(settings_nearest("keepalive", 9)->name, "keepalive_timeout");
  assert_string_equal(settings_nearest("WORKERSX", 8)->name, "workers");
}

static void test_file_lines_are_counted_exactly(void **state) {
  (void)state;
  char text[2048];
  char long_line[300];
  memset(long_line, 'x', sizeof long_line - 1);
  long_line[sizeof long_line - 1] = '\0';
  /* CRLF line ends, a line too long for inih, no newline at the end */
  snprintf(text, sizeof text,
           "[workers]\r\nworkers = 2\r\n# %s\r\nthreads = 1\r\nmax_requests = -1", long_line);
  char expected[256];
  snprintf(expected, sizeof expected,
           "conf.ini:3: the line is 301 characters long; inih reads at most %d\n"
           "conf.ini:4: threads belongs in [app], not [workers]\n"
           "conf.ini:5: max_requests: -1 is below the minimum 0\n",
           INI_MAX_LINE - 3);
  asgid_settings s;
  apply(&s, text, expected);
  assert_int_equal(s.workers, 2);
  assert_string_equal(s.origin.workers, "conf.ini:2");
  asgid_settings_free(&s);
}

static void test_missing_or_unreadable_file(void **state) {
  (void)state;
  load_fails(ARGS("-c", "/nonexistent/asgid.ini"), NO_ARGS,
             "/nonexistent/asgid.ini: cannot read the configuration file (named by -c): No such "
             "file or directory\n");
  const char *directory = getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir;
#ifdef _WIN32
  /* Windows' C runtime refuses to open a directory; POSIX opens it and fails the read. */
  const char *why = "Permission denied";
#else
  const char *why = "Is a directory";
#endif
  char expected[4200];
  snprintf(expected, sizeof expected,
           "%s: cannot read the configuration file (named by --config): %s\n", directory, why);
  load_fails(ARGS("--config", directory), NO_ARGS, expected);
}

static void test_file_error_format_from_load(void **state) {
  (void)state;
  char *path = write_temp_file("[workers]\nworkers = 5000\n");
  char expected[4200];
  snprintf(expected, sizeof expected,
           "%s:2: workers: 5000 is above the maximum 4096\n"
           "environment ASGID_THREADS: 0 is below the minimum 1\n"
           "command line --graceful-timeout: \"x\" is not a duration (use e.g. 500ms, 30s, 2m)\n",
           path);
  load_fails(ARGS("-c", path, "--graceful-timeout", "x"), ARGS("ASGID_THREADS=0"), expected);
  remove(path);
  free(path);
}

/* ------------------------------------------------------------------ printing */

static void test_print_config_sources(void **state) {
  (void)state;
  char *path = write_temp_file("[server]\nbacklog = 100\nbind = a:1\nbind = b:2\n"
                               "[http]\nmax_body_size = 10485760\n");
  asgid_settings s;
  load_ok(&s, ARGS("-c", path, "-w", "3"), ARGS("ASGID_KEEPALIVE_TIMEOUT=120000ms"));
  capture out;
  asgid_settings_print_config(&s, capture_open(&out));
  char *config = capture_close(&out);

  char from_file[4200];
  snprintf(from_file, sizeof from_file, "file %s:2", path);
  assert_config_line(config, "backlog = 100", from_file);
  snprintf(from_file, sizeof from_file, "file %s:3", path);
  assert_config_line(config, "bind = a:1", from_file);
  assert_config_line(config, "bind = b:2", from_file);
  snprintf(from_file, sizeof from_file, "file %s:6", path);
  assert_config_line(config, "max_body_size = 10m", from_file); /* canonical units */
  assert_config_line(config, "workers = 3", "command line");
  assert_config_line(config, "keepalive_timeout = 2m", "environment ASGID_KEEPALIVE_TIMEOUT");
  assert_config_line(config, "threads = 8", "default");
  assert_config_line(config, "umask = 0022", "default");
  assert_config_line(config, "user = ", "default; applies at start"); /* the applies column */
  assert_config_line(config, "server_header = on", "default");
  assert_config_line(config, "lifespan = auto", "default");
  assert_config_line(config, "root_path =", "default");
  /* every setting is there, under its section */
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    char line[128];
    snprintf(line, sizeof line, "\n%s = ", settings_descriptors[i].name);
    assert_non_null(strstr(config, line));
    snprintf(line, sizeof line, "[%s]\n", settings_descriptors[i].section);
    assert_non_null(strstr(config, line));
  }
  free(config);
  asgid_settings_free(&s);
  remove(path);
  free(path);
}

static void test_help_lists_every_setting(void **state) {
  (void)state;
  capture out;
  asgid_settings_print_help(capture_open(&out), "asgid");
  char *help = capture_close(&out);
  assert_true(strncmp(help, "Usage: asgid ", 13) == 0);
  assert_non_null(strstr(help, "  -c, --config FILE"));
  assert_non_null(strstr(help, "--keepalive-timeout DURATION\n"));
  assert_non_null(strstr(help, "--server-header [on|off]\n"));
  assert_non_null(strstr(help, "  -b, --bind VALUE\n"));
  assert_non_null(strstr(help, "ASGID_WORKERS, default 0, 0 to 4096\n"));
  assert_non_null(strstr(help, "ASGID_TIMEOUT, default 30s, 1s to 24h\n"));
  for (size_t i = 0; i < settings_action_option_count; i++) {
    char option[64];
    snprintf(option, sizeof option, "--%s ", settings_action_options[i].long_name);
    assert_non_null(strstr(help, option));
  }
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    char env_name[SETTINGS_ENV_NAME_SIZE + 8];
    settings_env_name(&settings_descriptors[i], env_name);
    strcat(env_name, ", default");
    assert_non_null(strstr(help, env_name));
    assert_non_null(strstr(help, settings_descriptors[i].help));
  }
  free(help);
}

/* ------------------------------------------------------------------ serialization */

/* Serializes `s` and reads it back into `copy` (initialised here), expecting no errors. */
static void round_trip(const asgid_settings *s, asgid_settings *copy) {
  size_t length;
  char *data = asgid_settings_serialize(s, &length);
  assert_non_null(data);
  assert_int_equal(strlen(data), length);
  assert_int_equal(asgid_settings_init_defaults(copy), 0);
  capture err;
  int errors = asgid_settings_deserialize(copy, data, length, capture_open(&err));
  char *written = capture_close(&err);
  assert_string_equal(written, "");
  assert_int_equal(errors, 0);
  free(written);
  free(data);
}

/* The text serialization of `s` (to compare two configurations whole); to be freed. */
static char *serialized(const asgid_settings *s) {
  size_t length;
  char *data = asgid_settings_serialize(s, &length);
  assert_non_null(data);
  return data;
}

static void test_serialize_round_trip(void **state) {
  (void)state;
  asgid_settings original;
  /* values of any length from the command line: a spawned worker gets them whole */
  char long_format[4097];
  memset(long_format, 'f', sizeof long_format - 1);
  memcpy(long_format, "%(h)s #;x \"%(r)s\" {x-id}i ", 26);
  long_format[sizeof long_format - 1] = '\0';
  load_ok(&original,
          ARGS("-b", "unix:/run/asgid.sock mode=0660", "-b", "[::1]:8080", "-b", "0.0.0.0:80",
               "--access-log-format", long_format, "--root-path", "/a b\tc",
               "--umask", "027", "--max-body-size", "1000", "--timeout", "1500ms",
               "--server-header=off", "--lifespan", "off", "-w", "7", "--app", "x.so:app"),
          NO_ARGS);
  asgid_settings copy;
  round_trip(&original, &copy);
  assert_list(&copy.bind, ARGS("unix:/run/asgid.sock mode=0660", "[::1]:8080", "0.0.0.0:80"));
  assert_string_equal(copy.access_log_format, long_format);
  assert_string_equal(copy.root_path, "/a b\tc");
  assert_int_equal(copy.umask, 027);
  assert_int_equal(copy.max_body_size, 1000);
  assert_int_equal(copy.timeout, 1500);
  assert_int_equal(copy.server_header, 0);
  assert_int_equal(copy.lifespan, ASGID_LIFESPAN_OFF);
  assert_int_equal(copy.workers, 7);
  assert_string_equal(copy.app, "x.so:app");
  /* and every other value: the copy serializes to the same records */
  char *text = serialized(&original), *again = serialized(&copy);
  assert_string_equal(again, text);
  free(again);
  free(text);
  asgid_settings_free(&copy);
  asgid_settings_free(&original);
}

static void test_deserialize_refuses_malformed_records(void **state) {
  (void)state;
  static const char *const malformed[] = {
      "workers 1\n",         /* shorter than its length */
      "workers\n2",          /* no length */
      "workers x\n2",        /* a length that is no number */
      "nothing 1\n2",        /* no such setting */
      "workers 1\n2threads", /* no header after a value */
  };
  for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
    asgid_settings s;
    assert_int_equal(asgid_settings_init_defaults(&s), 0);
    capture err;
    int errors =
        asgid_settings_deserialize(&s, malformed[i], strlen(malformed[i]), capture_open(&err));
    char *written = capture_close(&err);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(written, "settings from the master: "));
    free(written);
    asgid_settings_free(&s);
  }
  /* a value the parser refuses is named */
  asgid_settings s;
  assert_int_equal(asgid_settings_init_defaults(&s), 0);
  capture err;
  assert_int_equal(asgid_settings_deserialize(&s, "workers 3\nabc", 13, capture_open(&err)), 1);
  char *written = capture_close(&err);
  assert_string_equal(written,
                      "settings from the master: workers: \"abc\" is not a whole number\n");
  free(written);
  asgid_settings_free(&s);
}

/* ------------------------------------------------------------------ comparing (reload) */

typedef struct change_log {
  char text[2048];
} change_log;

static void record_change(void *data, const char *name, asgid_setting_applies applies,
                          const char *before, const char *after) {
  change_log *log = data;
  size_t n = strlen(log->text);
  snprintf(log->text + n, sizeof log->text - n, "%s%s %s -> %s\n",
           applies == ASGID_APPLIES_START ? "start-only " : "", name, before, after);
}

static void test_compare_names_each_change_once(void **state) {
  (void)state;
  asgid_settings before, after;
  load_ok(&before, ARGS("-w", "2"), NO_ARGS);
  char long_path[400] = "/";
  memset(long_path + 1, 'p', 300);
  load_ok(&after,
          ARGS("-w", "3", "--keepalive-timeout", "10s", "-b", "127.0.0.1:1", "-b", "[::1]:2",
               "--root-path", "/a\"b\x1b", "--user", "nobody", "--server-header=off",
               "--error-log", long_path),
          NO_ARGS);
  change_log log = {""};
  asgid_settings_compare(&before, &after, record_change, &log);
  assert_string_equal(
      log.text,
      "bind \"127.0.0.1:8000\" -> \"127.0.0.1:1\", \"[::1]:2\"\n"
      "root_path \"\" -> \"/a\\\"b\\x1b\"\n"
      "server_header on -> off\n"
      "workers 2 -> 3\n"
      "keepalive_timeout 5s -> 10s\n"
      "error_log \"-\" -> \"/pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
      "ppppppppppppppp...\"\n"
      "start-only user \"\" -> \"nobody\"\n");

  /* a start-only value kept in force: copied back, with its source */
  assert_false(asgid_settings_same(&before, &after, "user"));
  assert_int_equal(asgid_settings_copy_value(&after, &before, "user"), 0);
  assert_true(asgid_settings_same(&before, &after, "user"));
  assert_int_equal(settings_source_of(settings_find("user", 4), &after), ASGID_SOURCE_DEFAULT);
  assert_int_equal(asgid_settings_copy_value(&after, &before, "bind"), 0);
  assert_list(&after.bind, ARGS("127.0.0.1:8000"));
  assert_int_equal(asgid_settings_copy_value(&after, &before, "no_such_setting"), -1);
  assert_false(asgid_settings_same(&before, &after, "no_such_setting"));

  /* a whole copy compares equal everywhere */
  asgid_settings copy;
  assert_int_equal(asgid_settings_copy(&copy, &after), 0);
  change_log none = {""};
  asgid_settings_compare(&after, &copy, record_change, &none);
  assert_string_equal(none.text, "");
  assert_int_equal(copy.source.workers, ASGID_SOURCE_CLI);
  asgid_settings_free(&copy);
  asgid_settings_free(&after);
  asgid_settings_free(&before);
}

/* ------------------------------------------------------------------ generated files */

/* Fails unless the file `relative_path` in the source tree equals what `print` writes. */
static void assert_generated_file_is_current(const char *relative_path, void (*print)(FILE *),
                                             const char *regenerate) {
  const char *source_dir = getenv("ASGID_SOURCE_DIR");
  if (!source_dir)
    fail_msg("ASGID_SOURCE_DIR is not set: run this test with ctest");
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", source_dir, relative_path);
  char *committed = read_whole_file(path);
  if (!committed)
    fail_msg("cannot read %s; generate it: %s", path, regenerate);
  capture out;
  print(capture_open(&out));
  char *generated = capture_close(&out);
  if (strcmp(committed, generated) != 0)
    fail_msg("%s differs from what the settings table produces; regenerate it: %s", relative_path,
             regenerate);
  free(generated);
  free(committed);
}

static void test_settings_doc_is_current(void **state) {
  (void)state;
  assert_generated_file_is_current("docs/settings.md", asgid_settings_print_doc,
                                   "build/asgid --settings-doc > docs/settings.md");
}

static void test_example_conf_is_current(void **state) {
  (void)state;
  assert_generated_file_is_current("conf/asgid.ini", asgid_settings_print_example_conf,
                                   "build/asgid --example-config > conf/asgid.ini");
}

static void test_example_conf_parses_and_documents_every_setting(void **state) {
  (void)state;
  capture out;
  asgid_settings_print_example_conf(capture_open(&out));
  char *conf = capture_close(&out);
  asgid_settings s;
  apply(&s, conf, ""); /* no errors, and it sets nothing: */
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    const settings_descriptor *d = &settings_descriptors[i];
    assert_int_equal(settings_source_of(d, &s), ASGID_SOURCE_DEFAULT);
    char line[128];
    snprintf(line, sizeof line, "\n# %s =", d->name);
    assert_non_null(strstr(conf, line));
  }
  asgid_settings_free(&s);

  /* uncommenting every key gives the defaults back */
  for (char *p = conf; (p = strstr(p, "\n# ")); p++) {
    size_t word = strcspn(p + 3, " \n");
    if (settings_find(p + 3, word) && strncmp(p + 3 + word, " =", 2) == 0)
      memmove(p + 1, p + 3, strlen(p + 3) + 1);
  }
  asgid_settings defaults;
  assert_int_equal(asgid_settings_init_defaults(&defaults), 0);
  apply(&s, conf, "");
  char *expected = serialized(&defaults);
  char *actual = serialized(&s);
  assert_string_equal(actual, expected);
  assert_int_equal(s.source.workers, ASGID_SOURCE_FILE);
  free(actual);
  free(expected);
  asgid_settings_free(&defaults);
  asgid_settings_free(&s);
  free(conf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_is_consistent),
      cmocka_unit_test(test_defaults_parse_and_apply),
      cmocka_unit_test(test_int_values),
      cmocka_unit_test(test_bool_values),
      cmocka_unit_test(test_size_values),
      cmocka_unit_test(test_duration_values),
      cmocka_unit_test(test_enum_values),
      cmocka_unit_test(test_mode_values),
      cmocka_unit_test(test_text_values_mean_the_same_in_every_layer),
      cmocka_unit_test(test_scalar_precedence),
      cmocka_unit_test(test_list_precedence),
      cmocka_unit_test(test_command_line_forms),
      cmocka_unit_test(test_actions),
      cmocka_unit_test(test_environment),
      cmocka_unit_test(test_file_errors_name_file_and_line),
      cmocka_unit_test(test_file_errors_escape_unknown_names),
      cmocka_unit_test(test_command_line_errors_escape_arguments),
      cmocka_unit_test(test_file_duplicate_keys),
      cmocka_unit_test(test_file_suggestions),
      cmocka_unit_test(test_edit_distance),
      cmocka_unit_test(test_file_lines_are_counted_exactly),
      cmocka_unit_test(test_missing_or_unreadable_file),
      cmocka_unit_test(test_file_error_format_from_load),
      cmocka_unit_test(test_print_config_sources),
      cmocka_unit_test(test_help_lists_every_setting),
      cmocka_unit_test(test_serialize_round_trip),
      cmocka_unit_test(test_deserialize_refuses_malformed_records),
      cmocka_unit_test(test_compare_names_each_change_once),
      cmocka_unit_test(test_settings_doc_is_current),
      cmocka_unit_test(test_example_conf_is_current),
      cmocka_unit_test(test_example_conf_parses_and_documents_every_setting),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
