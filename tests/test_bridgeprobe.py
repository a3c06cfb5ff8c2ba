"""The probes of scripts.bridgeprobe: lookup failures and reading a peer's chain."""

import socket
import threading

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from scripts.bridgeprobe import ProbeFailed, _peer_chain, endpoint, resolve


def test_resolve_returns_each_address_once():
    assert resolve("127.0.0.1", 443, timeout=2) == ["127.0.0.1"]


def test_resolve_timeout_names_dns_step(monkeypatch):
    release = threading.Event()

    def slow_lookup(*args, **kwargs):
        release.wait(timeout=5)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", slow_lookup)
    try:
        with pytest.raises(ProbeFailed) as raised:
            resolve("scim.example.com", 443, timeout=0.2)
    finally:
        release.set()

    assert raised.value.step == "dns"
    assert "gave no answer for scim.example.com within 0.2 s" in str(raised.value)


def test_resolve_temporary_failure(monkeypatch):
    def failing_lookup(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", failing_lookup)

    with pytest.raises(ProbeFailed) as raised:
        resolve("scim.example.com", 443, timeout=2)

    assert "resolving scim.example.com failed temporarily" in str(raised.value)
    assert "resolver" in raised.value.fix


def test_endpoint_brackets_ipv6():
    assert endpoint("2001:db8::1", 443) == "[2001:db8::1]:443"
    assert endpoint("192.0.2.1", 8443) == "192.0.2.1:8443"


class _PublicChainSocket:
    """A socket with the chain methods that SSLSocket has from Python 3.13, returning DER."""

    def __init__(self, chain_der):
        self._chain_der = chain_der

    def get_unverified_chain(self):
        return self._chain_der

    def get_verified_chain(self):
        return self._chain_der


def test_peer_chain_reads_der_bytes():
    certificate = trustme.CA().create_child_ca().issue_cert("a.example")
    pems = certificate.cert_chain_pems
    expected = [x509.load_pem_x509_certificate(pem.bytes()) for pem in pems]
    tls = _PublicChainSocket([cert.public_bytes(Encoding.DER) for cert in expected])

    assert _peer_chain(tls, verified=False) == expected
    assert _peer_chain(tls, verified=True) == expected


def test_peer_chain_without_chain_methods_is_none():
    assert _peer_chain(object(), verified=False) is None
