"""Pytest fixtures that start DNS servers on loopback and stop them after each test.

Each fixture is a factory: call it with the zones or behaviour the test needs, and it
returns a running server. Every server started through it is stopped at teardown, even when
the test fails.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator

import dns.query
import pytest

from tests.dnsservers import Behaviour, FakeResponder, KnotServer, UnboundServer, Zone, find_binary


@pytest.fixture
def start_knot(tmp_path) -> Iterator[Callable[..., KnotServer]]:
    """Return a factory that starts knotd serving the given zones: start_knot(zones, port=None)."""
    try:
        find_binary("knotd")
    except FileNotFoundError as error:
        pytest.skip(str(error))
    servers: list[KnotServer] = []

    def start(zones: Iterable[Zone], port: int | None = None) -> KnotServer:
        server = KnotServer(tmp_path / f"knot{len(servers)}", zones, port)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def start_unbound(tmp_path) -> Iterator[Callable[[dict[str, list[str]]], UnboundServer]]:
    """Return a factory that starts unbound with stub zones: {zone: ["ADDRESS:PORT", ...]}."""
    try:
        find_binary("unbound")
    except FileNotFoundError as error:
        pytest.skip(str(error))
    servers: list[UnboundServer] = []

    def start(stubs: dict[str, list[str]]) -> UnboundServer:
        server = UnboundServer(tmp_path / f"unbound{len(servers)}", stubs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def start_responder() -> Iterator[Callable[..., FakeResponder]]:
    """Return a factory that starts a FakeResponder: start_responder(behaviour, delay, ipv6).

    An IPv6 responder listens on ::1; the test is skipped where the machine has no IPv6
    loopback.
    """
    responders: list[FakeResponder] = []

    def start(behaviour: Behaviour, delay: float = 0.0, ipv6: bool = False) -> FakeResponder:
        try:
            responder = FakeResponder(behaviour, delay, ipv6)
        except OSError as error:
            if not ipv6:
                raise
            pytest.skip(f"no IPv6 loopback: {error}")
        responders.append(responder)
        return responder.start()

    yield start
    for responder in responders:
        responder.stop()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch) -> None:
    """Fail any DNS query a test sends outside 127.0.0.0/8 and ::1, before it is sent.

    Every query of the checker and of dnspython's stub resolver goes through
    dns.query.udp or dns.query.tcp, so a default public resolver that a test forgot to
    replace fails the test instead of reaching the network.
    """
    for function_name in ("udp", "tcp"):
        original = getattr(dns.query, function_name)
        monkeypatch.setattr(dns.query, function_name, _guarded(original))


def _guarded(original: Callable) -> Callable:
    def guarded(query, where, *args, **kwargs):
        if not ipaddress.ip_address(where).is_loopback:
            raise AssertionError(f"a test sent a DNS query to {where}, outside loopback")
        return original(query, where, *args, **kwargs)

    return guarded
