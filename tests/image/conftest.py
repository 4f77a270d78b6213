"""Fixtures for tests/image: the container images scripts/test-image.sh built, run the way a
container runtime runs them, without one (`podman run` cannot set rlimits in CI's sandbox):

- the root filesystem is the image as podman mounts it (`podman image mount`), under a
  writable layer of its own (an overlay on a tmpfs: the image itself is never written);
- /proc, a /dev with the usual devices and a /dev/shm are mounted in it, as a runtime does;
- a command runs chrooted there as the image's USER (its uid, gid and no other group), in its
  WORKDIR, with exactly its ENV; the image's own command is its ENTRYPOINT and CMD;
- on a network namespace of its own: scripts/test-image.sh runs pytest in a new one (and a
  new mount namespace, so every mount here vanishes with the test process). The image's
  0.0.0.0:8000 and 127.0.0.1:9000 are therefore used as the image says: they conflict with
  nothing on the machine and are reachable from nowhere else.

So the tests run what the image says, not a copy of it.

Environment (set by scripts/test-image.sh), for each image NAME (DEMO, PYTHON):
    ASGID_IMAGE_<NAME>_ROOT     where `podman image mount` mounted it
    ASGID_IMAGE_<NAME>_INSPECT  a file holding `podman image inspect`'s JSON of it
and ASGID_IMAGE_OUTER_NET_NS, ASGID_IMAGE_OUTER_MNT_NS: the namespaces the script ran in.
"""

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

# The PATH Docker and podman give a container whose image sets none.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The device nodes a container runtime puts in a container's /dev.
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
# How long the image's command may take to serve, and to stop once signalled.
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0


def wait_for(predicate, timeout, interval=0.05):
    """Polls predicate until it returns something true; returns it, or None after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def mount(*args):
    subprocess.run(["mount", *args], check=True, timeout=30)


def in_own_namespace(kind):
    """True when this process's namespace of kind (net, mnt) is not the one
    scripts/test-image.sh ran in."""
    outer = os.environ.get(f"ASGID_IMAGE_OUTER_{kind.upper()}_NS")
    return outer is not None and os.readlink(f"/proc/self/ns/{kind}") != outer


def process_ids(pid):
    """{"Uid": [real, effective, saved, fs], "Gid": [...], "Groups": [...], "CapEff": int} of a
    process, from /proc/PID/status."""
    fields = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"Uid": [int(n) for n in fields["Uid"].split()],
            "Gid": [int(n) for n in fields["Gid"].split()],
            "Groups": [int(n) for n in fields["Groups"].split()],
            "CapEff": int(fields["CapEff"], 16)}


def child_pids(pid):
    """The live (not zombie) children of pid, from /proc."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            children.add(int(entry.name))
    return children


# The Dockerfile's user: fixed, so that a Kubernetes securityContext can name it.
IMAGE_UID = IMAGE_GID = 10001


def get(port, path="/"):
    """The response to one GET on loopback, or None while nothing answers."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5, trust_env=False)
    except httpx.TransportError:
        return None


def assert_runs_unprivileged(container):
    """The master and every worker run as the image's user, uid and gid 10001 (every one of
    real, effective, saved and filesystem ids), with no other group and no capability."""
    image = container.image
    assert (image.uid, image.gid) == (IMAGE_UID, IMAGE_GID), image.config.get("User")
    master = container.proc.pid
    workers = wait_for(lambda: child_pids(master), READY_TIMEOUT)
    assert workers, container.log()
    for pid in {master} | workers:
        ids = process_ids(pid)
        assert ids["Uid"] == [IMAGE_UID] * 4 and ids["Gid"] == [IMAGE_GID] * 4, (pid, ids)
        assert ids["Groups"] == [IMAGE_GID] and ids["CapEff"] == 0, (pid, ids)


class Image:
    """One built image: its config (podman image inspect) and a container root made from it."""

    def __init__(self, name, image_root, inspect, scratch):
        self.name = name
        self.inspect = inspect
        self.config = inspect["Config"]
        self.root = self._container_root(Path(image_root), scratch)
        self.uid, self.gid = self._user()
        env = dict(entry.split("=", 1) for entry in self.config.get("Env") or [])
        env.setdefault("PATH", DEFAULT_PATH)
        self.env = env
        self.workdir = self.config.get("WorkingDir") or "/"

    @staticmethod
    def _container_root(image_root, scratch):
        """The image under a writable layer, with /proc and /dev mounted, as a runtime makes a
        container's root."""
        mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", str(scratch))
        for part in ("upper", "work", "root"):
            (scratch / part).mkdir()
        root = scratch / "root"
        mount("-t", "overlay", "overlay", "-o",
              f"lowerdir={image_root},upperdir={scratch / 'upper'},workdir={scratch / 'work'}",
              str(root))
        mount("-t", "proc", "-o", "nosuid,nodev,noexec", "proc", str(root / "proc"))
        mount("-t", "tmpfs", "-o", "mode=0755,nosuid", "tmpfs", str(root / "dev"))
        for device in DEVICES:
            (root / "dev" / device).touch()
            mount("--bind", f"/dev/{device}", str(root / "dev" / device))
        (root / "dev" / "shm").mkdir()
        mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", str(root / "dev" / "shm"))
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            (root / "dev" / name).symlink_to(target)
        return root

    def _user(self):
        """The uid and gid USER names, resolved in the image's own /etc/passwd and /etc/group
        as a runtime does (USER may be name, uid, name:group or uid:gid)."""
        user, _, group = (self.config.get("User") or "root").partition(":")
        passwd = [line.split(":") for line in (self.root / "etc/passwd").read_text().splitlines()]
        groups = [line.split(":") for line in (self.root / "etc/group").read_text().splitlines()]
        entry = next(e for e in passwd if user in (e[0], e[2]))
        gid = int(entry[3])
        if group:
            gid = int(next(g for g in groups if group in (g[0], g[2]))[2])
        return int(entry[2]), gid

    def port(self):
        """The one TCP port the image exposes."""
        ports = [int(p.split("/")[0]) for p in self.config.get("ExposedPorts") or {}
                 if p.endswith("/tcp")]
        assert len(ports) == 1, self.config.get("ExposedPorts")
        return ports[0]

    def command(self):
        return (self.config.get("Entrypoint") or []) + (self.config.get("Cmd") or [])

    def _enter(self):
        # In the child, before exec: into the container's root as the image's user. Root may
        # chroot; the ids change last, after which it may not.
        os.chroot(self.root)
        os.chdir(self.workdir)
        os.setgroups([self.gid])
        os.setgid(self.gid)
        os.setuid(self.uid)

    def popen(self, argv, **kwargs):
        """argv run in the container: chrooted, as the image's user, in its WORKDIR, with its
        ENV (the executable is looked up on that PATH, inside the root)."""
        return subprocess.Popen(argv, env=self.env, preexec_fn=self._enter,
                                stdin=subprocess.DEVNULL, **kwargs)

    def healthcheck(self):
        """The image's HEALTHCHECK command run in the container, as the runtime would: its exit
        status (0 healthy), or None when it outlives the check's own timeout."""
        check = self.inspect.get("Healthcheck") or self.config.get("Healthcheck")
        assert check and check["Test"][0] in ("CMD", "CMD-SHELL"), check
        test = check["Test"]
        argv = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]
        proc = self.popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return proc.wait(timeout=check.get("Timeout", 30e9) / 1e9)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None

    def stop_signal(self):
        """The signal a runtime stops the container with (STOPSIGNAL, else SIGTERM)."""
        name = self.config.get("StopSignal") or "SIGTERM"
        return signal.Signals[name if name.startswith("SIG") else "SIG" + name]


class Container:
    """The image's command, running: proc is its process (the master, process 1 of a real
    container), its output is in log."""

    def __init__(self, image, argv, log_path):
        self.image = image
        self.log_path = log_path
        self.proc = image.popen(argv, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,
                                start_new_session=True)

    def log(self):
        return Path(self.log_path).read_text(errors="replace")

    def stop(self):
        """The runtime's stop: the image's STOPSIGNAL to process 1; its exit status."""
        self.proc.send_signal(self.image.stop_signal())
        return self.proc.wait(timeout=STOP_TIMEOUT)

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def load_image(name, scratch_parent):
    prefix = f"ASGID_IMAGE_{name.upper()}_"
    root, inspect = os.environ.get(prefix + "ROOT"), os.environ.get(prefix + "INSPECT")
    if not (root and inspect):
        pytest.fail(f"{prefix}ROOT and {prefix}INSPECT are not set: tests/image runs from "
                    "scripts/test-image.sh, which builds and mounts the images")
    scratch = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=scratch_parent))
    return Image(name, root, json.loads(Path(inspect).read_text())[0], scratch)


@pytest.fixture(scope="session")
def isolated(tmp_path_factory):
    """Checks that the tests run where scripts/test-image.sh puts them, and brings the new
    network namespace's loopback up."""
    for kind in ("net", "mnt"):
        if not in_own_namespace(kind):
            pytest.fail(f"not in a {kind} namespace of its own: run scripts/test-image.sh, "
                        "which runs tests/image in new network and mount namespaces")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)
    return tmp_path_factory.mktemp("containers")


@pytest.fixture(scope="session")
def demo_image(isolated):
    return load_image("demo", isolated)


@pytest.fixture(scope="session")
def python_image(isolated):
    return load_image("python", isolated)


@pytest.fixture
def run(tmp_path):
    """run(image, argv=None) starts argv (the image's command by default) in a container of
    image; whatever still runs when the test ends is killed, and its log printed."""
    started = []

    def start(image, argv=None):
        container = Container(image, argv or image.command(), tmp_path / f"log{len(started)}")
        started.append(container)
        return container
    yield start
    for container in started:
        container.kill()
        print(f"--- {container.image.name} log ---\n{container.log()}")
