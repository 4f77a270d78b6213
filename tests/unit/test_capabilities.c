/*
 * test_capabilities.c - what a platform cannot do becomes one line each, naming the
 * alternative (src/master/capabilities.c), and the Python classes say why they are missing
 * (worker_class_python_unavailable). The capability sets are fed in: a Windows-like one
 * (what src/platform/win/ reports) runs through the same code as this platform's own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "master/capabilities.h"
#include "worker/worker_class.h"

static const platform_capabilities windows_like = {
    .system = "Windows",
    .python_build_hint = "a Windows build needs a UCRT CPython SDK at build time",
};

/* Everything the Windows-like set lacks, asked for explicitly. */
static const char everything[] = "[server]\n"
                                 "bind = 127.0.0.1:8000\n"
                                 "bind = unix:/run/asgid.sock\n"
                                 "bind = fd://3\n"
                                 "reuse_port = on\n"
                                 "[app]\n"
                                 "preload_app = on\n"
                                 "[workers]\n"
                                 "worker_start = fork\n"
                                 "[process]\n"
                                 "user = www-data\n"
                                 "group = www-data\n";

typedef struct collected {
  char lines[16][512];
  size_t count;
} collected;

static void collect(void *data, const char *line) {
  collected *c = data;
  assert_true(c->count < 16);
  assert_null(strchr(line, '\n')); /* one line each */
  snprintf(c->lines[c->count++], sizeof c->lines[0], "%s", line);
}

static void load(asgid_settings *s, const char *ini) {
  assert_int_equal(asgid_settings_init_defaults(s), 0);
  assert_int_equal(asgid_settings_apply_ini(s, ini, "test.ini", ASGID_SOURCE_FILE, stderr), 0);
}

static void test_each_missing_capability_is_one_line_naming_the_alternative(void **state) {
  (void)state;
  asgid_settings s;
  load(&s, everything);
  uv_os_setenv("LISTEN_FDS", "1");
  collected c = {0};
  size_t n = capabilities_fit(&s, &windows_like, collect, &c);
  uv_os_unsetenv("LISTEN_FDS");
  static const char *const want[] = {
      "worker_start = fork is not available on Windows (processes cannot fork there): use "
      "worker_start = spawn",
      "preload_app is not available on Windows (it hands an imported app to forked workers): "
      "turn it off; each spawned worker imports the app itself",
      "user and group are not available on Windows (a process cannot switch accounts there): "
      "leave them empty and start asgid under the account it should run as",
      "bind unix:/run/asgid.sock is not available on Windows (a Unix socket cannot be handed "
      "to its workers there): bind a TCP address such as 127.0.0.1:8000",
      "reuse_port is not available on Windows (it has no SO_REUSEPORT): turn it off; asgid's "
      "workers already share one listener",
      "bind fd://3 is not available on Windows (it has no socket activation): bind HOST:PORT",
      "LISTEN_FDS (socket activation) is not available on Windows: unset it and bind "
      "HOST:PORT",
  };
  assert_int_equal(n, sizeof want / sizeof want[0]);
  assert_int_equal(c.count, n);
  for (size_t i = 0; i < n; i++) assert_string_equal(c.lines[i], want[i]);
  asgid_settings_free(&s);
}

static void test_a_group_alone_is_reported_too(void **state) {
  (void)state;
  asgid_settings s;
  load(&s, "[process]\ngroup = www-data\n");
  collected c = {0};
  assert_int_equal(capabilities_fit(&s, &windows_like, collect, &c), 1);
  assert_non_null(strstr(c.lines[0], "user and group are not available on Windows"));
  asgid_settings_free(&s);
}

static void test_defaults_run_where_nothing_forks_with_spawned_workers(void **state) {
  (void)state;
  asgid_settings s;
  assert_int_equal(asgid_settings_init_defaults(&s), 0);
  assert_int_equal(s.worker_start, ASGID_WORKER_START_FORK);
  collected c = {0};
  assert_int_equal(capabilities_fit(&s, &windows_like, collect, &c), 0);
  assert_int_equal(s.worker_start, ASGID_WORKER_START_SPAWN);
  asgid_settings_free(&s);
}

static void test_without_a_report_the_settings_are_only_fitted(void **state) {
  (void)state;
  asgid_settings s;
  load(&s, everything);
  assert_int_equal(capabilities_fit(&s, &windows_like, NULL, NULL), 6); /* no LISTEN_FDS */
  assert_int_equal(s.worker_start, ASGID_WORKER_START_FORK); /* chosen: it stays, and fails */
  asgid_settings_free(&s);
  assert_int_equal(asgid_settings_init_defaults(&s), 0);
  assert_int_equal(capabilities_fit(&s, &windows_like, NULL, NULL), 0);
  assert_int_equal(s.worker_start, ASGID_WORKER_START_SPAWN);
  asgid_settings_free(&s);
}

static void test_this_platform_honours_everything(void **state) {
  (void)state;
  const platform_capabilities *here = platform_get_capabilities();
  assert_true(here->fork && here->switch_user && here->unix_sockets &&
              here->socket_activation && here->uvloop);
  asgid_settings s;
  load(&s, everything);
  uv_os_setenv("LISTEN_FDS", "1");
  collected c = {0};
  size_t n = capabilities_fit(&s, here, collect, &c);
  uv_os_unsetenv("LISTEN_FDS");
  /* reuse_port is the one POSIX piece a system may lack (no SO_REUSEPORT). */
  assert_int_equal(n, here->reuse_port ? 0 : 1);
  assert_int_equal(s.worker_start, ASGID_WORKER_START_FORK);
  asgid_settings_free(&s);
}

static void test_python_classes_say_why_they_are_missing(void **state) {
  (void)state;
  char buf[256];
  const platform_capabilities *here = platform_get_capabilities();
  /* A build without CPython, here and on Windows. */
  const char *why = worker_class_python_unavailable(here, 0, 0, buf, sizeof buf);
  assert_non_null(why);
  assert_string_equal(why, "built without CPython; install libpython3-dev and rebuild");
  why = worker_class_python_unavailable(&windows_like, 0, 0, buf, sizeof buf);
  assert_non_null(why);
  assert_string_equal(why, "built without CPython; a Windows build needs a UCRT CPython SDK "
                           "at build time");
  /* uvloop where it does not exist says so first, with or without CPython. */
  for (int built = 0; built <= 1; built++) {
    why = worker_class_python_unavailable(&windows_like, built, 1, buf, sizeof buf);
    assert_non_null(why);
    assert_string_equal(why, "uvloop does not support Windows; worker_class = auto falls back "
                             "to asyncio");
  }
  /* With CPython: asyncio everywhere, uvloop where it exists. */
  assert_null(worker_class_python_unavailable(&windows_like, 1, 0, buf, sizeof buf));
  assert_null(worker_class_python_unavailable(here, 1, 0, buf, sizeof buf));
  assert_null(worker_class_python_unavailable(here, 1, 1, buf, sizeof buf));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_missing_capability_is_one_line_naming_the_alternative),
      cmocka_unit_test(test_a_group_alone_is_reported_too),
      cmocka_unit_test(test_defaults_run_where_nothing_forks_with_spawned_workers),
      cmocka_unit_test(test_without_a_report_the_settings_are_only_fitted),
      cmocka_unit_test(test_this_platform_honours_everything),
      cmocka_unit_test(test_python_classes_say_why_they_are_missing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
