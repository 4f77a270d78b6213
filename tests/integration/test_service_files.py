"""The files that run asgid as a service: systemd/asgid.service and asgid.socket are accepted
by `systemd-analyze verify` and keep the settings they promise; the Dockerfile builds with the
same setup script and cmake commands as README.md, copies what the build produces, and its
HEALTHCHECK and CMD work (run here against the built binary: no container engine is needed).
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess

import pytest

from conftest import ASGID_BIN, EXAMPLES_DIR, SOURCE_DIR, free_port, needed_libraries
from master_util import wait_for
from rawhttp import RawConnection, request_bytes

SYSTEMD_DIR = SOURCE_DIR / "systemd"
DOCKERFILE = SOURCE_DIR / "Dockerfile"


def unit_settings(path):
    """{key: [values]} of a unit file (comments and section headers left out)."""
    settings = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;[":
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key, []).append(value)
    return settings


def seconds(text):
    """A systemd time span such as "45s", "1min 30s" or "45" in seconds."""
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", text))


# ------------------------------------------------------------------------------- systemd


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze not installed (Debian: systemd)")
def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    # verify checks that ExecStart's binary exists: the copy points it at the built binary
    # instead of the installed path, and changes nothing else.
    service = (SYSTEMD_DIR / "asgid.service").read_text()
    assert "ExecStart=/usr/local/bin/asgid " in service
    (tmp_path / "asgid.service").write_text(
        service.replace("ExecStart=/usr/local/bin/asgid ", f"ExecStart={ASGID_BIN} "))
    shutil.copy(SYSTEMD_DIR / "asgid.socket", tmp_path / "asgid.socket")
    proc = subprocess.run(["systemd-analyze", "verify", "asgid.service", "asgid.socket"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    # verify reports unknown keys and bad values as warnings with status 0: any output fails,
    # but for the keys of the restart backoff on a systemd that predates them (the unit's
    # comment says so).
    output = (proc.stdout + proc.stderr).strip().splitlines()
    if systemd_version() < 254:
        output = [line for line in output
                  if not re.search(r"Unknown key '(RestartSteps|RestartMaxDelaySec)'", line)]
    assert proc.returncode == 0 and not output, proc.stdout + proc.stderr


def systemd_version():
    out = subprocess.run(["systemd-analyze", "--version"], capture_output=True, text=True,
                         timeout=30).stdout
    return int(re.search(r"systemd (\d+)", out).group(1))


def test_service_unit_promises():
    s = unit_settings(SYSTEMD_DIR / "asgid.service")
    assert s["Type"] == ["notify"]
    assert s["NotifyAccess"] == ["all"]  # MAINPID= from the new master after USR2
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert s["KillMode"] == ["mixed"]
    assert s["Restart"] == ["on-failure"]
    assert s["RuntimeDirectory"] == ["asgid"]
    assert "--pidfile /run/asgid/asgid.pid" in s["ExecStart"][0]
    assert s["CapabilityBoundingSet"] == [""]
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "DynamicUser"):
        assert s[key] == ["yes"], key
    assert s["ProtectSystem"] == ["strict"]
    # systemd's SIGKILL must not cut a graceful stop short: graceful_timeout (the default,
    # from the binary) plus the master's own 2 s margin fit in TimeoutStopSec.
    out = subprocess.run([str(ASGID_BIN), "--print-config"], capture_output=True, text=True,
                         timeout=10, stdin=subprocess.DEVNULL).stdout
    graceful = seconds(re.search(r"^graceful_timeout = (\S+)", out, re.M).group(1))
    assert seconds(s["TimeoutStopSec"][0]) > graceful + 2


def documented_exit_statuses():
    """{status: its asgid.service column} from docs/operations.md's exit status table."""
    text = (SOURCE_DIR / "docs" / "operations.md").read_text()
    table = text.split("## Exit statuses", 1)[1].split("\n\n", 2)[1]
    rows = [line.strip("|").split("|") for line in table.splitlines()[2:]]
    return {int(row[0]): row[-1].strip() for row in rows}


def test_service_restarts_on_exactly_the_documented_statuses():
    documented = documented_exit_statuses()
    # Every status a worker can stop the master with (worker.h) is in the table.
    header = (SOURCE_DIR / "src" / "worker" / "worker.h").read_text()
    codes = {int(n) for n in re.findall(r"WORKER_EXIT_\w+ = (\d+)", header)}
    assert codes and codes <= set(documented), (codes, documented)
    s = unit_settings(SYSTEMD_DIR / "asgid.service")
    # on-failure: every status but 0 restarts, unless RestartPreventExitStatus names it.
    assert s["Restart"] == ["on-failure"]
    prevented = {int(n) for n in s["RestartPreventExitStatus"][0].split()}
    for status, service in documented.items():
        restarts = service.startswith("restarted")
        assert restarts or service.startswith("not restarted"), (status, service)
        assert restarts == (status != 0 and status not in prevented), \
            f"exit status {status}: the docs say {service!r}, the unit prevents {prevented}"
    assert documented[5].startswith("restarted"), "a failed lifespan startup must restart"
    assert {3, 4} <= prevented
    # Restarted without end: no start limit, and the delay grows (systemd >= 254).
    assert s["StartLimitIntervalSec"] == ["0"]
    first, longest = seconds(s["RestartSec"][0]), seconds(s["RestartMaxDelaySec"][0])
    assert 1 <= first < longest <= 300
    assert int(s["RestartSteps"][0]) >= 1


def test_socket_unit_names_its_sockets():
    s = unit_settings(SYSTEMD_DIR / "asgid.socket")
    assert s["ListenStream"]
    assert s["FileDescriptorName"] == ["web"]
    assert "fd://web" in (SYSTEMD_DIR / "asgid.socket").read_text()


# -------------------------------------------------------------------------------- Docker


def dockerfile_instructions():
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    out, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def runtime_stage():
    """The instructions after the last FROM: what the image is made of."""
    instructions = dockerfile_instructions()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from + 1:]


def run_commands(stage_index=0):
    """The shell commands of the RUN instructions of one build stage, split at &&."""
    stages, commands = -1, []
    for word, rest in dockerfile_instructions():
        if word == "FROM":
            stages += 1
        elif word == "RUN" and stages == stage_index:
            commands += [" ".join(c.split()) for c in rest.split("&&")]
    return commands


def readme_build_commands():
    """The commands of README.md's "Building by hand" block that build (not the run line)."""
    readme = (SOURCE_DIR / "README.md").read_text()
    section = readme.split("## Building by hand", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [" ".join(line.split("#", 1)[0].split()) for line in block.splitlines()]
    return [c for c in commands if c.startswith("cmake ")]


def test_dockerfile_builds_like_the_readme():
    build = run_commands(0)
    readme = readme_build_commands()
    assert len(readme) == 2, readme  # configure, build
    positions = [build.index(c) if c in build else -1 for c in readme]
    assert -1 not in positions, f"README's {readme} are not the Dockerfile's commands {build}"
    assert positions == sorted(positions)
    # Both set the machine up with scripts/setup.sh, first.
    assert build[0].startswith("bash scripts/setup.sh"), build
    assert "scripts/setup.sh" in (SOURCE_DIR / "README.md").read_text()


def test_dockerfile_stages():
    instructions = dockerfile_instructions()
    froms = [rest for word, rest in instructions if word == "FROM"]
    # Both stages from Debian 13, which CI names by a build argument (a local image of it).
    assert instructions[0] == ("ARG", "DEBIAN_IMAGE=debian:trixie-slim")
    assert froms == ["${DEBIAN_IMAGE} AS build", "${DEBIAN_IMAGE}"]
    runtime = runtime_stage()
    words = {word: rest for word, rest in runtime}
    assert words["EXPOSE"] == "8000"
    assert words["ENV"] == "ASGID_METRICS_BIND=127.0.0.1:9000"
    assert words["STOPSIGNAL"] == "SIGTERM"
    assert words["USER"] not in ("root", "0")
    # The runtime stage installs no compiler and no -dev package.
    runtime_run = " ".join(rest for word, rest in runtime if word == "RUN")
    assert "-dev" not in runtime_run and "build-essential" not in runtime_run
    # What it copies from the build stage is what the build produces.
    for word, rest in runtime:
        if word == "COPY" and rest.startswith("--from=build "):
            source = rest.split()[1]
            assert source.startswith("/src/build/"), source
            # The build folder in use here is the one that holds ASGID_BIN.
            assert (ASGID_BIN.parent / source[len("/src/build/"):]).exists(), source
        elif word == "COPY":
            assert (SOURCE_DIR / rest.split()[0]).exists(), rest


# The Debian 13 package of each library asgid may need (by soname, minus its version), for the
# runtime stage. libc6 is in every Debian image; the sanitizer runtimes only in test builds. The
# shared libpython: on Debian 13, the image's, asgid links it (Debian 13's libpython archive
# cannot be linked in whole: its _sha2 module needs objects the package does not ship);
# elsewhere the interpreter is linked in, which then needs zlib and expat for its built-in
# modules. scripts/test-image.sh runs the image's own binary.
RUNTIME_PACKAGES = {"libuv.so": "libuv1t64", "libinih.so": "libinih1",
                    "libllhttp.so": "libllhttp9.2", "libz.so": "zlib1g", "libexpat.so": "libexpat1",
                    "libcrypto.so": "libssl3t64",
                    "libpython3": "libpython3.13",
                    "libc.so": None, "libm.so": None, "libasan.so": None, "libubsan.so": None}


def test_runtime_stage_installs_every_library_the_binary_needs():
    needed = needed_libraries()
    assert needed, ASGID_BIN
    installed = " ".join(rest for word, rest in runtime_stage() if word == "RUN").split()
    for soname in needed:
        known = [prefix for prefix in RUNTIME_PACKAGES if soname.startswith(prefix)]
        assert known, f"asgid needs {soname}: add its Debian 13 package to the Dockerfile's " \
                      f"runtime stage and to RUNTIME_PACKAGES"
        package = RUNTIME_PACKAGES[known[0]]
        assert package is None or package in installed, f"{soname}: {package} not installed"


def test_dockerignore_keeps_host_builds_out():
    ignored = (SOURCE_DIR / ".dockerignore").read_text().split()
    assert "build*/" in ignored and ".git/" in ignored


def exec_form(instruction):
    """The JSON array of a CMD or HEALTHCHECK ... CMD instruction."""
    for word, rest in dockerfile_instructions():
        if word == instruction:
            return json.loads(rest[rest.index("["):])
    raise AssertionError(f"no {instruction} in the Dockerfile")


def image_command(port):
    """The image's CMD with its paths mapped onto the build tree and the port onto a free
    loopback one."""
    paths = {"asgid": str(ASGID_BIN),
             "/usr/local/lib/asgid/hello.so": str(EXAMPLES_DIR / "hello.so"),
             "/etc/asgid/asgid.ini": str(SOURCE_DIR / "conf" / "asgid.ini"),
             "0.0.0.0:8000": f"127.0.0.1:{port}"}
    command = exec_form("CMD")
    assert "0.0.0.0:8000" in command
    return [paths.get(arg, arg) for arg in command]


def healthcheck(metrics_port):
    command = exec_form("HEALTHCHECK")
    assert command[0] == "bash"
    assert "/127.0.0.1/9000" in command[-1]
    script = command[-1].replace("/127.0.0.1/9000", f"/127.0.0.1/{metrics_port}")
    return subprocess.run(command[:-1] + [script], capture_output=True, timeout=10).returncode


def test_image_command_serves_and_the_healthcheck_sees_it(tmp_path):
    port, metrics_port = free_port(), free_port()
    # The image's ENV, its metrics listener on a free loopback port.
    env = dict(os.environ, ASGID_METRICS_BIND=f"127.0.0.1:{metrics_port}")
    proc = subprocess.Popen(image_command(port), stdout=subprocess.DEVNULL,
                            stderr=open(tmp_path / "log", "wb"), stdin=subprocess.DEVNULL,
                            cwd=tmp_path, env=env, start_new_session=True)
    try:
        def answered():
            try:
                with RawConnection("127.0.0.1", port, timeout=2) as conn:
                    conn.send(request_bytes("GET", "/"))
                    return conn.read_response()
            except OSError:
                return None
        resp = wait_for(answered, 10)
        assert resp and resp.status == 200 and b"Hello" in resp.body, \
            (tmp_path / "log").read_text()
        assert wait_for(lambda: healthcheck(metrics_port) == 0, 10), "never healthy"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert healthcheck(metrics_port) != 0, "the healthcheck passes with nothing listening"


def test_image_command_is_a_valid_configuration():
    command = image_command(free_port())
    proc = subprocess.run(command + ["--check-config"], capture_output=True, text=True,
                          timeout=10, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and "configuration OK" in proc.stdout + proc.stderr, \
        shlex.join(command) + "\n" + proc.stdout + proc.stderr
