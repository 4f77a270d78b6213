"""The error log setting: a file receives the server's messages (and app api->log lines),
standard error then stays quiet."""

from rawhttp import request_bytes


def test_error_log_file_receives_messages(server, tmp_path):
    path = tmp_path / "error.log"
    srv = server(error_log=str(path))
    # /no-response makes the server log an error about the app.
    assert srv.request(request_bytes("GET", "/no-response")).status == 500
    assert srv.stop() == 0
    text = path.read_text()
    assert "listening on" in text
    assert "/no-response" in text
    assert "/no-response" not in srv.log()


def test_log_level_error_hides_info(server, tmp_path):
    path = tmp_path / "error.log"
    srv = server(error_log=str(path), log_level="error")
    assert srv.request(request_bytes("GET", "/no-response")).status == 500
    assert srv.stop() == 0
    text = path.read_text()
    assert "listening on" not in text  # an INFO line
    assert "/no-response" in text      # an ERROR line
