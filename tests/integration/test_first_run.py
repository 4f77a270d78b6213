"""The first run: the mistakes a new user makes get a message that says what to do.

Each case of issue #15's first-run list: misspelt keys, options and ASGID_ variables get the
nearest setting; a key given twice names both lines; boolean options take on/off as their next
argument."""

import platform
import re

from conftest import app_path, run_asgid
from python_apps.harness import class_support


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
