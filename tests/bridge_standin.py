"""A local HTTPS stand-in of the 1Password SCIM Bridge, on 127.0.0.1, for the verify tests.

It serves `GET /ping` (unauthenticated) and `GET /health` (bearer token) in the shape the
vendor documents: `{"build", "version", "reports": [{"source", "time", "expires", "state"}],
"retrievedAt"}`. Tests switch its behaviour through its attributes and read the requests it
received from `requests`. Certificates come from trustme; `write_server_pem` writes one with
or without its intermediates.
"""

import copy
import enum
import http.server
import json
import socket
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trustme

VERSION = "2.9.3"
BUILD = "209031"

# Component names as a bridge reports them; verify shows whatever names it is sent.
COMPONENTS = ("ConfirmationWatcher", "RedisCache", "SCIMServer", "StartProvisionWatcher")

SETUP_PAGE = b"""<!DOCTYPE html>
<html><head><title>1Password SCIM Bridge</title></head>
<body><h1>Set up your SCIM bridge</h1><p>Sign in with your 1Password account.</p></body></html>
"""


# A trickled response sends one piece per interval, so each read completes quickly while the
# response as a whole takes TRICKLE_PIECES * TRICKLE_INTERVAL seconds (30 s).
TRICKLE_INTERVAL = 0.1
TRICKLE_PIECES = 300


class Trickle(enum.Enum):
    """The part of a response that the stand-in sends a few bytes at a time, never finishing."""

    HEADERS = "headers"
    BODY = "body"


class HealthAnswer(enum.Enum):
    """What the stand-in sends for `GET /health`."""

    REPORT = "report"
    SETUP_PAGE = "setup page"
    REDIRECT = "redirect"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stand-in received: its path and headers."""

    path: str
    headers: dict[str, str]


def component_reports(now: datetime | None = None) -> list[dict[str, str]]:
    """Return a healthy report for every component, timed at `now`."""
    now = now or datetime.now(UTC)
    time = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    expires = (now + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        {"source": source, "time": time, "expires": expires, "state": "healthy"}
        for source in COMPONENTS
    ]


def write_server_pem(path: Path, certificate: trustme.LeafCert, *, with_chain: bool = True) -> Path:
    """Write the private key, the certificate, and its intermediates when `with_chain` is true."""
    pems = certificate.cert_chain_pems if with_chain else certificate.cert_chain_pems[:1]
    path.write_bytes(certificate.private_key_pem.bytes() + b"".join(pem.bytes() for pem in pems))
    return path


class BridgeStandIn:
    """The stand-in server. Use it as a context manager; it serves from a thread per client.

    Attributes tests may change while it runs: `token` (the accepted bearer token),
    `reports`, `health_answer`, `health_status`, `reject_status`, `ping_status`,
    `redirect_location`, `echo_token_in_location`, `hang_paths` (paths that get no response),
    `trickle_paths` (paths whose response headers or body arrive a piece at a time), and
    `health_body` (bytes sent as the body of an authorized `GET /health` in place of the
    report).
    """

    def __init__(self, pem_file: Path, *, token: str) -> None:
        self.token = token
        self.reports = component_reports()
        self.health_answer = HealthAnswer.REPORT
        self.health_status = 200
        self.reject_status = 401
        self.ping_status = 200
        self.redirect_location = "https://elsewhere.invalid/health"
        self.echo_token_in_location = False
        self.hang_paths: set[str] = set()
        self.trickle_paths: dict[str, Trickle] = {}
        self.health_body: bytes | None = None
        self.requests: list[RecordedRequest] = []

        self._release = threading.Event()
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(pem_file)
        self._server = _TlsServer(self)
        # A short poll interval keeps shutdown, and so each test, quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="bridge stand-in",
            daemon=True,
        )

    @property
    def port(self) -> int:
        """The port the stand-in listens on, chosen by the kernel."""
        return self._server.server_address[1]

    def url(self, host: str = "127.0.0.1") -> str:
        """Return the stand-in's URL with `host`, which must resolve to 127.0.0.1."""
        return f"https://{host}:{self.port}"

    def __enter__(self) -> "BridgeStandIn":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def health_document(self) -> dict:
        """Return the body of a `GET /health` response."""
        return {
            "build": BUILD,
            "version": VERSION,
            "reports": copy.deepcopy(self.reports),
            "retrievedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


class _TlsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, standin: BridgeStandIn) -> None:
        self.standin = standin
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:
        # The handshake runs in the client's own thread, so that a client that never
        # completes it holds up no one else.
        request.settimeout(5)
        try:
            tls = self.standin._context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # The client rejected the certificate, which some tests expect.
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TlsServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        standin = self.server.standin
        standin.requests.append(RecordedRequest(self.path, dict(self.headers.items())))
        if self.path in standin.hang_paths:
            standin._release.wait(timeout=30)
            self.close_connection = True
            return

        trickle = standin.trickle_paths.get(self.path)
        if trickle is not None:
            self._trickle(trickle, standin)
            return

        if self.path == "/ping":
            self._send(standin.ping_status, "text/plain", b"pong")
        elif self.path == "/health":
            self._answer_health(standin)
        else:
            self._send(404, "text/plain", b"404 page not found")

    def _answer_health(self, standin: BridgeStandIn) -> None:
        if standin.health_answer is HealthAnswer.SETUP_PAGE:
            self._send(200, "text/html; charset=utf-8", SETUP_PAGE)
            return

        authorization = self.headers.get("Authorization", "")
        if standin.health_answer is HealthAnswer.REDIRECT:
            location = standin.redirect_location
            if standin.echo_token_in_location:
                location += "?received=" + authorization.removeprefix("Bearer ")
            self._send(302, "text/plain", b"", extra_headers={"Location": location})
            return

        if authorization != f"Bearer {standin.token}":
            self._send(standin.reject_status, "text/plain", b"Unauthorized")
            return

        body = standin.health_body
        if body is None:
            body = json.dumps(standin.health_document()).encode()
        self._send(standin.health_status, "application/json", body)

    def _trickle(self, part: Trickle, standin: BridgeStandIn) -> None:
        self.close_connection = True
        if part is Trickle.HEADERS:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            piece = b"X-Padding: 1\r\n"
        else:
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n"
            )
            piece = b" "

        for _ in range(TRICKLE_PIECES):
            if standin._release.wait(TRICKLE_INTERVAL):
                return
            try:
                self.wfile.write(piece)
            except OSError:
                return  # The client gave up, as it should.

    def _send(
        self,
        status: int,
        content_type: str,
        body: bytes,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class SilentListener:
    """A socket on 127.0.0.1 that completes TCP connections (the kernel does) but never responds."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)

    @property
    def url(self) -> str:
        """The listener's URL."""
        return f"https://127.0.0.1:{self._socket.getsockname()[1]}"

    def __enter__(self) -> "SilentListener":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._socket.close()


def unused_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
