"""An HTTP server on 127.0.0.1 that returns scripted, possibly hostile, responses.

The DigitalOcean fake only sends what the OpenAPI description allows. This server stands in
front of it (or alone) and replaces the responses to some paths with bodies the description
forbids, error bodies with control characters, endless next-page links or a body sent one byte
at a time. Requests to other paths are forwarded to the upstream fake.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests


@dataclass
class Scripted:
    """One scripted response: `body` (JSON-encoded unless bytes), sent whole or byte by byte."""

    status: int = 200
    body: object = None
    headers: dict | None = None
    # Seconds between single bytes of the body; 0 sends it at once.
    trickle: float = 0.0
    times: int | None = None


class HostileServer:
    """Serve scripted responses by exact path; forward the rest to `upstream` when given."""

    def __init__(self, upstream: str = ""):
        self.upstream = upstream
        self.routes: dict[str, Scripted] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def script(self, path: str, **response) -> None:
        """Return a `Scripted` response to GET and DELETE requests for `path` (query ignored)."""
        self.routes[path.rstrip("/")] = Scripted(**response)

    def _take(self, path: str) -> Scripted | None:
        with self._lock:
            self.requests.append(path)
            scripted = self.routes.get(path.rstrip("/"))
            if scripted is None or scripted.times == 0:
                return None
            if scripted.times is not None:
                scripted.times -= 1
            return scripted

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self._answer()

            def do_DELETE(self):
                self._answer()

            def _answer(self):
                scripted = server._take(urlsplit(self.path).path)
                if scripted is None:
                    self._forward()
                    return
                body = scripted.body
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                self.send_response(scripted.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (scripted.headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    if not scripted.trickle:
                        self.wfile.write(body)
                        return
                    for index in range(len(body)):
                        self.wfile.write(body[index : index + 1])
                        self.wfile.flush()
                        time.sleep(scripted.trickle)
                except OSError:
                    # The client gave up and closed the connection.
                    return

            def _forward(self):
                if not server.upstream:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {"Authorization": self.headers.get("Authorization", "")}
                upstream = requests.request(
                    self.command, server.upstream + self.path, headers=headers, timeout=10
                )
                self.send_response(upstream.status_code)
                for name in ("Content-Type", "Retry-After"):
                    if name in upstream.headers:
                        self.send_header(name, upstream.headers[name])
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

        return Handler
