"""The DNS checker against real knot and unbound servers, and fake responders for faults.

Every server listens on 127.53.0.0/16; no test sends anything outside 127.0.0.0/8.
"""

from __future__ import annotations

import threading
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from infra.dnscheck import (
    InvalidDnsInput,
    PropagationTimeout,
    Report,
    Role,
    Status,
    check,
    wait_for_propagation,
)
from tests.dnsservers import (
    Zone,
    addresses_behaviour,
    query,
    rcode_behaviour,
    silent_behaviour,
    stray_replies_behaviour,
)

ZONE = "example.test"
NAME = "bridge.example.test"
OLD = "192.0.2.10"
NEW = "192.0.2.20"
NEW_2 = "192.0.2.21"


def zone_with(serial: int, *records: tuple[str, str, str], ttl: int = 300, **options) -> Zone:
    zone = Zone(ZONE, serial=serial, **options)
    for owner, rdtype, data in records:
        zone.add(owner, rdtype, data, ttl=ttl)
    return zone


def statuses(report: Report) -> list[Status]:
    return [server.status for server in report.servers]


def result_for(report: Report, endpoint: str):
    [result] = [server for server in report.servers if server.server == endpoint]
    return result


def test_check_matches_at_every_server(start_knot, start_unbound):
    zone = zone_with(1, ("bridge", "A", NEW))
    primary, secondary = start_knot([zone]), start_knot([zone])
    unbound = start_unbound({ZONE: [primary.endpoint, secondary.endpoint]})

    report = check(
        NAME,
        [NEW],
        nameservers=[primary.endpoint, secondary.endpoint],
        resolvers=[unbound.endpoint],
    )

    assert report.propagated
    assert statuses(report) == [Status.MATCH] * 3
    assert [server.role for server in report.servers] == [
        Role.AUTHORITATIVE,
        Role.AUTHORITATIVE,
        Role.RESOLVER,
    ]
    assert all(server.answers == [NEW] for server in report.servers)
    assert report.servers[0].ttl == 300


def test_check_reports_lagging_authoritative_server(start_knot, start_unbound):
    current = zone_with(2, ("bridge", "A", NEW))
    lagging = start_knot([zone_with(1, ("bridge", "A", OLD))])
    servers = [start_knot([current]), start_knot([current]), lagging]
    unbound = start_unbound({ZONE: [server.endpoint for server in servers]})

    report = check(
        NAME,
        [NEW],
        nameservers=[server.endpoint for server in servers],
        resolvers=[unbound.endpoint],
    )

    assert not report.propagated
    assert statuses(report) == [Status.MATCH, Status.MATCH, Status.MISMATCH, Status.PENDING]
    lagging_result = result_for(report, lagging.endpoint)
    assert lagging_result.answers == [OLD]
    assert lagging_result.detail == f"missing {NEW}; unexpected {OLD}"
    assert report.lagging == [report.servers[2], report.servers[3]]


def test_resolvers_pending_until_authorities_agree(start_knot, start_unbound):
    knot = start_knot([zone_with(1)])
    unbound = start_unbound({ZONE: [knot.endpoint]})

    report = check(NAME, [NEW], nameservers=[knot.endpoint], resolvers=[unbound.endpoint])

    resolver = result_for(report, unbound.endpoint)
    assert resolver.status is Status.PENDING
    assert resolver.queries == 0
    assert resolver.elapsed_ms is None
    # Had the checker asked, unbound would now hold a cached NXDOMAIN for the name.
    knot.update(zone_with(2, ("bridge", "A", NEW)))
    assert query(unbound.address, unbound.port, NAME).rcode() == dns.rcode.NOERROR


def test_check_reports_nxdomain_with_negative_ttl(start_knot):
    knot = start_knot([zone_with(1, negative_ttl=120)])

    report = check(NAME, [NEW], nameservers=[knot.endpoint], resolvers=[])

    [result] = report.servers
    assert result.status is Status.NXDOMAIN
    assert result.ttl == 120


def test_check_reports_nodata_when_only_other_types_exist(start_knot):
    knot = start_knot([zone_with(1, ("bridge", "TXT", '"hello"'), negative_ttl=60)])

    report = check(NAME, [NEW], nameservers=[knot.endpoint], resolvers=[])

    assert statuses(report) == [Status.NODATA]
    assert report.servers[0].ttl == 60


def test_wait_succeeds_when_record_appears_during_wait(start_knot, start_unbound):
    empty = zone_with(1, negative_ttl=3600)
    servers = [start_knot([empty]), start_knot([empty])]
    unbound = start_unbound({ZONE: [server.endpoint for server in servers]})
    reports: list[Report] = []

    def publish_after_second_round(report: Report) -> None:
        reports.append(report)
        if len(reports) == 2:
            for server in servers:
                server.update(zone_with(2, ("bridge", "A", NEW)))

    final = wait_for_propagation(
        NAME,
        [NEW],
        nameservers=[server.endpoint for server in servers],
        resolvers=[unbound.endpoint],
        timeout=30,
        on_progress=publish_after_second_round,
    )

    assert final.propagated
    assert statuses(reports[0]) == [Status.NXDOMAIN, Status.NXDOMAIN, Status.PENDING]
    assert statuses(reports[1]) == [Status.NXDOMAIN, Status.NXDOMAIN, Status.PENDING]
    assert statuses(final) == [Status.MATCH] * 3
    # The resolver was never asked while the name was missing, so it cached no NXDOMAIN
    # and answers at once.
    assert reports[2].servers[2].status is Status.MATCH
    assert final.rounds == 4
    assert final is reports[-1]
    assert final.next_poll_s is None


def test_wait_needs_two_agreeing_rounds(start_responder):
    flapping = start_responder(addresses_behaviour([NEW], [OLD], [NEW]))
    reports: list[Report] = []

    final = wait_for_propagation(
        NAME,
        [NEW],
        nameservers=[flapping.endpoint],
        resolvers=[],
        timeout=30,
        on_progress=reports.append,
    )

    assert [report.propagated for report in reports] == [True, False, True, True]
    assert final.rounds == 4


def test_wait_holds_resolver_with_stale_answer(start_knot, start_unbound):
    knot = start_knot([zone_with(1, ("bridge", "A", OLD), ttl=3)])
    unbound = start_unbound({ZONE: [knot.endpoint]})
    assert query(unbound.address, unbound.port, NAME).answer[0][0].address == OLD
    knot.update(zone_with(2, ("bridge", "A", NEW), ttl=3))
    reports: list[Report] = []

    final = wait_for_propagation(
        NAME,
        [NEW],
        nameservers=[knot.endpoint],
        resolvers=[unbound.endpoint],
        timeout=30,
        on_progress=reports.append,
    )

    assert final.propagated
    first = reports[0].servers[1]
    assert first.status is Status.MISMATCH
    assert first.answers == [OLD]
    assert 0 < first.ttl <= 3
    assert first.detail.endswith(f"cached for {first.ttl} s more")
    held = [report for report in reports if "not asked again" in report.servers[1].detail]
    assert held, "the resolver was asked again while its cached answer was still valid"
    for report in held:
        earlier = reports[reports.index(report) - 1]
        assert report.servers[1].queries == earlier.servers[1].queries
    assert final.servers[1].answers == [NEW]


def test_held_resolver_ttl_within_returned(start_responder):
    authoritative = start_responder(addresses_behaviour([NEW], ttl=300))
    resolver = start_responder(addresses_behaviour([NEW], ttl=300))
    reports: list[Report] = []

    final = wait_for_propagation(
        NAME,
        [NEW],
        nameservers=[authoritative.endpoint],
        resolvers=[resolver.endpoint],
        timeout=30,
        on_progress=reports.append,
    )

    assert final.propagated
    assert resolver.queries == 1
    held = final.servers[1]
    assert "not asked again" in held.detail
    for report in reports:
        assert report.servers[1].ttl <= 300


def test_wait_holds_resolver_with_cached_nxdomain(start_knot, start_unbound):
    knot = start_knot([zone_with(1, negative_ttl=3)])
    unbound = start_unbound({ZONE: [knot.endpoint]})
    assert query(unbound.address, unbound.port, NAME).rcode() == dns.rcode.NXDOMAIN
    knot.update(zone_with(2, ("bridge", "A", NEW), negative_ttl=3))
    reports: list[Report] = []

    final = wait_for_propagation(
        NAME,
        [NEW],
        nameservers=[knot.endpoint],
        resolvers=[unbound.endpoint],
        timeout=30,
        on_progress=reports.append,
    )

    assert final.propagated
    first = reports[0].servers[1]
    assert first.status is Status.NXDOMAIN
    assert 0 < first.ttl <= 3
    held = [
        report
        for report in reports
        if "not asked again" in report.servers[1].detail
        and report.servers[1].status is Status.NXDOMAIN
    ]
    assert held, "the resolver was asked again while its cached NXDOMAIN was still valid"
    for report in held:
        earlier = reports[reports.index(report) - 1]
        assert report.servers[1].queries == earlier.servers[1].queries


def test_wait_starts_no_round_at_deadline(start_responder):
    # The silent resolver makes every round last until its queries time out: round 1 until
    # 2.0 s, and round 2 (started then) until the deadline at 3.5 s, when no time is left
    # for a third round.
    authoritative = start_responder(addresses_behaviour([NEW]))
    resolver = start_responder(silent_behaviour)
    reports: list[Report] = []

    with pytest.raises(PropagationTimeout) as raised:
        wait_for_propagation(
            NAME,
            [NEW],
            nameservers=[authoritative.endpoint],
            resolvers=[resolver.endpoint],
            timeout=3.5,
            query_timeout=2.0,
            on_progress=reports.append,
        )

    final = raised.value.report
    assert result_for(final, authoritative.endpoint).status is Status.MATCH
    assert result_for(final, resolver.endpoint).status is Status.TIMEOUT
    assert final.rounds == reports[-1].rounds
    for report in reports:
        assert result_for(report, authoritative.endpoint).status is Status.MATCH


def test_wait_skips_resolvers_without_time_left(start_responder):
    # The authoritative server responds 0.8 s into a 1.5 s wait, which leaves the resolvers
    # less than the 1 s of query time a wait gives them.
    authoritative = start_responder(addresses_behaviour([NEW]), delay=0.8)
    resolver = start_responder(addresses_behaviour([NEW]))

    with pytest.raises(PropagationTimeout) as raised:
        wait_for_propagation(
            NAME,
            [NEW],
            nameservers=[authoritative.endpoint],
            resolvers=[resolver.endpoint],
            timeout=1.5,
            query_timeout=2.0,
        )

    final = raised.value.report
    assert result_for(final, authoritative.endpoint).status is Status.MATCH
    skipped = result_for(final, resolver.endpoint)
    assert skipped.status is Status.PENDING
    assert "too close to the deadline" in skipped.detail
    assert resolver.queries == 0


def test_wait_timeout_lists_lagging_servers(start_knot, start_responder):
    current = start_knot([zone_with(2, ("bridge", "A", NEW))])
    lagging = start_knot([zone_with(1, ("bridge", "A", OLD))])
    silent = start_responder(silent_behaviour)

    with pytest.raises(PropagationTimeout) as raised:
        wait_for_propagation(
            NAME,
            [NEW],
            nameservers=[current.endpoint, lagging.endpoint, silent.endpoint],
            resolvers=[],
            timeout=2.5,
            query_timeout=0.5,
        )

    message = str(raised.value)
    assert message.startswith(f"dns: {NAME} A did not resolve to {NEW} everywhere within 2.5 s")
    assert f"{lagging.endpoint} (authoritative) mismatch {OLD}" in message
    assert f"{silent.endpoint} (authoritative) timeout" in message
    assert current.endpoint not in message
    assert statuses(raised.value.report) == [Status.MATCH, Status.MISMATCH, Status.TIMEOUT]
    assert isinstance(raised.value, TimeoutError)


def test_check_follows_cname_chain_in_zone(start_knot, start_unbound):
    zone = zone_with(
        1, ("bridge", "CNAME", "lb1"), ("lb1", "CNAME", "lb2.example.test."), ("lb2", "A", NEW)
    )
    knot = start_knot([zone])
    unbound = start_unbound({ZONE: [knot.endpoint]})

    report = check(NAME, [NEW], nameservers=[knot.endpoint], resolvers=[unbound.endpoint])

    assert report.propagated
    for server in report.servers:
        assert server.cname_chain == ["lb1.example.test", "lb2.example.test"]
        assert server.answers == [NEW]


def test_check_follows_cname_across_zones(start_knot, start_unbound):
    other = Zone("other.test").add("lb", "A", NEW)
    knot = start_knot([zone_with(1, ("bridge", "CNAME", "lb.other.test.")), other])
    unbound = start_unbound({ZONE: [knot.endpoint], "other.test": [knot.endpoint]})

    report = check(NAME, [NEW], nameservers=[knot.endpoint], resolvers=[unbound.endpoint])

    assert report.propagated
    assert report.servers[0].cname_chain == ["lb.other.test"]
    assert report.servers[0].answers == [NEW]
    assert report.servers[1].answers == [NEW]


def test_check_reports_cname_loop_as_error(start_knot):
    knot = start_knot([zone_with(1, ("bridge", "CNAME", "loop"), ("loop", "CNAME", "bridge"))])

    report = check(NAME, [NEW], nameservers=[knot.endpoint], resolvers=[])

    [result] = report.servers
    assert result.status is Status.ERROR
    assert result.detail.startswith("CNAME loop: bridge.example.test -> loop.example.test")


def test_check_stops_following_overlong_cname_chain(start_knot):
    links = [(f"c{index}", "CNAME", f"c{index + 1}") for index in range(1, 12)]
    knot = start_knot([zone_with(1, ("bridge", "CNAME", "c1"), *links, ("c12", "A", NEW))])

    report = check(NAME, [NEW], nameservers=[knot.endpoint], resolvers=[])

    [result] = report.servers
    assert result.status is Status.ERROR
    assert "CNAME chain longer than 8" in result.detail


def test_check_compares_address_sets_not_order(start_knot):
    knot = start_knot([zone_with(1, ("bridge", "A", NEW_2), ("bridge", "A", NEW))])

    report = check(NAME, [NEW_2, NEW], nameservers=[knot.endpoint], resolvers=[])

    assert report.propagated
    assert report.servers[0].answers == [NEW, NEW_2]


def test_check_names_additional_address(start_knot):
    knot = start_knot([zone_with(1, ("bridge", "A", NEW), ("bridge", "A", NEW_2))])

    report = check(NAME, [NEW], nameservers=[knot.endpoint], resolvers=[])

    [result] = report.servers
    assert result.status is Status.MISMATCH
    assert result.extra == [f"A {NEW_2}"]
    assert result.detail == f"unexpected {NEW_2}"


def test_check_names_aaaa_record_when_ipv4_expected(start_knot):
    knot = start_knot([zone_with(1, ("bridge", "A", NEW), ("bridge", "AAAA", "2001:db8::20"))])

    report = check(NAME, [NEW], nameservers=[knot.endpoint], resolvers=[])
    relaxed = check(NAME, [NEW], nameservers=[knot.endpoint], resolvers=[], check_aaaa=False)

    [result] = report.servers
    assert result.status is Status.MISMATCH
    assert result.extra == ["AAAA 2001:db8::20"]
    assert "also has AAAA 2001:db8::20" in result.detail
    assert relaxed.propagated


def test_check_aaaa_record_type(start_knot, start_unbound):
    knot = start_knot([zone_with(1, ("bridge", "AAAA", "2001:db8::20"), ("bridge", "A", OLD))])
    unbound = start_unbound({ZONE: [knot.endpoint]})

    report = check(
        NAME,
        ["2001:DB8:0::20"],
        record_type="aaaa",
        nameservers=[knot.endpoint],
        resolvers=[unbound.endpoint],
    )

    assert report.propagated
    assert report.record_type == "AAAA"
    assert report.expected == ["2001:db8::20"]
    assert all(server.answers == ["2001:db8::20"] for server in report.servers)


def test_check_accepts_upper_case_name_with_trailing_dot(start_knot):
    knot = start_knot([zone_with(1, ("bridge", "A", NEW))])

    report = check("BRIDGE.Example.TEST.", [NEW], nameservers=[knot.endpoint], resolvers=[])

    assert report.propagated
    assert report.name == NAME


def test_check_maps_unicode_name_with_idna_2008(start_knot, start_unbound):
    knot = start_knot([zone_with(1, ("xn--strae-oqa", "A", NEW), ("strasse", "A", OLD))])
    unbound = start_unbound({ZONE: [knot.endpoint]})

    report = check(
        "Straße.example.test", [NEW], nameservers=[knot.endpoint], resolvers=[unbound.endpoint]
    )

    assert report.propagated
    assert report.name == "xn--strae-oqa.example.test"


@pytest.mark.parametrize(
    ("behaviour", "status"),
    [
        (rcode_behaviour(dns.rcode.SERVFAIL), Status.SERVFAIL),
        (rcode_behaviour(dns.rcode.REFUSED), Status.REFUSED),
        (rcode_behaviour(dns.rcode.NOTIMP), Status.ERROR),
        (silent_behaviour, Status.TIMEOUT),
    ],
    ids=["servfail", "refused", "notimp", "silent"],
)
def test_check_reports_misbehaving_server(start_knot, start_responder, behaviour, status):
    knot = start_knot([zone_with(1, ("bridge", "A", NEW))])
    faulty = start_responder(behaviour)

    report = check(
        NAME, [NEW], nameservers=[knot.endpoint, faulty.endpoint], resolvers=[], timeout=0.5
    )

    assert statuses(report) == [Status.MATCH, status]
    assert not report.propagated


def test_check_ignores_stray_replies(start_responder):
    responder = start_responder(stray_replies_behaviour(addresses_behaviour([NEW])))

    report = check(NAME, [NEW], nameservers=[responder.endpoint], resolvers=[responder.endpoint])

    assert statuses(report) == [Status.MATCH, Status.MATCH]
    assert report.propagated


def referral_to_child_zone(request: dns.message.Message) -> dns.message.Message:
    """Answer like a parent zone's server that delegates the name: NS records, no AA flag."""
    response = dns.message.make_response(request)
    response.authority.append(
        dns.rrset.from_text("bridge.example.test.", 300, "IN", "NS", "ns1.elsewhere.test.")
    )
    return response


def cached_answer_without_aa(request: dns.message.Message) -> dns.message.Message:
    """Answer like a resolver from its cache: the address, but no AA flag."""
    response = dns.message.make_response(request)
    response.answer.append(dns.rrset.from_text(NAME + ".", 300, "IN", "A", NEW))
    return response


def test_check_rejects_referral_from_nameserver(start_responder):
    parent = start_responder(referral_to_child_zone)

    report = check(NAME, [NEW], nameservers=[parent.endpoint], resolvers=[])

    assert statuses(report) == [Status.ERROR]
    assert report.servers[0].detail == (
        "not authoritative: referral to bridge.example.test (ns1.elsewhere.test)"
    )


def test_check_rejects_answer_without_authoritative_flag(start_responder):
    cache = start_responder(cached_answer_without_aa)

    report = check(NAME, [NEW], nameservers=[cache.endpoint], resolvers=[])

    assert statuses(report) == [Status.ERROR]
    assert report.servers[0].detail == "not authoritative: the answer lacks the AA flag"


class InFlightCounter:
    """Counts the queries that several responders are handling at once, and the peak."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def slow_behaviour(self, request: dns.message.Message) -> dns.message.Message:
        with self.lock:
            self.current += 1
            self.peak = max(self.peak, self.current)
        time.sleep(0.3)
        with self.lock:
            self.current -= 1
        return addresses_behaviour([NEW])(request)


def test_check_asks_slow_servers_concurrently(start_responder):
    counter = InFlightCounter()
    slow = [start_responder(counter.slow_behaviour) for _ in range(4)]

    report = check(
        NAME,
        [NEW],
        nameservers=[server.endpoint for server in slow],
        resolvers=[],
        check_aaaa=False,
    )

    assert report.propagated
    assert all(server.elapsed_ms >= 300 for server in report.servers)
    assert counter.peak == 4


def test_check_quorum_accepts_enough_resolvers(start_knot, start_unbound, start_responder):
    knot = start_knot([zone_with(1, ("bridge", "A", NEW))])
    unbound = start_unbound({ZONE: [knot.endpoint]})
    stale = start_responder(addresses_behaviour([OLD]))
    servers = {"nameservers": [knot.endpoint], "resolvers": [unbound.endpoint, stale.endpoint]}

    with_quorum = check(NAME, [NEW], quorum=1, **servers)
    without_quorum = check(NAME, [NEW], **servers)

    assert with_quorum.propagated
    assert not without_quorum.propagated
    assert statuses(without_quorum) == [Status.MATCH, Status.MATCH, Status.MISMATCH]


def test_quorum_counts_duplicate_resolvers_once(start_responder):
    responder = start_responder(addresses_behaviour([NEW]))
    host, port = responder.endpoint.rsplit(":", 1)
    same_resolver = [responder.endpoint, f" {host}:{port} ", responder.endpoint]

    with pytest.raises(InvalidDnsInput) as caught:
        check(NAME, [NEW], nameservers=[], resolvers=same_resolver, quorum=2)

    assert "--quorum 2 is out of range; expected 0 to 1" in str(caught.value)
    assert responder.queries == 0


def test_duplicate_servers_are_asked_once(start_responder):
    responder = start_responder(addresses_behaviour([NEW]))
    twice = [responder.endpoint, responder.endpoint]

    report = check(NAME, [NEW], nameservers=twice, resolvers=twice, quorum=1)

    assert report.propagated
    assert [server.role for server in report.servers] == [Role.AUTHORITATIVE, Role.RESOLVER]


def test_quorum_counts_resolver_names_by_address(start_knot, start_unbound, start_responder):
    knot = start_knot([zone_with(1, ("bridge", "A", NEW))])
    resolver = start_responder(addresses_behaviour([NEW]))
    knot.update(
        zone_with(
            2, ("bridge", "A", NEW), ("r1", "A", resolver.address), ("r2", "A", resolver.address)
        )
    )
    unbound = start_unbound({ZONE: [knot.endpoint]})
    two_names = [f"r1.example.test:{resolver.port}", f"r2.example.test:{resolver.port}"]

    with pytest.raises(InvalidDnsInput) as caught:
        check(
            NAME,
            [NEW],
            nameservers=[knot.endpoint],
            resolvers=two_names,
            quorum=2,
            bootstrap_resolver=unbound.endpoint,
        )

    assert "--quorum 2 is out of range; expected 0 to 1" in str(caught.value)
    assert "once their names are resolved to addresses" in str(caught.value)
    assert resolver.queries == 0


def test_check_without_expected_reports_agreement(start_knot):
    current = zone_with(2, ("bridge", "A", NEW))
    agreeing = [start_knot([current]), start_knot([current])]
    lagging = start_knot([zone_with(1, ("bridge", "A", OLD))])

    agreed = check(NAME, nameservers=[server.endpoint for server in agreeing], resolvers=[])
    split = check(
        NAME, nameservers=[server.endpoint for server in [*agreeing, lagging]], resolvers=[]
    )

    assert agreed.propagated
    assert agreed.agreed == [NEW]
    assert not split.propagated
    assert split.agreed == [NEW]
    assert statuses(split) == [Status.MATCH, Status.MATCH, Status.MISMATCH]


def test_check_without_expected_missing_name(start_knot):
    knot = start_knot([zone_with(1)])

    report = check(NAME, nameservers=[knot.endpoint], resolvers=[])

    assert not report.propagated
    assert statuses(report) == [Status.NXDOMAIN]


def test_check_resolves_server_names_through_bootstrap_resolver(start_knot, start_unbound):
    knot = start_knot([zone_with(1, ("bridge", "A", NEW))])
    knot.update(zone_with(2, ("bridge", "A", NEW), ("ns-b", "A", knot.address)))
    unbound = start_unbound({ZONE: [knot.endpoint]})

    report = check(
        NAME,
        [NEW],
        nameservers=[f"ns-b.example.test:{knot.port}", f"missing.example.test:{knot.port}"],
        resolvers=[],
        bootstrap_resolver=unbound.endpoint,
    )

    found, missing = report.servers
    assert found.server == knot.endpoint
    assert found.host == "ns-b.example.test"
    assert found.status is Status.MATCH
    assert missing.server == f"missing.example.test:{knot.port}"
    assert missing.status is Status.ERROR
    assert missing.detail == "server name missing.example.test does not exist (NXDOMAIN)"
    assert not report.propagated


def test_check_reports_cname_loop_across_zones(start_knot):
    other = Zone("other.test").add("lb", "CNAME", "bridge.example.test.")
    knot = start_knot([zone_with(1, ("bridge", "CNAME", "lb.other.test.")), other])

    report = check(NAME, [NEW], nameservers=[knot.endpoint], resolvers=[])

    [result] = report.servers
    assert result.status is Status.ERROR
    assert result.detail == (
        "CNAME loop: bridge.example.test -> lb.other.test -> bridge.example.test"
    )


def test_wait_does_not_succeed_with_aaaa_at_name(start_knot):
    knot = start_knot([zone_with(1, ("bridge", "A", NEW), ("bridge", "AAAA", "2001:db8::20"))])
    reports: list[Report] = []

    with pytest.raises(PropagationTimeout) as raised:
        wait_for_propagation(
            NAME,
            [NEW],
            nameservers=[knot.endpoint],
            resolvers=[],
            timeout=3,
            query_timeout=0.5,
            on_progress=reports.append,
        )

    assert reports[0].servers[0].extra == []  # no probe before the server answered addresses
    assert reports[1].servers[0].extra == ["AAAA 2001:db8::20"]
    assert "also has AAAA 2001:db8::20" in str(raised.value)


def test_check_asks_server_on_ipv6_loopback(start_responder):
    responder = start_responder(addresses_behaviour([NEW]), ipv6=True)

    report = check(NAME, [NEW], nameservers=[responder.endpoint], resolvers=[])

    assert report.propagated
    assert report.servers[0].server == f"[::1]:{responder.port}"


def test_check_rejects_empty_server_lists():
    with pytest.raises(InvalidDnsInput, match="there is no server to ask"):
        check(NAME, [NEW], nameservers=[], resolvers=[])


def test_check_discovers_nameservers_on_port_53(start_knot, start_unbound):
    try:
        knot = start_knot([Zone(ZONE)], port=53)
    except RuntimeError as error:
        pytest.skip(f"cannot serve on port 53 here: {error}")
    knot.update(zone_with(2, ("bridge", "A", NEW), ("ns1", "A", knot.address)))
    unbound = start_unbound({ZONE: [knot.endpoint]})

    report = check(NAME, [NEW], resolvers=[unbound.endpoint], bootstrap_resolver=unbound.endpoint)

    assert report.propagated
    authoritative = report.servers[0]
    assert authoritative.server == f"{knot.address}:53"
    assert authoritative.host == "ns1.example.test"
    assert authoritative.role is Role.AUTHORITATIVE


def test_check_reports_cname_leaving_server_zones(start_knot):
    knot = start_knot([zone_with(1, ("bridge", "CNAME", "lb.elsewhere.test."))])

    report = check(NAME, [NEW], nameservers=[knot.endpoint], resolvers=[])

    [result] = report.servers
    assert result.status is Status.ERROR
    assert result.cname_chain == ["lb.elsewhere.test"]
    assert result.detail.startswith("CNAME target lb.elsewhere.test is outside the zones")


def test_check_keeps_server_in_both_roles_apart(start_responder):
    both = start_responder(addresses_behaviour([NEW]))

    report = check(NAME, [NEW], nameservers=[both.endpoint], resolvers=[both.endpoint])

    assert [server.role for server in report.servers] == [Role.AUTHORITATIVE, Role.RESOLVER]
    assert statuses(report) == [Status.MATCH, Status.MATCH]
    assert report.propagated


def test_check_retries_truncated_answer_over_tcp(start_knot):
    addresses = [f"198.51.100.{index}" for index in range(1, 121)]
    knot = start_knot([zone_with(1, *[("bridge", "A", address) for address in addresses])])
    over_udp = query(knot.address, knot.port, NAME, recursion=False)

    report = check(NAME, addresses, nameservers=[knot.endpoint], resolvers=[])

    assert over_udp.flags & dns.flags.TC  # the answer does not fit in one UDP response
    assert report.propagated
    assert len(report.servers[0].answers) == 120
