"""The checks of `scim-bridge verify`: its inputs, what each check accepts, and their order.

`check_bridge` runs the checks in order (name lookup, TLS handshake, certificate chain,
days to expiry, `GET /ping`, `GET /health` with the bearer token) through the probes in
scripts.bridgeprobe, and stops where a failure leaves nothing safe or useful to try. The
`assess_*` functions decide what counts as ok from what the server sent, without I/O.

The bearer token is sent only in the Authorization header of `GET /health`, only over a
verified TLS connection to the bridge's own address, and redirects are never followed.
"""

import ipaddress
import json
import logging
import re
import ssl
import urllib.parse
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import idna
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, NameOID

from infra.errors import InvalidInput, ScimBridgeError
from scripts import bridgeprobe
from scripts.bridgeprobe import HttpResponse, ProbeFailed, TlsProbe
from scripts.checks import CheckResult, Status
from scripts.servertext import REDACTED, redact, server_text
from scripts.tokens import token_problem

log = logging.getLogger(__name__)

# Fewer days than this before the certificate expires is a warning.
EXPIRY_WARNING_DAYS = 14

HEALTHY = "healthy"

# OpenSSL verification error codes (X509_V_ERR_*) that get their own explanation.
_UNABLE_TO_GET_ISSUER_CERT = 2
_CERT_NOT_YET_VALID = 9
_CERT_HAS_EXPIRED = 10
_DEPTH_ZERO_SELF_SIGNED_CERT = 18
_SELF_SIGNED_CERT_IN_CHAIN = 19
_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
_UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21
_HOSTNAME_MISMATCH = 62
_IP_ADDRESS_MISMATCH = 64

_MISSING_ISSUER = {
    _UNABLE_TO_GET_ISSUER_CERT,
    _UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
    _UNABLE_TO_VERIFY_LEAF_SIGNATURE,
}
_UNTRUSTED = _MISSING_ISSUER | {_DEPTH_ZERO_SELF_SIGNED_CERT, _SELF_SIGNED_CERT_IN_CHAIN}

_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_+=-]{64,}")

_BEARER_PREFIX = re.compile(r"bearer(?:\s+|$)", re.IGNORECASE)

RENEW_FIX = "renew the certificate, and check why automatic renewal has not run"


class InvalidToken(InvalidInput):
    """The bearer token is empty, or has whitespace or non-ASCII characters. No request was sent."""


class InvalidBridgeUrl(InvalidInput):
    """The bridge URL is not an https URL of a host, with an optional port and nothing else."""


class MissingStackOutput(ScimBridgeError, LookupError):
    """The stack has no bridge URL among its outputs (not deployed yet, or deployed elsewhere)."""


@dataclass(frozen=True)
class BridgeUrl:
    """The bridge's location: an ASCII host name or IP address, and a port."""

    host: str
    port: int = 443

    @property
    def url(self) -> str:
        """The bridge's address as a browser takes it, e.g. `https://scim.example.com/`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == 443 else f":{self.port}"
        return f"https://{host}{port}/"


@dataclass
class Verification:
    """The checks run, in order, and the bridge's version and build when /health sent them."""

    results: list[CheckResult] = field(default_factory=list)
    bridge_version: str | None = None
    bridge_build: str | None = None


def parse_bridge_url(text: str, *, argument: str = "URL") -> BridgeUrl:
    """Parse `https://HOST[:PORT][/]` into a BridgeUrl; international names become A-labels.

    :param argument: where the URL came from, for the error message.
    :raises InvalidBridgeUrl: naming `argument` and the value, for anything else. The value
        is left out when it contains user info or looks like a bearer token.
    """
    accepted = "accepted: https://HOST or https://HOST:PORT, e.g. https://scim.example.com"
    text = text.strip()
    value = shown(text)
    hidden = _TOKEN_LIKE.search(text) is not None
    if "://" not in text:
        suggestion = "" if hidden else f"; did you mean 'https://{text}'?"
        raise InvalidBridgeUrl(f"verify: {argument}: {value} has no scheme{suggestion}")

    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError as error:
        reason = "" if hidden else f" ({error})"
        raise InvalidBridgeUrl(
            f"verify: {argument}: {value} is not a URL{reason}; {accepted}"
        ) from None

    if parts.username is not None or parts.password is not None:
        # The user info may carry a password, so the value is not shown.
        raise InvalidBridgeUrl(f"verify: {argument}: the URL contains user info; {accepted}")
    if parts.scheme.lower() != "https":
        raise InvalidBridgeUrl(
            f"verify: {argument}: {value} uses {parts.scheme}, but the bridge is checked over "
            f"HTTPS only, so that the bearer token never travels in clear text; {accepted}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidBridgeUrl(
            f"verify: {argument}: {value} has a path, query or fragment, but the checks use "
            f"the bridge's own paths; {accepted}"
        )
    if not parts.hostname:
        raise InvalidBridgeUrl(f"verify: {argument}: {value} has no host; {accepted}")

    return BridgeUrl(host=_ascii_host(parts.hostname, value, argument), port=port or 443)


def _ascii_host(hostname: str, value: str, argument: str) -> str:
    try:
        return str(ipaddress.ip_address(hostname))
    except ValueError:
        pass

    try:
        return idna.encode(hostname.rstrip("."), uts46=True).decode("ascii")
    except idna.IDNAError:
        raise InvalidBridgeUrl(
            f"verify: {argument}: {value} does not name a valid host; accepted: a DNS name "
            "or an IP address"
        ) from None


def shown(value: str) -> str:
    """Return `value` quoted for an error message, or a placeholder when it looks like a token.

    A run of 64 or more token characters fits no DNS label (at most 63 characters) and few
    file or variable names, so such a value is taken for a bearer token given in the wrong
    place. NOTE: a token shorter than that is shown like any other value.
    """
    if _TOKEN_LIKE.search(value):
        return "(a value that looks like a bearer token, not shown)"
    return repr(value)


def clean_token(raw: str, *, source: str) -> str:
    """Return the bearer token without surrounding whitespace and without a `Bearer ` prefix.

    :param source: where the token came from (e.g. "--token-file /path"), for the message.
    :raises InvalidToken: when the token is empty, has whitespace or control characters
        inside, or has characters outside printable ASCII. The message never contains the
        token.
    """
    token = raw.strip().lstrip("\ufeff").strip()
    token = _BEARER_PREFIX.sub("", token, count=1) if _BEARER_PREFIX.match(token) else token
    problem = token_problem(token)
    if problem == "is empty":
        raise InvalidToken(f"verify: the bearer token from {source} is empty")
    if problem is not None:
        raise InvalidToken(
            f"verify: the bearer token from {source} {problem}; a bearer token is one word of "
            "printable ASCII, so copy it again from the setup page or the file you saved"
        )
    return token


def make_tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Return a client TLS context that trusts the system's CAs plus those in `ca_file`.

    :raises InvalidInput: naming --ca-file when it cannot be read or contains no certificate.
    """
    context = ssl.create_default_context()
    if ca_file is None:
        return context

    try:
        context.load_verify_locations(cafile=str(ca_file))
    except ssl.SSLError:
        raise InvalidInput(
            f"verify: --ca-file: {ca_file} contains no PEM certificate; accepted: a PEM "
            "file of one or more CA certificates"
        ) from None
    except OSError as error:
        raise InvalidInput(
            f"verify: --ca-file: cannot read {ca_file}: {error.strerror or error}"
        ) from None
    return context


def check_bridge(
    target: BridgeUrl,
    token: str,
    *,
    context: ssl.SSLContext,
    timeout: float,
    now: datetime | None = None,
) -> Verification:
    """Run the checks in order against the bridge at `target` and return their results.

    A failed lookup, connection or certificate verification ends the run, because the later
    checks would fail the same way or would send the token to an unverified server. Should a
    server echo the token, every result and the bridge's version and build have it replaced
    by "[redacted]".

    :param timeout: seconds to wait for each step (lookup, connection, handshake, response).
    """
    now = now or datetime.now(UTC)
    verification = Verification()
    try:
        _run_checks(target, token, context, timeout, now, verification)
    except ProbeFailed as failure:
        verification.results.append(
            CheckResult(failure.step, Status.FAIL, failure.message, failure.fix)
        )
    # Server text was redacted where it entered the results, so this only catches a path
    # that missed it.
    verification.results = [_redact(result, token) for result in verification.results]
    if verification.bridge_version is not None:
        verification.bridge_version = redact(verification.bridge_version, token)
    if verification.bridge_build is not None:
        verification.bridge_build = redact(verification.bridge_build, token)
    return verification


def _run_checks(
    target: BridgeUrl,
    token: str,
    context: ssl.SSLContext,
    timeout: float,
    now: datetime,
    verification: Verification,
) -> None:
    results = verification.results
    addresses = bridgeprobe.resolve(target.host, target.port, timeout)
    results.append(assess_resolution(target, addresses))
    if not addresses:
        return

    probe = bridgeprobe.probe_tls(addresses, target.port, target.host, context, timeout)
    tls_results = assess_tls(target, probe, now)
    results.extend(tls_results)
    if probe.verify_code is not None:
        return

    def get(path: str, headers: dict[str, str], step: str) -> HttpResponse:
        response = bridgeprobe.get(
            probe.address,
            target.host,
            target.port,
            path,
            context=context,
            timeout=timeout,
            headers={"User-Agent": "scim-bridge-verify", **headers},
            step=step,
        )
        if _contains_token(response, token):
            log.warning(
                "the response to GET %s contains the bearer token; the output shows %s "
                "in its place",
                path,
                REDACTED,
            )
        return _printable_response(response, token)

    results.append(assess_ping(get("/ping", {}, "ping")))

    health_headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
    health = get("/health", health_headers, "health")
    results.extend(assess_health(target, health, verification, token=token))


def _contains_token(response: HttpResponse, token: str) -> bool:
    texts = [response.reason, *response.headers.values()]
    return any(token in text for text in texts) or token.encode() in response.body


def _printable_response(response: HttpResponse, token: str) -> HttpResponse:
    # The status line and headers reach the output: the reason, the location of a
    # redirect and the content type. The body is made printable as it is parsed.
    return replace(
        response,
        reason=server_text(response.reason, token=token),
        headers={name: server_text(value, token=token) for name, value in response.headers.items()},
    )


def assess_resolution(target: BridgeUrl, addresses: list[str]) -> CheckResult:
    """Return the dns check: ok when the host has at least one address."""
    if not addresses:
        return CheckResult(
            "dns",
            Status.FAIL,
            f"{target.host} resolves to no address",
            fix=f"check its DNS record (scim-bridge dns check {target.host})",
        )
    if addresses == [target.host]:
        return CheckResult("dns", Status.OK, f"{target.host} is an IP address, no lookup needed")
    return CheckResult("dns", Status.OK, f"{target.host} resolves to {', '.join(addresses)}")


def assess_tls(target: BridgeUrl, probe: TlsProbe, now: datetime) -> list[CheckResult]:
    """Return the tls, chain and expiry checks for one handshake.

    The chain check runs when the certificate verified (was every intermediate sent, or did
    this machine's trust store supply one?) and when verification failed for want of an
    issuer or trust (was an intermediate left out?). The expiry check runs whenever the
    leaf certificate could be read.
    """
    leaf = probe.sent_chain[0] if probe.sent_chain else None
    where = bridgeprobe.endpoint(probe.address, target.port)
    results = [_assess_handshake(target, probe, leaf, where, now)]

    if probe.verify_code is None:
        results.append(assess_chain(probe.sent_chain, probe.verified_chain))
    elif probe.verify_code in _UNTRUSTED and probe.sent_chain:
        results.append(assess_untrusted_chain(probe.sent_chain, probe.verify_code))

    if leaf is not None:
        results.append(assess_expiry(leaf, now))
    return results


def _assess_handshake(
    target: BridgeUrl, probe: TlsProbe, leaf: x509.Certificate | None, where: str, now: datetime
) -> CheckResult:
    names = certificate_names(leaf) if leaf is not None else "an unreadable certificate"
    if probe.verify_code is None:
        issuer = _common_name(leaf.issuer) if leaf is not None else "unknown"
        return CheckResult(
            "tls",
            Status.OK,
            f"{probe.version} with {where}, certificate for {names} issued by {issuer!r}",
        )

    code = probe.verify_code
    if code in (_HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH):
        return CheckResult(
            "tls",
            Status.FAIL,
            f"the certificate of {where} is for {names}, not {target.host}",
            fix=f"serve a certificate whose subject alternative names include {target.host}",
        )

    if code == _CERT_HAS_EXPIRED and leaf is not None and leaf.not_valid_after_utc <= now:
        expired = leaf.not_valid_after_utc
        return CheckResult(
            "tls",
            Status.FAIL,
            f"the certificate of {where} for {names} expired on {expired:%Y-%m-%d %H:%M} UTC",
            fix=RENEW_FIX,
        )

    if code == _CERT_NOT_YET_VALID and leaf is not None and leaf.not_valid_before_utc > now:
        return CheckResult(
            "tls",
            Status.FAIL,
            f"the certificate of {where} for {names} is not valid before "
            f"{leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
            fix="check the clock of this machine and of the server",
        )

    if code in _UNTRUSTED:
        return CheckResult(
            "tls",
            Status.FAIL,
            f"the certificate of {where} for {names} is not trusted: {probe.verify_message}",
            fix="see the chain check",
        )

    return CheckResult(
        "tls",
        Status.FAIL,
        f"the certificate of {where} for {names} did not verify: {probe.verify_message} "
        f"(OpenSSL error {code})",
        fix=RENEW_FIX if code == _CERT_HAS_EXPIRED else "",
    )


def assess_chain(
    sent: list[x509.Certificate] | None, verified: list[x509.Certificate] | None
) -> CheckResult:
    """Return the chain check after a verified handshake.

    The chain fails when OpenSSL needed an intermediate certificate that the server did not
    send. It verified here only because this machine's trust store contains that
    intermediate, and clients without it (some identity providers) reject the chain.
    """
    if sent is None or verified is None:
        return CheckResult(
            "chain",
            Status.WARN,
            "this Python cannot read the certificate chain the server sent, so it was not "
            "checked for missing intermediates",
            fix="run verify with Python 3.11 or later built on OpenSSL",
        )

    sent_fingerprints = {_fingerprint(certificate) for certificate in sent}
    intermediates = verified[1:-1]
    missing = [cert for cert in intermediates if _fingerprint(cert) not in sent_fingerprints]
    if missing:
        names = ", ".join(repr(_common_name(cert.subject)) for cert in missing)
        return CheckResult(
            "chain",
            Status.FAIL,
            f"the server did not send the intermediate certificate {names}; the chain "
            "verified here only because this machine's trust store contains it, and some "
            "identity providers reject it",
            fix="configure the server to send the full chain (leaf and intermediates)",
        )

    path = " <- ".join(repr(_common_name(cert.subject)) for cert in verified)
    return CheckResult("chain", Status.OK, f"complete: {path}")


def assess_untrusted_chain(sent: list[x509.Certificate], verify_code: int) -> CheckResult:
    """Return the chain check after verification failed for want of an issuer or of trust.

    A leaf sent alone whose issuer is not a trusted root means the server left out the
    intermediate, which is what public CAs issue from. A chain that ends in an untrusted
    root, or in an intermediate whose issuer is unknown here, names the CA to trust.
    """
    path = issuance_path(sent)
    top = path[-1]
    issuer = _common_name(top.issuer)
    if verify_code == _DEPTH_ZERO_SELF_SIGNED_CERT or (len(path) == 1 and _is_self_issued(top)):
        return CheckResult(
            "chain",
            Status.FAIL,
            f"the certificate {_common_name(top.subject)!r} is self-signed",
            fix="serve a certificate from a CA, or pass the certificate itself with --ca-file",
        )

    if len(path) == 1 and verify_code in _MISSING_ISSUER:
        return CheckResult(
            "chain",
            Status.FAIL,
            f"incomplete: the server sent only its own certificate, without the "
            f"intermediate {issuer!r} that issued it",
            fix="configure the server to send the full chain (leaf and intermediates); "
            f"if {issuer!r} is itself a private root CA, pass it with --ca-file",
        )

    if _is_self_issued(top):
        return CheckResult(
            "chain",
            Status.FAIL,
            f"the chain ends at the root {_common_name(top.subject)!r}, which is not trusted here",
            fix="pass that root CA certificate with --ca-file when it is your own CA",
        )

    return CheckResult(
        "chain",
        Status.FAIL,
        f"the chain ends at {_common_name(top.subject)!r}, whose issuer {issuer!r} was not "
        "sent and is not trusted here",
        fix=f"send the missing intermediate, or pass the CA certificate of {issuer!r} with "
        "--ca-file when it is your own CA",
    )


def issuance_path(sent: list[x509.Certificate]) -> list[x509.Certificate]:
    """Return the leaf followed by each sent certificate that issued the one before it.

    Certificates the server sent but that are not on the leaf's path are left out. The path
    stops at a self-issued certificate or where the next issuer was not sent.
    """
    path = [sent[0]]
    while not _is_self_issued(path[-1]):
        issuer = next(
            (cert for cert in sent if cert not in path and _issued(path[-1], by=cert)), None
        )
        if issuer is None:
            break
        path.append(issuer)
    return path


def _issued(certificate: x509.Certificate, *, by: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(by)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_self_issued(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject


def assess_expiry(leaf: x509.Certificate, now: datetime) -> CheckResult:
    """Return the expiry check: fail once expired, warn under EXPIRY_WARNING_DAYS days left."""
    expires = leaf.not_valid_after_utc
    days = (expires - now).days
    when = f"{expires:%Y-%m-%d %H:%M} UTC"
    if expires <= now:
        return CheckResult(
            "expiry", Status.FAIL, f"expired on {when}, {-days} days ago", fix=RENEW_FIX
        )
    if days < EXPIRY_WARNING_DAYS:
        return CheckResult(
            "expiry",
            Status.WARN,
            f"expires on {when}, in {days} days (under {EXPIRY_WARNING_DAYS})",
            fix=RENEW_FIX,
        )
    return CheckResult("expiry", Status.OK, f"expires on {when}, in {days} days")


def assess_ping(response: HttpResponse) -> CheckResult:
    """Return the ping check: ok on a 2xx status, whatever the body contains."""
    status = f"{response.status} {response.reason}".strip()
    if 200 <= response.status < 300:
        return CheckResult("ping", Status.OK, f"GET /ping returned {status}")
    if 300 <= response.status < 400:
        return _redirect_result("ping", "/ping", response)
    return CheckResult(
        "ping", Status.FAIL, f"GET /ping returned {status}", fix=_status_fix(response.status)
    )


def assess_health(
    target: BridgeUrl,
    response: HttpResponse,
    verification: Verification | None = None,
    *,
    token: str | None = None,
) -> list[CheckResult]:
    """Return the health check and one check per component the health report lists.

    The status decides first: 401 and 403 mean the token was rejected, a redirect is not
    followed, and any other status outside 2xx fails even when a report comes with it. A
    2xx response must be the JSON report with every component in state "healthy". An HTML
    page in its place means the bridge is waiting for setup. The bridge's version and build
    are stored in `verification` when given. Should the report contain `token`, it is
    replaced by "[redacted]".
    """
    status = f"{response.status} {response.reason}".strip()
    if response.status in (401, 403):
        return [
            CheckResult(
                "health",
                Status.FAIL,
                f"the bridge rejected the bearer token (GET /health returned {status})",
                fix="use the bearer token issued with this bridge's scimsession file; when it "
                "is lost, regenerate both on the Integrations page of your 1Password account",
            )
        ]

    if 300 <= response.status < 400:
        return [_redirect_result("health", "/health", response)]

    success = 200 <= response.status < 300
    if success and _is_html(response):
        return [
            CheckResult(
                "health",
                Status.FAIL,
                "GET /health returned an HTML page instead of a health report: the "
                "bridge is waiting for setup",
                fix=f"sign in at {target.url} with your 1Password account to finish setup",
            )
        ]

    try:
        report = parse_health_report(response.body, token=token)
    except ValueError as error:
        if success:
            content_type = response.headers.get("content-type", "no content type")
            detail = f"GET /health returned {status} ({content_type}), but {error}"
            return [CheckResult("health", Status.FAIL, detail, fix="check the bridge's logs")]
        return [
            CheckResult(
                "health",
                Status.FAIL,
                f"GET /health returned {status}",
                fix=_status_fix(response.status),
            )
        ]

    if verification is not None:
        verification.bridge_version = report.version
        verification.bridge_build = report.build
    return _assess_report(report, status, success)


@dataclass(frozen=True)
class ComponentReport:
    """One component's entry in the health report."""

    source: str
    state: str
    time: str | None
    expires: str | None


@dataclass(frozen=True)
class HealthReport:
    """The body of `GET /health`: the bridge's version and build, and one entry per component."""

    version: str
    build: str
    reports: list[ComponentReport]
    retrieved_at: str | None


def parse_health_report(body: bytes, *, token: str | None = None) -> HealthReport:
    """Parse the JSON body of `GET /health`.

    The shape is `{"build", "version", "reports": [{"source", "time", "expires", "state"}],
    "retrievedAt"}`. `reports` and each entry's `source` and `state` are required; the
    others are shown when present. Every text in the result has passed through
    scripts.servertext.server_text, so it has `token` redacted, is cut short and has no
    control characters.

    :raises ValueError: with a short reason when the body is not JSON or not that shape.
    """
    try:
        document = json.loads(body.decode("utf-8"))
    except RecursionError:
        # json's decoder recurses once per nested array or object.
        raise ValueError("the body is JSON nested too deeply to be a health report") from None
    except ValueError:
        # Also raised for an integer of more digits than sys.get_int_max_str_digits().
        raise ValueError("the body is not JSON") from None

    if not isinstance(document, dict):
        raise ValueError("the body is not a JSON object")
    entries = document.get("reports")
    if not isinstance(entries, list):
        raise ValueError("the health report has no 'reports' list")

    reports = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"reports[{index}] is not an object")
        source, state = entry.get("source"), entry.get("state")
        if not isinstance(source, str) or not isinstance(state, str):
            raise ValueError(f"reports[{index}] has no 'source' or 'state' string")
        reports.append(
            ComponentReport(
                source=server_text(source, token=token),
                state=server_text(state, token=token),
                time=_optional_text(entry.get("time"), token),
                expires=_optional_text(entry.get("expires"), token),
            )
        )

    return HealthReport(
        version=_optional_text(document.get("version"), token) or "unknown",
        build=_optional_text(document.get("build"), token) or "unknown",
        reports=reports,
        retrieved_at=_optional_text(document.get("retrievedAt"), token),
    )


def _assess_report(report: HealthReport, status: str, success: bool) -> list[CheckResult]:
    bridge = f"bridge {report.version} (build {report.build})"
    components = [_assess_component(entry, report) for entry in report.reports]
    unhealthy = [entry for entry in report.reports if entry.state != HEALTHY]

    if not success:
        headline = CheckResult(
            "health",
            Status.FAIL,
            f"GET /health returned {status}; {bridge}, {len(unhealthy)} of "
            f"{len(report.reports)} components not healthy",
            fix="see the component checks and the bridge's logs",
        )
    elif not report.reports:
        headline = CheckResult(
            "health",
            Status.FAIL,
            f"{bridge} returned a health report that lists no components",
            fix="check the bridge's logs",
        )
    elif unhealthy:
        headline = CheckResult(
            "health",
            Status.FAIL,
            f"{bridge}: {len(unhealthy)} of {len(report.reports)} components not healthy",
            fix="see the component checks and the bridge's logs",
        )
    else:
        retrieved = f" at {report.retrieved_at}" if report.retrieved_at else ""
        headline = CheckResult(
            "health",
            Status.OK,
            f"{bridge}: all {len(report.reports)} components healthy{retrieved}",
        )
    return [headline, *components]


def _assess_component(entry: ComponentReport, report: HealthReport) -> CheckResult:
    name = f"component {entry.source}"
    reported = f", reported {entry.time}" if entry.time else ""
    detail = f"{entry.state} (bridge {report.version}){reported}"
    if entry.state != HEALTHY:
        return CheckResult(name, Status.FAIL, detail, fix="check the bridge's logs")

    expires = _parse_time(entry.expires)
    retrieved = _parse_time(report.retrieved_at)
    if expires is not None and retrieved is not None and expires < retrieved:
        return CheckResult(
            name,
            Status.WARN,
            f"{detail}, but that report expired at {entry.expires}",
            fix="the component has stopped reporting: check the bridge's logs",
        )
    return CheckResult(name, Status.OK, detail)


def _redirect_result(step: str, path: str, response: HttpResponse) -> CheckResult:
    location = response.headers.get("location", "nowhere")
    return CheckResult(
        step,
        Status.FAIL,
        f"GET {path} returned {response.status}, a redirect to {location}, which is not followed",
        fix="pass the URL the bridge itself is served on",
    )


def _status_fix(status: int) -> str:
    if status in (502, 503, 504):
        return "no bridge responds behind the load balancer: check the bridge pod and its logs"
    if status == 404:
        return "check that this address serves the SCIM bridge"
    return "check the bridge's logs"


def _is_html(response: HttpResponse) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    return content_type.startswith("text/html") or response.body.lstrip()[:1] == b"<"


def _optional_text(value: object, token: str | None) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return server_text(value, token=token)


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def certificate_names(certificate: x509.Certificate) -> str:
    """Return the DNS names and IP addresses a certificate is for, or its common name."""
    try:
        extension = certificate.extensions.get_extension_for_oid(
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME
        )
    except x509.ExtensionNotFound:
        return _common_name(certificate.subject)

    names = [server_text(name) for name in extension.value.get_values_for_type(x509.DNSName)]
    addresses = [str(address) for address in extension.value.get_values_for_type(x509.IPAddress)]
    everything = names + addresses
    if len(everything) > 5:
        return ", ".join(everything[:5]) + f" and {len(everything) - 5} more"
    return ", ".join(everything) or _common_name(certificate.subject)


def _common_name(name: x509.Name) -> str:
    attributes = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if attributes:
        return server_text(attributes[0].value)
    return server_text(name.rfc4514_string()) or "(empty name)"


def _fingerprint(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.DER)


def _redact(result: CheckResult, token: str) -> CheckResult:
    return replace(
        result,
        name=redact(result.name, token),
        detail=redact(result.detail, token),
        fix=redact(result.fix, token),
    )
