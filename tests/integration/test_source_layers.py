"""The layers of docs/architecture.md hold in the source: every #include of a project header
points down (or sideways into the same directory), never up. A header that some lower layer
needs must move down (as the listener record moved from master/ to net/), not be reached for.
"""

import re

from conftest import SOURCE_DIR

SRC = SOURCE_DIR / "src"

# What each directory of src/ may include besides itself. main.c (the top) may include
# anything. "asgid" is the public ABI header, include/asgid/asgid.h; abi/ is data about it
# (the event table, header byte rules), which the ASGI layer and the app adapters read alike;
# websocket/ holds the pure RFC 6455/7692 codecs the HTTP and ASGI layers use.
ALLOWED = {
    "master": {"worker", "net", "settings", "platform", "log"},
    "worker": {"http", "websocket", "asgi", "apps", "net", "settings", "platform", "log"},
    "http": {"websocket", "asgi", "abi", "asgid", "net", "settings", "platform", "log"},
    "asgi": {"apps", "abi", "websocket", "asgid", "settings", "platform", "log"},
    "apps": {"abi", "asgid", "settings", "platform", "log"},
    "abi": {"asgid", "websocket"},
    "websocket": {"asgid", "net", "settings", "platform", "log"},
    "net": {"settings", "platform", "log"},
    "log": {"settings", "platform"},
    "settings": {"platform"},
    "platform": set(),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.MULTILINE)


def upward_includes():
    found = []
    for path in sorted(SRC.rglob("*.[ch]")):
        parts = path.relative_to(SRC).parts
        if len(parts) == 1:  # main.c
            continue
        layer = parts[0]
        for target in INCLUDE.findall(path.read_text()):
            if target != layer and target not in ALLOWED[layer]:
                found.append(f"{path.relative_to(SOURCE_DIR)} includes {target}/")
    return found


def test_every_directory_has_a_rule():
    directories = {p.name for p in SRC.iterdir() if p.is_dir()}
    assert directories <= set(ALLOWED), f"no layer rule for {directories - set(ALLOWED)}"


def test_no_include_runs_up_the_layers():
    assert upward_includes() == []


def test_the_check_sees_an_upward_include(tmp_path, monkeypatch):
    """The scan itself works: an include from http/ into master/ is caught."""
    fake = tmp_path / "src"
    (fake / "http").mkdir(parents=True)
    (fake / "http" / "x.c").write_text('#include "master/listeners.h"\n')
    monkeypatch.setattr(__import__(__name__), "SRC", fake)
    monkeypatch.setattr(__import__(__name__), "SOURCE_DIR", tmp_path)
    assert upward_includes() == ["src/http/x.c includes master/"]
