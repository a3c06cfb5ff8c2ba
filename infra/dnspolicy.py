"""The decisions of a propagation check, apart from the sockets: grading, agreement, pacing.

Every function here is pure, so the rules are unit-tested without DNS servers:

- A server matches when it answers exactly the expected addresses (compared as sets). With
  no expected addresses, the reference is the set most authoritative servers answer.
- Resolvers are asked only once every authoritative server matches, because asking them
  earlier plants a negative answer in their caches for the zone's negative TTL.
- Propagated means every authoritative server matches, and the quorum of resolvers does.
- A wait polls each server at most once a second, backs off while nothing changes, and
  does not re-ask a resolver before its cached answer (positive or negative) expires.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from infra.dnsreport import Role, ServerResult, Status

MIN_POLL_INTERVAL = 1.0
"""Seconds between the starts of two rounds, at least. A round sends each server one query
for the name, plus an AAAA probe and queries for CNAME targets where those apply."""
MAX_POLL_INTERVAL = 10.0
MIN_QUERY_TIME = 1.0
"""Seconds of query time a wait's round needs before the deadline, or the whole query timeout
when that is shorter. A query cut shorter would often report a responsive server as timed
out, so no round and no resolver phase starts with less time left."""
BACKOFF_FRACTION = 0.1
"""The poll interval grows to this fraction of the time since any answer last changed, so
noticing a change late adds at most about 10% to the time already waited."""

CACHE_ROUNDING_MARGIN = 1.0
"""Seconds a resolver is held beyond the TTL it returned. Resolvers report the TTL left
rounded down to whole seconds, so the entry may live up to a second longer than the TTL."""

_ANSWERED = (Status.MATCH, Status.MISMATCH)


def grade(result: ServerResult, reference: Sequence[str], record_type: str) -> None:
    """Set `result.status` to match or mismatch by comparing its answers with `reference`.

    Only results that carry addresses are graded; any other status is left alone. Missing
    and unexpected addresses are named in `detail`, and each unexpected one is listed in
    `extra` as `<record_type> <address>`. An extra record of another type found earlier
    (an AAAA at the name when IPv4 is expected) also makes the result a mismatch.
    """
    if result.status not in _ANSWERED:
        return
    reference_set = set(reference)
    missing = [address for address in reference if address not in result.answers]
    unexpected = [address for address in result.answers if address not in reference_set]
    other_types = [record for record in result.extra if not record.startswith(record_type + " ")]
    result.extra = other_types + [f"{record_type} {address}" for address in unexpected]
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if unexpected:
        parts.append("unexpected " + ", ".join(unexpected))
    if other_types:
        parts.append(
            "also has " + ", ".join(other_types) + ", which clients that prefer IPv6 "
            "(Let's Encrypt among them) use instead"
        )
    if parts:
        result.status = Status.MISMATCH
        result.detail = "; ".join(parts)
    else:
        result.status = Status.MATCH
        result.detail = ""


def agreed_answers(results: Sequence[ServerResult]) -> list[str]:
    """Return the address set that most servers answer, from the authoritative servers first.

    Resolvers count only when there is no authoritative server. A tie goes to the set of the
    server listed first. Returns an empty list when no server answered addresses.
    """
    authoritative = [result for result in results if result.role is Role.AUTHORITATIVE]
    voters = authoritative or list(results)
    counts = Counter(tuple(result.answers) for result in voters if result.answers)
    if not counts:
        return []
    best = max(counts.values())
    for result in voters:
        if result.answers and counts[tuple(result.answers)] == best:
            return list(result.answers)
    return []


def authorities_agree(results: Sequence[ServerResult]) -> bool:
    """Return True when every authoritative server matches (vacuously True with none)."""
    return all(
        result.status is Status.MATCH for result in results if result.role is Role.AUTHORITATIVE
    )


def is_propagated(results: Sequence[ServerResult], quorum: int | None) -> bool:
    """Return True when every authoritative server matches and enough resolvers do.

    `quorum` is the number of resolvers that must match; None means all of them. At least
    one server must have been asked and matched, so an empty list is never propagated.
    """
    if not any(result.status is Status.MATCH for result in results):
        return False
    if not authorities_agree(results):
        return False
    resolvers = [result for result in results if result.role is Role.RESOLVER]
    needed = len(resolvers) if quorum is None else quorum
    matching = sum(result.status is Status.MATCH for result in resolvers)
    return matching >= needed


def cache_expiry(result: ServerResult, asked_at: float) -> float | None:
    """Return when a resolver's cached answer can change, or None when it may change any time.

    A positive answer stays cached for its TTL, and NXDOMAIN or NODATA for the negative TTL
    from the zone's SOA. `asked_at` is the monotonic time the query was sent. The expiry
    includes `CACHE_ROUNDING_MARGIN`, because asking at the TTL alone often gets the old
    answer again.
    """
    if result.role is not Role.RESOLVER or not result.ttl:
        return None
    if result.status not in (*_ANSWERED, Status.NXDOMAIN, Status.NODATA):
        return None
    return asked_at + result.ttl + CACHE_ROUNDING_MARGIN


def cached_ttl(expiry: float, now: float) -> int:
    """Return the whole seconds of TTL a resolver's cached answer has left at `now`.

    `expiry` is the value of `cache_expiry`. Its rounding margin is taken off again, so the
    result never exceeds the TTL the resolver returned, and it is 0 within the margin.
    """
    return max(0, math.ceil(expiry - CACHE_ROUNDING_MARGIN - now))


def note_cache_expiry(result: ServerResult) -> None:
    """Add to a resolver's detail when its stale or negative answer leaves its cache.

    The TTL a resolver returns counts down, so it is the time left before the resolver asks
    the authoritative servers again; until then it keeps serving this answer.
    """
    stale = (Status.MISMATCH, Status.NXDOMAIN, Status.NODATA)
    if result.role is not Role.RESOLVER or result.status not in stale or result.ttl is None:
        return
    note = f"cached for {result.ttl} s more"
    result.detail = f"{result.detail}; {note}" if result.detail else note


def poll_interval(now: float, last_change: float, agreeing: bool) -> float:
    """Return the seconds from one round's start to the next.

    Right after a round in which everything matched, the next round comes after the
    minimum interval, to confirm the answer holds. Otherwise the interval is the backoff
    fraction of the time since an answer last changed, between the minimum and maximum.
    """
    if agreeing:
        return MIN_POLL_INTERVAL
    backoff = BACKOFF_FRACTION * (now - last_change)
    return min(MAX_POLL_INTERVAL, max(MIN_POLL_INTERVAL, backoff))


def has_time_for_queries(now: float, deadline: float, query_timeout: float) -> bool:
    """Return True when queries sent at `now` get `MIN_QUERY_TIME` (or `query_timeout`,
    when shorter) before `deadline`."""
    return deadline - now >= min(query_timeout, MIN_QUERY_TIME)


def next_round_at(
    round_started: float, interval: float, deadline: float, query_timeout: float, now: float
) -> float | None:
    """Return when the next round starts, or None when no round fits before the deadline.

    The last round is moved earlier, to `deadline - query_timeout` when that is still at
    least the minimum interval after this round, so its queries can finish by the deadline.
    A round that this one has overrun starts at `now`. Either way, it must leave the time
    `has_time_for_queries` requires.
    """
    earliest = round_started + MIN_POLL_INTERVAL
    planned = round_started + max(interval, MIN_POLL_INTERVAL)
    if planned + query_timeout > deadline:
        planned = max(earliest, deadline - query_timeout)
    start = max(planned, now)
    if not has_time_for_queries(start, deadline, query_timeout):
        return None
    return start


def answer_changed(before: ServerResult | None, after: ServerResult) -> bool:
    """Return True when a server's status or answers differ from its previous result."""
    if before is None:
        return after.status is not Status.PENDING
    return (before.status, before.answers) != (after.status, after.answers)
