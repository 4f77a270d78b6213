"""docs/python.md, run as written: its FastAPI and Starlette apps in a virtualenv, a Django
project made by startproject, and its nginx site in front of asgid over a Unix socket.

The apps and the nginx block are read from the page itself, so the page cannot drift from
what works. The virtualenv sees Debian's packages (--system-site-packages): the tests never
reach a package index."""
import asyncio
import re
import subprocess
import sys

import httpx
import pytest

from conftest import free_port
from nginx_util import requires_nginx, start_nginx
from python_apps.harness import EXAMPLES_PY, SOURCE_DIR, pyserver, requires_python  # noqa: F401

pytestmark = requires_python

PAGE = SOURCE_DIR / "docs" / "python.md"


def section(title):
    """The text of the section whose heading is `title`, up to the next heading."""
    text = PAGE.read_text()
    match = re.search(r"^#+ " + re.escape(title) + r"\n(.*?)(?=^#+ |\Z)", text, re.S | re.M)
    assert match, f"docs/python.md has no section {title!r}"
    return match.group(1)


def code_block(text, language):
    match = re.search(r"```" + language + r"\n(.*?)```", text, re.S)
    assert match, f"no {language} block"
    return match.group(1)


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A virtualenv made as the page says, by Debian's python3."""
    path = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(path)],
                   check=True, timeout=120)
    return path


@pytest.mark.parametrize("framework", ["FastAPI", "Starlette"])
def test_quick_start_app_serves_from_a_virtualenv(pyserver, tmp_path, venv, framework):
    app_dir = tmp_path / "myapp"
    app_dir.mkdir()
    (app_dir / "main.py").write_text(code_block(section(framework), "python"))
    srv = pyserver("main:app", app_dir=app_dir, virtualenv=str(venv), workers=2)
    r = httpx.get(srv.url + "/", timeout=10)
    assert r.status_code == 200 and r.json() == {"hello": "world"}


def test_quick_start_django_startproject(pyserver, tmp_path, venv):
    site = tmp_path / "mysite"
    site.mkdir()
    subprocess.run([str(venv / "bin" / "python3"), "-m", "django", "startproject", "mysite",
                    str(site)], check=True, timeout=60)
    settings = site / "mysite" / "settings.py"
    # The page's first bullet: Django answers only ALLOWED_HOSTS.
    settings.write_text(settings.read_text().replace("ALLOWED_HOSTS = []",
                                                     "ALLOWED_HOSTS = ['127.0.0.1']"))
    srv = pyserver("mysite.asgi:application", app_dir=site, virtualenv=str(venv))
    r = httpx.get(srv.url + "/admin/login/", timeout=10)
    assert r.status_code == 200 and "Django" in r.text
    assert httpx.get(srv.url + "/admin/login/", headers={"host": "evil.example"},
                     timeout=10).status_code == 400
    # The page: Django has no lifespan, which asgid says once, at INFO.
    log = srv.log()
    assert log.count("ASGI 'lifespan' protocol appears unsupported.") == 1, log
    assert "[INFO] [worker 1] ASGI 'lifespan' protocol appears unsupported." in log
    assert "[ERROR]" not in log, log


def nginx_site(socket_path, port, static_dir):
    """The page's nginx block with its machine-specific names replaced."""
    text = PAGE.read_text()
    marker = text.index("<!-- nginx-site:")
    site = code_block(text[marker:], "nginx")
    for old, new in (("unix:/run/asgid/asgid.sock", f"unix:{socket_path}"),
                     ("listen 80;", f"listen 127.0.0.1:{port};"),
                     ("/srv/mysite/static/", f"{static_dir}/")):
        assert old in site, f"the nginx block no longer has {old!r}"
        site = site.replace(old, new)
    return site


@pytest.fixture
def nginx(tmp_path):
    """Starts nginx, as this user, with the page's site; yields (url, stop)."""
    procs = []

    def start(socket_path, static_dir):
        port = free_port()
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        (prefix / "site.conf").write_text(nginx_site(socket_path, port, static_dir))
        url = f"http://127.0.0.1:{port}"
        procs.append(start_nginx(prefix, f"    include {prefix}/site.conf;", url + "/static/"))
        return url

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


@requires_nginx
def test_behind_nginx_as_the_page_says(pyserver, nginx, short_tmp, tmp_path):
    socket_path = short_tmp / "asgid.sock"
    static_dir = tmp_path / "static"
    static_dir.mkdir()
    (static_dir / "style.css").write_text("body {}\n")
    srv = pyserver("starlette_app:app", app_dir=EXAMPLES_PY, bind=f"unix:{socket_path}",
                   workers=1)
    url = nginx(socket_path, static_dir)
    with httpx.Client(base_url=url, timeout=10) as c:
        r = c.get("/json")
        assert r.status_code == 200 and r.json() == {"hello": "world"}
        assert c.get("/static/style.css").text == "body {}\n"  # nginx's, not the app's
        r = c.post("/echo-json", json={"a": 1})
        assert r.json()["received"] == {"a": 1}

    async def websocket_through_nginx():
        import websockets
        async with websockets.connect(url.replace("http", "ws") + "/ws") as ws:
            await ws.send("hi")
            return await asyncio.wait_for(ws.recv(), 10)

    assert asyncio.run(websocket_through_nginx()) == "echo: hi"
    assert "error" not in srv.log().lower(), srv.log()
