"""The first run: the mistakes a new user makes get a message that says what to do.

Each case of issue #15's first-run list: misspelt keys, options and ASGID_ variables get the
nearest setting; a key given twice names both lines; boolean options take on/off as their next
argument; --version names the embedded Python; a missing app is one line before anything
binds; --check-config finds the binds a start would fail on and prints the warnings a start
logs; a virtualenv made for another Python is refused naming both versions; an app spec that
names a Python file gets the --app meant; and the README's command lines (and
scripts/demo.sh's) work as written, from the source tree."""

import http.client
import platform
import re
import resource
import shlex
import socket
import subprocess
import time

import pytest

from conftest import ASGID_BIN, EXAMPLES_DIR, SOURCE_DIR, app_path, free_port, run_asgid
from master_util import wait_for
from python_apps.harness import PROBE, TESTS_DIR, class_support, requires_python


def probe_ini(tmp_path, text):
    ini = tmp_path / "asgid.ini"
    ini.write_text(f"[app]\napp = {app_path('probe')}\n[server]\nbind = 127.0.0.1:0\n" + text)
    return ini


def test_a_duplicate_key_names_both_lines(tmp_path):
    ini = probe_ini(tmp_path, "[workers]\nworkers = 2\ntimeout = 5s\nworkers = 4\n")
    code, out = run_asgid(["--check-config", "-c", str(ini)])
    assert code == 1, out
    assert f"{ini}:8: workers is already set at line 6" in out, out


def test_a_repeated_bind_is_a_list_not_a_duplicate(tmp_path):
    ini = probe_ini(tmp_path, "bind = 127.0.0.1:0\n")
    code, out = run_asgid(["--check-config", "-c", str(ini)])
    assert code == 0, out
    assert "configuration OK" in out


def test_a_misspelt_key_gets_the_nearest_setting(tmp_path):
    ini = probe_ini(tmp_path, "[workers]\nworker = 2\n[log]\nloglevel = debug\n")
    code, out = run_asgid(["--check-config", "-c", str(ini)])
    assert code == 1, out
    assert f'{ini}:6: unknown key "worker" in section [workers]; did you mean workers?' in out
    assert f'{ini}:8: unknown key "loglevel" in section [log]; did you mean log_level?' in out


def test_a_misspelt_option_gets_the_nearest_option():
    code, out = run_asgid(["--wrokers=2", "--check-conifg", app_path("probe")])
    assert code == 1, out
    assert "command line --wrokers: unknown option; did you mean --workers? (see --help)" in out
    assert ("command line --check-conifg: unknown option; did you mean --check-config? "
            "(see --help)") in out


def test_an_unknown_asgid_variable_is_a_warning_naming_the_nearest(tmp_path):
    ini = probe_ini(tmp_path, "")
    code, out = run_asgid(["--check-config", "-c", str(ini)],
                          env={"ASGID_WORKER": "3", "ASGID_SOMETHING_ELSE": "1"})
    assert code == 0, out  # a warning: environments carry stale variables
    assert ("warning: environment ASGID_WORKER: not a setting, ignored; did you mean "
            "ASGID_WORKERS?") in out, out
    assert "warning: environment ASGID_SOMETHING_ELSE: not a setting, ignored" in out, out
    assert "configuration OK" in out


def test_the_variables_of_asgid_and_its_tests_draw_no_warning(tmp_path):
    ini = probe_ini(tmp_path, "")
    code, out = run_asgid(["--check-config", "-c", str(ini)],
                          env={"ASGID_CONFIG": "", "ASGID_TEST_WORKER_START": "fork"})
    assert code == 0, out
    assert "warning" not in out, out


def test_a_boolean_option_takes_on_or_off_as_its_next_argument():
    code, out = run_asgid(["--reuse-port", "on", "--server-header", "off", "--print-config",
                           app_path("probe")])
    assert code == 0, out
    assert re.search(r"^reuse_port = on +# command line", out, re.M), out
    assert re.search(r"^server_header = off +# command line", out, re.M), out


def test_a_boolean_option_followed_by_another_word_says_how_to_write_it():
    code, out = run_asgid(["--reuse-port", "enabled", app_path("probe")])
    assert code == 1, out
    assert out == (f"command line {app_path('probe')}: unexpected argument (the app is already "
                   "enabled); if it was meant as the value of --reuse-port, write on, off, true, "
                   "false, yes, no, 1 or 0\n")


def test_version_names_the_embedded_python_and_the_libraries():
    code, out = run_asgid(["--version"])
    assert code == 0, out
    match = re.fullmatch(r"asgid \d+\.\d+\.\d+ \((?:Python (\S+), )?llhttp \d+\.\d+\.\d+, "
                         r"libuv \d+\.\d+\.\d+\)\n", out)
    assert match, out
    python_built, _ = class_support("asyncio")
    if python_built:
        # Debian's python3 is the installation asgid embeds (CMake's python3-embed).
        assert match.group(1) == platform.python_version(), out


NO_APP = ("no app given: set app in [app], pass --app APP (or APP as the last argument), "
          "or set ASGID_APP")


def test_a_missing_app_is_one_line_before_anything_binds():
    port = free_port()
    code, out = run_asgid(["-b", f"127.0.0.1:{port}", "--workers", "2"])
    assert code == 1, out
    lines = out.splitlines()
    assert len(lines) == 1, out
    assert re.search(r"\[ERROR\] \[master\] " + re.escape(NO_APP) + "$", lines[0]), out
    # nothing was bound: the port is still free
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_check_config_says_the_same_of_a_missing_app():
    code, out = run_asgid(["--check-config"])
    assert code == 1, out
    assert out == NO_APP + "\n"


def check_binds(*binds):
    # max_connections fits any open-file limit: no warning joins the output
    args = ["--check-config", app_path("probe"), "--max-connections", "64"]
    for bind in binds:
        args += ["-b", bind]
    return run_asgid(args)


def test_check_config_reads_binds_as_gunicorn_does():
    # a host alone is port 8000, ":PORT" every IPv4 address (shown by --print-config's
    # neighbour, the parse; here: accepted without opening anything)
    code, out = check_binds("127.0.0.1", "localhost", f":{free_port()}")
    assert code == 0, out
    assert out == "configuration OK\n"


@pytest.mark.parametrize("bind,says", [
    ("8001", "bind 8001: a port alone is not an address: write 127.0.0.1:8001 (this machine "
             "only) or :8001 (every IPv4 address)"),
    ("127.0.0.1:http", 'bind 127.0.0.1:http: port "http" is not a number from 0 to 65535'),
    ("no-such-host.invalid:8000", 'bind no-such-host.invalid:8000: cannot resolve '
                                  '"no-such-host.invalid"'),
    # TEST-NET-1 (RFC 5737): an address no machine here has
    ("192.0.2.1:8000", "bind 192.0.2.1:8000: 192.0.2.1 cannot be bound on this machine: "
                       "address not available"),
    ("unix:/nonexistent-asgid/x.sock", "bind unix:/nonexistent-asgid/x.sock: the socket's "
                                       "directory /nonexistent-asgid: no such file or directory"),
], ids=["port-alone", "port-name", "unknown-host", "foreign-address", "unix-no-directory"])
def test_check_config_finds_binds_that_would_fail(bind, says):
    code, out = check_binds("127.0.0.1:0", bind)
    assert code == 1, out
    assert out.startswith(says), out
    assert len(out.splitlines()) == 1, out


def test_check_config_passes_a_bind_the_running_server_holds(server):
    """The usual check before a reload: the port is in use, by this very configuration."""
    srv = server()
    code, out = run_asgid(["--check-config", "-c", str(srv.ini_path), "--max-connections", "64"])
    assert code == 0, out
    assert out == "configuration OK\n"


def low_descriptor_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def test_check_config_prints_the_warnings_a_start_logs(tmp_path):
    args = [str(ASGID_BIN), app_path("probe"), "--max-connections", "1000", "--workers", "1"]
    check = subprocess.run(args + ["--check-config", "-b", "127.0.0.1:0"], capture_output=True,
                           text=True, timeout=15, preexec_fn=low_descriptor_limit)
    assert check.returncode == 0, check.stderr
    # the same words; the room left differs by the descriptors the master holds by then
    warning = re.search(r"^warning: (the open-file limit \(RLIMIT_NOFILE\) is 256, too low for "
                        r"max_connections 1000: a worker holds about )\d+ .*$", check.stderr, re.M)
    assert warning, check.stderr
    assert check.stdout == "configuration OK\n"
    log = tmp_path / "error.log"
    start = subprocess.Popen(args + ["-b", f"127.0.0.1:{free_port()}", "--error-log", str(log)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=low_descriptor_limit)
    try:
        assert wait_for(lambda: log.exists() and "is ready" in log.read_text(), 10), \
            log.read_text() if log.exists() else "no log"
        assert f"[WARNING] [master] {warning.group(1)}" in log.read_text()
    finally:
        start.terminate()
        start.wait(timeout=10)


def fake_venv(tmp_path, version):
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion = {version}\n")
    return venv


@requires_python
def test_a_virtualenv_for_another_python_is_refused_naming_both(tmp_path):
    venv = fake_venv(tmp_path, "3.99.1")
    ours = platform.python_version()
    major_minor = ".".join(ours.split(".")[:2])
    says = (f"virtualenv {venv} was made for Python 3.99 (its pyvenv.cfg says version = 3.99.1) "
            f"but asgid embeds Python {ours}: the app could not import its packages; recreate "
            f"it with python{major_minor} -m venv {venv}")
    args = ["--app", PROBE, "--app-dir", str(TESTS_DIR), "--virtualenv", str(venv)]
    code, out = run_asgid(args + ["--check-config"])
    assert code == 1, out
    assert out == says + "\n"
    port = free_port()
    code, out = run_asgid(args + ["-b", f"127.0.0.1:{port}"])
    assert code == 1, out
    assert len(out.splitlines()) == 1 and out.rstrip().endswith(says), out


@pytest.mark.parametrize("spec,meant", [
    ("hello_asgi.py:app", "--app hello_asgi:app"),
    ("examples/python/hello_asgi.py", "--app hello_asgi:app --app-dir examples/python"),
    ("examples/python/hello_asgi.py:app", "--app hello_asgi:app --app-dir examples/python"),
], ids=["file-colon-app", "path-to-file", "path-colon-app"])
def test_an_app_spec_naming_a_file_gets_the_app_meant(spec, meant):
    says = (f'app "{spec}" names a Python file; a Python app is named module:attribute, '
            f"imported from app_dir: did you mean {meant}?")
    checked = subprocess.run([str(ASGID_BIN), "--check-config", "--app", spec], cwd=SOURCE_DIR,
                             capture_output=True, text=True, timeout=15)
    assert checked.returncode == 1, checked.stderr
    assert checked.stderr == says + "\n"
    port = free_port()
    started = subprocess.run([str(ASGID_BIN), "--app", spec, "-b", f"127.0.0.1:{port}"],
                             cwd=SOURCE_DIR, capture_output=True, text=True, timeout=15)
    assert started.returncode == 1, started.stderr
    lines = started.stderr.splitlines()
    assert len(lines) == 1 and lines[0].endswith("[ERROR] [master] " + says), started.stderr


# ---------------------------------------------------------------- the README's command lines


def readme_commands():
    """Every build/asgid line of README.md's sh blocks, comments removed."""
    text = (SOURCE_DIR / "README.md").read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("build/asgid"):
                commands.append(line)
    return commands


def as_built(command):
    """A README line's arguments, with this test run's binary and examples."""
    args = shlex.split(command)
    args[0] = str(ASGID_BIN)
    return [str(EXAMPLES_DIR) + a[len("build/examples"):] if a.startswith("build/examples/")
            else a for a in args]


ACTIONS = {"--check-config", "--print-config", "--help", "--version"}


def python_line(args):
    return any(":" in a and not a.endswith(".so") and "/" not in a for a in args[1:])


def test_readme_lists_the_commands_this_test_runs():
    commands = readme_commands()
    assert any("--check-config" in c and "conf/asgid.ini" in c for c in commands), commands
    assert sum(1 for c in commands if not ACTIONS & set(shlex.split(c))) >= 3, commands


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_works_as_written(command, short_tmp):
    args = as_built(command)
    if python_line(args) and not class_support("asyncio")[0]:
        pytest.skip("asgid was built without Python")
    if ACTIONS & set(args):
        done = subprocess.run(args, cwd=SOURCE_DIR, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr
        if "--check-config" in args:
            assert done.stdout == "configuration OK\n", done.stdout + done.stderr
        return
    # A serving line: checked as written (its binds included), then started on loopback
    # addresses of this test's own (8000 and 8080 may be taken, 0.0.0.0 is not loopback).
    done = subprocess.run(args + ["--check-config"], cwd=SOURCE_DIR, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    served, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-b", "--bind"):
            skip = True
        else:
            served.append(arg)
    served += ["-b", f"127.0.0.1:{port}", "-b", f"unix:{short_tmp}/readme.sock", "--workers", "1"]
    proc = subprocess.Popen(served, cwd=SOURCE_DIR, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/")
                response = conn.getresponse()
                assert (response.status, response.read()) == (200, b"Hello, world!\n")
                conn.close()
                break
            except ConnectionRefusedError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_demo_script_command_works_as_written():
    """scripts/demo.sh's own command line (after setup and build): checked as written."""
    script = (SOURCE_DIR / "scripts" / "demo.sh").read_text()
    line = re.search(r"^exec (build/asgid .*?) \"\$@\"$", script, re.M)
    assert line, script
    done = subprocess.run(as_built(line.group(1)) + ["--check-config"], cwd=SOURCE_DIR,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "configuration OK\n"
