"""deploy/kubernetes/ agrees with the binary and the image: the command is the image's, the
ports and probe paths are the ones that command serves (a real asgid runs it here and answers
the probes), the grace period covers preStop plus graceful_timeout as the binary reads it, the
security context names the image's user, and every object selects the Deployment's pods.

kubectl's client-side dry run cannot check them here: even with --dry-run=client, kubectl asks
a cluster's API server for its resource types first, and fails without one. `kubectl kustomize`
works offline and renders the set, where kubectl is installed.
"""

import os
import re
import shutil
import signal
import subprocess

import pytest
import yaml

from conftest import ASGID_BIN, EXAMPLES_DIR, SOURCE_DIR, free_port
from master_util import wait_for
from rawhttp import RawConnection, request_bytes
from test_service_files import exec_form, runtime_stage

MANIFESTS = SOURCE_DIR / "deploy" / "kubernetes"
DOCKERFILE = SOURCE_DIR / "Dockerfile"


def objects():
    found = {}
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            assert doc["kind"] not in found, f"two {doc['kind']} objects"
            found[doc["kind"]] = doc
    return found


def deployment():
    return objects()["Deployment"]


def container():
    containers = deployment()["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, containers
    return containers[0]


def option(command, name):
    """The value after `name` in an exec-form command."""
    assert command.count(name) == 1, (name, command)
    return command[command.index(name) + 1]


def port_of(bind):
    host, _, port = bind.rpartition(":")
    assert host and port.isdigit(), bind
    return int(port)


def container_port(name):
    ports = {p["name"]: p["containerPort"] for p in container()["ports"]}
    return ports[name]


def manifest_env():
    return {e["name"]: e["value"] for e in container().get("env", [])}


def local_env(metrics_port):
    """The container's environment, its metrics listener on a free loopback port."""
    env = manifest_env()
    assert env["ASGID_METRICS_BIND"] == f"0.0.0.0:{container_port('metrics')}"
    env["ASGID_METRICS_BIND"] = f"127.0.0.1:{metrics_port}"
    return dict(os.environ, **env)


def local_command(http_port):
    """The container's command with the image's paths mapped onto the build tree and its
    port onto a free loopback one."""
    paths = {"asgid": str(ASGID_BIN),
             "/usr/local/lib/asgid/hello.so": str(EXAMPLES_DIR / "hello.so"),
             "/etc/asgid/asgid.ini": str(SOURCE_DIR / "conf" / "asgid.ini"),
             f"0.0.0.0:{container_port('http')}": f"127.0.0.1:{http_port}"}
    command = container()["command"]
    assert "args" not in container(), "the command is the whole command line"
    for arg in command:
        assert not arg.startswith("/") or arg in paths, f"{arg}: not a path the image has"
    return [paths.get(arg, arg) for arg in command]


def test_kustomization_lists_every_manifest():
    listed = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"]
    files = sorted(p.name for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == files
    assert set(objects()) == {"Deployment", "Service", "PodDisruptionBudget",
                              "HorizontalPodAutoscaler"}


def test_every_object_selects_the_deployments_pods():
    found = objects()
    pod_labels = deployment()["spec"]["template"]["metadata"]["labels"]
    selectors = {"Deployment": deployment()["spec"]["selector"]["matchLabels"],
                 "Service": found["Service"]["spec"]["selector"],
                 "PodDisruptionBudget": found["PodDisruptionBudget"]["spec"]["selector"][
                     "matchLabels"]}
    for kind, selector in selectors.items():
        assert selector and selector.items() <= pod_labels.items(), (kind, selector)
    target = found["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment()["metadata"]["name"])
    assert found["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2, \
        "one pod cannot keep the PodDisruptionBudget through a drain"
    # The CPU utilization the autoscaler reads is relative to what the container requests.
    assert container()["resources"]["requests"]["cpu"]
    service_ports = found["Service"]["spec"]["ports"]
    names = {p["name"] for p in container()["ports"]}
    for port in service_ports:
        assert port["targetPort"] in names, port


def test_command_is_the_images():
    assert container()["command"] == exec_form("CMD")


def test_ports_are_the_ones_the_command_binds():
    command = container()["command"]
    assert container_port("http") == port_of(option(command, "--bind"))
    metrics_bind = manifest_env()["ASGID_METRICS_BIND"]
    assert container_port("metrics") == port_of(metrics_bind)
    assert metrics_bind.startswith("0.0.0.0:"), "the kubelet probes the pod's address"
    # The image keeps the listener on loopback, on the same port (its HEALTHCHECK asks it).
    image_env = [rest for word, rest in runtime_stage() if word == "ENV"]
    assert f"ASGID_METRICS_BIND=127.0.0.1:{container_port('metrics')}" in image_env, image_env
    annotations = deployment()["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == container_port("metrics")
    exposed = [rest for word, rest in runtime_stage() if word == "EXPOSE"]
    assert [int(p) for p in " ".join(exposed).split()] == [container_port("http")]


def test_probes_point_at_the_health_endpoints():
    readiness = container()["readinessProbe"]["httpGet"]
    liveness = container()["livenessProbe"]["httpGet"]
    assert (readiness["path"], readiness["port"]) == ("/readyz", "metrics")
    assert (liveness["path"], liveness["port"]) == ("/healthz", "metrics")


def printed_config(command, env):
    proc = subprocess.run(command + ["--print-config"], capture_output=True, text=True,
                          timeout=10, env=env, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    values = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"(\w+) = (\S*)", line)
        if match:
            values[match.group(1)] = match.group(2)
    return values


def seconds(text):
    match = re.fullmatch(r"(\d+)(ms|s|m)?", text)
    assert match, text
    value, unit = int(match.group(1)), match.group(2) or "s"
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


def test_grace_period_covers_prestop_and_graceful_timeout():
    config = printed_config(local_command(free_port()), local_env(free_port()))
    graceful = seconds(config["graceful_timeout"])
    pre_stop = container()["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep", pre_stop
    grace = deployment()["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    # docs/deploying.md: longer than graceful_timeout + 2 s, counted after preStop.
    assert grace >= int(pre_stop[1]) + graceful + 2, (grace, pre_stop, graceful)


def test_workers_match_the_cpu_requested():
    config = printed_config(local_command(free_port()), local_env(free_port()))
    cpu = str(container()["resources"]["requests"]["cpu"])
    assert cpu.isdigit(), f"{cpu}: whole CPUs, one worker each"
    assert config["workers"] == cpu


def dockerfile_user_ids():
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    gid = re.search(r"groupadd [^\n&]*--gid (\d+) (\w+)", text)
    uid = re.search(r"useradd [^\n&]*--uid (\d+) [^\n&]*--gid (\w+) [^\n&]* (\w+)\n", text)
    assert gid and uid, "the Dockerfile creates its user with a fixed uid and gid"
    assert uid.group(2) == gid.group(2)
    user = [rest for word, rest in runtime_stage() if word == "USER"]
    assert user == [uid.group(3)]
    return int(uid.group(1)), int(gid.group(1))


def test_security_context_is_the_images_user():
    pod = deployment()["spec"]["template"]["spec"]["securityContext"]
    uid, gid = dockerfile_user_ids()
    assert pod["runAsNonRoot"] is True and uid != 0
    assert (pod["runAsUser"], pod["runAsGroup"]) == (uid, gid)
    own = container()["securityContext"]
    assert own["allowPrivilegeEscalation"] is False
    assert own["capabilities"]["drop"] == ["ALL"]


def get(port, path):
    try:
        with RawConnection("127.0.0.1", port, timeout=2) as conn:
            conn.send(request_bytes("GET", path))
            return conn.read_response()
    except OSError:
        return None


def test_the_command_serves_and_answers_the_probes(tmp_path):
    http_port, metrics_port = free_port(), free_port()
    command = local_command(http_port)
    probes = {container()["readinessProbe"]["httpGet"]["path"],
              container()["livenessProbe"]["httpGet"]["path"]}
    env = local_env(metrics_port)
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                            stderr=open(tmp_path / "log", "wb"), stdin=subprocess.DEVNULL,
                            cwd=tmp_path, env=env, start_new_session=True)
    try:
        for path in sorted(probes):
            resp = wait_for(lambda: (r := get(metrics_port, path)) and r.status == 200 and r,
                            15)
            assert resp, (path, (tmp_path / "log").read_text())
        resp = get(http_port, "/")
        assert resp and resp.status == 200 and b"Hello" in resp.body
        metrics = get(metrics_port, deployment()["spec"]["template"]["metadata"]["annotations"][
            "prometheus.io/path"])
        assert metrics and metrics.status == 200 and b"asgid_" in metrics.body
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, (tmp_path / "log").read_text()


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed")
def test_kubectl_kustomize_renders_the_set():
    proc = subprocess.run(["kubectl", "kustomize", str(MANIFESTS)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rendered = {doc["kind"] for doc in yaml.safe_load_all(proc.stdout)}
    assert rendered == set(objects())
