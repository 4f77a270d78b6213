/*
 * strings.c - the interned strings and constant objects the Python adapter builds once:
 * dict keys and values of ASGI scopes, and method names it calls (the keys of messages come
 * from the event table: events.c).
 */
#include "apps/python/python_internal.h"

python_strings pystr;

int python_strings_init(void) {
  struct { PyObject **slot; const char *text; } strings[] = {
      {&pystr.type, "type"}, {&pystr.asgi, "asgi"}, {&pystr.http_version, "http_version"},
      {&pystr.method, "method"}, {&pystr.scheme, "scheme"}, {&pystr.path, "path"},
      {&pystr.raw_path, "raw_path"}, {&pystr.query_string, "query_string"},
      {&pystr.root_path, "root_path"}, {&pystr.headers, "headers"}, {&pystr.client, "client"},
      {&pystr.server, "server"}, {&pystr.state, "state"}, {&pystr.http, "http"},
      {&pystr.lifespan, "lifespan"}, {&pystr.v1_0, "1.0"}, {&pystr.v1_1, "1.1"},
      {&pystr.websocket, "websocket"}, {&pystr.ws, "ws"}, {&pystr.https, "https"}, {&pystr.wss, "wss"}, {&pystr.subprotocols, "subprotocols"},
      {&pystr.extensions, "extensions"},
      {&pystr.done, "done"},
      {&pystr.set_result, "set_result"}, {&pystr.await, "__await__"},
      {&pystr.throw_, "throw"}, {&pystr.cancel, "cancel"}, {&pystr.cancelling, "cancelling"},
      {&pystr.asyncio_future_blocking, "_asyncio_future_blocking"},
  };
  for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
    *strings[i].slot = PyUnicode_InternFromString(strings[i].text);
    if (!*strings[i].slot) return -1;
  }
  pystr.empty_bytes = PyBytes_FromStringAndSize("", 0);
  /* Shared by every scope, as granian does: apps read it, none is known to write it. */
  pystr.asgi_info = Py_BuildValue("{ssss}", "version", "3.0", "spec_version", "2.3");
  /* websocket: ASGI 2.5 (the disconnect's reason, OSError on a send after close), and the
   * denial extension, which the server implements. */
  pystr.asgi_info_websocket = Py_BuildValue("{ssss}", "version", "3.0", "spec_version", "2.5");
  pystr.websocket_extensions = Py_BuildValue("{s{}}", "websocket.http.response");
  return pystr.empty_bytes && pystr.asgi_info && pystr.asgi_info_websocket &&
                 pystr.websocket_extensions
             ? 0
             : -1;
}
