"""The decision rules of the checker, without sockets: grading, agreement, caches, pacing."""

import pytest

from infra import dnspolicy
from infra.dnsreport import Role, ServerResult, Status

AUTH = Role.AUTHORITATIVE
RESOLVER = Role.RESOLVER


def result(status=Status.MATCH, answers=(), role=AUTH, ttl=None, extra=()):
    return ServerResult(
        server="127.0.0.1:53",
        role=role,
        status=status,
        answers=list(answers),
        ttl=ttl,
        extra=list(extra),
    )


def test_grade_matches_equal_sets():
    graded = result(answers=["192.0.2.1", "192.0.2.2"])

    dnspolicy.grade(graded, ["192.0.2.1", "192.0.2.2"], "A")

    assert graded.status is Status.MATCH
    assert graded.detail == ""
    assert graded.extra == []


def test_grade_names_missing_and_unexpected_addresses():
    graded = result(answers=["192.0.2.1", "192.0.2.9"])

    dnspolicy.grade(graded, ["192.0.2.1", "192.0.2.2"], "A")

    assert graded.status is Status.MISMATCH
    assert graded.detail == "missing 192.0.2.2; unexpected 192.0.2.9"
    assert graded.extra == ["A 192.0.2.9"]


def test_grade_counts_aaaa_at_name_as_mismatch():
    graded = result(answers=["192.0.2.1"], extra=["AAAA 2001:db8::1"])

    dnspolicy.grade(graded, ["192.0.2.1"], "A")

    assert graded.status is Status.MISMATCH
    assert graded.extra == ["AAAA 2001:db8::1"]
    assert graded.detail.startswith("also has AAAA 2001:db8::1")


def test_grade_is_repeatable():
    graded = result(answers=["192.0.2.9"])

    dnspolicy.grade(graded, ["192.0.2.1"], "A")
    dnspolicy.grade(graded, ["192.0.2.1"], "A")

    assert graded.extra == ["A 192.0.2.9"]


@pytest.mark.parametrize(
    "status", [Status.NXDOMAIN, Status.TIMEOUT, Status.PENDING, Status.ERROR, Status.NODATA]
)
def test_grade_leaves_failures_alone(status):
    graded = result(status=status)

    dnspolicy.grade(graded, ["192.0.2.1"], "A")

    assert graded.status is status


def test_agreed_answers_takes_majority_of_authoritative_servers():
    results = [
        result(answers=["192.0.2.1"]),
        result(answers=["192.0.2.2"]),
        result(answers=["192.0.2.2"]),
        result(answers=["192.0.2.1"], role=RESOLVER),
        result(answers=["192.0.2.1"], role=RESOLVER),
    ]

    assert dnspolicy.agreed_answers(results) == ["192.0.2.2"]


def test_agreed_answers_breaks_tie_by_server_order():
    results = [result(answers=["192.0.2.2"]), result(answers=["192.0.2.1"])]

    assert dnspolicy.agreed_answers(results) == ["192.0.2.2"]


def test_agreed_answers_uses_resolvers_without_authoritative_servers():
    results = [result(answers=["192.0.2.3"], role=RESOLVER)]

    assert dnspolicy.agreed_answers(results) == ["192.0.2.3"]


def test_agreed_answers_is_empty_when_nobody_answers():
    assert dnspolicy.agreed_answers([result(status=Status.NXDOMAIN)]) == []


def test_is_propagated_needs_every_authoritative_server():
    results = [result(), result(status=Status.MISMATCH), result(role=RESOLVER)]

    assert not dnspolicy.is_propagated(results, quorum=None)


def test_is_propagated_needs_every_resolver_without_quorum():
    results = [result(), result(role=RESOLVER), result(status=Status.TIMEOUT, role=RESOLVER)]

    assert not dnspolicy.is_propagated(results, quorum=None)
    assert dnspolicy.is_propagated(results, quorum=1)
    assert not dnspolicy.is_propagated(results, quorum=2)


def test_is_propagated_is_false_without_any_match():
    assert not dnspolicy.is_propagated([], quorum=None)
    assert not dnspolicy.is_propagated([result(status=Status.PENDING, role=RESOLVER)], quorum=0)


def test_cache_expiry_holds_resolver_for_ttl_plus_rounding():
    assert dnspolicy.cache_expiry(result(role=RESOLVER, ttl=30), asked_at=100.0) == 131.0


@pytest.mark.parametrize("status", [Status.NXDOMAIN, Status.NODATA, Status.MISMATCH])
def test_cache_expiry_holds_negative_and_stale_answers(status):
    assert dnspolicy.cache_expiry(result(status, role=RESOLVER, ttl=5), asked_at=0.0) == 6.0


@pytest.mark.parametrize("ttl", [1, 300, 2**31 - 1])
@pytest.mark.parametrize("elapsed", [0.0, 0.001, 0.5, 0.999, 1.0, 1.5])
def test_cached_ttl_never_exceeds_returned_ttl(ttl, elapsed):
    expiry = dnspolicy.cache_expiry(result(role=RESOLVER, ttl=ttl), asked_at=100.0)

    assert dnspolicy.cached_ttl(expiry, now=100.0 + elapsed) <= ttl


def test_cached_ttl_counts_down_from_returned_ttl():
    expiry = dnspolicy.cache_expiry(result(role=RESOLVER, ttl=300), asked_at=100.0)

    assert dnspolicy.cached_ttl(expiry, now=100.5) == 300
    assert dnspolicy.cached_ttl(expiry, now=101.0) == 299
    assert dnspolicy.cached_ttl(expiry, now=399.5) == 1
    assert dnspolicy.cached_ttl(expiry, now=400.5) == 0


@pytest.mark.parametrize(
    "held",
    [
        result(ttl=30),
        result(role=RESOLVER, ttl=0),
        result(role=RESOLVER, ttl=None),
        result(Status.SERVFAIL, role=RESOLVER, ttl=30),
        result(Status.TIMEOUT, role=RESOLVER),
    ],
    ids=["authoritative", "zero-ttl", "no-ttl", "servfail", "timeout"],
)
def test_cache_expiry_does_not_hold(held):
    assert dnspolicy.cache_expiry(held, asked_at=0.0) is None


def test_poll_interval_starts_at_minimum():
    assert dnspolicy.poll_interval(now=3.0, last_change=0.0, agreeing=False) == 1.0


def test_poll_interval_backs_off():
    assert dnspolicy.poll_interval(now=50.0, last_change=0.0, agreeing=False) == 5.0
    assert dnspolicy.poll_interval(now=500.0, last_change=0.0, agreeing=False) == 10.0


def test_poll_interval_confirms_agreement_after_minimum():
    assert dnspolicy.poll_interval(now=500.0, last_change=0.0, agreeing=True) == 1.0


def test_next_round_at_keeps_planned_time():
    assert dnspolicy.next_round_at(10.0, 3.0, 100.0, 2.0, now=10.1) == 13.0


def test_next_round_at_respects_minimum_interval():
    assert dnspolicy.next_round_at(10.0, 0.2, 100.0, 2.0, now=10.1) == 11.0


def test_next_round_at_finishes_by_deadline():
    assert dnspolicy.next_round_at(10.0, 8.0, 15.0, 2.0, now=10.1) == 13.0


def test_next_round_at_none_past_deadline():
    assert dnspolicy.next_round_at(10.0, 1.0, 10.5, 2.0, now=10.1) is None
    assert dnspolicy.next_round_at(10.0, 1.0, 11.0, 2.0, now=10.1) is None


def test_next_round_at_starts_overrun_round_now():
    assert dnspolicy.next_round_at(10.0, 1.0, 100.0, 2.0, now=12.5) == 12.5


@pytest.mark.parametrize("now", [11.5, 12.0, 12.2, 12.4])
def test_next_round_at_none_without_query_time(now):
    # This round overran its planned successor (at 11.0) into the deadline's last second.
    assert dnspolicy.next_round_at(10.0, 1.0, 12.2, 2.0, now=now) is None


def test_next_round_at_allows_short_query_timeout():
    assert dnspolicy.next_round_at(10.0, 1.0, 11.4, 0.3, now=10.1) == 11.0
    assert dnspolicy.next_round_at(10.0, 1.0, 11.2, 0.3, now=10.1) is None


def test_has_time_for_queries():
    assert dnspolicy.has_time_for_queries(10.0, 11.0, 2.0)
    assert not dnspolicy.has_time_for_queries(10.1, 11.0, 2.0)
    assert dnspolicy.has_time_for_queries(10.6, 11.0, 0.4)
    assert not dnspolicy.has_time_for_queries(11.0, 11.0, 0.4)


def test_answer_changed_notices_status_and_answers():
    before = result(answers=["192.0.2.1"])

    assert not dnspolicy.answer_changed(before, result(answers=["192.0.2.1"]))
    assert dnspolicy.answer_changed(before, result(answers=["192.0.2.2"]))
    assert dnspolicy.answer_changed(before, result(Status.TIMEOUT))
    assert dnspolicy.answer_changed(None, result())
    assert not dnspolicy.answer_changed(None, result(Status.PENDING))
