"""Parse the bridge's `scimsession` credentials file without ever echoing its contents.

The file is JSON (or base64 of that JSON) written by 1Password when the bridge is set
up. Messages name the source (a setting or a path) and the problem, never the content,
because the file contains the bridge's credentials.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass

from infra.errors import InvalidInput

# Top-level fields that every session file written by the bridge's setup carries.
SESSION_FIELDS = frozenset({"verifier", "encCredentials", "version", "deviceUuid"})

ACCEPTED = "accepted: the scimsession file saved when the bridge was set up (JSON, or base64 of it)"

# Session files are a few kilobytes; the limits keep hostile input short in messages.
MAX_SESSION_SIZE = 64 * 1024
MAX_DOMAIN_FIELD = 300

_BASE64 = re.compile(r"[A-Za-z0-9+/_\-=\s]+")
_JWT = re.compile(r"(?:Bearer\s+)?eyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*")


class InvalidScimSession(InvalidInput):
    """The scimsession file is empty, truncated, not JSON, a bearer token, or not a session.

    `reason` is one of "empty", "truncated", "bearer-token", "not-json", "not-a-session".
    """

    def __init__(self, source: str, reason: str, problem: str):
        super().__init__(f"{source}: {problem}; {ACCEPTED}")
        self.source = source
        self.reason = reason


@dataclass(frozen=True)
class ScimSession:
    """A parsed scimsession file. `text` is secret: keep it inside a Pulumi secret."""

    text: str
    fields: frozenset[str]
    domain: str | None
    was_base64: bool
    had_bom: bool
    had_crlf: bool

    def __repr__(self) -> str:
        return (
            f"ScimSession(fields={sorted(self.fields)}, domain={self.domain!r}, "
            f"was_base64={self.was_base64}, had_bom={self.had_bom}, had_crlf={self.had_crlf})"
        )


def parse_scimsession(raw: bytes | str, *, source: str = "scimsession") -> ScimSession:
    """Parse a scimsession file given as JSON or base64 of JSON.

    A UTF-8 byte-order mark and Windows line endings are removed and reported in the
    result, so a caller may warn about them.

    :param raw: the file's bytes or text.
    :param source: the setting or path named in error messages.
    :raises InvalidScimSession: with a `reason` saying what is wrong.
    :returns: the session, with `text` as compact JSON.
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidScimSession(source, "not-json", "is not UTF-8 text") from None

    had_bom = raw.startswith("\ufeff")
    text = raw.removeprefix("\ufeff")
    had_crlf = "\r\n" in text
    text = text.replace("\r\n", "\n").strip()

    if not text:
        raise InvalidScimSession(source, "empty", "is empty")
    if _JWT.fullmatch(text):
        raise InvalidScimSession(
            source,
            "bearer-token",
            "looks like a bearer token, which goes to the identity provider, not the bridge",
        )

    was_base64 = not text.startswith(("{", "["))
    if was_base64:
        text = _decode_base64(text, source)

    document = _load_json(text, source, was_base64)
    missing = sorted(SESSION_FIELDS - document.keys())
    if missing:
        raise InvalidScimSession(
            source,
            "not-a-session",
            f"is JSON but not a scimsession file: missing field(s) {', '.join(missing)}",
        )

    domain = document.get("domain")
    if isinstance(domain, str) and not _plausible_domain(domain.strip()):
        # Shown in error messages beside the hostname, so it must be short plain text.
        raise InvalidScimSession(
            source, "not-a-session", "has a domain field that is not a host name or URL"
        )
    return ScimSession(
        text=json.dumps(document, separators=(",", ":")),
        fields=frozenset(document),
        domain=domain.strip().lower().rstrip(".") if isinstance(domain, str) and domain else None,
        was_base64=was_base64,
        had_bom=had_bom,
        had_crlf=had_crlf,
    )


def _plausible_domain(domain: str) -> bool:
    return len(domain) <= MAX_DOMAIN_FIELD and domain.isprintable() and " " not in domain


def _decode_base64(text: str, source: str) -> str:
    if not _BASE64.fullmatch(text):
        raise InvalidScimSession(source, "not-json", "is neither JSON nor base64 of JSON")

    compact = re.sub(r"\s+", "", text).rstrip("=")
    padded = compact + "=" * (-len(compact) % 4)
    try:
        decoded = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        decoded_text = decoded.decode("utf-8").removeprefix("\ufeff").strip()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidScimSession(source, "not-json", "is neither JSON nor base64 of JSON") from None

    if not decoded_text.startswith("{"):
        raise InvalidScimSession(source, "not-json", "is base64, but of something other than JSON")
    return decoded_text


def _load_json(text: str, source: str, was_base64: bool) -> dict:
    form = "base64 of JSON" if was_base64 else "JSON"
    if len(text) > MAX_SESSION_SIZE:
        raise InvalidScimSession(
            source, "not-a-session", f"is larger than {MAX_SESSION_SIZE // 1024} KiB"
        )
    try:
        document = json.loads(text)
    except RecursionError:
        raise InvalidScimSession(source, "not-a-session", f"is {form} nested too deeply") from None
    except json.JSONDecodeError as error:
        # A file cut short ends inside a string or before the closing brace.
        if error.msg.startswith("Unterminated string") or error.pos >= len(text):
            raise InvalidScimSession(
                source, "truncated", f"is truncated: its {form} ends early (copy the whole file)"
            ) from None
        raise InvalidScimSession(
            source,
            "not-json",
            f"is not valid {form}: {error.msg} at line {error.lineno} column {error.colno}",
        ) from None

    if not isinstance(document, dict):
        raise InvalidScimSession(source, "not-a-session", f"is {form} but not a JSON object")
    return document
