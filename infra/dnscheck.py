"""The DNS propagation checker behind `scim-bridge dns check`, `dns wait` and the deploy's gate.

`check` asks every server once; `wait_for_propagation` polls until the expected addresses
hold for two rounds in a row. Each authoritative address is asked on its own, without
recursion, and the recursive resolvers are asked only once the authoritative servers agree
(see `infra.dnspolicy` for the rules). Servers are asked concurrently, each with its own
timeout.

This module never prints; it logs through `logging` and returns or raises. It imports no
Pulumi code, so the gate can use it inside a dynamic provider's process.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NoReturn

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rdatatype

from infra import dnspolicy
from infra.dnsanswer import MAX_CNAME_CHAIN, Answer, read_response
from infra.dnsdiscovery import (
    Target,
    discover_nameservers,
    make_bootstrap_resolver,
    resolve_servers,
)
from infra.dnsinput import (
    MAX_QUERY_TIMEOUT,
    MAX_WAIT_TIMEOUT,
    format_server,
    is_ip_address,
    normalize_name,
    parse_expected,
    parse_record_type,
    parse_seconds,
    parse_server,
)
from infra.dnsreport import (
    DnsCheckError,
    InvalidDnsInput,
    PropagationTimeout,
    Report,
    Role,
    ServerResult,
    Status,
)

__all__ = [
    "DEFAULT_RESOLVERS",
    "DnsCheckError",
    "InvalidDnsInput",
    "PropagationTimeout",
    "Report",
    "Role",
    "ServerResult",
    "Status",
    "check",
    "describe_result",
    "format_server",
    "parse_server",
    "wait_for_propagation",
]

logger = logging.getLogger(__name__)

DEFAULT_RESOLVERS: tuple[str, ...] = ("1.1.1.1", "8.8.8.8", "9.9.9.9")
"""The public resolvers of Cloudflare, Google and Quad9, which many clients use."""

_EDNS_PAYLOAD = 1232
"""The EDNS buffer size that avoids IP fragmentation (the DNS flag day 2020 value)."""


@dataclass
class _Plan:
    """The validated inputs of one check or wait: the name, the expected set and the servers."""

    qname: dns.name.Name
    rdtype: dns.rdatatype.RdataType
    record_type: str
    expected: list[str]
    targets: list[Target]
    quorum: int | None
    probe_aaaa: bool

    @property
    def ascii_name(self) -> str:
        return self.qname.to_text(omit_final_dot=True)


@dataclass
class _Poller:
    """The state of a check or wait across rounds: the latest result and cache expiry per server."""

    plan: _Plan
    started: float
    results: dict[tuple[Role, str], ServerResult] = field(default_factory=dict)
    probe_every_round: bool = True
    cached_until: dict[tuple[Role, str], float] = field(default_factory=dict)
    queries: dict[tuple[Role, str], int] = field(default_factory=dict)
    rounds: int = 0
    round_complete: bool = True

    def run_round(
        self, query_timeout: float, deadline: float | None, *, respect_caches: bool
    ) -> Report:
        """Ask the authoritative servers, then the resolvers if those agree, and grade everyone.

        Each of the two phases gives its servers `query_timeout` seconds, but no query runs
        past `deadline` (a `time.monotonic` value, or None). With `respect_caches`, a
        resolver whose cached answer cannot have changed yet keeps its previous result.
        When too little time is left before `deadline` to ask the resolvers, they are not
        asked and `round_complete` is set to False.
        """
        self.rounds += 1
        self.round_complete = True
        plan = self.plan
        authoritative = [t for t in plan.targets if t.role is Role.AUTHORITATIVE]
        resolvers = [t for t in plan.targets if t.role is Role.RESOLVER]

        self._ask_all(authoritative, _expiration(query_timeout, deadline))
        auth_results = [self.results[t.key] for t in authoritative]
        reference = plan.expected or dnspolicy.agreed_answers(auth_results)
        for result in auth_results:
            dnspolicy.grade(result, reference, plan.record_type)

        if dnspolicy.authorities_agree(auth_results):
            now = time.monotonic()
            due = [t for t in resolvers if not (respect_caches and self._cached(t, now))]
            if due and deadline is not None:
                if not dnspolicy.has_time_for_queries(now, deadline, query_timeout):
                    self.round_complete = False
                    for target in due:
                        self.results.setdefault(target.key, _pending(target, _NO_TIME_LEFT))
                    due = []
            self._ask_all(due, _expiration(query_timeout, deadline))
            resolver_results = [self.results[t.key] for t in resolvers]
            if not plan.expected and not authoritative:
                reference = dnspolicy.agreed_answers(resolver_results)
            for target in due:
                dnspolicy.grade(self.results[target.key], reference, plan.record_type)
                dnspolicy.note_cache_expiry(self.results[target.key])
        else:
            for target in resolvers:
                self.results.setdefault(target.key, _pending(target))

        # Copies, so a report handed to on_progress does not change with later rounds.
        servers = [dataclasses.replace(self.results[t.key]) for t in plan.targets]
        return Report(
            name=plan.ascii_name,
            record_type=plan.record_type,
            expected=list(plan.expected),
            propagated=dnspolicy.is_propagated(servers, plan.quorum),
            servers=servers,
            agreed=[] if plan.expected else list(reference),
            rounds=self.rounds,
            elapsed_s=time.monotonic() - self.started,
        )

    def _cached(self, target: Target, now: float) -> bool:
        until = self.cached_until.get(target.key)
        if until is None or until <= now:
            return False
        result = self.results[target.key]
        result.ttl = dnspolicy.cached_ttl(until, now)
        result.detail = f"cached answer expires within {result.ttl} s, so it was not asked again"
        return True

    def _ask_all(self, targets: list[Target], expiration: float) -> None:
        if not targets:
            return
        asked_at = time.monotonic()
        probed = [target for target in targets if self._should_probe(target)]
        with ThreadPoolExecutor(
            max_workers=len(targets) + len(probed), thread_name_prefix="dnscheck"
        ) as pool:
            answers = {t.key: pool.submit(_ask, t, self.plan, expiration) for t in targets}
            probes = {t.key: pool.submit(_probe_aaaa, t, self.plan, expiration) for t in probed}
        for target in targets:
            result, sent = answers[target.key].result()
            if target.key in probes:
                extra, probes_sent = probes[target.key].result()
                sent += probes_sent
                if result.answers:
                    result.extra = extra
            self.queries[target.key] = self.queries.get(target.key, 0) + sent
            result.queries = self.queries[target.key]
            self.results[target.key] = result
            expiry = dnspolicy.cache_expiry(result, asked_at)
            if expiry is None:
                self.cached_until.pop(target.key, None)
            else:
                self.cached_until[target.key] = expiry

    def _should_probe(self, target: Target) -> bool:
        """Decide whether to ask an authoritative server for AAAA records at the name too.

        The probe runs beside the A query, so it adds no time. A wait sends it only to
        servers that answered addresses in the previous round: every success takes two
        agreeing rounds, so the second one always carries the probe, and no AAAA queries
        are sent while the name does not exist yet.
        """
        if not self.plan.probe_aaaa or target.role is not Role.AUTHORITATIVE:
            return False
        if target.address is None:
            return False
        if self.probe_every_round:
            return True
        previous = self.results.get(target.key)
        return previous is not None and bool(previous.answers)


def _expiration(query_timeout: float, deadline: float | None) -> float:
    expiration = time.monotonic() + query_timeout
    return expiration if deadline is None else min(expiration, deadline)


_NOT_AGREED_YET = "not asked until the authoritative servers agree"
_NO_TIME_LEFT = "not asked, because the authoritative servers agreed too close to the deadline"


def _pending(target: Target, detail: str = _NOT_AGREED_YET) -> ServerResult:
    return ServerResult(server=target.label, role=target.role, host=target.host, detail=detail)


def _ask(target: Target, plan: _Plan, expiration: float) -> tuple[ServerResult, int]:
    """Ask one server for the name, following CNAME targets it leaves open; return the result
    and the number of queries sent."""
    result = ServerResult(server=target.label, role=target.role, host=target.host)
    if target.address is None:
        result.status = Status.ERROR
        result.detail = target.error
        return result, 0

    started = time.monotonic()
    recursion = target.role is Role.RESOLVER
    sent = 0
    chain: list[str] = []
    qname = plan.qname
    ttls: list[int] = []
    while True:
        sent += 1
        try:
            response = _query(target, qname, plan.rdtype, recursion, expiration)
        except dns.exception.Timeout:
            result.status = Status.TIMEOUT
            result.detail = "no valid response in time"
            break
        except (OSError, dns.exception.DNSException) as error:
            result.status = Status.ERROR
            result.detail = f"query failed: {error}"
            break
        answer = read_response(
            response,
            qname,
            plan.rdtype,
            authoritative=not recursion,
            start=plan.qname,
            chain_so_far=chain,
        )
        chain = answer.cname_chain
        if answer.ttl is not None:
            ttls.append(answer.ttl)
        if answer.unresolved_target is not None and len(chain) < MAX_CNAME_CHAIN:
            qname = answer.unresolved_target
            continue
        if answer.unresolved_target is not None:
            result.status = Status.ERROR
            result.detail = f"CNAME chain longer than {MAX_CNAME_CHAIN}"
        elif answer.status is None:
            result.status = Status.MATCH  # graded against the reference by the caller
            result.answers = answer.addresses
        elif qname != plan.qname and _outside_zones(answer):
            # NOTE: a chain that leaves the zones this server serves cannot be followed
            # without recursion, so such a name never counts as propagated here.
            result.status = Status.ERROR
            result.detail = (
                f"CNAME target {qname.to_text(omit_final_dot=True)} is outside the zones "
                f"of this server, which cannot resolve it without recursion"
            )
        else:
            result.status = answer.status
            result.detail = answer.detail
        break

    result.cname_chain = chain
    result.ttl = min(ttls) if ttls else None
    result.elapsed_ms = round((time.monotonic() - started) * 1000)
    logger.debug(
        "dns: %s %s %s from %s: %s %s",
        plan.ascii_name,
        plan.record_type,
        "recursive" if recursion else "authoritative",
        target.label,
        result.status.value,
        result.answers or result.detail,
    )
    return result, sent


def _outside_zones(answer: Answer) -> bool:
    """Return True when a server refused a name or referred it elsewhere: not its zone."""
    return answer.status is Status.REFUSED or answer.detail.startswith("not authoritative")


def _probe_aaaa(target: Target, plan: _Plan, expiration: float) -> tuple[list[str], int]:
    """Return the AAAA records at the name as `AAAA <address>` entries, and the query count.

    Only IPv4 addresses are expected when this runs, and a client that prefers IPv6 (Let's
    Encrypt's validation among them) would connect to these addresses instead.
    """
    try:
        response = _query(target, plan.qname, dns.rdatatype.AAAA, False, expiration)
    except (OSError, dns.exception.DNSException) as error:
        logger.debug("dns: AAAA probe of %s at %s failed: %s", plan.ascii_name, target.label, error)
        return [], 1
    answer = read_response(response, plan.qname, dns.rdatatype.AAAA, authoritative=True)
    return [f"AAAA {address}" for address in answer.addresses], 1


def _query(
    target: Target,
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    recursion: bool,
    expiration: float,
) -> dns.message.Message:
    """Send one query over UDP, and again over TCP when the answer is truncated.

    A UDP datagram that is not a response to this query (another source, id or question,
    or not parsable) is ignored, and the real response is awaited until `expiration`, so a
    stray or forged datagram cannot replace the server's answer.
    """
    query = dns.message.make_query(qname, rdtype, use_edns=0, payload=_EDNS_PAYLOAD)
    if not recursion:
        query.flags &= ~dns.flags.RD
    response = dns.query.udp(
        query,
        target.address,
        timeout=_remaining(expiration),
        port=target.port,
        ignore_unexpected=True,
        ignore_errors=True,
    )
    if response.flags & dns.flags.TC:
        response = dns.query.tcp(
            query, target.address, timeout=_remaining(expiration), port=target.port
        )
    return response


def _remaining(expiration: float) -> float:
    remaining = expiration - time.monotonic()
    if remaining <= 0:
        raise dns.exception.Timeout(timeout=0)
    return remaining


def _plan(
    name: str,
    expected: Sequence[str],
    record_type: str,
    nameservers: Sequence[str] | None,
    resolvers: Sequence[str],
    quorum: int | None,
    check_aaaa: bool,
    bootstrap_resolver: str | None,
    timeout: float,
    deadline: float | None = None,
) -> _Plan:
    """Validate the inputs and find the servers to ask, with lookups ending by `deadline`.

    :raises InvalidDnsInput: on bad input.
    :raises DnsCheckError: when the nameservers cannot be found.
    """
    ascii_name = normalize_name(name)
    record_type = parse_record_type(record_type)
    expected_addresses = parse_expected(expected, record_type)
    # Duplicates go before the quorum is checked, because a server given twice (or as both
    # 127.0.0.1 and 127.0.0.1:53) is asked once and so counts once toward the quorum.
    nameserver_specs = _unique_specs(
        parse_server(text, "--nameserver") for text in nameservers or ()
    )
    resolver_specs = _unique_specs(parse_server(text, "--resolver") for text in resolvers)
    if quorum is not None and not 0 <= quorum <= len(resolver_specs):
        raise InvalidDnsInput(
            f"dns: --quorum {quorum} is out of range; expected 0 to {len(resolver_specs)}, "
            "the number of distinct resolvers"
        )
    bootstrap = None
    if bootstrap_resolver is not None:
        bootstrap = parse_server(bootstrap_resolver, "--bootstrap-resolver")
    if nameservers is not None and not nameservers and not resolvers:
        raise InvalidDnsInput(
            "dns: there is no server to ask: the nameservers and the resolvers are both empty; "
            "pass --nameserver or --resolver"
        )
    qname = dns.name.from_text(ascii_name)

    needs_lookup = nameservers is None or any(
        not is_ip_address(host) for host, _ in nameserver_specs + resolver_specs
    )
    lookup = make_bootstrap_resolver(bootstrap, timeout) if needs_lookup else None
    if nameservers is None:
        targets = discover_nameservers(qname, lookup, timeout=timeout, deadline=deadline)
    else:
        targets = resolve_servers(nameserver_specs, Role.AUTHORITATIVE, lookup, deadline)
    targets += resolve_servers(resolver_specs, Role.RESOLVER, lookup, deadline)
    # NOTE: server names are looked up once, here. A name that does not resolve yet stays
    # an error for the whole wait, even if its address appears later.
    targets = _unique(targets)
    resolver_count = sum(target.role is Role.RESOLVER for target in targets)
    if quorum is not None and quorum > resolver_count:
        raise InvalidDnsInput(
            f"dns: --quorum {quorum} is out of range; expected 0 to {resolver_count}, the "
            "number of distinct resolvers once their names are resolved to addresses"
        )
    return _Plan(
        qname=qname,
        rdtype=dns.rdatatype.from_text(record_type),
        record_type=record_type,
        expected=expected_addresses,
        targets=targets,
        quorum=quorum,
        probe_aaaa=check_aaaa and record_type == "A" and bool(expected_addresses),
    )


def _unique_specs(specs: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    return list(dict.fromkeys(specs))


def _unique(targets: list[Target]) -> list[Target]:
    seen: set[tuple[Role, str]] = set()
    unique = []
    for target in targets:
        if target.key not in seen:
            seen.add(target.key)
            unique.append(target)
    return unique


def check(
    name: str,
    expected: Sequence[str] = (),
    *,
    record_type: str = "A",
    nameservers: Sequence[str] | None = None,
    resolvers: Sequence[str] = DEFAULT_RESOLVERS,
    quorum: int | None = None,
    timeout: float = 2.0,
    check_aaaa: bool = True,
    bootstrap_resolver: str | None = None,
) -> Report:
    """Ask every server once and report whether the name has propagated.

    :param name: the name, in Unicode or punycode, with or without the trailing dot.
    :param expected: the addresses the name must resolve to. When empty, the report says
        what each server answers, and `propagated` is True only when all of them answer the
        same non-empty set.
    :param record_type: `A` or `AAAA`.
    :param nameservers: the authoritative servers as `HOST[:PORT]`; None finds them with an
        NS walk through the bootstrap resolver. An empty list asks only the resolvers.
    :param resolvers: the recursive resolvers as `HOST[:PORT]`, asked only once every
        authoritative server answers the expected addresses.
    :param quorum: how many resolvers must match; None means all.
    :param timeout: seconds each server gets to answer a query: a finite number above 0
        and at most `MAX_QUERY_TIMEOUT`. The resolvers are asked after the authoritative
        servers, so the whole check can take two timeouts, plus any nameserver lookups.
    :param check_aaaa: with IPv4 addresses expected, also ask the authoritative servers for
        AAAA records at the name and count any as a mismatch.
    :param bootstrap_resolver: `HOST[:PORT]` of the resolver used to find the nameservers
        and the addresses of servers given by name; None uses the system's resolver.
    :raises InvalidDnsInput: on bad input, naming the argument.
    :raises DnsCheckError: when the nameservers cannot be found.
    """
    started = time.monotonic()
    parse_seconds(timeout, "--timeout", MAX_QUERY_TIMEOUT)
    plan = _plan(
        name, expected, record_type, nameservers, resolvers, quorum, check_aaaa,
        bootstrap_resolver, timeout,
    )  # fmt: skip
    poller = _Poller(plan, started)
    return poller.run_round(timeout, None, respect_caches=False)


def wait_for_propagation(
    name: str,
    expected: Sequence[str],
    *,
    record_type: str = "A",
    nameservers: Sequence[str] | None = None,
    resolvers: Sequence[str] = DEFAULT_RESOLVERS,
    quorum: int | None = None,
    timeout: float = 900.0,
    query_timeout: float = 2.0,
    on_progress: Callable[[Report], None] | None = None,
    check_aaaa: bool = True,
    bootstrap_resolver: str | None = None,
) -> Report:
    """Poll until the name resolves to the expected addresses everywhere, two rounds in a row.

    Arguments are those of `check`, and `expected` must not be empty. `timeout` is the
    whole wait in seconds, at most `MAX_WAIT_TIMEOUT`. `query_timeout` is the time per
    query, at most `MAX_QUERY_TIMEOUT`. Both must be finite and above 0. Rounds start one
    second apart, and the interval grows while no answer changes. A resolver is not asked
    again before its cached answer expires. The wait ends within about a second after
    `timeout` seconds, because the last round is placed so that its queries finish by then.
    No round starts, and no round asks its resolvers, with less query time left than
    `dnspolicy.has_time_for_queries` requires, so a server is not reported as timed out
    only because the deadline cut its query short. `on_progress` receives the report of
    every round, with `next_poll_s` set while the wait goes on.

    :returns: the report of the second agreeing round.
    :raises InvalidDnsInput: on bad input, naming the argument.
    :raises PropagationTimeout: when the timeout passes first. Its `report` is the last
        round that asked every server it had to, or the first round when none did.
    :raises DnsCheckError: when the nameservers cannot be found.
    """
    started = time.monotonic()
    if not expected:
        raise InvalidDnsInput("dns: --expect is missing; waiting needs at least one address")
    parse_seconds(timeout, "--timeout", MAX_WAIT_TIMEOUT)
    parse_seconds(query_timeout, "--query-timeout", MAX_QUERY_TIMEOUT)
    deadline = started + timeout
    plan = _plan(
        name, expected, record_type, nameservers, resolvers, quorum, check_aaaa,
        bootstrap_resolver, min(query_timeout, timeout), deadline,
    )  # fmt: skip
    logger.info(
        "dns: waiting up to %.0f s for %s %s to be %s at %d servers",
        timeout,
        plan.ascii_name,
        plan.record_type,
        ", ".join(plan.expected),
        len(plan.targets),
    )
    poller = _Poller(plan, started, probe_every_round=False)
    last_change = started
    agreeing_rounds = 0
    previous: dict[str, ServerResult] = {}
    last_complete: Report | None = None
    while True:
        round_started = time.monotonic()
        report = poller.run_round(query_timeout, deadline, respect_caches=True)
        if not poller.round_complete and last_complete is not None:
            # The resolvers could not be asked before the deadline, so the previous round,
            # which asked everyone, is the better account of where each server stands.
            _raise_timeout(dataclasses.replace(last_complete, next_poll_s=None), started, timeout)
        agreeing_rounds = agreeing_rounds + 1 if report.propagated else 0
        if any(dnspolicy.answer_changed(previous.get(s.server), s) for s in report.servers):
            last_change = round_started
        previous = {s.server: _snapshot(s) for s in report.servers}

        if agreeing_rounds >= 2:
            logger.info(
                "dns: %s propagated after %.1f s and %d queries",
                plan.ascii_name,
                report.elapsed_s,
                report.queries,
            )
            _notify(on_progress, report)
            return report

        now = time.monotonic()
        interval = dnspolicy.poll_interval(now, last_change, report.propagated)
        next_at = dnspolicy.next_round_at(round_started, interval, deadline, query_timeout, now)
        if not poller.round_complete:
            next_at = None
        report.next_poll_s = None if next_at is None else max(0.0, next_at - now)
        _notify(on_progress, report)
        if next_at is None:
            _raise_timeout(report, started, timeout)
        last_complete = report
        time.sleep(max(0.0, next_at - time.monotonic()))


def _raise_timeout(report: Report, started: float, timeout: float) -> NoReturn:
    """Sleep until the wait's deadline, then raise PropagationTimeout with `report`."""
    time.sleep(max(0.0, started + timeout - time.monotonic()))
    report.elapsed_s = time.monotonic() - started
    raise PropagationTimeout(_timeout_message(report, timeout), report)


def _snapshot(result: ServerResult) -> ServerResult:
    return ServerResult(
        server=result.server, role=result.role, status=result.status, answers=list(result.answers)
    )


def _notify(on_progress: Callable[[Report], None] | None, report: Report) -> None:
    if on_progress is not None:
        on_progress(report)


def _timeout_message(report: Report, timeout: float) -> str:
    lagging = "; ".join(describe_result(result) for result in report.lagging)
    return (
        f"dns: {report.name} {report.record_type} did not resolve to "
        f"{', '.join(report.expected)} everywhere within {timeout:g} s; lagging: {lagging}"
    )


def describe_result(result: ServerResult) -> str:
    """Return one server's last answer in a few words, such as `127.0.0.1:5301 (authoritative)
    mismatch 192.0.2.1, TTL 300 s: missing 192.0.2.7`."""
    text = f"{result.server} ({result.role.value}) {result.status.value}"
    if result.answers:
        text += " " + ", ".join(result.answers)
    if result.ttl is not None and result.status is not Status.PENDING:
        text += f", TTL {result.ttl} s"
    if result.detail:
        text += f": {result.detail}"
    return text
