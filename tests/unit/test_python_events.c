/*
 * test_python_events.c - src/apps/python/events.c in the real embedded interpreter: ASGI
 * message dicts become server events and back (dict -> asgid_event -> dict) as the event
 * table says, for the websocket events above all (text vs bytes, empty messages kept with
 * their type, subprotocol, headers, code, reason, defaults), and malformed messages raise the
 * Python exception an app would see from send().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "apps/python/python_internal.h"

/* Each case: the message an app sends, and the dict the event it becomes converts back to
 * (its defaults filled in, header pairs as tuples). */
static const char cases_source[] =
    "cases = [\n"
    " ({'type': 'websocket.send', 'text': ''}, {'type': 'websocket.send', 'text': ''}),\n"
    " ({'type': 'websocket.send', 'bytes': b''}, {'type': 'websocket.send', 'bytes': b''}),\n"
    " ({'type': 'websocket.send', 'text': 'h\\u00e9llo \\U0001f600', 'bytes': None},\n"
    "  {'type': 'websocket.send', 'text': 'h\\u00e9llo \\U0001f600'}),\n"
    " ({'type': 'websocket.send', 'bytes': b'\\x00\\xff', 'text': None},\n"
    "  {'type': 'websocket.send', 'bytes': b'\\x00\\xff'}),\n"
    " ({'type': 'websocket.receive', 'text': 'x' * 70000},\n"
    "  {'type': 'websocket.receive', 'text': 'x' * 70000}),\n"
    " ({'type': 'websocket.receive', 'bytes': b''}, {'type': 'websocket.receive', 'bytes': b''}),\n"
    " ({'type': 'websocket.accept'},\n"
    "  {'type': 'websocket.accept', 'subprotocol': None, 'headers': []}),\n"
    " ({'type': 'websocket.accept', 'subprotocol': 'chat', 'headers': [[b'x-a', b'1'], (b'b', b'')]},\n"
    "  {'type': 'websocket.accept', 'subprotocol': 'chat', 'headers': [(b'x-a', b'1'), (b'b', b'')]}),\n"
    " ({'type': 'websocket.close'}, {'type': 'websocket.close', 'code': 1000, 'reason': ''}),\n"
    " ({'type': 'websocket.close', 'code': 4001, 'reason': 'bye \\u00fc'},\n"
    "  {'type': 'websocket.close', 'code': 4001, 'reason': 'bye \\u00fc'}),\n"
    " ({'type': 'websocket.close', 'code': 2 ** 70}, {'type': 'websocket.close', 'code': -1, 'reason': ''}),\n"
    " ({'type': 'websocket.disconnect', 'code': 1006},\n"
    "  {'type': 'websocket.disconnect', 'code': 1006, 'reason': ''}),\n"
    " ({'type': 'websocket.disconnect'}, {'type': 'websocket.disconnect', 'code': 1005, 'reason': ''}),\n"
    " ({'type': 'websocket.connect'}, {'type': 'websocket.connect'}),\n"
    " ({'type': 'websocket.http.response.start', 'status': 403, 'headers': [[b'a', b'b']]},\n"
    "  {'type': 'websocket.http.response.start', 'status': 403, 'headers': [(b'a', b'b')]}),\n"
    " ({'type': 'websocket.http.response.body', 'body': b'no'},\n"
    "  {'type': 'websocket.http.response.body', 'body': b'no', 'more_body': False}),\n"
    " ({'type': 'http.response.start', 'status': 200},\n"
    "  {'type': 'http.response.start', 'status': 200, 'headers': []}),\n"
    " ({'type': 'http.response.body', 'body': None, 'more_body': 1},\n"
    "  {'type': 'http.response.body', 'body': b'', 'more_body': True}),\n"
    " ({'type': 'http.request'}, {'type': 'http.request', 'body': b'', 'more_body': False}),\n"
    " ({'type': 'http.disconnect'}, {'type': 'http.disconnect'}),\n"
    " ({'type': 'lifespan.startup.failed', 'message': 'db'},\n"
    "  {'type': 'lifespan.startup.failed', 'message': 'db'}),\n"
    " ({'type': 'lifespan.shutdown.failed'}, {'type': 'lifespan.shutdown.failed', 'message': None}),\n"
    "]\n"
    "errors = [\n"
    " ({'type': 'websocket.send'}, ValueError),\n"
    " ({'type': 'websocket.send', 'text': 'a', 'bytes': b'a'}, ValueError),\n"
    " ({'type': 'websocket.send', 'text': b'a'}, TypeError),\n"
    " ({'type': 'websocket.send', 'bytes': 'a'}, TypeError),\n"
    " ({'type': 'websocket.send', 'text': '\\ud800'}, UnicodeEncodeError),\n"
    " ({'type': 'websocket.close', 'reason': b'x'}, TypeError),\n"
    " ({'type': 'websocket.close', 'code': '1000'}, TypeError),\n"
    " ({'type': 'websocket.accept', 'subprotocol': 1}, TypeError),\n"
    " ({'type': 'websocket.accept', 'headers': [(b'a', 'b')]}, TypeError),\n"
    " ({'type': 'http.response.start'}, TypeError),\n"
    " ({'type': 'http.response.body', 'body': 'text'}, TypeError),\n"
    " ({'type': 'websocket.nope'}, RuntimeError),\n"
    " ({'no': 'type'}, KeyError),\n"
    " (['type'], TypeError),\n"
    "]\n";

static PyObject *globals;

static int setup(void **state) {
  (void)state;
  PyConfig config;
  PyConfig_InitIsolatedConfig(&config);
  PyStatus status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) return -1;
  if (python_strings_init() != 0 || python_events_init() != 0) return -1;
  globals = PyDict_New();
  PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins());
  PyObject *ran = PyRun_String(cases_source, Py_file_input, globals, globals);
  if (!ran) {
    PyErr_Print();
    return -1;
  }
  Py_DECREF(ran);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  Py_CLEAR(globals);
  return Py_FinalizeEx() == 0 ? 0 : -1;
}

static const char *repr(PyObject *o) {
  PyObject *r = PyObject_Repr(o);
  const char *text = r ? PyUnicode_AsUTF8(r) : "?";
  return text; /* leaked on purpose: only on the way to a failure message */
}

static void test_round_trips(void **state) {
  (void)state;
  PyObject *cases = PyDict_GetItemString(globals, "cases");
  assert_true(PyList_Size(cases) >= 20);
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(cases); i++) {
    PyObject *message = PyTuple_GET_ITEM(PyList_GET_ITEM(cases, i), 0);
    PyObject *expected = PyTuple_GET_ITEM(PyList_GET_ITEM(cases, i), 1);
    asgid_event event;
    python_event_storage storage;
    if (python_message_event(message, &event, &storage) != 0) {
      PyErr_Print();
      fail_msg("case %zd: %s refused", i, repr(message));
    }
    PyObject *back = python_event_dict(&event);
    python_event_storage_release(&storage);
    if (!back) {
      PyErr_Print();
      fail_msg("case %zd: no dict for %s", i, repr(message));
    }
    if (PyObject_RichCompareBool(back, expected, Py_EQ) != 1)
      fail_msg("case %zd: %s became %s, not %s", i, repr(message), repr(back), repr(expected));
    Py_DECREF(back);
  }
}

/* The C side of a few conversions, member by member. */
static void set_str(PyObject *dict, const char *key, const char *value) {
  PyObject *s = PyUnicode_FromString(value);
  assert_int_equal(PyDict_SetItemString(dict, key, s), 0);
  Py_DECREF(s);
}

static void test_websocket_members(void **state) {
  (void)state;
  PyObject *message = PyDict_New();
  set_str(message, "type", "websocket.send");
  set_str(message, "text", "");
  asgid_event event;
  python_event_storage storage;
  assert_int_equal(python_message_event(message, &event, &storage), 0);
  assert_int_equal(event.type, ASGID_WEBSOCKET_SEND);
  assert_int_equal(event.u.websocket_message.text, 1);
  assert_int_equal(event.u.websocket_message.len, 0);
  python_event_storage_release(&storage);

  PyDict_Clear(message);
  set_str(message, "type", "websocket.close");
  set_str(message, "reason", "\xc3\xbc");
  assert_int_equal(python_message_event(message, &event, &storage), 0);
  assert_int_equal(event.u.websocket_close.code, 1000);
  assert_int_equal(event.u.websocket_close.reason_len, 2);
  assert_memory_equal(event.u.websocket_close.reason, "\xc3\xbc", 2);
  python_event_storage_release(&storage);
  Py_DECREF(message);

  /* 40 headers: more than the storage holds inline */
  PyObject *accept = NULL;
  PyObject *code = Py_CompileString(
      "{'type': 'websocket.accept', 'headers': [(b'h%d' % i, b'v') for i in range(40)]}",
      "<test>", Py_eval_input);
  accept = code ? PyEval_EvalCode(code, globals, globals) : NULL;
  Py_XDECREF(code);
  assert_non_null(accept);
  assert_int_equal(python_message_event(accept, &event, &storage), 0);
  assert_int_equal(event.u.websocket_accept.header_count, 40);
  assert_null(event.u.websocket_accept.subprotocol);
  assert_memory_equal(event.u.websocket_accept.headers[39].name, "h39", 3);
  python_event_storage_release(&storage);
  Py_DECREF(accept);
}

static void test_errors(void **state) {
  (void)state;
  PyObject *errors = PyDict_GetItemString(globals, "errors");
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(errors); i++) {
    PyObject *message = PyTuple_GET_ITEM(PyList_GET_ITEM(errors, i), 0);
    PyObject *expected = PyTuple_GET_ITEM(PyList_GET_ITEM(errors, i), 1);
    asgid_event event;
    python_event_storage storage;
    int rc = python_message_event(message, &event, &storage);
    python_event_storage_release(&storage);
    if (rc == 0) fail_msg("error case %zd: %s accepted", i, repr(message));
    if (!PyErr_ExceptionMatches(expected)) {
      PyErr_Print();
      fail_msg("error case %zd: %s did not raise %s", i, repr(message), repr(expected));
    }
    PyErr_Clear();
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trips),
      cmocka_unit_test(test_websocket_members),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
