"""Helpers for the metrics and health tests (test_metrics.py, test_health.py): requests to the
master's metrics listener, and its Prometheus text read by python3-prometheus-client's parser
(the one Prometheus users' tooling in Python relies on), never by a regex of our own."""

import http.client
import socket

from prometheus_client.parser import text_string_to_metric_families

from conftest import free_port


def metrics_settings():
    """The metrics_bind setting on a free loopback port, and that port."""
    port = free_port()
    return {"metrics_bind": f"127.0.0.1:{port}"}, port


def get(port, path, method="GET", timeout=5.0):
    """(status, headers as a dict with lowercase names, body) of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def status_of(port, path, timeout=5.0):
    """The status of GET path, or None when the connection is refused or reset."""
    try:
        return get(port, path, timeout=timeout)[0]
    except (ConnectionError, socket.timeout, http.client.HTTPException):
        return None


def scrape(port):
    """{(sample name, frozenset of label pairs): value} of one scrape of /metrics."""
    status, headers, body = get(port, "/metrics")
    assert status == 200, body
    assert headers["content-type"].startswith("text/plain; version=0.0.4"), headers
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def total(samples, name, **labels):
    """The sum of the samples called name whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def requests_total(samples, **labels):
    return total(samples, "asgid_http_requests_total", **labels)
