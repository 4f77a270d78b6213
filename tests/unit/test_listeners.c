/*
 * test_listeners.c - bind values (src/master/listeners.c listener_parse_bind) and app specs
 * (src/apps/app_spec.c): what each form parses to, and that every refusal says why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "apps/app_spec.h"
#include "asgid/asgid.h"
#include "master/listeners.h"

static void check_tcp(const char *spec, const char *want_host, int want_port) {
  listener_kind kind = LISTENER_UNIX;
  char *host = NULL;
  int port = -2;
  bind_options options = {7, 7};
  char err[256] = "";
  if (listener_parse_bind(spec, &kind, &host, &port, &options, err, sizeof err) != 0)
    fail_msg("%s: refused: %s", spec, err);
  assert_int_equal(kind, LISTENER_TCP);
  assert_non_null(host);
  assert_string_equal(host, want_host);
  assert_int_equal(port, want_port);
  assert_int_equal(options.mode, 0);
  assert_int_equal(options.proxy_protocol, strstr(spec, " proxy_protocol") != NULL);
  free(host);
}

static void check_unix(const char *spec, const char *want_path, unsigned want_mode) {
  listener_kind kind = LISTENER_TCP;
  char *host = NULL;
  int port = 0;
  bind_options options = {7, 7};
  char err[256] = "";
  if (listener_parse_bind(spec, &kind, &host, &port, &options, err, sizeof err) != 0)
    fail_msg("%s: refused: %s", spec, err);
  assert_int_equal(kind, LISTENER_UNIX);
  assert_non_null(host);
  assert_string_equal(host, want_path);
  assert_int_equal(port, -1);
  assert_int_equal(options.mode, want_mode);
  assert_int_equal(options.proxy_protocol, strstr(spec, " proxy_protocol") != NULL);
  free(host);
}

/* Refused, with a message, and nothing allocated for the caller to free. */
static void check_refused(const char *spec, const char *message_part) {
  listener_kind kind;
  char *host = (char *)"untouched";
  int port;
  bind_options options;
  char err[256] = "";
  if (listener_parse_bind(spec, &kind, &host, &port, &options, err, sizeof err) != -1)
    fail_msg("%s: accepted", spec);
  assert_null(host);
  assert_true(strlen(err) > 0);
  if (message_part && !strstr(err, message_part))
    fail_msg("%s: message \"%s\" lacks \"%s\"", spec, err, message_part);
}

static void test_tcp_binds(void **state) {
  (void)state;
  check_tcp("127.0.0.1:8000", "127.0.0.1", 8000);
  check_tcp("0.0.0.0:0", "0.0.0.0", 0);
  check_tcp("localhost:80", "localhost", 80);
  check_tcp("[::1]:8000", "::1", 8000);
  check_tcp("[::]:65535", "::", 65535);
  check_tcp("[fe80::1%eth0]:443", "fe80::1%eth0", 443);
  /* as gunicorn reads them: a host alone is port 8000, ":PORT" every IPv4 address */
  check_tcp("127.0.0.1", "127.0.0.1", 8000);
  check_tcp("localhost", "localhost", 8000);
  check_tcp("[::1]", "::1", 8000);
  check_tcp(":8001", "0.0.0.0", 8001);
  check_tcp("127.0.0.1:08000", "127.0.0.1", 8000); /* leading zeros, as before */
  check_tcp("0.0.0.0:8000 proxy_protocol", "0.0.0.0", 8000);
  check_tcp("[::1]:8000 proxy_protocol", "::1", 8000);
}

static void test_unix_binds(void **state) {
  (void)state;
  check_unix("unix:/run/x.sock", "/run/x.sock", 0);
  check_unix("unix:/run/x.sock mode=0660", "/run/x.sock", 0660);
  check_unix("unix:/run/x.sock mode=600", "/run/x.sock", 0600);
  check_unix("unix:relative.sock", "relative.sock", 0);
  check_unix("unix:/run/x.sock proxy_protocol", "/run/x.sock", 0);
  check_unix("unix:/run/x.sock mode=0660 proxy_protocol", "/run/x.sock", 0660);
  check_unix("unix:/run/x.sock proxy_protocol mode=0600", "/run/x.sock", 0600);
}

static void test_refused_binds(void **state) {
  (void)state;
  check_refused("8001", "write 127.0.0.1:8001 (this machine only) or :8001 (every IPv4 "
                        "address)");
  check_refused("127.0.0.1:", "port");
  check_refused("127.0.0.1:70000", "70000");
  check_refused("127.0.0.1:65536", "65536");
  check_refused("127.0.0.1:http", "http");
  check_refused("127.0.0.1:80x", "80x");
  check_refused("127.0.0.1:-1", "-1");
  check_refused("127.0.0.1:+8000", "+8000"); /* digits only (net/port_number.c) */
  check_refused("[::1]8000", "[ADDRESS]:PORT");
  check_refused("[::1", "[ADDRESS]:PORT");
  check_refused("[::1]:", "port");
  check_refused("[]:80", "missing address");
  check_refused("[]", "missing address");
  check_refused("unix:", "path");
  check_refused("unix: mode=0660", "path");
  check_refused("unix:/run/x.sock mode=0999", "mode");
  check_refused("unix:/run/x.sock mode=", "mode");
  check_refused("unix:/run/x.sock mode=1777", "mode"); /* beyond permission bits */
  check_refused("unix:/run/x.sock mode=rw", "mode");
  check_refused("", NULL);
  check_refused("0.0.0.0:8000 proxy-protocol", "unknown bind option \"proxy-protocol\"");
  check_refused("0.0.0.0:8000 mode=0660", "unix: binds only");
  check_refused("unix:/run/x.sock proxy_protocolx", "unknown bind option");
}

/* A message that does not fit is cut, not overflowed. */
static void test_refusal_message_truncated(void **state) {
  (void)state;
  listener_kind kind;
  char *host;
  int port;
  bind_options options;
  char err[8];
  memset(err, 'x', sizeof err);
  assert_int_equal(listener_parse_bind("host:port", &kind, &host, &port, &options, err, sizeof err),
                   -1);
  assert_int_equal(strlen(err), sizeof err - 1);
}

/* ------------------------------------------------------------------ app specs */

static void check_native(const char *spec, const char *want_path, const char *want_symbol) {
  assert_int_equal(app_spec_kind(spec), APP_KIND_NATIVE);
  char *path = NULL, *symbol = NULL;
  assert_int_equal(app_spec_split_native(spec, &path, &symbol), 0);
  assert_string_equal(path, want_path);
  assert_string_equal(symbol, want_symbol);
  free(path);
  free(symbol);
}

static void test_native_specs(void **state) {
  (void)state;
  check_native("./app.so", "./app.so", ASGID_APP_ENTRY_SYMBOL);
  check_native("app.so", "app.so", ASGID_APP_ENTRY_SYMBOL);
  check_native("app.so:entry", "app.so", "entry");
  check_native("./build/app.so:my_app_2", "./build/app.so", "my_app_2");
  check_native("/a:b/app.so", "/a:b/app.so", ASGID_APP_ENTRY_SYMBOL); /* ':' in the path */
  check_native("/a:b/app.so:entry", "/a:b/app.so", "entry");
  check_native("/opt/app.so:2nd", "/opt/app.so:2nd", ASGID_APP_ENTRY_SYMBOL); /* not an identifier */
  check_native("/opt/app.so:", "/opt/app.so:", ASGID_APP_ENTRY_SYMBOL);
  check_native("libapp.dylib:entry", "libapp.dylib", "entry");
  check_native("app.dll", "app.dll", ASGID_APP_ENTRY_SYMBOL);
  check_native("/usr/lib/libapp.so.1", "/usr/lib/libapp.so.1", ASGID_APP_ENTRY_SYMBOL);
}

static void test_python_specs(void **state) {
  (void)state;
  assert_int_equal(app_spec_kind("pkg.mod:app"), APP_KIND_PYTHON);
  assert_int_equal(app_spec_kind("main:app"), APP_KIND_PYTHON);
  assert_int_equal(app_spec_kind("myproject.asgi:application"), APP_KIND_PYTHON);
  /* Module names that merely contain ".so", ".dll" or ".dylib" are still Python modules:
   * only a library suffix at the end of the file name makes a spec native. */
  assert_int_equal(app_spec_kind("server.sockets:app"), APP_KIND_PYTHON);
  assert_int_equal(app_spec_kind("shop.solutions.api:app"), APP_KIND_PYTHON);
  assert_int_equal(app_spec_kind("tools.dllmanager:app"), APP_KIND_PYTHON);
}

static void check_file_hint(const char *spec, const char *app_dir, const char *meant) {
  char hint[512];
  assert_int_equal(app_spec_python_file_hint(spec, app_dir, hint, sizeof hint), 1);
  char expected[512];
  snprintf(expected, sizeof expected,
           "app \"%s\" names a Python file; a Python app is named module:attribute, imported "
           "from app_dir: did you mean %s?",
           spec, meant);
  assert_string_equal(hint, expected);
}

/* A Python file named instead of a module gets the --app (and --app-dir) meant. */
static void test_python_file_hints(void **state) {
  (void)state;
  check_file_hint("hello_asgi.py:app", "", "--app hello_asgi:app");
  check_file_hint("examples/python/hello_asgi.py", "", "--app hello_asgi:app --app-dir examples/python");
  check_file_hint("examples/python/hello_asgi.py:application", "",
                  "--app hello_asgi:application --app-dir examples/python");
  check_file_hint("/srv/site/main.py:api", "/elsewhere", "--app main:api --app-dir /srv/site");
  check_file_hint("site/main.py", "/srv", "--app main:app --app-dir /srv/site");
  check_file_hint("/main.py", "", "--app main:app --app-dir /");
  char hint[512];
  /* module specs, native libraries, and files no module name can import */
  assert_int_equal(app_spec_python_file_hint("myproject.asgi:application", "", hint, sizeof hint), 0);
  assert_int_equal(app_spec_python_file_hint("build/examples/hello.so", "", hint, sizeof hint), 0);
  assert_int_equal(app_spec_python_file_hint("my-app.py:app", "", hint, sizeof hint), 0);
  assert_int_equal(app_spec_python_file_hint(".py", "", hint, sizeof hint), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tcp_binds),
      cmocka_unit_test(test_unix_binds),
      cmocka_unit_test(test_refused_binds),
      cmocka_unit_test(test_refusal_message_truncated),
      cmocka_unit_test(test_native_specs),
      cmocka_unit_test(test_python_specs),
      cmocka_unit_test(test_python_file_hints),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
