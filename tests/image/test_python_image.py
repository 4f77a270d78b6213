"""The Python app recipe (examples/container: a Dockerfile FROM asgid's image, Starlette from
Debian, the app copied in), built by scripts/test-image.sh and run as its image says
(conftest.py):

- it serves the Starlette app: routes that await, Starlette's own routing, the Starlette that
  Debian's package installed in the image, on the image's Python 3;
- as asgid's unprivileged user, and its inherited HEALTHCHECK passes;
- its stop signal lets a request in flight finish: the body completes after the signal, the
  master exits 0, and the HEALTHCHECK fails from the start of the stop.
"""

import threading

import httpx

from conftest import READY_TIMEOUT, STOP_TIMEOUT, assert_runs_unprivileged, get, wait_for

# How long the in-flight request awaits after the stop signal: long enough to see the stop
# begin while it runs (the HEALTHCHECK fails), far shorter than graceful_timeout (30 s).
SLOW_SECONDS = 4


def installed_version(root, distribution):
    """The version of a Debian-packaged Python distribution in the image, from its metadata."""
    found = list((root / "usr/lib/python3/dist-packages").glob(f"{distribution}-*.dist-info"))
    assert len(found) == 1, found
    return found[0].name[len(distribution) + 1:-len(".dist-info")]


def image_python_version(root):
    """"3.13" for an image whose python3 is python3.13."""
    return (root / "usr/bin/python3").readlink().name[len("python"):]


def start_serving(image, run):
    container = run(image)
    assert wait_for(lambda: get(image.port()), READY_TIMEOUT), container.log()
    return container


def test_serves_the_starlette_app_unprivileged_and_healthy(python_image, run):
    image = python_image
    assert image.command() == ["asgid", "--app", "app:app", "--bind", "0.0.0.0:8000"]
    assert image.workdir == "/app" and (image.root / "app/app.py").is_file()
    container = start_serving(image, run)
    port = image.port()
    resp = get(port)
    assert resp.status_code == 200 and resp.text == "Hello from Starlette\n", container.log()
    # Starlette's routing: its int convertor turns "3" into 3 and refuses "x" with its 404.
    resp = get(port, "/items/3")
    assert resp.status_code == 200 and resp.json() == {"id": 3}
    resp = get(port, "/items/x")
    assert resp.status_code == 404 and resp.text == "Not Found"
    # The Starlette Debian installed in the image, under the image's Python (3.13 on Debian 13:
    # the interpreter linked into asgid is the one python3 names).
    versions = get(port, "/versions").json()
    assert versions["starlette"] == installed_version(image.root, "starlette"), versions
    assert versions["python"].startswith(image_python_version(image.root) + "."), versions
    # A route that awaits.
    resp = get(port, "/slow?s=0.2")
    assert resp.status_code == 200 and resp.text == "started\ndone\n", resp.text
    assert_runs_unprivileged(container)
    assert wait_for(lambda: image.healthcheck() == 0, READY_TIMEOUT), container.log()
    assert container.stop() == 0, container.log()


def test_stop_signal_lets_the_request_in_flight_finish(python_image, run):
    image = python_image
    container = start_serving(image, run)
    assert wait_for(lambda: image.healthcheck() == 0, READY_TIMEOUT), container.log()
    url = f"http://127.0.0.1:{image.port()}/slow?s={SLOW_SECONDS}"
    with httpx.Client(timeout=STOP_TIMEOUT + SLOW_SECONDS, trust_env=False) as client:
        with client.stream("GET", url) as resp:
            chunks = resp.iter_text()
            body = next(chunks)
            assert resp.status_code == 200 and body == "started\n", body
            # The app is inside its await now: the stop begins.
            container.proc.send_signal(image.stop_signal())
            results = []
            unhealthy = threading.Thread(target=lambda: results.append(
                wait_for(lambda: image.healthcheck() != 0, SLOW_SECONDS)))
            unhealthy.start()
            body += "".join(chunks)
            unhealthy.join()
    assert body == "started\ndone\n", (body, container.log())
    assert results == [True], "the HEALTHCHECK still passed while the stop was under way"
    assert container.proc.wait(timeout=STOP_TIMEOUT) == 0, container.log()
