"""Validation of what a user gives the DNS checker: names, servers, addresses, record types.

Every function raises InvalidDnsInput with a message that names the argument (`argument`,
such as `--nameserver`), the value and what is accepted.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable

import idna

from infra.dnsreport import InvalidDnsInput

DNS_PORT = 53
RECORD_TYPES = ("A", "AAAA")
SERVER_FORMS = "HOST[:PORT], [IPv6]:PORT or a bare IPv6 address, with PORT from 1 to 65535"

MAX_QUERY_TIMEOUT = 60.0
"""The maximum time in seconds that one query waits for its response. A server that has not
responded within a minute counts as down, and huge values overflow in the `selectors` module."""
MAX_WAIT_TIMEOUT = 86400.0
"""The maximum wait for propagation in seconds: one day."""

# Letters, digits and hyphens (RFC 1123), plus the underscore that service labels such as
# _acme-challenge use. Case is folded before the match.
_ASCII_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_MAX_NAME_LENGTH = 253


def normalize_name(text: str, argument: str = "NAME") -> str:
    """Return a domain name in lower-case ASCII (IDNA 2008 punycode), without the trailing dot.

    Accepts Unicode or punycode, any case, with or without one trailing dot. Unicode labels
    are mapped with UTS 46 non-transitional processing, so `straße` becomes `xn--strae-oqa`
    and not `strasse`.

    :raises InvalidDnsInput: naming `argument`, when the text is not a valid host name.
    """
    name = text.strip()
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise InvalidDnsInput(
            f"dns: {argument} is empty; expected a domain name such as scim.example.com"
        )
    labels = [_normalize_label(label, text, argument) for label in name.split(".")]
    ascii_name = ".".join(labels)
    if len(ascii_name) > _MAX_NAME_LENGTH:
        raise InvalidDnsInput(
            f"dns: {argument} {text!r} is {len(ascii_name)} characters long in ASCII; "
            f"a domain name has at most {_MAX_NAME_LENGTH}"
        )
    if labels[-1].isdigit():
        raise InvalidDnsInput(
            f"dns: {argument} {text!r} is neither an IP address nor a domain name "
            "(a top-level domain is never all digits)"
        )
    return ascii_name


def _normalize_label(label: str, text: str, argument: str) -> str:
    if not label:
        raise InvalidDnsInput(
            f"dns: {argument} {text!r} has an empty label; expected a domain name"
        )
    if label.isascii():
        ascii_label = label.lower()
        if not _ASCII_LABEL.match(ascii_label):
            raise InvalidDnsInput(
                f"dns: {argument} {text!r} has an invalid label {label!r}; labels are 1 to 63 "
                "letters, digits, hyphens or underscores, and do not start or end with a hyphen"
            )
        if ascii_label.startswith("xn--"):
            _check_a_label(ascii_label, text, argument)
        return ascii_label
    try:
        return idna.encode(label, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError as error:
        raise InvalidDnsInput(
            f"dns: {argument} {text!r} has a label {label!r} that is not valid IDNA 2008: {error}"
        ) from error


def _check_a_label(label: str, text: str, argument: str) -> None:
    try:
        idna.decode(label)
    except idna.IDNAError as error:
        raise InvalidDnsInput(
            f"dns: {argument} {text!r} has a punycode label {label!r} that is not valid IDNA 2008: "
            f"{error}"
        ) from error


def parse_server(text: str, argument: str = "server") -> tuple[str, int]:
    """Parse `HOST[:PORT]`, `[IPv6]:PORT` or a bare IPv6 address into (host, port).

    The host is returned as a canonical IP address (`::1`, not `0:0::1`) or as a lower-case
    ASCII host name without the trailing dot. The port defaults to 53.

    :raises InvalidDnsInput: naming `argument` and the value, when the text is none of these.
    """
    raw = text.strip()
    if not raw:
        raise InvalidDnsInput(f"dns: {argument} is empty; expected {SERVER_FORMS}")
    host, port_text = _split_host_port(raw, text, argument)
    port = DNS_PORT if port_text is None else _parse_port(port_text, text, argument)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (address.version == 6 or not raw.startswith("[")):
        return address.compressed, port
    if raw.startswith("["):
        raise InvalidDnsInput(
            f"dns: {argument} {text!r}: {host!r} in brackets is not an IPv6 address; "
            f"expected {SERVER_FORMS}"
        )
    return normalize_name(host, argument), port


def _split_host_port(raw: str, text: str, argument: str) -> tuple[str, str | None]:
    if raw.startswith("["):
        closing = raw.find("]")
        if closing == -1:
            raise InvalidDnsInput(
                f"dns: {argument} {text!r} has no closing ']'; expected {SERVER_FORMS}"
            )
        rest = raw[closing + 1 :]
        if rest and not rest.startswith(":"):
            raise InvalidDnsInput(
                f"dns: {argument} {text!r} has {rest!r} after ']'; expected {SERVER_FORMS}"
            )
        return raw[1:closing], rest[1:] if rest else None
    if raw.count(":") > 1:
        # More than one colon can only be a bare IPv6 address, which then has no port.
        return raw, None
    host, colon, port_text = raw.partition(":")
    return host, port_text if colon else None


def _parse_port(port_text: str, text: str, argument: str) -> int:
    if not port_text.isdigit():
        raise InvalidDnsInput(
            f"dns: {argument} {text!r} has port {port_text!r}, which is not a number; "
            f"expected {SERVER_FORMS}"
        )
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise InvalidDnsInput(
            f"dns: {argument} {text!r} has port {port}, which is out of range; "
            f"expected {SERVER_FORMS}"
        )
    return port


def is_ip_address(host: str) -> bool:
    """Return True when `host` is an IPv4 or IPv6 address rather than a host name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def format_server(host: str, port: int) -> str:
    """Return `HOST:PORT`, with an IPv6 address in brackets (`[::1]:5301`)."""
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def parse_seconds(value: float, argument: str, maximum: float) -> float:
    """Return `value` when it is a finite number of seconds above 0 and at most `maximum`.

    NaN and infinity are rejected because a deadline computed from them never arrives.

    :raises InvalidDnsInput: naming `argument` and the value, for any other number.
    """
    accepted = f"expected a finite positive number of seconds, at most {maximum:g}"
    if not math.isfinite(value):
        raise InvalidDnsInput(f"dns: {argument} {value} is not a finite number; {accepted}")
    if value <= 0:
        raise InvalidDnsInput(f"dns: {argument} {value} is not positive; {accepted}")
    if value > maximum:
        raise InvalidDnsInput(f"dns: {argument} {value} is above the maximum; {accepted}")
    return value


def parse_record_type(text: str, argument: str = "--type") -> str:
    """Return the record type in upper case: `A` or `AAAA`.

    :raises InvalidDnsInput: for any other type.
    """
    record_type = text.strip().upper()
    if record_type not in RECORD_TYPES:
        raise InvalidDnsInput(f"dns: {argument} {text!r} is not supported; expected A or AAAA")
    return record_type


def parse_expected(texts: Iterable[str], record_type: str, argument: str = "--expect") -> list[str]:
    """Return the expected addresses, canonical, deduplicated and sorted.

    :raises InvalidDnsInput: naming `argument`, for a value that is not an IP address or is
        of the wrong family for the record type (IPv4 for A, IPv6 for AAAA).
    """
    version = 4 if record_type == "A" else 6
    addresses = set()
    for text in texts:
        try:
            address = ipaddress.ip_address(text.strip())
        except ValueError:
            raise InvalidDnsInput(
                f"dns: {argument} {text!r} is not an IP address; expected an IPv{version} "
                f"address for type {record_type}"
            ) from None
        if address.version != version:
            raise InvalidDnsInput(
                f"dns: {argument} {text!r} is an IPv{address.version} address, but type "
                f"{record_type} holds IPv{version} addresses; use --type "
                f"{'AAAA' if address.version == 6 else 'A'} for it"
            )
        addresses.add(address)
    return [address.compressed for address in sorted(addresses)]
