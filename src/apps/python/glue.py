"""asgid's Python side of the ASGI bridge, compiled into the asgid binary.

The C side (bridge.c, request_object.c, runner.c) builds the scope and the receive and send
callables of every new connection scope (http, websocket or lifespan) and runs the app's
coroutine for it on a runner's asyncio Task.

Before the app is imported (runtime.c calls setup_logging), the app's Python logging, its
print() and what it writes to sys.stdout and sys.stderr are pointed at asgid's error log.
"""
import atexit
import io
import logging
import os
import sys
import threading
import traceback

import _asgid

app = None
lifespan_required = False

# What runner.c tells report() about an app that raised in the lifespan scope (what it did
# before: request_object.c's lifespan progress).
LIFESPAN_SILENT = 0     # it never called receive(): it has no lifespan support (Django)
LIFESPAN_STARTED = 1    # it called receive(): it speaks the protocol, and failed in it
LIFESPAN_FAILED_SENT = 2  # it sent lifespan.*.failed, which asgid logged already


def configure(asgi_app, lifespan_on):
    global app, lifespan_required
    app = asgi_app
    lifespan_required = bool(lifespan_on)


def report(scope, exc, lifespan_progress=None):
    """Logs what the app raised (its cancellation is not reported: runner.c filters it).

    A WebSocket app that lets ClientDisconnected escape, from a send() after the client left,
    did nothing wrong: ASGI 2.4 says the server must not log it as an error.

    In the lifespan scope, as uvicorn does: an app that raises without ever asking for the
    startup event has no lifespan support, which lifespan = auto takes in its stride (one INFO
    line); an app that sent lifespan.startup.failed (Starlette, then re-raising) was logged
    with its message already."""
    if isinstance(exc, _asgid.ClientDisconnected):
        return
    text = "".join(traceback.format_exception(exc))
    if scope["type"] != "lifespan":
        _asgid.log(logging.ERROR, "Exception in ASGI application (%s %s)" % (
            scope.get("method", "WebSocket"), scope.get("path", "")), text)
    elif lifespan_progress == LIFESPAN_FAILED_SENT:
        return
    elif lifespan_progress == LIFESPAN_SILENT and not lifespan_required:
        _asgid.log(logging.INFO, "ASGI 'lifespan' protocol appears unsupported.")
        _asgid.log(logging.DEBUG, "The app raised in the lifespan scope", text)
    else:
        _asgid.log(logging.ERROR, "Exception in 'lifespan' protocol", text)


# ---------------------------------------------------------------- Python logging


class ErrorLogHandler(logging.Handler):
    """Log records as asgid error log entries: asgid's prefix and level, the logger's name,
    the message, and the traceback (exc_info, then stack_info) as continuation lines."""

    def emit(self, record):
        try:
            tb = None
            if record.exc_info:
                tb = "".join(traceback.format_exception(*record.exc_info))
            elif record.exc_text:
                tb = record.exc_text
            if record.stack_info:
                tb = (tb.rstrip("\n") + "\n" if tb else "") + record.stack_info
            _asgid.log(record.levelno, record.getMessage(), tb, record.name)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


class LineSink(io.BufferedIOBase):
    """The bytes under the app's sys.stdout or sys.stderr, as error log entries named by the
    stream. Text waits until a write ends a line: print("a\nb") (two writes: the text, then
    its newline) and a logging.StreamHandler's record with its traceback are one entry each.
    Each thread has its own unfinished text, so the lines of threads printing at once never
    mix. Unfinished text goes out on the thread's flush(), before a fork, at the worker's exit,
    or once it grows past MAX_PARTIAL bytes (up to its last newline, if any)."""

    MAX_PARTIAL = 65536

    def __init__(self, level, name):
        super().__init__()
        self.level = level
        self.name = name
        self.partials = {}  # thread ident: its unfinished bytes
        self.lock = threading.Lock()

    def writable(self):
        return True

    def fileno(self):
        # C code and subprocesses given the stream write to the error log too, unprefixed.
        return _asgid.error_log_fd()

    def write(self, data):
        data = bytes(data)
        thread = threading.get_ident()
        with self.lock:
            text = self.partials.pop(thread, b"") + data
            if text.endswith(b"\n"):
                end = len(text)
            elif len(text) > self.MAX_PARTIAL:
                end = text.rfind(b"\n") + 1 or len(text)
            else:
                end = 0
            if end < len(text):
                self.partials[thread] = text[end:]
            if end:
                self.emit(text[:end])
        return len(data)

    def flush(self):
        with self.lock:
            text = self.partials.pop(threading.get_ident(), b"")
            if text:
                self.emit(text)

    def flush_all(self):
        with self.lock:
            partials, self.partials = self.partials, {}
            for text in partials.values():
                self.emit(text)

    def after_fork(self):
        self.partials = {}
        self.lock = threading.Lock()

    def emit(self, text):
        _asgid.log(self.level, text.decode("utf-8", "replace"), None, self.name)


def redirect_standard_streams():
    """print() and sys.stdout at INFO, sys.stderr at WARNING (Python's warnings, and
    tracebacks that libraries print themselves), to the error log: never into the access log
    when it is standard output, nor bare onto the terminal."""
    sinks = []
    for name, level in (("stdout", logging.INFO), ("stderr", logging.WARNING)):
        sink = LineSink(level, name)
        sinks.append(sink)
        stream = io.TextIOWrapper(sink, encoding="utf-8", errors="backslashreplace",
                                  write_through=True)
        setattr(sys, name, stream)

    def flush_all():
        for sink in sinks:
            sink.flush_all()

    def reset_all():
        for sink in sinks:
            sink.after_fork()

    os.register_at_fork(before=flush_all, after_in_child=reset_all)
    atexit.register(flush_all)


def thread_exception(args):
    """threading.excepthook: an exception that ends a thread, as one ERROR entry."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else threading.get_ident()
    text = "".join(traceback.format_exception(args.exc_type, args.exc_value,
                                              args.exc_traceback))
    _asgid.log(logging.ERROR, "Exception in thread %s" % name, text)


class LogConfigError(Exception):
    """log_config cannot be applied; its str() is the one line that says why."""


def unraisable(u):
    """sys.unraisablehook: an exception Python had to ignore (in a __del__, a callback asgid
    could not report), as one ERROR entry rather than lines printed to sys.stderr."""
    message = u.err_msg or "Exception ignored in"
    if u.object is not None:
        try:
            message += ": %r" % (u.object,)
        except Exception:
            message += ": <object repr() failed>"
    text = "".join(traceback.format_exception(u.exc_type, u.exc_value, u.exc_traceback))
    _asgid.log(logging.ERROR, message, text)


def apply_log_config(path):
    """log_config: dictConfig from JSON (.json) or YAML (.yaml, .yml: needs PyYAML), else
    fileConfig's INI, as uvicorn's --log-config reads them. Raises LogConfigError."""
    import logging.config
    yaml = None
    if path.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError:
            raise LogConfigError("log_config %s: a YAML file needs PyYAML (Debian: python3-yaml); "
                             "or write it as JSON" % path) from None
    try:
        with open(path, encoding="utf-8") as f:
            if yaml is not None:
                logging.config.dictConfig(yaml.safe_load(f))
            elif path.endswith(".json"):
                import json
                logging.config.dictConfig(json.load(f))
            else:
                logging.config.fileConfig(f, disable_existing_loggers=False)
    except Exception as e:
        raise LogConfigError("log_config %s: %s" % (path, describe(e))) from None


def describe(exc):
    """An exception and its causes on one line (dictConfig's "Unable to configure handler
    'x'" says why in its __cause__)."""
    parts = []
    while exc is not None and len(parts) < 4:
        if isinstance(exc, KeyError):  # fileConfig's word for a missing section or key
            parts.append("missing section or key %s" % exc)
        else:
            parts.append("%s: %s" % (type(exc).__name__, exc))
        exc = exc.__cause__ or exc.__context__
    return "; caused by ".join(parts).replace("\n", " ")


def setup_logging(level, log_config):
    """Python's logging speaks to the error log, at asgid's log_level, unless the app (or
    log_config) configures it: the handler is logging.lastResort, which serves only records
    that meet no handler on their way up, so a handler the app or a dictConfig installs wins
    and logging.basicConfig() still works (it does nothing once root has a handler).

    log_config is applied before sys.stdout and sys.stderr are redirected: it takes Python
    logging out of asgid's hands, and its ext://sys.stderr is the process's standard error,
    as under uvicorn (its lines carry its own format only)."""
    logging.lastResort = ErrorLogHandler()
    logging.root.setLevel(level)
    if log_config:
        apply_log_config(log_config)
    threading.excepthook = thread_exception
    sys.unraisablehook = unraisable
    redirect_standard_streams()
