"""The decisions of scripts.bridgecheck, offline: inputs, chains, expiry and health reports."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from scripts.bridgecheck import (
    BridgeUrl,
    InvalidBridgeUrl,
    InvalidToken,
    Verification,
    assess_chain,
    assess_expiry,
    assess_health,
    assess_ping,
    assess_untrusted_chain,
    certificate_names,
    clean_token,
    issuance_path,
    parse_bridge_url,
    parse_health_report,
)
from scripts.bridgeprobe import HttpResponse
from scripts.checks import Status

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TARGET = BridgeUrl("scim.example.com")

# OpenSSL verification error codes, as the probe reports them.
SELF_SIGNED_LEAF = 18
SELF_SIGNED_IN_CHAIN = 19
ISSUER_NOT_FOUND = 20


def load(certificate_pems):
    return [x509.load_pem_x509_certificate(pem.bytes()) for pem in certificate_pems]


def response(status, body=b"", content_type="application/json", **headers):
    all_headers = {"content-type": content_type, **headers}
    return HttpResponse(status=status, reason="", headers=all_headers, body=body)


def report(*states, version="2.9.3", expires="2026-06-01T12:10:00Z"):
    return json.dumps(
        {
            "build": 209031,
            "version": version,
            "reports": [
                {
                    "source": f"Component{index}",
                    "time": "2026-06-01T12:00:00Z",
                    "expires": expires,
                    "state": state,
                }
                for index, state in enumerate(states)
            ],
            "retrievedAt": "2026-06-01T12:00:05Z",
        }
    ).encode()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("https://scim.example.com", BridgeUrl("scim.example.com", 443)),
        ("https://scim.example.com/", BridgeUrl("scim.example.com", 443)),
        ("  HTTPS://SCIM.Example.com:8443  ", BridgeUrl("scim.example.com", 8443)),
        ("https://scim.example.com.", BridgeUrl("scim.example.com", 443)),
        ("https://bücher.example", BridgeUrl("xn--bcher-kva.example", 443)),
        ("https://[::1]:9443", BridgeUrl("::1", 9443)),
        ("https://127.0.0.1:9443", BridgeUrl("127.0.0.1", 9443)),
    ],
)
def test_parse_bridge_url_accepts(text, expected):
    assert parse_bridge_url(text) == expected


def test_bridge_url_formats_for_browser():
    assert BridgeUrl("scim.example.com").url == "https://scim.example.com/"
    assert BridgeUrl("::1", 9443).url == "https://[::1]:9443/"


def test_parse_bridge_url_names_argument():
    with pytest.raises(InvalidBridgeUrl) as raised:
        parse_bridge_url("ftp://scim.example.com", argument="the scimUrl output of 'prod'")

    assert "the scimUrl output of 'prod': 'ftp://scim.example.com' uses ftp" in str(raised.value)


@pytest.mark.parametrize(
    "raw",
    ["tok3n", " tok3n\n", "Bearer tok3n", "bearer   tok3n\r\n", "\ufefftok3n\n"],
)
def test_clean_token_strips_wrapping(raw):
    assert clean_token(raw, source="test") == "tok3n"


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("", "is empty"),
        ("  \n", "is empty"),
        ("Bearer", "is empty"),
        ("Bearer   ", "is empty"),
        ("tok 3n", "has whitespace inside"),
        ("tok\t3n", "has whitespace inside"),
        ("tok3n\u00e9", "other than printable ASCII"),
    ],
)
def test_clean_token_rejects(raw, reason):
    with pytest.raises(InvalidToken) as raised:
        clean_token(raw, source="--token-env T")

    assert reason in str(raised.value)
    assert "--token-env T" in str(raised.value)
    if raw.strip():
        assert raw.strip() not in str(raised.value)


def test_parse_health_report_reads_documented_shape():
    parsed = parse_health_report(report("healthy", "unhealthy"))

    assert parsed.version == "2.9.3"
    assert parsed.build == "209031"
    assert [entry.state for entry in parsed.reports] == ["healthy", "unhealthy"]
    assert parsed.reports[0].source == "Component0"
    assert parsed.retrieved_at == "2026-06-01T12:00:05Z"


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"", "not JSON"),
        (b"pong", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"version": "2.9.3"}', "no 'reports' list"),
        (b'{"reports": ["healthy"]}', "reports[0] is not an object"),
        (b'{"reports": [{"source": "RedisCache"}]}', "reports[0] has no 'source' or 'state'"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"reports": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        (b'{"reports": [], "version": ' + b"9" * 5000 + b"}", "not JSON"),
    ],
)
def test_parse_health_report_rejects_other_shapes(body, reason):
    with pytest.raises(ValueError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        parse_health_report(body)


def test_parse_health_report_redacts_token():
    token = "scimtest-Zq8vN3kL5pR7tW2xY9bC4dF6"
    body = json.dumps(
        {
            "version": f"Bearer {token}",
            "build": token,
            "reports": [{"source": token, "state": "healthy", "expires": token}],
        }
    ).encode()

    parsed = parse_health_report(body, token=token)

    assert parsed.version == "[redacted]"
    assert parsed.build == "[redacted]"
    assert parsed.reports[0].source == "[redacted]"
    assert parsed.reports[0].expires == "[redacted]"


def test_assess_health_ok_needs_success_status():
    results = assess_health(TARGET, response(200, report("healthy", "healthy")))

    assert [result.status for result in results] == [Status.OK] * 3
    assert "all 2 components healthy" in results[0].detail


def test_assess_health_stores_version():
    verification = Verification()

    assess_health(TARGET, response(200, report("healthy")), verification)

    assert verification.bridge_version == "2.9.3"
    assert verification.bridge_build == "209031"


def test_assess_health_200_without_report_fails():
    results = assess_health(TARGET, response(200, b"", content_type="text/plain"))

    assert len(results) == 1
    assert results[0].status is Status.FAIL
    assert "GET /health returned 200 (text/plain), but the body is not JSON" in results[0].detail


def test_assess_health_lists_no_components_fails():
    results = assess_health(TARGET, response(200, report()))

    assert results[0].status is Status.FAIL
    assert "lists no components" in results[0].detail


def test_assess_health_html_is_setup_page():
    results = assess_health(TARGET, response(200, b"  <!doctype html><p>", content_type=""))

    assert results[0].status is Status.FAIL
    assert "waiting for setup" in results[0].detail
    assert results[0].fix.startswith("sign in at https://scim.example.com/")


def test_assess_health_server_error_without_report():
    results = assess_health(TARGET, response(502, b"<html>Bad Gateway</html>", "text/html"))

    assert len(results) == 1
    assert results[0].detail == "GET /health returned 502"
    assert "load balancer" in results[0].fix


def test_assess_health_stale_report_warns():
    results = assess_health(
        TARGET, response(200, report("healthy", expires="2026-06-01T11:00:00Z"))
    )

    assert results[1].status is Status.WARN
    assert "expired at 2026-06-01T11:00:00Z" in results[1].detail


def test_assess_ping_status_decides():
    assert assess_ping(response(204)).status is Status.OK
    assert assess_ping(response(404, b"pong")).status is Status.FAIL
    redirect = assess_ping(response(301, location="https://elsewhere.example/ping"))
    assert redirect.status is Status.FAIL
    assert "a redirect to https://elsewhere.example/ping" in redirect.detail


@pytest.mark.parametrize(
    "days_left, status",
    [(-2, Status.FAIL), (0.5, Status.WARN), (13.9, Status.WARN), (14, Status.OK), (90, Status.OK)],
)
def test_assess_expiry_thresholds(days_left, status):
    ca = trustme.CA()
    leaf = load(
        ca.issue_cert("a.example", not_after=NOW + timedelta(days=days_left)).cert_chain_pems
    )

    assert assess_expiry(leaf[0], NOW).status is status


def self_signed(*dns_names):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    alternative_names = x509.SubjectAlternativeName(
        [x509.DNSName(dns_name) for dns_name in dns_names]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
        .add_extension(alternative_names, critical=False)
        .sign(key, hashes.SHA256())
    )


def test_certificate_names_escapes_control_characters():
    certificate = self_signed("evil\x1b[2J\r\nok.example", "scim.example.com")

    names = certificate_names(certificate)

    assert names == "evil\\x1b[2J\\r\\nok.example, scim.example.com"


def test_parse_health_report_escapes_server_text():
    body = json.dumps(
        {
            "version": "2.9.3\x1b[0m",
            "build": "1\u2028",
            "reports": [{"source": "A\rB", "state": "healthy\n", "time": "\x00"}],
            "retrievedAt": "\x9b",
        }
    ).encode()

    parsed = parse_health_report(body)

    assert parsed.version == "2.9.3\\x1b[0m"
    assert parsed.build == "1\\u2028"
    assert parsed.reports[0].source == "A\\rB"
    assert parsed.reports[0].state == "healthy\\n"
    assert parsed.reports[0].time == "\\x00"
    assert parsed.retrieved_at == "\\x9b"


def test_issuance_path_skips_unrelated_certificates():
    root = trustme.CA()
    intermediate = root.create_child_ca()
    stranger = trustme.CA()
    sent = load(intermediate.issue_cert("a.example").cert_chain_pems[:1])
    sent += load([stranger.cert_pem, intermediate.cert_pem])

    path = issuance_path(sent)

    assert path == [sent[0], sent[2]]


def test_assess_chain_store_supplied_intermediate():
    root = trustme.CA()
    intermediate = root.create_child_ca()
    leaf, intermediate_cert = load(intermediate.issue_cert("a.example").cert_chain_pems)
    root_cert = load([root.cert_pem])[0]

    result = assess_chain([leaf], [leaf, intermediate_cert, root_cert])

    assert result.status is Status.FAIL
    assert "did not send the intermediate certificate" in result.detail


def test_assess_chain_without_chain_access_warns():
    assert assess_chain(None, None).status is Status.WARN


def test_assess_untrusted_chain_self_signed_leaf():
    ca = trustme.CA()
    result = assess_untrusted_chain(load([ca.cert_pem]), SELF_SIGNED_LEAF)

    assert result.status is Status.FAIL
    assert "is self-signed" in result.detail


def test_assess_untrusted_chain_untrusted_root_sent():
    root = trustme.CA()
    intermediate = root.create_child_ca()
    chain = load(intermediate.issue_cert("a.example").cert_chain_pems) + load([root.cert_pem])

    result = assess_untrusted_chain(chain, SELF_SIGNED_IN_CHAIN)

    assert "ends at the root" in result.detail
    assert "--ca-file" in result.fix


def test_assess_untrusted_chain_unknown_issuer():
    root = trustme.CA()
    chain = load(root.create_child_ca().issue_cert("a.example").cert_chain_pems)

    result = assess_untrusted_chain(chain, ISSUER_NOT_FOUND)

    assert "whose issuer" in result.detail
    assert "was not sent and is not trusted here" in result.detail


def test_assess_untrusted_chain_leaf_alone_is_incomplete():
    intermediate = trustme.CA().create_child_ca()
    leaf = load(intermediate.issue_cert("a.example").cert_chain_pems[:1])

    result = assess_untrusted_chain(leaf, ISSUER_NOT_FOUND)

    assert result.detail.startswith("incomplete: the server sent only its own certificate")
