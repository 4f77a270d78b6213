/*
 * test_virtualenv_check.c - a virtualenv's Python version against the embedded one
 * (src/master/virtualenv_check.c): pyvenv.cfg as python -m venv, uv and virtualenv write it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "master/virtualenv_check.h"

/* A new temporary directory holding pyvenv.cfg with `cfg` (none when NULL); malloc'd path. */
static char *make_venv(const char *cfg) {
  char directory[4096], pattern[4200];
  size_t size = sizeof directory;
  assert_int_equal(uv_os_tmpdir(directory, &size), 0);
  snprintf(pattern, sizeof pattern, "%s/asgid-venv-XXXXXX", directory);
  uv_fs_t req;
  assert_int_equal(uv_fs_mkdtemp(NULL, &req, pattern, NULL), 0);
  char *venv = strdup(req.path);
  uv_fs_req_cleanup(&req);
  if (cfg) {
    char path[4300];
    snprintf(path, sizeof path, "%s/pyvenv.cfg", venv);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(cfg, file);
    fclose(file);
  }
  return venv;
}

static void remove_venv(char *venv) {
  char path[4300];
  snprintf(path, sizeof path, "%s/pyvenv.cfg", venv);
  remove(path);
  remove(venv);
  free(venv);
}

static void expect_ok(const char *cfg, const char *python) {
  char *venv = make_venv(cfg);
  char err[512] = "";
  if (virtualenv_check(venv, python, err, sizeof err) != 0)
    fail_msg("refused: %s", err);
  remove_venv(venv);
}

static void test_same_major_minor_passes(void **state) {
  (void)state;
  /* python -m venv */
  expect_ok("home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n",
            "3.11.2");
  expect_ok("version = 3.11.9\r\n", "3.11.2"); /* another patch level is the same ABI */
  /* virtualenv */
  expect_ok("home = /usr/bin\nimplementation = CPython\nversion_info = 3.11.2.final.0\n",
            "3.11.4");
  /* uv */
  expect_ok("home = /usr/bin\nversion_info = 3.11.2\nuv = 0.4.0\n", "3.11.2");
  /* no pyvenv.cfg (an old-style virtualenv), or one that does not say: nothing to compare */
  expect_ok(NULL, "3.11.2");
  expect_ok("home = /usr/bin\n", "3.11.2");
}

static void test_another_version_is_refused_naming_both(void **state) {
  (void)state;
  char *venv = make_venv("home = /usr/local/bin\nversion  =  3.12.1 \n");
  char err[1024];
  assert_int_equal(virtualenv_check(venv, "3.11.2", err, sizeof err), -1);
  char expected[2048];
  snprintf(expected, sizeof expected,
           "virtualenv %s was made for Python 3.12 (its pyvenv.cfg says version = 3.12.1) but "
           "asgid embeds Python 3.11.2: the app could not import its packages; recreate it "
           "with python3.11 -m venv %s",
           venv, venv);
  assert_string_equal(err, expected);
  remove_venv(venv);

  /* 3.1 is not 3.11 */
  venv = make_venv("version_info = 3.1.0.final.0\n");
  assert_int_equal(virtualenv_check(venv, "3.11.2", err, sizeof err), -1);
  assert_non_null(strstr(err, "version_info = 3.1.0.final.0"));
  remove_venv(venv);
}

static void test_missing_directory_is_refused(void **state) {
  (void)state;
  char err[512];
  assert_int_equal(virtualenv_check("/nonexistent/venv", "3.11.2", err, sizeof err), -1);
  assert_string_equal(err, "virtualenv /nonexistent/venv: no such file or directory (create it "
                           "with python3 -m venv /nonexistent/venv)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_major_minor_passes),
      cmocka_unit_test(test_another_version_is_refused_naming_both),
      cmocka_unit_test(test_missing_directory_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
