"""scripts.servertext: text from a server, redacted, cut and escaped before it is shown."""

import pytest

from scripts.servertext import MAX_SERVER_TEXT, escape_controls, redact, server_text, shorten

TOKEN = "scimtest-Zq8vN3kL5pR7tW2xY9bC4dF6"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("A\rok    forged line\n", "A\\rok    forged line\\n"),
        ("\x1b[2J\x1b[31mPWNED\x1b[0m", "\\x1b[2J\\x1b[31mPWNED\\x1b[0m"),
        ("tab\there", "tab\\there"),
        ("nul\x00del\x7f", "nul\\x00del\\x7f"),
        ("c1 \x85 \x9b31m", "c1 \\x85 \\x9b31m"),
        ("line\u2028paragraph\u2029", "line\\u2028paragraph\\u2029"),
        ("bidi \u202eevil", "bidi \\u202eevil"),
        ("surrogate \ud800", "surrogate \\ud800"),
        ("tag \U000e0001", "tag \\U000e0001"),
    ],
)
def test_escape_controls_makes_them_visible(text, expected):
    assert escape_controls(text) == expected


@pytest.mark.parametrize("text", ["SCIMServer", "2.9.3", "2026-06-01T12:00:00Z", "Ünïcödé 日本"])
def test_escape_controls_keeps_printable_text(text):
    assert escape_controls(text) == text


def test_shorten_names_what_was_cut():
    assert shorten("x" * 10, limit=4) == "xxxx... (6 more characters)"
    assert shorten("x" * 4, limit=4) == "xxxx"


def test_server_text_cuts_then_escapes():
    text = server_text("\x1b" * (MAX_SERVER_TEXT + 5))

    assert text == "\\x1b" * MAX_SERVER_TEXT + "... (5 more characters)"


def test_server_text_converts_numbers():
    assert server_text(209031) == "209031"


@pytest.mark.parametrize(
    "text, expected",
    [
        (TOKEN, "[redacted]"),
        (f"Bearer {TOKEN}", "[redacted]"),
        (f"bearer \t {TOKEN}", "[redacted]"),
        (f"got {TOKEN}; again {TOKEN}!", "got [redacted]; again [redacted]!"),
        ("Bearer of other news", "Bearer of other news"),
    ],
)
def test_redact_replaces_token(text, expected):
    assert redact(text, TOKEN) == expected


def test_redact_replaces_json_string_form():
    token = 'scim"test\\token'
    rendered = '{"version": "scim\\"test\\\\token"}'

    assert redact(rendered, token) == '{"version": "[redacted]"}'


def test_redact_without_token_keeps_text():
    assert redact("Bearer abc", None) == "Bearer abc"


def test_server_text_redacts_before_cutting():
    text = server_text("x" * (MAX_SERVER_TEXT - 5) + TOKEN, token=TOKEN)

    assert TOKEN[:5] not in text
    assert text.startswith("x" * (MAX_SERVER_TEXT - 5) + "[red")
