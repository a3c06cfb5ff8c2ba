"""Text a server sent, made safe to print in the lines and JSON documents of the commands.

A hostile or broken server controls what it returns: a bridge its health report, status
line, headers and certificate names, the DigitalOcean API its error messages and resource
data. It may echo a token, which is replaced by "[redacted]". Control characters could forge
output lines or drive the terminal, so each one is shown as an escape, and long values are
cut.
"""

import json
import re
import unicodedata

REDACTED = "[redacted]"

# Longer server text is cut, so that no single value floods the output.
MAX_SERVER_TEXT = 200

# Unicode categories shown as escapes: control characters (C0, DEL and C1), format
# characters such as bidirectional overrides, lone surrogates, and the line and paragraph
# separators.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def escape_controls(text: str) -> str:
    """Replace each control or format character with a visible escape: `\\r`, `\\x1b`, `\\u2028`."""
    return "".join(
        _escape(character) if unicodedata.category(character) in _ESCAPED_CATEGORIES else character
        for character in text
    )


_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(character: str) -> str:
    if character in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[character]
    code = ord(character)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def shorten(text: str, limit: int = MAX_SERVER_TEXT) -> str:
    """Cut `text` to `limit` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def redact(text: str, token: str | None) -> str:
    """Replace each `token` in `text`, with any `Bearer ` before it, by "[redacted]".

    The token's JSON string form is replaced too, so that a rendered JSON document can be
    redacted as a whole. NOTE: a token the server altered (cut, split across values, or
    percent-encoded in a URL) is not recognized.
    """
    if not token:
        return text
    forms = sorted({token, json.dumps(token)[1:-1]}, key=len, reverse=True)
    pattern = r"(?i:bearer\s+)?(?:" + "|".join(re.escape(form) for form in forms) + ")"
    return re.sub(pattern, REDACTED, text)


def server_text(value: object, *, token: str | None = None, limit: int = MAX_SERVER_TEXT) -> str:
    """Return a value the server sent as text to show: token redacted, cut, controls escaped.

    The token is redacted before the text is cut, so that the cut cannot leave part of it.
    """
    return escape_controls(shorten(redact(str(value), token), limit))
