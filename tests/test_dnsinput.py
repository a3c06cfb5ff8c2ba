"""Validation of names, servers, record types and expected addresses."""

import pytest

from infra.dnsinput import (
    format_server,
    normalize_name,
    parse_expected,
    parse_record_type,
    parse_seconds,
    parse_server,
)
from infra.dnsreport import DnsCheckError, InvalidDnsInput
from infra.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scim.example.com", "scim.example.com"),
        ("SCIM.Example.COM.", "scim.example.com"),
        ("straße.example", "xn--strae-oqa.example"),
        ("Straße.example", "xn--strae-oqa.example"),
        ("xn--strae-oqa.example", "xn--strae-oqa.example"),
        ("bücher.example.", "xn--bcher-kva.example"),
        ("_acme-challenge.example.com", "_acme-challenge.example.com"),
    ],
)
def test_normalize_name_accepts(text, expected):
    assert normalize_name(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "dns: NAME is empty"),
        (".", "dns: NAME is empty"),
        ("a..example", "has an empty label"),
        ("-scim.example", "has an invalid label '-scim'"),
        ("scim!.example", "has an invalid label 'scim!'"),
        ("a" * 64 + ".example", "labels are 1 to 63"),
        (".".join(["a" * 63] * 4), "is 255 characters long in ASCII"),
        ("xn--zz.example", "punycode label 'xn--zz' that is not valid IDNA 2008"),
        ("192.0.2.300", "is neither an IP address nor a domain name"),
    ],
)
def test_normalize_name_rejects(text, message):
    with pytest.raises(InvalidDnsInput) as raised:
        normalize_name(text)

    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", ("192.0.2.1", 53)),
        ("192.0.2.1:5301", ("192.0.2.1", 5301)),
        ("[::1]:5301", ("::1", 5301)),
        ("[2001:DB8:0::1]", ("2001:db8::1", 53)),
        ("2001:db8::1", ("2001:db8::1", 53)),
        ("NS1.DigitalOcean.com.", ("ns1.digitalocean.com", 53)),
        ("ns1.example.test:65535", ("ns1.example.test", 65535)),
    ],
)
def test_parse_server_accepts(text, expected):
    assert parse_server(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "--nameserver is empty"),
        ("192.0.2.1:0", "has port 0, which is out of range"),
        ("192.0.2.1:65536", "has port 65536, which is out of range"),
        ("192.0.2.1:dns", "has port 'dns', which is not a number"),
        ("192.0.2.1:", "has port '', which is not a number"),
        ("[::1", "has no closing ']'"),
        ("[::1]5301", "has '5301' after ']'"),
        ("[192.0.2.1]:53", "in brackets is not an IPv6 address"),
        ("ns_1!.example", "has an invalid label"),
        ("300.1.1.1", "is neither an IP address nor a domain name"),
    ],
)
def test_parse_server_rejects_naming_argument(text, message):
    with pytest.raises(InvalidDnsInput) as raised:
        parse_server(text, "--nameserver")

    assert str(raised.value).startswith("dns: --nameserver")
    assert message in str(raised.value)


def test_invalid_dns_input_exit_code():
    error = InvalidDnsInput("dns: bad")

    assert error.exit_code == 2
    assert isinstance(error, InvalidInput)
    assert isinstance(error, DnsCheckError)
    assert isinstance(error, ValueError)


def test_format_server_brackets_ipv6():
    assert format_server("::1", 5301) == "[::1]:5301"
    assert format_server("127.0.0.1", 53) == "127.0.0.1:53"


def test_parse_record_type_ignores_case():
    assert parse_record_type("aaaa") == "AAAA"


def test_parse_record_type_rejects_other_types():
    with pytest.raises(InvalidDnsInput, match=r"--type 'MX' is not supported; expected A or AAAA"):
        parse_record_type("MX")


def test_parse_expected_sorts_and_deduplicates():
    assert parse_expected(["192.0.2.10", "192.0.2.9", "192.0.2.10"], "A") == [
        "192.0.2.9",
        "192.0.2.10",
    ]


def test_parse_expected_canonicalises_ipv6():
    assert parse_expected(["2001:DB8:0:0::1"], "AAAA") == ["2001:db8::1"]


@pytest.mark.parametrize(
    ("texts", "record_type", "message"),
    [
        (["scim.example.com"], "A", "--expect 'scim.example.com' is not an IP address"),
        (["192.0.2.256"], "A", "--expect '192.0.2.256' is not an IP address"),
        (["2001:db8::1"], "A", "is an IPv6 address, but type A holds IPv4 addresses"),
        (["192.0.2.1"], "AAAA", "is an IPv4 address, but type AAAA holds IPv6 addresses"),
    ],
)
def test_parse_expected_rejects(texts, record_type, message):
    with pytest.raises(InvalidDnsInput) as raised:
        parse_expected(texts, record_type)

    assert message in str(raised.value)


@pytest.mark.parametrize("value", [0.001, 2.0, 60.0])
def test_parse_seconds_accepts(value):
    assert parse_seconds(value, "--timeout", 60.0) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "--timeout nan is not a finite number"),
        (float("inf"), "--timeout inf is not a finite number"),
        (float("-inf"), "--timeout -inf is not a finite number"),
        (0.0, "--timeout 0.0 is not positive"),
        (-1.0, "--timeout -1.0 is not positive"),
        (60.5, "--timeout 60.5 is above the maximum"),
        (1e308, "--timeout 1e+308 is above the maximum"),
    ],
)
def test_parse_seconds_rejects(value, message):
    with pytest.raises(InvalidDnsInput) as caught:
        parse_seconds(value, "--timeout", 60.0)

    assert message in str(caught.value)
    assert "expected a finite positive number of seconds, at most 60" in str(caught.value)
