"""The live dashboard's hardening, over real sockets: Host check (DNS rebinding), GET only,
no Python version, quiet about clients that reset, idle connections dropped, a bound on
connections served at once.

Synchronisation is on what the server does to the socket (an answer, or end of file); the
timeouts below only bound a failure.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from edge_shm.errors import UserError
from edge_shm.onsite.dashboard import Dashboard, host_allowed, host_name

pytestmark = pytest.mark.fast

WATCHED = "/srv/secret-inbox"  # shown in /state.json: must not reach a foreign page
BOUND = 30.0  # seconds: a failure bound, never a wait


def _loop() -> SimpleNamespace:
    """What ``snapshot`` and ``_latest_png`` read of a ForecastLoop, before any frame."""
    return SimpleNamespace(
        lock=threading.Lock(),
        records=[],
        frames=[],
        forecast_maps=[],
        shape=None,
        info={"model": "m", "backend": "torch", "source": WATCHED},
        cfg=SimpleNamespace(critical_mm=10.0, horizon=3),
        energy=None,
    )


@pytest.fixture(scope="module")
def dash():
    """One dashboard with the defaults for the tests that do not change it (closing one takes
    up to the server's poll interval, half a second)."""
    dash = Dashboard(_loop(), 0, any_port=True)
    yield dash
    dash.close()


@pytest.fixture
def serve():
    started = []

    def start(**kw) -> Dashboard:
        dash = Dashboard(_loop(), 0, any_port=True, **kw)
        started.append(dash)
        return dash

    yield start
    for dash in started:
        dash.close()


def _port(dash: Dashboard) -> int:
    return dash.server.server_address[1]


def _connect(dash: Dashboard) -> socket.socket:
    return socket.create_connection(("127.0.0.1", _port(dash)), timeout=BOUND)


def _read_all(s: socket.socket) -> bytes:
    chunks = []
    while chunk := s.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes) -> tuple[int, dict, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines)}
    return int(status.split()[1]), headers, body


def _request(dash, method="GET", path="/state.json", host="localhost") -> tuple[int, dict, bytes]:
    head = f"{method} {path} HTTP/1.1\r\n" + ("" if host is None else f"Host: {host}\r\n")
    with _connect(dash) as s:
        s.sendall(f"{head}Connection: close\r\n\r\n".encode())
        return _parse(_read_all(s))


def test_host_header_parsing():
    assert host_name("LocalHost:8765") == "localhost"
    assert host_name("[::1]:8765") == host_name("[::1]") == "::1"
    assert host_name("127.0.0.1") == "127.0.0.1"
    assert host_name(None) is None and host_name("") is None and host_name("a b") is None
    assert host_name("::1") is None  # an IPv6 address without brackets is not a Host
    assert host_allowed("mybox.lan", "mybox.lan") and host_allowed("::1", "127.0.0.1")
    assert not host_allowed("evil.example", "127.0.0.1") and not host_allowed(None, "")
    # on a wildcard address any IP (rebinding needs a name), still no foreign name
    assert host_allowed("192.168.1.5", "0.0.0.0") and not host_allowed("192.168.1.5", "127.0.0.1")
    assert not host_allowed("evil.example", "0.0.0.0")


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil.example:80",
     "localhost@evil.example", None],
)  # fmt: skip
@pytest.mark.parametrize("path", ["/state.json", "/"])
def test_foreign_host_is_refused(dash, host, path):
    status, headers, body = _request(dash, path=path, host=host)
    assert status == 421 and headers["content-type"].startswith("text/plain")
    assert WATCHED.encode() not in body and len(body) < 100


@pytest.mark.parametrize(
    "host", ["localhost:{port}", "127.0.0.1:{port}", "LOCALHOST", "[::1]:{port}"]
)
def test_local_host_is_served(dash, host):
    status, headers, body = _request(dash, host=host.format(port=_port(dash)))
    assert status == 200 and json.loads(body)["source"] == WATCHED
    assert headers["server"] == "edge-shm" and headers["x-content-type-options"] == "nosniff"


def test_page_headers(dash):
    status, headers, body = _request(dash, path="/")
    assert status == 200 and b"<script>" in body
    assert "Python" not in headers["server"] and "BaseHTTP" not in headers["server"]
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


@pytest.mark.parametrize(
    "method", ["HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "POST", "PATCH", "PROPFIND", "CONNECT"]
)
def test_every_other_method_is_405(dash, method):
    path = "evil.example:443" if method == "CONNECT" else "/state.json"
    status, headers, body = _request(dash, method=method, path=path)
    assert status == 405 and headers["allow"] == "GET", (status, headers)
    assert "Python" not in headers["server"]
    assert (body == b"") if method == "HEAD" else (b"GET only" in body)


def test_foreign_host_is_refused_before_the_method(dash):
    assert _request(dash, method="PUT", host="evil.example")[0] == 421


def test_reset_client_leaves_no_traceback_and_the_server_goes_on(serve, capfd):
    dash = serve()
    seen, errors = threading.Event(), []
    quiet = dash.server.handle_error

    def spy(request, client_address):  # to know the reset has been handled
        errors.append(sys.exc_info()[1])
        quiet(request, client_address)
        seen.set()

    dash.server.handle_error = spy
    s = _connect(dash)
    s.sendall(b"GET /state.json HTTP/1.1\r\nHost: localhost\r\n")  # half a request
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()  # SO_LINGER 0: a reset, not a clean close
    assert seen.wait(BOUND) and isinstance(errors[0], ConnectionError), errors
    assert _request(dash)[0] == 200
    assert capfd.readouterr().err == ""


def test_other_errors_are_one_line(dash, capfd):
    try:
        raise ValueError("boom")
    except ValueError:
        dash.server.handle_error(None, ("127.0.0.1", 1))
    err = capfd.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and "boom" in err


def test_silent_client_is_dropped_after_the_timeout(serve, capfd):
    dash = serve(timeout=0.5)
    with _connect(dash) as s:
        t0 = time.monotonic()
        assert s.recv(1) == b""  # the server closed it (BOUND fails the test otherwise)
        assert time.monotonic() - t0 > 0.3  # by the timeout, not at once
    assert _request(dash)[0] == 200
    assert capfd.readouterr().err == ""


def test_connections_over_the_limit_are_closed(serve):
    limit = 4
    dash = serve(max_connections=limit, timeout=BOUND * 2)
    threads = threading.active_count()
    idle = [_connect(dash) for _ in range(limit)]  # accepted first (a FIFO queue): served
    try:
        for _ in range(5):
            with _connect(dash) as extra:
                assert extra.recv(1) == b""  # closed unanswered
        assert threading.active_count() - threads <= limit
        for s in idle:  # the ones held were being served all along
            s.sendall(b"GET /state.json HTTP/1.0\r\nHost: localhost\r\n\r\n")
            assert _parse(_read_all(s))[0] == 200
    finally:
        for s in idle:
            s.close()
    # each connection frees its slot before it closes, so none is lost
    assert all(_request(dash)[0] == 200 for _ in range(3 * limit))


def test_port_0_only_on_request():
    with pytest.raises(UserError, match="not a TCP port"):
        Dashboard(_loop(), 0)
