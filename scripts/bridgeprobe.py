"""Network probes of `scim-bridge verify`: name lookup, TLS handshake and HTTPS requests.

Each probe returns what the server sent, or raises ProbeFailed naming the step that failed
and why. Whether what the server sent is acceptable is decided in scripts.bridgecheck.
"""

import functools
import http.client
import io
import logging
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography import x509

from infra.errors import ScimBridgeError

log = logging.getLogger(__name__)

# A health report is a few hundred bytes, so no more than this is read of any response.
MAX_BODY_BYTES = 1 << 20


class ProbeFailed(ScimBridgeError, OSError):
    """A probe got no response: the name did not resolve, or a connection failed.

    `step` is the name of the check that failed (dns, tls, ping, health); `fix` is the next
    thing to try, in a few words.
    """

    def __init__(self, step: str, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.step = step
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class TlsProbe:
    """What one TLS handshake with the bridge showed.

    `verify_code` and `verify_message` are OpenSSL's verification error when the certificate
    did not verify, and None when it did. `sent_chain` is the chain as the server sent it,
    leaf first; `verified_chain` is the chain OpenSSL built up to a trust anchor, and None
    when verification failed. Either chain is None when this Python cannot read it.
    """

    address: str
    version: str | None
    sent_chain: list[x509.Certificate] | None
    verified_chain: list[x509.Certificate] | None
    verify_code: int | None = None
    verify_message: str | None = None


@dataclass(frozen=True)
class HttpResponse:
    """An HTTP response: status line, headers with lower-case names, and the body."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes


def endpoint(address: str, port: int) -> str:
    """Format an address and port for messages: `192.0.2.1:443`, `[2001:db8::1]:443`."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def resolve(host: str, port: int, timeout: float) -> list[str]:
    """Resolve `host` with the system resolver and return its addresses, in the resolver's order.

    :raises ProbeFailed: (step dns) when the name does not resolve or the resolver gives no
        answer within `timeout` seconds.
    """
    outcome: dict[str, object] = {}

    def lookup() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            outcome["error"] = error

    # getaddrinfo takes no timeout, so it runs in a daemon thread that is abandoned on timeout.
    thread = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise ProbeFailed(
            "dns",
            f"the system resolver gave no answer for {host} within {timeout:g} s",
            fix="check this machine's resolver (/etc/resolv.conf), or raise --timeout",
        )

    error = outcome.get("error")
    if error is not None:
        raise _resolution_failure(host, error)

    addresses: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in outcome["infos"]:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    log.debug("%s resolves to %s", host, addresses)
    return addresses


def _resolution_failure(host: str, error: BaseException) -> ProbeFailed:
    if isinstance(error, socket.gaierror) and error.errno in _NO_SUCH_NAME:
        return ProbeFailed(
            "dns",
            f"{host} does not resolve: {error.strerror}",
            fix=f"check its DNS record (scim-bridge dns check {host})",
        )

    if isinstance(error, socket.gaierror) and error.errno == socket.EAI_AGAIN:
        return ProbeFailed(
            "dns",
            f"resolving {host} failed temporarily: {error.strerror}",
            fix="check this machine's resolver, then try again",
        )

    reason = getattr(error, "strerror", None) or str(error)
    return ProbeFailed("dns", f"resolving {host} failed: {reason}")


_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def probe_tls(
    addresses: list[str], port: int, host: str, context: ssl.SSLContext, timeout: float
) -> TlsProbe:
    """Connect to the first address that accepts, complete a TLS handshake and read the chain.

    When the certificate does not verify, a second handshake without verification reads
    the chain the server sends, so that the failure can be explained. Nothing is sent to
    the server on either connection.

    :raises ProbeFailed: (step tls) when no address accepts the connection, the handshake
        times out, or it fails for a reason other than certificate verification.
    """
    sock, address = _connect(addresses, port, host, timeout, step="tls")
    where = endpoint(address, port)
    try:
        with context.wrap_socket(sock, server_hostname=host) as tls:
            return TlsProbe(
                address=address,
                version=tls.version(),
                sent_chain=_peer_chain(tls, verified=False),
                verified_chain=_peer_chain(tls, verified=True),
            )

    except ssl.SSLCertVerificationError as error:
        log.debug("certificate of %s did not verify: %s", where, error.verify_message)
        return TlsProbe(
            address=address,
            version=None,
            sent_chain=_read_unverified_chain(address, port, host, timeout),
            verified_chain=None,
            verify_code=error.verify_code,
            verify_message=error.verify_message,
        )

    except TimeoutError:
        raise ProbeFailed(
            "tls",
            f"TLS handshake with {where} timed out after {timeout:g} s: the server accepted "
            "the connection but did not respond",
            fix=f"check that port {port} serves HTTPS, or raise --timeout",
        ) from None

    except ssl.SSLError as error:
        raise ProbeFailed(
            "tls",
            f"TLS handshake with {where} failed: {error.reason or error}",
            fix=f"check that port {port} serves HTTPS with a certificate for {host}",
        ) from error

    except OSError as error:
        raise ProbeFailed(
            "tls",
            f"TLS handshake with {where} failed: {error.strerror or error}",
            fix=f"check that port {port} serves HTTPS",
        ) from error


def _read_unverified_chain(
    address: str, port: int, host: str, timeout: float
) -> list[x509.Certificate] | None:
    # Only the certificates are read: nothing is sent over this unverified connection.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
        with context.wrap_socket(sock, server_hostname=host) as tls:
            return _peer_chain(tls, verified=False)
    except OSError as error:
        log.debug("could not read the chain of %s: %s", endpoint(address, port), error)
        return None


def _peer_chain(tls: ssl.SSLSocket, *, verified: bool) -> list[x509.Certificate] | None:
    name = "get_verified_chain" if verified else "get_unverified_chain"
    # Public on SSLSocket from Python 3.13 (returning DER bytes); before that the same
    # methods exist on the private _ssl object and return certificate objects.
    method = getattr(tls, name, None) or getattr(getattr(tls, "_sslobj", None), name, None)
    if method is None:
        return None

    chain = []
    for certificate in method() or []:
        if isinstance(certificate, bytes):
            chain.append(x509.load_der_x509_certificate(certificate))
        else:
            chain.append(x509.load_pem_x509_certificate(certificate.public_bytes().encode()))
    return chain


def _connect(
    addresses: list[str], port: int, host: str, timeout: float, *, step: str
) -> tuple[socket.socket, str]:
    failures = []
    for address in addresses:
        where = endpoint(address, port)
        try:
            return socket.create_connection((address, port), timeout=timeout), address
        except ConnectionRefusedError:
            failures.append(f"{where} refused the connection")
        except TimeoutError:
            failures.append(f"connecting to {where} timed out after {timeout:g} s")
        except OSError as error:
            failures.append(f"connecting to {where} failed: {error.strerror or error}")

    raise ProbeFailed(
        step,
        "; ".join(failures) or f"{host} has no address",
        fix=f"check that the bridge (or its load balancer) listens on port {port} and that "
        "no firewall drops the connection",
    )


class _Deadline:
    """The monotonic-clock deadline of one request, and how many response bytes arrived by then."""

    def __init__(self, seconds: float) -> None:
        self.expires = time.monotonic() + seconds
        self.bytes_read = 0

    def remaining(self) -> float:
        """Return the seconds left.

        :raises TimeoutError: when none are left.
        """
        left = self.expires - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request's deadline has passed")
        return left


class _DeadlineReader(io.RawIOBase):
    """Reads a socket with each read's timeout set to the time left before the deadline.

    A socket timeout alone bounds each read, so a server sending a byte at a time could
    keep a response going for as long as it likes.
    """

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        super().__init__()
        self._sock = sock
        # The socket file counts as a reference, so the socket stays open after
        # http.client closes the connection and hands the rest of the response to its reader.
        self._file = sock.makefile("rb", buffering=0)
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:
        self._sock.settimeout(self._deadline.remaining())
        count = self._file.readinto(buffer) or 0
        self._deadline.bytes_read += count
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    """An HTTP response whose status line, headers and body must all arrive by a deadline."""

    def __init__(self, sock: socket.socket, *args: object, deadline: _Deadline, **kwargs: object):
        super().__init__(sock, *args, **kwargs)
        self.fp.close()
        self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to one address, verifying the certificate for the host name.

    Connecting, the TLS handshake, sending the request and reading the whole response all
    have to finish by `deadline`.
    """

    def __init__(
        self, address: str, host: str, port: int, context: ssl.SSLContext, deadline: _Deadline
    ) -> None:
        super().__init__(host, port, context=context)
        self._address = address
        self._tls_context = context
        self._deadline = deadline
        self.response_class = functools.partial(_DeadlineResponse, deadline=deadline)

    def connect(self) -> None:
        sock = socket.create_connection(
            (self._address, self.port), timeout=self._deadline.remaining()
        )
        # CPython applies the socket timeout to the TLS handshake as a whole, not to each
        # read of it (checked on CPython 3.11).
        sock.settimeout(self._deadline.remaining())
        self.sock = self._tls_context.wrap_socket(sock, server_hostname=self.host)
        self.sock.settimeout(self._deadline.remaining())


def get(
    address: str,
    host: str,
    port: int,
    path: str,
    *,
    context: ssl.SSLContext,
    timeout: float,
    headers: Mapping[str, str],
    step: str,
) -> HttpResponse:
    """Send `GET path` to `address` with the given headers and return the response.

    Redirects are returned, never followed, so headers go to this host only. At most
    MAX_BODY_BYTES of the body are read.

    :raises ProbeFailed: (named `step`) when the connection is refused or fails, or the
        whole request (connection, handshake, response headers and body) does not complete
        within `timeout` seconds.
    """
    where = endpoint(address, port)
    deadline = _Deadline(timeout)
    connection = _PinnedHTTPSConnection(address, host, port, context, deadline)
    response = None
    try:
        connection.connect()
        connection.request("GET", path, headers=dict(headers))
        response = connection.getresponse()
        body = response.read(MAX_BODY_BYTES)
        result = HttpResponse(
            status=response.status,
            reason=response.reason,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=body,
        )
        # The reason phrase is left out: it is server text, which may echo the token.
        log.debug("GET %s from %s: status %d", path, where, result.status)
        return result

    except ConnectionRefusedError:
        raise ProbeFailed(
            step,
            f"GET {path}: {where} refused the connection",
            fix=f"check that the bridge listens on port {port}",
        ) from None

    except TimeoutError:
        raise ProbeFailed(
            step,
            f"GET {path} did not complete within {timeout:g} s: timed out "
            f"{_unfinished_phase(connection, response, deadline)} {where}",
            fix="check the bridge's logs and that the load balancer forwards to it, "
            "or raise --timeout",
        ) from None

    except http.client.HTTPException as error:
        raise ProbeFailed(
            step,
            f"GET {path}: {where} sent no valid HTTP response ({type(error).__name__})",
            fix="check that this address serves the SCIM bridge",
        ) from None

    except OSError as error:
        raise ProbeFailed(
            step,
            f"GET {path} from {where} failed: {getattr(error, 'strerror', None) or error}",
        ) from None

    finally:
        if response is not None:
            response.close()
        connection.close()


def _unfinished_phase(
    connection: http.client.HTTPConnection,
    response: http.client.HTTPResponse | None,
    deadline: _Deadline,
) -> str:
    if connection.sock is None and response is None:
        return "connecting to"
    if response is not None:
        return "reading the response body from"
    if deadline.bytes_read:
        return "reading the response headers from"
    return "waiting for the response from"
