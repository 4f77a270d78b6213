"""asgid's image (the Dockerfile at the repository root), run as a container runtime runs it
(conftest.py): its own command, user, environment and working directory.

- it serves the demo app on the port it exposes, as a non-root user (master and workers);
- its HEALTHCHECK fails while nothing listens and passes once the workers are ready;
- its stop signal stops it gracefully: an idle keep-alive connection is closed, the master
  exits 0, promptly.
The same properties of the Python recipe built on it: test_python_image.py.
"""

import os
import socket

from conftest import READY_TIMEOUT, STOP_TIMEOUT, assert_runs_unprivileged, get, wait_for


def test_serves_the_demo_app_unprivileged_and_healthy(demo_image, run):
    image = demo_image
    assert image.command() == ["asgid", "-c", "/etc/asgid/asgid.ini", "--app",
                               "/usr/local/lib/asgid/hello.so", "--bind", "0.0.0.0:8000"]
    # The check can fail: with nothing listening it does.
    assert image.healthcheck() != 0
    container = run(image)
    port = image.port()
    resp = wait_for(lambda: get(port), READY_TIMEOUT)
    assert resp is not None, container.log()
    assert resp.status_code == 200 and resp.text == "Hello, world!\n", (resp, container.log())
    # It is the image's binary that answers, in the container's root.
    exe = os.readlink(f"/proc/{container.proc.pid}/exe")
    assert exe == str(image.root / "usr/local/bin/asgid"), exe
    assert_runs_unprivileged(container)
    # The image's ENV turned the metrics listener on for the HEALTHCHECK, which passes.
    assert image.env["ASGID_METRICS_BIND"] == "127.0.0.1:9000"
    assert wait_for(lambda: image.healthcheck() == 0, READY_TIMEOUT), container.log()
    assert container.stop() == 0, container.log()
    assert image.healthcheck() != 0, "healthy after the container stopped"


def test_stop_signal_stops_it_gracefully(demo_image, run):
    image = demo_image
    container = run(image)
    port = image.port()
    assert wait_for(lambda: get(port), READY_TIMEOUT), container.log()
    # A keep-alive connection that has been served and sits idle when the stop begins.
    with socket.create_connection(("127.0.0.1", port), timeout=STOP_TIMEOUT) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: image\r\n\r\n")
        head = conn.recv(4096)
        assert head.startswith(b"HTTP/1.1 200 "), head
        container.proc.send_signal(image.stop_signal())
        # The server closes it (EOF, not a reset), and the master exits 0 well within the
        # grace period a runtime gives (docs/deploying.md: 40 s).
        rest = b""
        while chunk := conn.recv(4096):
            rest += chunk
        assert b"Hello, world!\n" in head + rest
    assert container.proc.wait(timeout=STOP_TIMEOUT) == 0, container.log()
    assert "stopping (graceful)" in container.log(), container.log()
