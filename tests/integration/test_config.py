"""Configuration errors are reported clearly and stop the server: --check-config, file:line
for bad values and unknown keys, unknown worker classes, apps that cannot be loaded."""

import re

import pytest

from conftest import TEST_APPS_DIR, app_path, run_asgid, write_ini


def good_settings():
    return {"app": app_path("probe"), "bind": "127.0.0.1:0", "workers": 1}


def test_check_config_accepts_a_good_file(tmp_path):
    ini = tmp_path / "good.ini"
    write_ini(ini, good_settings())
    code, out = run_asgid(["--check-config", "-c", str(ini)])
    assert code == 0, out
    assert "configuration OK" in out


@pytest.mark.parametrize("text,line", [
    ("[http]\nkeepalive_timeout = 5s\nbody_timeout = banana\n", 3),
    ("[http]\nno_such_setting = 1\n", 2),
    ("[app]\nlifespan = sometimes\n", 2),
    ("[http]\nmax_body_size = 12q\n", 2),
    ("[workers]\nworkers = -3\n", 2),
    ("[nosection]\nkey = 1\n", 2),
], ids=["bad-duration", "unknown-key", "bad-enum", "bad-size", "out-of-bounds",
        "unknown-section"])
def test_check_config_names_file_and_line(tmp_path, text, line):
    ini = tmp_path / "bad.ini"
    ini.write_text(f"[app]\napp = {app_path('probe')}\n" + text)
    line += 2  # the two lines written above
    code, out = run_asgid(["--check-config", "-c", str(ini)])
    assert code == 1, out
    assert f"{ini}:{line}:" in out, out


def test_bad_enum_lists_accepted_values(tmp_path):
    ini = tmp_path / "bad.ini"
    ini.write_text("[app]\nlifespan = sometimes\n")
    code, out = run_asgid(["--check-config", "-c", str(ini)])
    assert code == 1
    for choice in ("auto", "on", "off"):
        assert choice in out, out


def run_until_exit(server, **settings):
    srv = server(wait=False, **settings)
    code = srv.wait_exit(timeout=10)
    assert code is not None, "server kept running despite the error:\n" + srv.log()
    return code, srv.log() + srv.stdout()


def test_unknown_worker_class_lists_available_ones(server):
    code, out = run_until_exit(server, worker_class="gevent")
    assert code != 0
    assert "gevent" in out, out
    for name in ("event", "thread", "auto"):
        assert re.search(rf"\b{name}\b", out), out


def test_missing_app_file_is_a_clear_error(server, tmp_path):
    missing = tmp_path / "no-such-app.so"
    code, out = run_until_exit(server, app=str(missing))
    assert code != 0
    assert str(missing) in out, out


def test_missing_entry_symbol_is_a_clear_error(server):
    code, out = run_until_exit(server, app="probe:nope")
    assert code != 0
    assert "nope" in out, out


def test_app_refusing_to_load_stops_the_server(server):
    code, out = run_until_exit(server, app="probe:probe_entry_null")
    assert code != 0
    assert "refusing to load on purpose" in out, out


def test_app_with_other_abi_version_is_refused(server):
    code, out = run_until_exit(server, app="probe:probe_entry_bad_abi")
    assert code != 0
    # The message names both versions.
    assert "999" in out, out
    assert re.search(r"abi|version", out, re.I), out


def test_check_config_reports_unloadable_app(tmp_path):
    # --check-config loads everything (OpenBSD httpd's -n/-t): an app that cannot load fails it.
    ini = tmp_path / "bad-app.ini"
    write_ini(ini, {**good_settings(), "app": str(TEST_APPS_DIR / "missing.so")})
    code, out = run_asgid(["--check-config", "-c", str(ini)])
    assert code != 0, out
    assert "missing.so" in out, out
