/*
 * events.c - ASGI message dicts to server events and back, for every event of the event
 * table (abi/event_table.c): its rows say which keys a message has, of which Python type,
 * and which asgid_event members they fill.
 *
 * Conversion is by kind only; what is valid in which state is the server's business (api->send
 * refuses an event out of place, a server -> app one included).
 */
#include <limits.h>
#include <string.h>

#include "apps/python/python_internal.h"
#include "abi/event_table.h"

/* The type string and the field keys of every event, built once. */
static PyObject *type_names[ASGI_EVENT_TYPE_LIMIT];
static PyObject *field_keys[ASGI_EVENT_TYPE_LIMIT][ASGI_EVENT_MAX_FIELDS];
static PyObject *text_keys[ASGI_EVENT_TYPE_LIMIT][ASGI_EVENT_MAX_FIELDS];

int python_events_init(void) {
  for (int t = 0; t < ASGI_EVENT_TYPE_LIMIT; t++) {
    const asgi_event_info *e = asgi_event_of((asgid_event_type)t);
    if (!e) continue;
    if (!(type_names[t] = PyUnicode_InternFromString(e->name))) return -1;
    for (size_t i = 0; i < e->field_count; i++) {
      if (!(field_keys[t][i] = PyUnicode_InternFromString(e->fields[i].key))) return -1;
      if (e->fields[i].text_key &&
          !(text_keys[t][i] = PyUnicode_InternFromString(e->fields[i].text_key)))
        return -1;
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- event -> dict */

static PyObject *bytes_value(const void *p, size_t len) {
  return len ? PyBytes_FromStringAndSize(p, (Py_ssize_t)len) : Py_NewRef(pystr.empty_bytes);
}

/* The value of field f of e (a new reference), and in *key the key it goes under. */
static PyObject *field_value(const asgid_event *e, const asgi_event_field *f, PyObject **key,
                             PyObject *text_key) {
  const void *p = f->kind == ASGI_FIELD_INT || f->kind == ASGI_FIELD_BOOL
                      ? NULL
                      : asgi_member_pointer(e, f->offset);
  switch (f->kind) {
    case ASGI_FIELD_BYTES:
      return bytes_value(p, asgi_member_size(e, f->length_offset));
    case ASGI_FIELD_TEXT_OR_BYTES: {
      size_t len = asgi_member_size(e, f->length_offset);
      if (!asgi_member_int(e, f->flag_offset)) return bytes_value(p, len);
      *key = text_key;
      /* the protocol layer validated the text: a failure here is a server bug, not data */
      return PyUnicode_DecodeUTF8(len ? p : "", (Py_ssize_t)len, "strict");
    }
    case ASGI_FIELD_INT:
      return PyLong_FromLong(asgi_member_int(e, f->offset));
    case ASGI_FIELD_BOOL:
      return Py_NewRef(asgi_member_int(e, f->offset) ? Py_True : Py_False);
    case ASGI_FIELD_HEADERS:
      return python_header_list(p, asgi_member_size(e, f->length_offset));
    case ASGI_FIELD_STRING: {
      size_t len = asgi_member_size(e, f->length_offset);
      return PyUnicode_DecodeUTF8(len ? p : "", (Py_ssize_t)len, "replace");
    }
    case ASGI_FIELD_OPTIONAL_STRING:
      return p ? PyUnicode_FromString(p) : Py_NewRef(Py_None);
  }
  return NULL;
}

PyObject *python_event_dict(const asgid_event *event) {
  const asgi_event_info *info = asgi_event_of(event->type);
  if (!info) {
    PyErr_Format(PyExc_RuntimeError, "unknown event type %d from the server", (int)event->type);
    return NULL;
  }
  PyObject *d = PyDict_New();
  if (!d || PyDict_SetItem(d, pystr.type, type_names[info->type]) != 0) goto fail;
  for (size_t i = 0; i < info->field_count; i++) {
    PyObject *key = field_keys[info->type][i];
    PyObject *value = field_value(event, &info->fields[i], &key, text_keys[info->type][i]);
    if (!value) goto fail;
    int rc = PyDict_SetItem(d, key, value);
    Py_DECREF(value);
    if (rc != 0) goto fail;
  }
  return d;
fail:
  Py_XDECREF(d);
  return NULL;
}

/* ---------------------------------------------------------------- dict -> event */

/* Fills the storage's headers from an ASGI header list ([[name, value], ...] of bytes).
 * Returns the count, or -1 with an exception set. */
static Py_ssize_t read_headers(PyObject *list, python_event_storage *st) {
  PyObject *seq = PySequence_Fast(list, "headers must be a sequence of [name, value] pairs");
  if (!seq) return -1;
  st->keep = seq;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  if (n > (Py_ssize_t)(sizeof st->inline_headers / sizeof st->inline_headers[0])) {
    st->headers = PyMem_Malloc((size_t)n * sizeof *st->headers);
    if (!st->headers) {
      st->headers = st->inline_headers;
      PyErr_NoMemory();
      return -1;
    }
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *pair = PySequence_Fast_GET_ITEM(seq, i);
    if (!PyTuple_Check(pair) && !PyList_Check(pair)) goto bad;
    if (PySequence_Fast_GET_SIZE(pair) != 2) goto bad;
    PyObject *name = PySequence_Fast_GET_ITEM(pair, 0);
    PyObject *value = PySequence_Fast_GET_ITEM(pair, 1);
    if (!PyBytes_Check(name) || !PyBytes_Check(value)) goto bad;
    st->headers[i] = (asgid_header){PyBytes_AS_STRING(name), (size_t)PyBytes_GET_SIZE(name),
                                    PyBytes_AS_STRING(value), (size_t)PyBytes_GET_SIZE(value)};
  }
  return n;
bad:
  PyErr_SetString(PyExc_TypeError, "each header must be a [name, value] pair of bytes");
  return -1;
}

/* message[key], None counting as absent: a borrowed reference, or NULL (with an exception
 * set only on error). */
static PyObject *lookup(PyObject *message, PyObject *key) {
  PyObject *value = PyDict_GetItemWithError(message, key);
  return value == Py_None ? NULL : value;
}

static int wrong_type(const asgi_event_info *info, const asgi_event_field *f) {
  PyErr_Format(PyExc_TypeError, "'%s' of '%s' must be %s", f->key, info->name,
               f->kind == ASGI_FIELD_TEXT_OR_BYTES ? "bytes" : f->kind == ASGI_FIELD_INT ? "an int"
               : f->kind == ASGI_FIELD_BYTES ? "bytes" : "a str");
  return -1;
}

/* A str's UTF-8 (cached by the str, so it lives as long as the message) into a pointer and
 * length member. */
static int set_text(asgid_event *e, size_t offset, size_t length_offset, PyObject *text) {
  Py_ssize_t len;
  const char *utf8 = PyUnicode_AsUTF8AndSize(text, &len);
  if (!utf8) return -1;
  asgi_set_member_pointer(e, offset, utf8);
  if (length_offset) asgi_set_member_size(e, length_offset, (size_t)len);
  return 0;
}

static int read_message(PyObject *message, const asgi_event_info *info, size_t index,
                        asgid_event *e) {
  const asgi_event_field *f = &info->fields[index];
  PyObject *data = lookup(message, field_keys[info->type][index]);
  if (!data && PyErr_Occurred()) return -1;
  PyObject *text = lookup(message, text_keys[info->type][index]);
  if (!text && PyErr_Occurred()) return -1;
  if (!data == !text) {
    PyErr_Format(PyExc_ValueError, "'%s' needs exactly one of '%s' and '%s'", info->name,
                 f->key, f->text_key);
    return -1;
  }
  if (text) {
    if (!PyUnicode_Check(text)) {
      PyErr_Format(PyExc_TypeError, "'%s' of '%s' must be a str", f->text_key, info->name);
      return -1;
    }
    asgi_set_member_int(e, f->flag_offset, 1);
    return set_text(e, f->offset, f->length_offset, text);
  }
  if (!PyBytes_Check(data)) return wrong_type(info, f);
  asgi_set_member_pointer(e, f->offset, PyBytes_AS_STRING(data));
  asgi_set_member_size(e, f->length_offset, (size_t)PyBytes_GET_SIZE(data));
  return 0;
}

static int read_field(PyObject *message, const asgi_event_info *info, size_t index,
                      asgid_event *e, python_event_storage *st) {
  const asgi_event_field *f = &info->fields[index];
  if (f->kind == ASGI_FIELD_TEXT_OR_BYTES) return read_message(message, info, index, e);
  PyObject *value = lookup(message, field_keys[info->type][index]);
  if (!value) {
    if (PyErr_Occurred()) return -1;
    if (f->required) return wrong_type(info, f);
    if (f->kind == ASGI_FIELD_INT || f->kind == ASGI_FIELD_BOOL)
      asgi_set_member_int(e, f->offset, f->default_value);
    return 0; /* pointers and lengths stay 0 */
  }
  switch (f->kind) {
    case ASGI_FIELD_BYTES:
      if (!PyBytes_Check(value)) return wrong_type(info, f);
      asgi_set_member_pointer(e, f->offset, PyBytes_AS_STRING(value));
      asgi_set_member_size(e, f->length_offset, (size_t)PyBytes_GET_SIZE(value));
      return 0;
    case ASGI_FIELD_INT: {
      if (!PyLong_Check(value)) return wrong_type(info, f);
      int overflow;
      long n = PyLong_AsLongAndOverflow(value, &overflow);
      if (n == -1 && PyErr_Occurred()) return -1;
      /* Out of int range would wrap into a valid-looking value: -1 is refused by the server. */
      asgi_set_member_int(e, f->offset, overflow || n < 0 || n > INT_MAX ? -1 : (int)n);
      return 0;
    }
    case ASGI_FIELD_BOOL: {
      int truth = PyObject_IsTrue(value);
      if (truth < 0) return -1;
      asgi_set_member_int(e, f->offset, truth);
      return 0;
    }
    case ASGI_FIELD_HEADERS: {
      Py_ssize_t n = read_headers(value, st);
      if (n < 0) return -1;
      asgi_set_member_pointer(e, f->offset, st->headers);
      asgi_set_member_size(e, f->length_offset, (size_t)n);
      return 0;
    }
    case ASGI_FIELD_STRING:
    case ASGI_FIELD_OPTIONAL_STRING:
      if (!PyUnicode_Check(value)) return wrong_type(info, f);
      return set_text(e, f->offset, f->kind == ASGI_FIELD_STRING ? f->length_offset : 0, value);
    case ASGI_FIELD_TEXT_OR_BYTES:
      break;
  }
  return 0;
}

int python_message_event(PyObject *message, asgid_event *event, python_event_storage *st) {
  memset(event, 0, sizeof *event);
  st->headers = st->inline_headers;
  st->keep = NULL;
  if (!PyDict_Check(message)) {
    PyErr_SetString(PyExc_TypeError, "an ASGI message must be a dict");
    return -1;
  }
  PyObject *type = PyDict_GetItemWithError(message, pystr.type);
  if (!type || !PyUnicode_Check(type)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_KeyError, "ASGI message without a 'type'");
    return -1;
  }
  Py_ssize_t len;
  const char *name = PyUnicode_AsUTF8AndSize(type, &len);
  if (!name) return -1;
  const asgi_event_info *info = asgi_event_named(name, (size_t)len);
  if (!info) {
    PyErr_Format(PyExc_RuntimeError, "unexpected ASGI message type '%s'", name);
    return -1;
  }
  event->type = info->type;
  for (size_t i = 0; i < info->field_count; i++)
    if (read_field(message, info, i, event, st) != 0) return -1;
  return 0;
}

void python_event_storage_release(python_event_storage *st) {
  if (st->headers != st->inline_headers) PyMem_Free(st->headers);
  st->headers = st->inline_headers;
  Py_CLEAR(st->keep);
}
