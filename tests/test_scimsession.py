"""Parsing the scimsession credentials file: accepted forms, each rejection, and no leaks."""

import base64
import json

import pytest

from infra.errors import InvalidInput
from infra.scimsession import SESSION_FIELDS, InvalidScimSession, parse_scimsession

SECRET_MARKER = "s3cr3t-credential-material"
SESSION = {
    "verifier": {"salt": "c2FsdA", "localHash": SECRET_MARKER},
    "encCredentials": {"kid": "localauthv2keykid", "enc": "A256GCM", "data": SECRET_MARKER},
    "version": "2",
    "deviceUuid": "abcdefghijklmnopqrstuvwxyz",
}
SESSION_JSON = json.dumps(SESSION, indent=2)
JWT_LIKE = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzY2ltIn0.c2lnbmF0dXJl"


def test_parses_plain_json():
    session = parse_scimsession(SESSION_JSON)

    assert json.loads(session.text) == SESSION
    assert session.fields >= {"verifier", "encCredentials", "version", "deviceUuid"}
    assert session.domain is None
    assert not session.was_base64


def test_parses_base64_of_json():
    session = parse_scimsession(base64.b64encode(SESSION_JSON.encode()))

    assert json.loads(session.text) == SESSION
    assert session.was_base64


def test_parses_base64_wrapped_over_lines():
    encoded = base64.b64encode(SESSION_JSON.encode()).decode()
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))

    assert json.loads(parse_scimsession(wrapped).text) == SESSION


def test_tolerates_byte_order_mark_and_crlf():
    raw = ("\ufeff" + SESSION_JSON.replace("\n", "\r\n")).encode()

    session = parse_scimsession(raw)

    assert json.loads(session.text) == SESSION
    assert session.had_bom
    assert session.had_crlf


def test_reads_domain_in_lower_case_without_trailing_dot():
    session = parse_scimsession(json.dumps({**SESSION, "domain": "SCIM.Example.com."}))

    assert session.domain == "scim.example.com"


@pytest.mark.parametrize(
    ("raw", "reason", "phrase"),
    [
        ("", "empty", "is empty"),
        ("  \r\n ", "empty", "is empty"),
        (b"\xff\xfe{", "not-json", "not UTF-8"),
        (SESSION_JSON[: len(SESSION_JSON) // 2], "truncated", "truncated"),
        (SESSION_JSON[:-1], "truncated", "truncated"),
        (
            base64.b64encode(SESSION_JSON[:40].encode()).decode(),
            "truncated",
            "base64 of JSON ends early",
        ),
        (JWT_LIKE, "bearer-token", "bearer token"),
        ("Bearer " + JWT_LIKE, "bearer-token", "bearer token"),
        ("{not json}", "not-json", "not valid JSON"),
        ("this is: not a session", "not-json", "neither JSON nor base64"),
        (base64.b64encode(b"plain words").decode(), "not-json", "other than JSON"),
        ('["a list"]', "not-a-session", "not a JSON object"),
        ('{"version": "2"}', "not-a-session", "missing field(s) deviceUuid, encCredentials"),
    ],
)
def test_rejects_bad_file(raw, reason, phrase):
    with pytest.raises(InvalidScimSession) as caught:
        parse_scimsession(raw, source="scim-bridge:scimsession")

    assert caught.value.reason == reason
    assert phrase in str(caught.value)
    assert str(caught.value).startswith("scim-bridge:scimsession: ")
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    "raw",
    [SESSION_JSON[:-3], SESSION_JSON.replace('"version"', "version"), JWT_LIKE + SECRET_MARKER],
)
def test_error_never_echoes_content(raw):
    raw = raw.replace("abcdefghijklmnopqrstuvwxyz", SECRET_MARKER)

    with pytest.raises(InvalidScimSession) as caught:
        parse_scimsession(raw)

    assert SECRET_MARKER not in str(caught.value)
    assert "eyJ" not in str(caught.value)


def test_repr_hides_text():
    session = parse_scimsession(SESSION_JSON)

    assert SECRET_MARKER not in repr(session)


def test_deeply_nested_session_rejected():
    with pytest.raises(InvalidScimSession) as caught:
        parse_scimsession("[" * 100_000 + "]" * 100_000)

    assert caught.value.reason in ("not-a-session", "not-json")


def test_oversized_session_rejected():
    with pytest.raises(InvalidScimSession) as caught:
        parse_scimsession('{"pad": "' + "x" * 70_000 + '"}')

    assert "larger than 64 KiB" in str(caught.value)


def test_domain_field_with_newline_rejected():
    document = {field: "x" for field in SESSION_FIELDS} | {"domain": "scim.example.com\nok  fine"}

    with pytest.raises(InvalidScimSession) as caught:
        parse_scimsession(json.dumps(document))

    assert "not a host name" in str(caught.value)
    assert "ok  fine" not in str(caught.value)
