"""The live dashboard: a read-only page on localhost that follows the loop as frames arrive.

``GET /`` the page, ``GET /state.json`` what the loop knows now, ``GET /frame.png`` the latest
frame with its forecast drawn over it. Nothing else: every other path is 404 and every other
method 405 (no write endpoint). The page polls ``/state.json`` once a second.
"""

from __future__ import annotations

import errno
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from edge_shm.errors import UserError
from edge_shm.onsite.outputs import _clean, pick
from edge_shm.onsite.render import overlay, png_bytes, unpack

PAGE = Path(__file__).with_name("dashboard.html")
HISTORY = 400  # frames of history sent to the page
LIVE_KEYS = (
    "frame",
    "name",
    "cycles",
    "growth_mm_per_frame",
    "frames_to_critical",
    "cycles_to_critical",
    "warning",
    "latency_ms",
)


def snapshot(loop) -> dict:
    """The dashboard's view of the loop (recent history, latest record, constants)."""
    with loop.lock:
        recs = list(loop.records[-HISTORY:])
        count = sum(1 for r in loop.records if r["status"] == "ok")
        skipped = len(loop.records) - count
    ok = [r for r in recs if r["status"] == "ok"]
    last = ok[-1] if ok else None
    last_a = None if last is None else last["observed"].get("a_mm")
    return _clean(
        {
            "model": loop.info.get("model"),
            "backend": loop.info.get("backend"),
            "source": loop.info.get("source"),
            "frames": count,
            "skipped": skipped,
            "last_error": next((r["error"] for r in reversed(recs) if r["status"] != "ok"), None),
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
            "last": None if last is None else pick(last, LIVE_KEYS) | {"a_mm": last_a},
        }
    )


def _latest_png(loop) -> bytes | None:
    with loop.lock:
        if not loop.frames:
            return None
        frame, fcs = loop.frames[-1], list(loop.forecast_maps[-1])
    shape = loop.shape
    return png_bytes(overlay(unpack(frame, shape), [unpack(b, shape) for b in fcs], 4))


def _handler(loop):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet: the CLI prints its own progress
            pass

        def _send(self, code: int, body: bytes, kind: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(200, PAGE.read_bytes(), "text/html; charset=utf-8")
            elif path == "/state.json":
                body = json.dumps(snapshot(loop), allow_nan=False).encode()
                self._send(200, body, "application/json")
            elif path == "/frame.png":
                png = _latest_png(loop)
                if png is None:
                    self._send(404, b"no frame yet", "text/plain")
                else:
                    self._send(200, png, "image/png")
            else:
                self._send(404, b"not found", "text/plain")

        def _refuse(self):
            self._send(405, b"read-only dashboard", "text/plain")

        do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815

    return Handler


class Dashboard:
    """Serve ``loop`` on ``host:port`` in a background thread (``close()`` to stop)."""

    def __init__(self, loop, port: int, host: str = "127.0.0.1"):
        if not 0 < port < 65536:
            raise UserError(f"--serve {port}: not a TCP port (1 to 65535)")
        try:
            self.server = ThreadingHTTPServer((host, port), _handler(loop))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise UserError(f"--serve {port}: port {port} on {host} is in use") from None
            raise UserError(
                f"--serve {port}: cannot listen on {host}:{port} ({e.strerror})"
            ) from None
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
