"""Reading responses: CNAME chains, negative answers and the AA flag, from built messages."""

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from infra.dnsanswer import MAX_CNAME_CHAIN, read_response
from infra.dnsreport import Status

QNAME = dns.name.from_text("bridge.example.test")
A = dns.rdatatype.A


def response(*answer, rcode=dns.rcode.NOERROR, authority=(), aa=True):
    query = dns.message.make_query(QNAME, A)
    message = dns.message.make_response(query)
    if aa:
        message.flags |= dns.flags.AA
    message.set_rcode(rcode)
    message.answer.extend(dns.rrset.from_text(*record) for record in answer)
    message.authority.extend(dns.rrset.from_text(*record) for record in authority)
    return message


SOA = ("example.test.", 3600, "IN", "SOA", "ns1.example.test. host.example.test. 1 1 1 1 120")


def test_read_response_returns_sorted_addresses_and_lowest_ttl():
    message = response(
        ("Bridge.Example.Test.", 300, "IN", "A", "192.0.2.10", "192.0.2.9"),
    )

    answer = read_response(message, QNAME, A, authoritative=True)

    assert answer.status is None
    assert answer.addresses == ["192.0.2.9", "192.0.2.10"]
    assert answer.ttl == 300


def test_read_response_follows_cname_chain_with_lowest_ttl():
    message = response(
        ("bridge.example.test.", 60, "IN", "CNAME", "lb.example.test."),
        ("lb.example.test.", 300, "IN", "A", "192.0.2.10"),
    )

    answer = read_response(message, QNAME, A, authoritative=False)

    assert answer.addresses == ["192.0.2.10"]
    assert answer.cname_chain == ["lb.example.test"]
    assert answer.ttl == 60


def test_read_response_reports_missing_cname_target():
    message = response(
        ("bridge.example.test.", 60, "IN", "CNAME", "gone.example.test."),
        rcode=dns.rcode.NXDOMAIN,
        authority=[SOA],
    )

    answer = read_response(message, QNAME, A, authoritative=True)

    assert answer.status is Status.NXDOMAIN
    assert answer.detail == "gone.example.test does not exist"
    assert answer.ttl == 120


def test_read_response_out_of_zone_target():
    message = response(("bridge.example.test.", 60, "IN", "CNAME", "lb.other.test."))

    answer = read_response(message, QNAME, A, authoritative=True)

    assert answer.status is None
    assert answer.unresolved_target == dns.name.from_text("lb.other.test")


def test_read_response_reports_loop_across_queries():
    message = response(("lb.other.test.", 60, "IN", "CNAME", "bridge.example.test."))

    answer = read_response(
        message,
        dns.name.from_text("lb.other.test"),
        A,
        authoritative=True,
        start=QNAME,
        chain_so_far=["lb.other.test"],
    )

    assert answer.status is Status.ERROR
    assert (
        answer.detail == "CNAME loop: bridge.example.test -> lb.other.test -> bridge.example.test"
    )


def test_read_response_stops_at_max_chain():
    links = [
        (f"c{index}.example.test.", 60, "IN", "CNAME", f"c{index + 1}.example.test.")
        for index in range(MAX_CNAME_CHAIN + 2)
    ]
    message = response(("bridge.example.test.", 60, "IN", "CNAME", "c0.example.test."), *links)

    answer = read_response(message, QNAME, A, authoritative=True)

    assert answer.status is Status.ERROR
    assert answer.detail == f"CNAME chain longer than {MAX_CNAME_CHAIN}"


def test_read_response_negative_ttl():
    short_soa = ("example.test.", 30, "IN", "SOA", SOA[4])

    nodata = read_response(response(authority=[SOA]), QNAME, A, authoritative=True)
    capped = read_response(response(authority=[short_soa]), QNAME, A, authoritative=True)

    assert nodata.status is Status.NODATA
    assert nodata.ttl == 120
    assert capped.ttl == 30


def test_read_response_requires_aa_from_authoritative_server():
    message = response(("bridge.example.test.", 60, "IN", "A", "192.0.2.1"), aa=False)

    as_authoritative = read_response(message, QNAME, A, authoritative=True)
    as_resolver = read_response(message, QNAME, A, authoritative=False)

    assert as_authoritative.status is Status.ERROR
    assert as_resolver.addresses == ["192.0.2.1"]


def test_read_response_maps_rcodes():
    for rcode, status in [
        (dns.rcode.SERVFAIL, Status.SERVFAIL),
        (dns.rcode.REFUSED, Status.REFUSED),
        (dns.rcode.FORMERR, Status.ERROR),
    ]:
        answer = read_response(response(rcode=rcode), QNAME, A, authoritative=True)
        assert answer.status is status, rcode
