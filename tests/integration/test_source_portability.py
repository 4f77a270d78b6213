"""Nothing POSIX outside src/platform/: no POSIX header, no POSIX-only call, no test of the
operating system (#ifdef _WIN32, __linux__) in any other file of src/. What differs between
systems is a platform function named by intent (platform.h, implemented in posix/ and win/
under the same file names) or a portable libuv call (uv_os_getpid, uv_os_unsetenv, ...).

The one exception list is ALLOWED below, each entry with its reason; an entry that no longer
matches anything is an error too, so the list cannot outlive its reasons.
"""

import re

from conftest import SOURCE_DIR

SRC = SOURCE_DIR / "src"

# Headers that exist only on POSIX systems (or only on Windows: those belong in platform/
# as much). ISO C headers and libuv's uv.h are portable.
POSIX_HEADER = re.compile(
    r"^(unistd|signal|fcntl|pwd|grp|dlfcn|pthread|poll|termios|dirent|netdb|sched|spawn|"
    r"syslog|semaphore|strings|libgen|ifaddrs|spawn|ucontext|execinfo|glob|fnmatch|"
    r"windows|winsock2|ws2tcpip|io|direct|process)\.h$"
    r"|^(sys|netinet|arpa|net)/")

# Functions POSIX has and ISO C (and Windows' C library under that name) has not, found
# where they are called. Names that Winsock shares with POSIX (getaddrinfo, getsockname, ntohs) are portable.
POSIX_NAMES = {
    # processes and signals
    "fork", "vfork", "kill", "killpg", "getpid", "getppid", "waitpid", "wait", "execv",
    "execve", "execvp", "_exit", "sigaction", "sigprocmask", "pthread_sigmask", "sigemptyset",
    "sigaddset", "alarm", "setsid", "setpgid",
    # descriptors and files
    "open", "close", "read", "write", "dup", "dup2", "dup3", "fcntl", "isatty", "pipe",
    "pipe2", "socketpair", "lstat", "fstat", "fchmod", "chmod", "chown", "umask", "unlink",
    "mkstemp", "mkdtemp", "fsync", "fdatasync", "readlink", "realpath", "symlink", "access",
    "getcwd", "chdir", "opendir", "readdir", "closedir", "fileno", "fdopen", "open_memstream",
    "fmemopen", "popen", "pclose",
    # environment, users, limits
    "setenv", "unsetenv", "putenv", "getuid", "geteuid", "setuid", "setgid",
    "getpwnam", "getgrnam", "initgroups", "getrlimit", "setrlimit", "sysconf",
    # time
    "localtime_r", "gmtime_r", "clock_gettime", "nanosleep", "usleep", "sleep", "gettimeofday",
    # strings (strdup is C23's and Windows' C library has it; strndup is neither's:
    # platform_strndup)
    "strndup", "strerror_r", "strtok_r", "strcasecmp", "strncasecmp",
    # threads (libuv's uv_thread_*, uv_mutex_* and C11 atomics are the portable ones)
    "pthread_create", "pthread_join", "pthread_mutex_lock", "pthread_mutex_unlock",
    "pthread_cond_wait", "pthread_cond_signal", "pthread_self",
}

# Macros that test the operating system: only platform/ may branch on it.
SYSTEM_MACRO = re.compile(r"\b(_WIN32|_WIN64|__linux__|__APPLE__|__unix__|__FreeBSD__)\b")

# The one allow-list: {path under src/: {name or header: reason}}. Empty today: every POSIX
# piece of src/ lives in src/platform/posix/.
ALLOWED = {}

INCLUDE = re.compile(r'^\s*#\s*include\s*<([^>]+)>', re.MULTILINE)
# A call of a free function (not a member: t->write(), s.read()).
CALL = re.compile(r"(?<![\w.>])([A-Za-z_]\w*)\s*\(")
VARIABLES = {"environ"}  # POSIX's variables: wrong wherever they are named
IDENTIFIER = re.compile(r"(?<![\w.>])([A-Za-z_]\w*)\b")
CODE_NOISE = re.compile(
    r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.DOTALL)


def without_comments_and_strings(text):
    """The code of a C file with comments and string and character literals blanked (newlines
    kept, so line numbers hold)."""
    return CODE_NOISE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def findings_in(path, relative):
    text = path.read_text()
    found = []
    for header in INCLUDE.findall(text):
        if POSIX_HEADER.search(header):
            found.append((relative, f"<{header}>"))
    code = without_comments_and_strings(text)
    for line in code.splitlines():
        if re.match(r"\s*#\s*include", line):
            continue
        for name in CALL.findall(line):
            if name in POSIX_NAMES:
                found.append((relative, name))
        for name in IDENTIFIER.findall(line):
            if name in VARIABLES:
                found.append((relative, name))
        for macro in SYSTEM_MACRO.findall(line):
            found.append((relative, macro))
    return found


def posix_outside_platform(src=None):
    """(path under src/, header or name) for every POSIX piece outside src/platform/, the
    allow-list left out, and the allow-list entries that matched nothing."""
    src = src or SRC
    found = set()
    for path in sorted(src.rglob("*.[ch]")):
        relative = path.relative_to(src).as_posix()
        if relative.startswith("platform/"):
            continue
        found.update(findings_in(path, relative))
    allowed = {(path, item) for path, items in ALLOWED.items() for item in items}
    return sorted(found - allowed), sorted(allowed - found)


def test_nothing_posix_outside_platform():
    leaks, _ = posix_outside_platform()
    assert leaks == [], (
        "POSIX outside src/platform/ (move it behind platform.h or use libuv's portable call; "
        f"only with a reason into ALLOWED): {leaks}")


def test_every_allowed_entry_is_still_needed():
    _, stale = posix_outside_platform()
    assert stale == [], f"ALLOWED entries that match nothing any more: {stale}"


def test_every_allowed_entry_says_why():
    for path, items in ALLOWED.items():
        for item, reason in items.items():
            assert len(reason.split()) >= 4, f"{path}: {item}: say why"


def test_the_scan_catches_a_planted_leak(tmp_path):
    """The scan itself works: a POSIX header, call, variable and system test in log/ are
    caught; the same in platform/, in a comment, in a string or as a member are not."""
    src = tmp_path / "src"
    (src / "log").mkdir(parents=True)
    (src / "platform" / "posix").mkdir(parents=True)
    leak = ("#include <unistd.h>\n#include <sys/stat.h>\n#include <stdio.h>\n"
            "extern char **environ;\n"
            "#ifdef _WIN32\n#endif\n"
            "int f(void) { return getpid() + dup2(1, 2); }\n")
    (src / "log" / "leak.c").write_text(
        leak +
        "/* fork() in a comment */\n// kill(1, 9) too\n"
        'const char *s = "isatty(0)";\n'
        "int g(struct x *t) { int open = t->write(t) + t.read(t); return open; }\n"
        "int h(void) { return uv_os_getpid() + platform_fork(); }\n")
    (src / "platform" / "posix" / "ok.c").write_text(leak)
    leaks, stale = posix_outside_platform(src)
    assert leaks == sorted([
        ("log/leak.c", "<unistd.h>"), ("log/leak.c", "<sys/stat.h>"),
        ("log/leak.c", "environ"), ("log/leak.c", "_WIN32"),
        ("log/leak.c", "getpid"), ("log/leak.c", "dup2"),
    ])
    assert stale == sorted((p, i) for p, items in ALLOWED.items() for i in items)
