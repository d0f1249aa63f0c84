"""The live dashboard: a read-only page on localhost that follows the loop as frames arrive.

``GET /`` the page, ``GET /state.json`` what the loop knows now, ``GET /frame.png`` the latest
frame with its forecast drawn over it. Nothing else: every other path is 404 and every other
method 405 (no write endpoint). The page polls ``/state.json`` once a second.

The records carry no clock time, so the server notes the wall-clock time at which each record
appears (:class:`Clock`, every ``POLL_S`` and before every state it serves) and the state gives
it as ``received`` (a record's own ``received``, when the loop writes one, wins).

Hardening (the page shows the watched path, so a foreign web page must not read it):

- only a Host of ``localhost``, ``127.0.0.1``, ``::1`` or the bound ``--host`` is served (any IP
  address too when bound to ``0.0.0.0``), anything else, a missing Host included, is 421: a DNS
  rebinding page's Host is its own name;
- a connection silent for ``timeout`` seconds is dropped, at most ``max_connections`` are served
  at once and the ones over that are closed unanswered;
- responses say ``Server: edge-shm`` only and carry ``nosniff`` and a Content-Security-Policy;
- a client going away mid-request is not an error worth a traceback.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import re
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from edge_shm.errors import UserError
from edge_shm.onsite.outputs import _clean, pick
from edge_shm.onsite.render import overlay, png_bytes, unpack

PAGE = Path(__file__).with_name("dashboard.html")
HISTORY = 400  # frames of history sent to the page
TIMEOUT = 10.0  # seconds a connection may stay silent (reading or writing)
MAX_CONNECTIONS = 16  # served at once; the page itself needs one or two
POLL_S = 0.1  # the server's poll interval: new records are timed within it
SKIPS = 5  # the latest skipped frames listed with their reasons
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("", "0.0.0.0")
# The page's script and style are inline; it loads nothing but /state.json and /frame.png.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# A Host header: a bracketed IPv6 address or a name / IPv4 address, then an optional port.
HOST = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[^\s:\[\]/@]+))(?::\d*)?")
LIVE_KEYS = (
    "frame",
    "name",
    "cycles",
    "growth_mm_per_frame",
    "frames_to_critical",
    "cycles_to_critical",
    "hours_to_critical",
    "paris",
    "warning",
    "warning_reason",
    "latency_ms",
)


class Clock:
    """The wall-clock time (s since the epoch) at which each of the loop's records appeared:
    ``times[i]`` for ``loop.records[i]``, noted by :meth:`tick` under the loop's lock."""

    def __init__(self):
        self.times: list[float] = []

    def tick(self, records: list) -> None:
        """Note the records that appeared since the last tick (call under the loop's lock)."""
        now = time.time()
        self.times.extend([now] * (len(records) - len(self.times)))

    def received(self, rec: dict) -> float | None:
        """When ``rec`` arrived: its own ``received`` (s since the epoch, or ISO 8601) if the
        loop wrote one, else when it appeared."""
        own = rec.get("received")
        if isinstance(own, str):
            try:
                return datetime.fromisoformat(own).timestamp()
            except ValueError:
                own = None
        if isinstance(own, int | float) and not isinstance(own, bool):
            return float(own)
        i = rec.get("frame")
        return self.times[i] if isinstance(i, int) and 0 <= i < len(self.times) else None


def snapshot(loop, clock: Clock | None = None) -> dict:
    """The dashboard's view of the loop (recent history, latest record and skipped frames with
    when they arrived, constants)."""
    clock = clock or Clock()
    with loop.lock:
        clock.tick(loop.records)
        recs = list(loop.records[-HISTORY:])
        count = sum(1 for r in loop.records if r["status"] == "ok")
        skipped = len(loop.records) - count
        skips = [r for r in reversed(loop.records) if r["status"] != "ok"][:SKIPS]
    ok = [r for r in recs if r["status"] == "ok"]
    last = ok[-1] if ok else None
    observed = {} if last is None else last["observed"]
    now = {"a_mm": observed.get("a_mm"), "left_view": observed.get("left_view")}
    return _clean(
        {
            "model": loop.info.get("model"),
            "backend": loop.info.get("backend"),
            "source": loop.info.get("source"),
            "now": time.time(),
            "frames": count,
            "skipped": skipped,
            "last_error": skips[0]["error"] if skips else None,
            "skips": [
                {"frame": r["frame"], "name": r["name"], "reason": r.get("error")}
                | {"received": clock.received(r)}
                for r in skips
            ],
            "critical_mm": loop.cfg.critical_mm,
            "horizon": loop.cfg.horizon,
            "energy": loop.energy,
            "history": [
                {
                    "frame": r["frame"],
                    "a_mm": r["observed"].get("a_mm"),
                    "cycles": r.get("cycles"),
                    "forecast_a_mm": [f.get("a_mm") for f in r["forecast"]],
                    "forecast_band_mm": [f.get("band_mm") for f in r["forecast"]],
                }
                for r in ok
            ],
            "last": None
            if last is None
            else pick(last, LIVE_KEYS) | now | {"received": clock.received(last)},
        }
    )


def _latest_png(loop) -> bytes | None:
    with loop.lock:
        if not loop.frames:
            return None
        frame, fcs = loop.frames[-1], list(loop.forecast_maps[-1])
    shape = loop.shape
    return png_bytes(overlay(unpack(frame, shape), [unpack(b, shape) for b in fcs], 4))


def host_name(header: str | None) -> str | None:
    """The host of a ``Host`` header, lower case, without port or IPv6 brackets.

    Returns
    -------
    str or None
        None for a missing or malformed header.
    """
    m = HOST.fullmatch((header or "").strip().lower())
    return None if m is None else m["v6"] or m["name"]


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_allowed(name: str | None, bound: str) -> bool:
    """Whether a request for host ``name`` may be served by a server bound to ``bound``.

    A DNS rebinding page sends its own domain name, so local names, the bound host and (on a
    wildcard address, where the dashboard is meant to be reached from elsewhere) any IP
    address are safe; every other name is not.
    """
    if name is None:
        return False
    if name in LOCAL_NAMES or name == bound.lower():
        return True
    return bound in WILDCARDS and _is_ip(name)


def _handler(loop, clock: Clock, bound: str, timeout: float):
    class Handler(BaseHTTPRequestHandler):
        server_version, sys_version = "edge-shm", ""

        def log_message(self, *args):  # quiet: the CLI prints its own progress
            pass

        def version_string(self) -> str:
            return self.server_version  # not "BaseHTTP/0.6 Python/3.x"

        def end_headers(self) -> None:
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", CSP)
            super().end_headers()

        def _send(self, code: int, body: bytes, kind: str, **headers: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def parse_request(self) -> bool:
            """Refuse a foreign Host or a method other than GET before dispatching: called by
            ``handle_one_request``, which sends nothing more when this returns False (and would
            answer 501 to a method without a ``do_`` method)."""
            if not super().parse_request():
                return False
            text = "text/plain; charset=utf-8"
            if not host_allowed(host_name(self.headers.get("Host")), bound):
                self._send(421, b"unknown host\n", text)
            elif self.command != "GET":
                self._send(405, b"read-only dashboard: GET only\n", text, Allow="GET")
            else:
                return True
            self.close_connection = True
            return False

        def do_GET(self):  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(200, PAGE.read_bytes(), "text/html; charset=utf-8")
            elif path == "/state.json":
                body = json.dumps(snapshot(loop, clock), allow_nan=False).encode()
                self._send(200, body, "application/json")
            elif path == "/frame.png":
                png = _latest_png(loop)
                if png is None:
                    self._send(404, b"no frame yet", "text/plain")
                else:
                    self._send(200, png, "image/png")
            else:
                self._send(404, b"not found", "text/plain")

    Handler.timeout = timeout  # applied to each connection's socket by StreamRequestHandler
    return Handler


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` at once, quiet about clients that
    go away."""

    daemon_threads = True

    def __init__(self, address, handler, max_connections: int, tick=None):
        self.slots = threading.BoundedSemaphore(max_connections)
        self.tick = tick
        super().__init__(address, handler)

    def service_actions(self) -> None:  # serve_forever's, each poll and after each request
        if self.tick is not None:
            self.tick()

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)  # over the limit: close unanswered
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()  # no thread started to release it
            raise

    def process_request_thread(self, request, client_address) -> None:
        # ThreadingMixIn's, with the slot freed before the socket closes: a client that has
        # read to the end of its response may connect again at once.
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.slots.release()
            self.shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        err = sys.exc_info()[1]
        if isinstance(err, (ConnectionError, TimeoutError)):
            return  # the client reset, closed or stalled: nothing to report
        print(f"dashboard: request failed ({type(err).__name__}: {err})", file=sys.stderr)


class Dashboard:
    """Serve ``loop`` on ``host:port`` in a background thread (``close()`` to stop).

    Parameters
    ----------
    loop
        The :class:`~edge_shm.onsite.loop.ForecastLoop` shown (read under its ``lock``).
    port, host
        Where to listen; ``port`` 1 to 65535 (``--serve``).
    timeout
        Seconds a connection may stay silent before it is dropped.
    max_connections
        Connections served at once; more are closed unanswered.
    any_port
        Allow ``port`` 0 (the OS picks a free one, see ``url``): for tests, not the CLI.
    """

    def __init__(
        self,
        loop,
        port: int,
        host: str = "127.0.0.1",
        *,
        timeout: float = TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        any_port: bool = False,
    ):
        if not (0 < port < 65536 or (any_port and port == 0)):
            raise UserError(f"--serve {port}: not a TCP port (1 to 65535)")
        self.clock = Clock()

        def tick() -> None:
            with loop.lock:
                self.clock.tick(loop.records)

        handler = _handler(loop, self.clock, host, timeout)
        try:
            self.server = _Server((host, port), handler, max_connections, tick)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise UserError(f"--serve {port}: port {port} on {host} is in use") from None
            raise UserError(
                f"--serve {port}: cannot listen on {host}:{port} ({e.strerror})"
            ) from None
        self.url = f"http://{host}:{self.server.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": POLL_S}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
