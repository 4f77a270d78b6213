/*
 * test_error_log.c - error log line format, role tag, escaping, levels, truncation, reopen,
 * and lines from concurrent threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"

/* A temporary directory with the paths the tests use. */
typedef struct fixture {
  char dir[256];
  char path[300];
  char rotated[300];
} fixture;

static fixture *current;

static int setup(void **state) {
  static fixture f;
  const char *tmp = getenv("TMPDIR");
  snprintf(f.dir, sizeof f.dir, "%s/asgid-test-error-log-XXXXXX", tmp != NULL ? tmp : "/tmp");
  if (mkdtemp(f.dir) == NULL)
    return -1;
  snprintf(f.path, sizeof f.path, "%s/error.log", f.dir);
  snprintf(f.rotated, sizeof f.rotated, "%s/error.log.1", f.dir);
  setenv("TZ", "UTC", 1);
  tzset();
  current = &f;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  log_close();
  log_set_role(NULL);
  unlink(f->path);
  unlink(f->rotated);
  rmdir(f->dir);
  return 0;
}

static char *read_file(const char *path) {
  static char text[1 << 20];
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  return text;
}

static void open_log(const char *path, int level) {
  asgid_settings s;
  memset(&s, 0, sizeof s);
  s.error_log = (char *)path;
  s.access_log = "";
  s.access_log_format = "%(s)s";
  s.log_level = level;
  assert_int_equal(log_open(&s), 0);
}

/* Checks that `line` is "[YYYY-MM-DD HH:MM:SS +0000] [<our pid>] " and returns the rest. */
static const char *skip_time_and_pid(const char *line) {
  static const char shape[] = "[DDDD-DD-DD DD:DD:DD +0000] [";
  for (size_t i = 0; i < sizeof shape - 1; i++) {
    if (shape[i] == 'D')
      assert_true(line[i] >= '0' && line[i] <= '9');
    else
      assert_int_equal(line[i], shape[i]);
  }
  line += sizeof shape - 1;
  char *end;
  long pid = strtol(line, &end, 10);
  assert_int_equal(pid, (long)getpid());
  assert_memory_equal(end, "] ", 2);
  return end + 2;
}

/* The part of the line at *cursor after the time and pid, without its newline; moves *cursor
 * to the next line. */
static const char *next_line(const char **cursor) {
  static char rest[LOG_ERROR_LINE_MAX];
  const char *end = strchr(*cursor, '\n');
  assert_non_null(end);
  const char *start = skip_time_and_pid(*cursor);
  assert_true(start <= end);
  memcpy(rest, start, (size_t)(end - start));
  rest[end - start] = '\0';
  *cursor = end + 1;
  return rest;
}

static void test_line_format(void **state) {
  fixture *f = *state;
  open_log(f->path, ASGID_LEVEL_INFO);
  time_t before = time(NULL);
  log_info("hello %d %s", 42, "world");
  log_error("broken");
  time_t after = time(NULL);

  const char *text = read_file(f->path);
  const char *cursor = text;
  assert_string_equal(next_line(&cursor), "[INFO] hello 42 world");
  assert_string_equal(next_line(&cursor), "[ERROR] broken");
  assert_string_equal(cursor, "");

  /* The time is the current one, in the zone asked for (UTC here). */
  struct tm tm = {0};
  assert_int_equal(sscanf(text, "[%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                          &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                   6);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t logged = timegm(&tm);
  assert_true(logged >= before && logged <= after);
}

static void test_role_tag(void **state) {
  fixture *f = *state;
  open_log(f->path, ASGID_LEVEL_INFO);
  log_set_role("worker 2");
  log_warning("booted");
  log_set_role("");
  log_warning("untagged");
  log_set_role("master\n[ERROR] fake");
  log_warning("x");
  log_set_role(NULL);
  log_warning("y");

  const char *cursor = read_file(f->path);
  assert_string_equal(next_line(&cursor), "[WARNING] [worker 2] booted");
  assert_string_equal(next_line(&cursor), "[WARNING] untagged");
  assert_string_equal(next_line(&cursor), "[WARNING] [master\\x0a[ERROR] fake] x");
  assert_string_equal(next_line(&cursor), "[WARNING] y");
  assert_string_equal(cursor, "");
}

static void test_message_escaping(void **state) {
  fixture *f = *state;
  open_log(f->path, ASGID_LEVEL_INFO);
  /* A client-supplied string trying to forge a second line and move the cursor. */
  log_info("bad request: %s", "GET /\r\n[2026-11-21 13:25:43 +0000] [1] [ERROR] forged\x1b[2J\x7f");
  log_info("tab\there, UTF-8 \xc3\xa9 and a \\ backslash stay");

  const char *cursor = read_file(f->path);
  assert_string_equal(next_line(&cursor),
                      "[INFO] bad request: GET /\\x0d\\x0a[2026-11-21 13:25:43 +0000] [1] "
                      "[ERROR] forged\\x1b[2J\\x7f");
  assert_string_equal(next_line(&cursor),
                      "[INFO] tab\\x09here, UTF-8 \xc3\xa9 and a \\ backslash stay");
  assert_string_equal(cursor, "");
}

static void test_level_filtering(void **state) {
  fixture *f = *state;
  open_log(f->path, ASGID_LEVEL_WARNING);
  assert_false(log_enabled(LOG_LEVEL_DEBUG));
  assert_false(log_enabled(LOG_LEVEL_INFO));
  assert_true(log_enabled(LOG_LEVEL_WARNING));
  assert_true(log_enabled(LOG_LEVEL_ERROR));
  log_debug("no debug");
  log_info("no info");
  log_warning("yes warning");
  log_error("yes error");

  const char *text = read_file(f->path);
  assert_null(strstr(text, "no "));
  assert_non_null(strstr(text, "[WARNING] yes warning\n"));
  assert_non_null(strstr(text, "[ERROR] yes error\n"));

  open_log(f->path, ASGID_LEVEL_DEBUG);
  assert_true(log_enabled(LOG_LEVEL_DEBUG));
  log_debug("now debug");
  assert_non_null(strstr(read_file(f->path), "[DEBUG] now debug\n"));
}

static void check_cut_line(const char *text, char unit_first, size_t unit_len) {
  size_t len = strlen(text);
  assert_true(len <= LOG_ERROR_LINE_MAX - 1);
  assert_ptr_equal(strchr(text, '\n'), text + len - 1);
  assert_memory_equal(text + len - 4, "...\n", 4);
  /* The message part is whole units: no escape is split. */
  const char *message = skip_time_and_pid(text) + strlen("[INFO] ");
  size_t message_len = (size_t)(text + len - 4 - message);
  assert_int_equal(message_len % unit_len, 0);
  for (size_t i = 0; i < message_len; i += unit_len)
    assert_int_equal(message[i], unit_first);
}

static void test_long_messages_are_cut(void **state) {
  fixture *f = *state;
  static char big[3 * LOG_ERROR_LINE_MAX];
  open_log(f->path, ASGID_LEVEL_INFO);

  memset(big, 'x', sizeof big - 1);
  log_info("%s", big);
  check_cut_line(read_file(f->path), 'x', 1);

  unlink(f->path);
  open_log(f->path, ASGID_LEVEL_INFO);
  memset(big, '\n', sizeof big - 1);
  log_info("%s", big);
  check_cut_line(read_file(f->path), '\\', 4);

  unlink(f->path);
  open_log(f->path, ASGID_LEVEL_INFO);
  /* A message that fits exactly is not cut. */
  char fits[LOG_ERROR_LINE_MAX];
  const char *text;
  log_info("probe");
  text = read_file(f->path);
  size_t overhead = strlen(text) - strlen("probe\n");
  size_t message_len = LOG_ERROR_LINE_MAX - 1 - overhead - 1;
  memset(fits, 'y', message_len);
  fits[message_len] = '\0';
  unlink(f->path);
  open_log(f->path, ASGID_LEVEL_INFO);
  log_info("%s", fits);
  text = read_file(f->path);
  assert_int_equal(strlen(text), LOG_ERROR_LINE_MAX - 1);
  assert_memory_equal(text + strlen(text) - 2, "y\n", 2);
}

static void test_reopen_after_rename(void **state) {
  fixture *f = *state;
  mode_t old_umask = umask(022);
  open_log(f->path, ASGID_LEVEL_INFO);
  log_info("first");
  struct stat st;
  assert_int_equal(stat(f->path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0644);

  assert_int_equal(rename(f->path, f->rotated), 0);
  log_info("second"); /* not reopened yet: the renamed file */
  assert_int_equal(log_reopen(), 0);
  log_info("third");
  log_info("fourth");

  const char *old = read_file(f->rotated);
  assert_non_null(strstr(old, "first"));
  assert_non_null(strstr(old, "second"));
  assert_null(strstr(old, "third"));
  const char *now = read_file(f->path);
  assert_non_null(now);
  assert_null(strstr(now, "second"));
  assert_non_null(strstr(now, "] [INFO] third\n"));
  assert_non_null(strstr(now, "] [INFO] fourth\n"));
  umask(old_umask);
}

static void test_open_failure_keeps_previous_file(void **state) {
  fixture *f = *state;
  open_log(f->path, ASGID_LEVEL_INFO);
  char missing[400];
  snprintf(missing, sizeof missing, "%s/no/such/dir/error.log", f->dir);
  asgid_settings s;
  memset(&s, 0, sizeof s);
  s.error_log = missing;
  s.access_log = "";
  s.access_log_format = "";
  s.log_level = ASGID_LEVEL_INFO;
  assert_int_equal(log_open(&s), -ENOENT);
  log_info("still here");

  const char *text = read_file(f->path);
  assert_non_null(strstr(text, "[ERROR] cannot open error log "));
  assert_non_null(strstr(text, missing));
  assert_non_null(strstr(text, "[INFO] still here\n"));
}

/* Runs `fn` with standard error sent to `path`. */
static void with_stderr_in(const char *path, void (*fn)(void)) {
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  FILE *capture = fopen(path, "wb");
  assert_non_null(capture);
  dup2(fileno(capture), STDERR_FILENO);
  fn();
  dup2(saved, STDERR_FILENO);
  close(saved);
  fclose(capture);
}

static void log_to_default(void) {
  log_info("to standard error");
}

static void log_after_close(void) {
  open_log("-", ASGID_LEVEL_INFO);
  log_info("dash means standard error");
  open_log(current->rotated, ASGID_LEVEL_INFO);
  open_log("", ASGID_LEVEL_INFO);
  log_info("empty means standard error");
  open_log(current->rotated, ASGID_LEVEL_INFO);
  log_close();
  log_info("closed means standard error");
}

static void test_standard_error(void **state) {
  fixture *f = *state;
  log_close();
  with_stderr_in(f->path, log_to_default);
  assert_string_equal(skip_time_and_pid(read_file(f->path)), "[INFO] to standard error\n");

  with_stderr_in(f->path, log_after_close);
  const char *text = read_file(f->path);
  assert_non_null(strstr(text, "[INFO] dash means standard error\n"));
  assert_non_null(strstr(text, "[INFO] empty means standard error\n"));
  assert_non_null(strstr(text, "[INFO] closed means standard error\n"));
  assert_null(strstr(read_file(f->rotated), "closed"));
}

enum { THREADS = 4, LINES_PER_THREAD = 500 };

static void *log_many(void *arg) {
  int id = (int)(intptr_t)arg;
  for (int i = 0; i < LINES_PER_THREAD; i++)
    log_info("thread %d line %d %0200d", id, i, 0);
  return NULL;
}

static void test_concurrent_lines_do_not_interleave(void **state) {
  fixture *f = *state;
  open_log(f->path, ASGID_LEVEL_INFO);
  pthread_t threads[THREADS];
  for (int t = 0; t < THREADS; t++)
    assert_int_equal(pthread_create(&threads[t], NULL, log_many, (void *)(intptr_t)t), 0);
  /* Reopening while the threads write loses no line and breaks none. */
  for (int i = 0; i < 20; i++)
    assert_int_equal(log_reopen(), 0);
  for (int t = 0; t < THREADS; t++)
    pthread_join(threads[t], NULL);

  int seen[THREADS] = {0};
  const char *line = read_file(f->path);
  int count = 0;
  while (*line != '\0') {
    const char *rest = skip_time_and_pid(line);
    int id, n;
    assert_int_equal(sscanf(rest, "[INFO] thread %d line %d", &id, &n), 2);
    assert_true(id >= 0 && id < THREADS);
    assert_int_equal(n, seen[id]); /* each thread's lines in order */
    seen[id]++;
    const char *end = strchr(line, '\n');
    assert_non_null(end);
    line = end + 1;
    count++;
  }
  assert_int_equal(count, THREADS * LINES_PER_THREAD);
}

/* log_timezone = local: the zone the log was opened in, whatever TZ says later. */
static void test_local_time_is_the_zone_at_open(void **state) {
  fixture *f = *state;
  setenv("TZ", "NST3:30NDT,M3.2.0,M11.1.0", 1); /* Newfoundland: -0330, -0230 in summer */
  tzset();
  asgid_settings s;
  memset(&s, 0, sizeof s);
  s.error_log = f->path;
  s.access_log = "";
  s.access_log_format = "";
  s.log_level = ASGID_LEVEL_INFO;
  s.log_timezone = 1; /* local */
  assert_int_equal(log_open(&s), 0);
  setenv("TZ", "UTC", 1); /* what an app (Django) may do after the logs opened */
  tzset();
  time_t before = time(NULL);
  log_info("in Newfoundland");
  time_t after = time(NULL);

  const char *text = read_file(f->path);
  struct tm tm = {0};
  char offset[8];
  assert_int_equal(sscanf(text, "[%d-%d-%d %d:%d:%d %5s]", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                          &tm.tm_hour, &tm.tm_min, &tm.tm_sec, offset),
                   7);
  assert_true(strcmp(offset, "-0330") == 0 || strcmp(offset, "-0230") == 0);
  long offset_seconds = (offset[2] == '3' ? -3 : -2) * 3600L - 30 * 60L;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t logged = timegm(&tm) - offset_seconds;
  assert_true(logged >= before && logged <= after);
  assert_non_null(strstr(text, "] [INFO] in Newfoundland\n"));
}

/* ------------------------------------------------------------------ multi-line entries */

/* Checks that `line` (one line, without its newline) is "<time and pid>[LEVEL] [role] " and
 * returns what follows it. */
static const char *after_prefix(const char *line, const char *level_and_role) {
  const char *rest = skip_time_and_pid(line);
  size_t n = strlen(level_and_role);
  assert_memory_equal(rest, level_and_role, n);
  return rest + n;
}

/* Splits text into its lines (newlines replaced by NULs); returns how many. */
static size_t split_lines(char *text, char **lines, size_t max) {
  size_t count = 0;
  for (char *p = text; *p != '\0';) {
    char *end = strchr(p, '\n');
    assert_non_null(end); /* every line ends with a newline */
    *end = '\0';
    assert_true(count < max);
    lines[count++] = p;
    p = end + 1;
  }
  return count;
}

enum { FRAMES = 60 };

/* A Python traceback of FRAMES frames, as traceback.format_exception gives it, with its
 * trailing newline. */
static size_t deep_traceback(char *out, size_t size) {
  size_t len = (size_t)snprintf(out, size, "Traceback (most recent call last):\n");
  for (int i = 0; i < FRAMES; i++)
    len += (size_t)snprintf(out + len, size - len,
                            "  File \"/srv/app/deep.py\", line %d, in level_%d\n"
                            "    return level_%d(depth - 1)\n",
                            10 + i, i, i + 1);
  len += (size_t)snprintf(out + len, size - len, "ValueError: the bottom of the stack\n");
  return len;
}

static void test_record_keeps_a_deep_traceback_whole(void **state) {
  fixture *f = *state;
  open_log(f->path, ASGID_LEVEL_INFO);
  log_set_role("worker 1");
  static char tb[FRAMES * 128];
  size_t tb_len = deep_traceback(tb, sizeof tb);
  assert_true(tb_len > LOG_ERROR_LINE_MAX); /* beyond what one log_write line holds */
  log_record r = {.level = LOG_LEVEL_ERROR, .logger = "app", .logger_len = 3,
                  .message = "request failed", .message_len = 14,
                  .traceback = tb, .traceback_len = tb_len};
  log_write_record(&r);
  log_info("next");

  char *lines[256];
  size_t count = split_lines(read_file(f->path), lines, 256);
  assert_int_equal(count, 1 + 1 + 2 * FRAMES + 1 + 1);
  assert_string_equal(after_prefix(lines[0], "[ERROR] [worker 1] "), "app: request failed");
  /* Every further line: the whole prefix, "| ", then the traceback's line as it was. */
  char *expected = tb;
  for (size_t i = 1; i < count - 1; i++) {
    char *end = strchr(expected, '\n');
    *end = '\0';
    const char *rest = after_prefix(lines[i], "[ERROR] [worker 1] ");
    assert_memory_equal(rest, "| ", 2);
    assert_string_equal(rest + 2, expected);
    expected = end + 1;
  }
  assert_string_equal(expected, "");
  assert_string_equal(after_prefix(lines[count - 2], "[ERROR] [worker 1] "),
                      "| ValueError: the bottom of the stack");
  assert_string_equal(after_prefix(lines[count - 1], "[INFO] [worker 1] "), "next");
}

static void test_record_escapes_controls_but_not_its_newlines(void **state) {
  fixture *f = *state;
  open_log(f->path, ASGID_LEVEL_INFO);
  /* Explicit lengths: a NUL is a byte like any other, and nothing is read past the end. */
  static const char message[] = "bad target /\r\x1b[2J\0x\nsecond\tline\n";
  static const char traceback[] = "Traceback:\n  \x7f\xc3\xa9\nKeyError: '\\x0a'";
  static const char logger[] = "app\n[ERROR] fake";
  log_record r = {.level = LOG_LEVEL_WARNING, .logger = logger, .logger_len = sizeof logger - 1,
                  .message = message, .message_len = sizeof message - 1,
                  .traceback = traceback, .traceback_len = sizeof traceback - 1};
  log_write_record(&r);

  char *lines[16];
  assert_int_equal(split_lines(read_file(f->path), lines, 16), 5);
  assert_string_equal(after_prefix(lines[0], "[WARNING] "),
                      "app\\x0a[ERROR] fake: bad target /\\x0d\\x1b[2J\\x00x");
  assert_string_equal(after_prefix(lines[1], "[WARNING] "), "| second\\x09line");
  assert_string_equal(after_prefix(lines[2], "[WARNING] "), "| Traceback:");
  assert_string_equal(after_prefix(lines[3], "[WARNING] "), "|   \\x7f\xc3\xa9");
  assert_string_equal(after_prefix(lines[4], "[WARNING] "), "| KeyError: '\\x0a'");
}

static void test_record_shapes(void **state) {
  fixture *f = *state;
  open_log(f->path, ASGID_LEVEL_WARNING);
  /* No logger, no traceback: one line like log_write's. */
  log_record plain = {.level = LOG_LEVEL_ERROR, .message = "plain", .message_len = 5};
  log_write_record(&plain);
  /* An empty logger is no logger; an empty traceback adds no line; one trailing newline goes. */
  log_record empty = {.level = LOG_LEVEL_ERROR, .logger = "", .logger_len = 0,
                      .message = "trimmed\n", .message_len = 8,
                      .traceback = "", .traceback_len = 0};
  log_write_record(&empty);
  /* Only one trailing newline goes: a second one is an empty continuation line. */
  log_record blank = {.level = LOG_LEVEL_ERROR, .message = "two\n\n", .message_len = 5};
  log_write_record(&blank);
  /* No message: the first line holds the prefix and the logger alone. */
  log_record bare = {.level = LOG_LEVEL_ERROR, .logger = "x", .logger_len = 1,
                     .traceback = "E: e\n", .traceback_len = 5};
  log_write_record(&bare);
  /* Below log_level: nothing. */
  log_record quiet = {.level = LOG_LEVEL_INFO, .message = "quiet", .message_len = 5};
  log_write_record(&quiet);
  /* A line far longer than LOG_ERROR_LINE_MAX is not cut. */
  static char wide[3 * LOG_ERROR_LINE_MAX];
  memset(wide, 'w', sizeof wide);
  log_record long_line = {.level = LOG_LEVEL_ERROR, .message = "wide", .message_len = 4,
                          .traceback = wide, .traceback_len = sizeof wide};
  log_write_record(&long_line);

  char *lines[16];
  assert_int_equal(split_lines(read_file(f->path), lines, 16), 8);
  assert_string_equal(after_prefix(lines[0], "[ERROR] "), "plain");
  assert_string_equal(after_prefix(lines[1], "[ERROR] "), "trimmed");
  assert_string_equal(after_prefix(lines[2], "[ERROR] "), "two");
  assert_string_equal(after_prefix(lines[3], "[ERROR] "), "| ");
  assert_string_equal(after_prefix(lines[4], "[ERROR] "), "x: ");
  assert_string_equal(after_prefix(lines[5], "[ERROR] "), "| E: e");
  assert_string_equal(after_prefix(lines[6], "[ERROR] "), "wide");
  const char *rest = after_prefix(lines[7], "[ERROR] ");
  assert_int_equal(strlen(rest), 2 + sizeof wide);
  assert_int_equal(strspn(rest + 2, "w"), sizeof wide);
}

enum { RECORD_THREADS = 4, RECORDS_PER_THREAD = 12 };

static char shared_tb[FRAMES * 128];
static size_t shared_tb_len;

static void *log_many_shared_records(void *arg) {
  int id = (int)(intptr_t)arg;
  for (int i = 0; i < RECORDS_PER_THREAD; i++) {
    char message[64];
    int n = snprintf(message, sizeof message, "thread %d entry %d", id, i);
    log_record r = {.level = LOG_LEVEL_ERROR, .message = message, .message_len = (size_t)n,
                    .traceback = shared_tb, .traceback_len = shared_tb_len};
    log_write_record(&r);
  }
  return NULL;
}

/* Each entry is one write(): entries from several threads never interleave in a file opened
 * for appending, even entries far longer than PIPE_BUF. */
static void test_concurrent_records_do_not_interleave(void **state) {
  fixture *f = *state;
  open_log(f->path, ASGID_LEVEL_INFO);
  shared_tb_len = deep_traceback(shared_tb, sizeof shared_tb);
  pthread_t threads[RECORD_THREADS];
  for (int t = 0; t < RECORD_THREADS; t++)
    assert_int_equal(
        pthread_create(&threads[t], NULL, log_many_shared_records, (void *)(intptr_t)t), 0);
  for (int t = 0; t < RECORD_THREADS; t++)
    pthread_join(threads[t], NULL);

  static char *lines[RECORD_THREADS * RECORDS_PER_THREAD * (3 + 2 * FRAMES)];
  size_t count = split_lines(read_file(f->path), lines, sizeof lines / sizeof lines[0]);
  size_t per_entry = 1 + 1 + 2 * FRAMES + 1;
  assert_int_equal(count, RECORD_THREADS * RECORDS_PER_THREAD * per_entry);
  for (size_t i = 0; i < count; i += per_entry) {
    int id, n;
    assert_int_equal(sscanf(after_prefix(lines[i], "[ERROR] "), "thread %d entry %d", &id, &n),
                     2);
    assert_string_equal(after_prefix(lines[i + 1], "[ERROR] "),
                        "| Traceback (most recent call last):");
    for (size_t j = 2; j < per_entry - 1; j++)
      assert_memory_equal(after_prefix(lines[i + j], "[ERROR] "), "|   ", 4);
    assert_string_equal(after_prefix(lines[i + per_entry - 1], "[ERROR] "),
                        "| ValueError: the bottom of the stack");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
      cmocka_unit_test_setup_teardown(test_role_tag, setup, teardown),
      cmocka_unit_test_setup_teardown(test_message_escaping, setup, teardown),
      cmocka_unit_test_setup_teardown(test_level_filtering, setup, teardown),
      cmocka_unit_test_setup_teardown(test_long_messages_are_cut, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reopen_after_rename, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_failure_keeps_previous_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_standard_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_lines_do_not_interleave, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_local_time_is_the_zone_at_open, setup, teardown),
      cmocka_unit_test_setup_teardown(test_record_keeps_a_deep_traceback_whole, setup, teardown),
      cmocka_unit_test_setup_teardown(test_record_escapes_controls_but_not_its_newlines, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_record_shapes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_records_do_not_interleave, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
