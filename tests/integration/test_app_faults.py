"""Apps that misbehave: no response, an incomplete response, header injection, events out of
order, two receives at once. The server must answer sanely, refuse what the ABI says it
refuses (ASGID_E_INVALID = -1), and keep serving afterwards."""

import pytest

from rawhttp import request_bytes

ASGID_E_INVALID = -1


@pytest.fixture(params=["event", "thread"])
def probe(request, server):
    # The ABI promises the same checks whichever thread runs the app.
    return server(worker_class=request.param)


def test_no_response_gives_500(probe):
    resp = probe.request(request_bytes("GET", "/no-response"))
    assert resp.status == 500
    probe.assert_serves()


def test_partial_response_closes_the_connection(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("GET", "/partial"))
        resp = conn.read_response()
    # The head promised 100 bytes; the app gave up after 10. The client must see the
    # connection end (not hang, and not a padded body).
    assert resp.status == 200
    assert resp.header("content-length") == "100"
    assert not resp.complete
    assert resp.body == b"0123456789"
    probe.assert_serves()


@pytest.mark.parametrize("kind", ["cr", "lf", "crlf", "nul", "name", "name-space",
                                  "name-empty", "status"])
def test_bad_response_start_is_refused(probe, kind):
    with probe.raw() as conn:
        conn.send(request_bytes("GET", f"/bad-header?kind={kind}"))
        resp = conn.read_response()
        assert resp.status == 200, resp
        assert resp.body == b"refused:%d" % ASGID_E_INVALID
        assert resp.header("x-injected") is None, resp.headers
        assert resp.header("x-probe") is None, resp.headers
        # The refused start left no trace: the same connection goes on normally.
        conn.send(request_bytes("GET", "/echo"))
        assert conn.read_response().status == 200


def test_body_before_start_is_refused(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("GET", "/order"))
        resp = conn.read_response()
        assert resp.status == 200
        assert resp.body == b"order:%d" % ASGID_E_INVALID
        assert b"too early" not in resp.body
        conn.send(request_bytes("GET", "/echo"))
        assert conn.read_response().status == 200


def test_second_outstanding_receive_is_refused(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("POST", "/receive-twice", headers=[("Content-Length", 4)],
                                body=b"abcd"))
        resp = conn.read_response()
        assert resp.status == 200
        assert resp.body == b"twice:%d" % ASGID_E_INVALID
        conn.send(request_bytes("GET", "/echo"))
        assert conn.read_response().status == 200


def test_unknown_path_reaches_the_app(probe):
    # Sanity check of the probe itself: its 404 comes from the app, through the server.
    resp = probe.request(request_bytes("GET", "/no-such-endpoint"))
    assert resp.status == 404
    assert resp.body == b"probe: no such endpoint"
