"""Finding a zone's nameservers through a bootstrap resolver, with knot and unbound on loopback."""

import dns.name
import pytest

from infra.dnscheck import check, wait_for_propagation
from infra.dnsdiscovery import discover_nameservers, make_bootstrap_resolver
from infra.dnsreport import DnsCheckError, Role
from infra.errors import InvalidInput
from tests.dnsservers import Zone, silent_behaviour

NAME = dns.name.from_text("bridge.example.test")


def bootstrap(unbound):
    return make_bootstrap_resolver((unbound.address, unbound.port), timeout=1.0)


def test_discover_nameservers_finds_enclosing_zone(start_knot, start_unbound):
    knot = start_knot([Zone("example.test")])
    zone = Zone("example.test", serial=2, nameservers=("ns1", "ns2"))
    zone.add("ns1", "A", knot.address).add("ns2", "A", "127.0.0.1").add("bridge", "A", "192.0.2.1")
    knot.update(zone)
    unbound = start_unbound({"example.test": [knot.endpoint]})

    targets = discover_nameservers(NAME, bootstrap(unbound), timeout=1.0, port=knot.port)

    assert [(target.host, target.address) for target in targets] == [
        ("ns1.example.test", knot.address),
        ("ns2.example.test", "127.0.0.1"),
    ]
    assert all(target.role is Role.AUTHORITATIVE for target in targets)
    assert all(target.port == knot.port for target in targets)


def test_discover_nameservers_follows_delegation_at_name(start_knot, start_unbound):
    child = start_knot([Zone("bridge.example.test", nameservers=("ns",))])
    parent = start_knot([Zone("example.test")], port=child.port)
    delegating = Zone("example.test", serial=2).add("ns1", "A", parent.address)
    delegating.add("bridge", "NS", "ns.bridge").add("ns.bridge", "A", child.address)
    parent.update(delegating)
    unbound = start_unbound({"example.test": [parent.endpoint]})

    targets = discover_nameservers(NAME, bootstrap(unbound), timeout=1.0, port=child.port)

    assert [(target.host, target.address) for target in targets] == [
        ("ns.bridge.example.test", child.address)
    ]


def test_discover_nameservers_reports_unresolvable_server_name(start_knot, start_unbound):
    knot = start_knot([Zone("example.test", nameservers=("ns1", "ghost.elsewhere.test."))])
    knot.update(
        Zone("example.test", serial=2, nameservers=("ns1", "ghost.elsewhere.test.")).add(
            "ns1", "A", knot.address
        )
    )
    unbound = start_unbound({"example.test": [knot.endpoint]})

    targets = discover_nameservers(NAME, bootstrap(unbound), timeout=1.0, port=knot.port)

    ghost = [target for target in targets if target.host == "ghost.elsewhere.test"]
    assert len(ghost) == 1
    assert ghost[0].address is None
    assert ghost[0].error.startswith("server name ghost.elsewhere.test does not resolve")


def test_discovery_fails_with_silent_bootstrap_resolver(start_responder):
    silent = start_responder(silent_behaviour)

    with pytest.raises(DnsCheckError) as raised:
        check(
            NAME.to_text(),
            ["192.0.2.1"],
            resolvers=[],
            bootstrap_resolver=silent.endpoint,
            timeout=0.5,
        )

    assert str(raised.value).startswith("dns: finding the nameservers of example.test failed")
    assert str(raised.value).endswith("pass them with --nameserver")
    assert not isinstance(raised.value, InvalidInput)


def test_wait_discovery_stops_at_deadline(start_responder):
    silent = start_responder(silent_behaviour)

    with pytest.raises(DnsCheckError, match="finding the nameservers of example.test failed"):
        wait_for_propagation(
            NAME.to_text(),
            ["192.0.2.1"],
            resolvers=[],
            bootstrap_resolver=silent.endpoint,
            timeout=0.5,
            query_timeout=5,
        )
