"""Finding the servers to ask: the zone's nameservers, and the addresses of servers given by name.

Lookups go through a bootstrap resolver: the system's resolver in production, or the one the
caller names. The queried name itself is never looked up through it, because a resolver
that is asked before the record exists caches the negative answer and then serves it for
the zone's negative TTL.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.query
import dns.rdatatype
import dns.resolver

from infra.dnsinput import DNS_PORT, format_server, is_ip_address
from infra.dnsreport import DnsCheckError, Role

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """One address to ask, or a server name whose address could not be found (`error`)."""

    role: Role
    port: int
    address: str | None
    host: str | None = None
    error: str = ""

    @property
    def label(self) -> str:
        """The server as the report shows it: `HOST:PORT`, IPv6 in brackets."""
        return format_server(self.address or self.host or "?", self.port)

    @property
    def key(self) -> tuple[Role, str]:
        """The identity of a target within one check: a server may be both kinds."""
        return self.role, self.label


def make_bootstrap_resolver(
    server: tuple[str, int] | None, timeout: float
) -> dns.resolver.Resolver:
    """Return a stub resolver that sends its queries to `server`, or to the system's resolver.

    :raises DnsCheckError: when `server` is None and the system has no resolver configured.
    """
    try:
        resolver = dns.resolver.Resolver(configure=server is None)
    except dns.resolver.NoResolverConfiguration as error:
        raise DnsCheckError(
            "dns: the system has no resolver configured to find the nameservers; "
            "pass --nameserver or --bootstrap-resolver"
        ) from error
    if server is not None:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(server[0], server[1])]
    resolver.timeout = timeout
    resolver.lifetime = 2 * timeout
    resolver.cache = None
    return resolver


def resolve_servers(
    specs: list[tuple[str, int]],
    role: Role,
    resolver: dns.resolver.Resolver | None,
    deadline: float | None = None,
) -> list[Target]:
    """Turn (host, port) pairs into targets, one per address of each host name.

    A host name that does not resolve becomes one target with `error` set, so the report
    shows it instead of skipping it. `resolver` may be None when every host is an address.
    No lookup runs past `deadline` (a `time.monotonic` value, or None).
    """
    targets = []
    for host, port in specs:
        if is_ip_address(host):
            targets.append(Target(role=role, port=port, address=host))
            continue
        assert resolver is not None, "host names need a bootstrap resolver"
        addresses, error = _addresses_of(dns.name.from_text(host), resolver, deadline)
        if not addresses:
            targets.append(Target(role=role, port=port, address=None, host=host, error=error))
        for address in addresses:
            targets.append(Target(role=role, port=port, address=address, host=host))
    return targets


def discover_nameservers(
    qname: dns.name.Name,
    resolver: dns.resolver.Resolver | None,
    *,
    timeout: float,
    port: int = DNS_PORT,
    deadline: float | None = None,
) -> list[Target]:
    """Find the authoritative servers of the zone that contains `qname`, one target per address.

    Walks up from the parent of `qname` with NS queries through `resolver` to the closest
    enclosing zone, then asks that zone's servers directly, without recursion, whether
    `qname` is itself delegated. `port` is where the servers listen (53 in production).
    No lookup or query runs past `deadline` (a `time.monotonic` value, or None).

    An NS name that does not resolve becomes a target with `error` set.

    :raises DnsCheckError: when the NS lookups fail or no enclosing zone is found.
    """
    assert resolver is not None, "discovery needs a bootstrap resolver"
    zone, ns_names = _closest_zone(qname.parent(), resolver, deadline)
    parent_targets = _targets_for_names(ns_names, port, resolver, deadline)
    delegation = _delegation_at(qname, parent_targets, timeout, deadline)
    if delegation is not None:
        zone, ns_names, glue = delegation
        targets = _targets_for_names(ns_names, port, resolver, deadline, glue)
    else:
        targets = parent_targets
    logger.info(
        "dns: %s is in zone %s, served by %s",
        qname.to_text(omit_final_dot=True),
        zone.to_text(omit_final_dot=True),
        ", ".join(sorted(str(name) for name in ns_names)),
    )
    return targets


def _closest_zone(
    start: dns.name.Name, resolver: dns.resolver.Resolver, deadline: float | None
) -> tuple[dns.name.Name, list[dns.name.Name]]:
    candidate = start
    while True:
        try:
            answer = _lookup(resolver, candidate, "NS", deadline)
        except dns.resolver.NXDOMAIN:
            answer = None
        except dns.exception.DNSException as error:
            raise DnsCheckError(
                f"dns: finding the nameservers of {_text(candidate)} failed: {error}; "
                "pass them with --nameserver"
            ) from error
        if answer is not None and answer.rrset is not None and answer.rrset.name == candidate:
            return candidate, sorted(rdata.target for rdata in answer.rrset)
        if candidate == dns.name.root:
            raise DnsCheckError(
                f"dns: no zone with NS records encloses {_text(start)}; pass the nameservers with "
                "--nameserver"
            )
        candidate = candidate.parent()


def _delegation_at(
    qname: dns.name.Name, parent_targets: list[Target], timeout: float, deadline: float | None
) -> tuple[dns.name.Name, list[dns.name.Name], dict[dns.name.Name, list[str]]] | None:
    """Return (zone, NS names, glue addresses) when `qname` is delegated from its parent zone.

    The first parent server that responds decides. Returns None when `qname` lies inside the
    parent zone, or when no parent server responds (the parent's servers are then used).
    """
    query = dns.message.make_query(qname, dns.rdatatype.NS)
    query.flags &= ~dns.flags.RD
    for target in parent_targets:
        if target.address is None:
            continue
        try:
            response = dns.query.udp(
                query,
                target.address,
                timeout=_budget(timeout, deadline),
                port=target.port,
                ignore_unexpected=True,
                ignore_errors=True,
            )
        except (OSError, dns.exception.DNSException) as error:
            logger.debug("dns: NS query for %s at %s failed: %s", qname, target.label, error)
            continue
        for section in (response.answer, response.authority):
            for rrset in section:
                if rrset.rdtype == dns.rdatatype.NS and rrset.name == qname:
                    return qname, sorted(rdata.target for rdata in rrset), _glue(response)
        return None
    return None


def _glue(response: dns.message.Message) -> dict[dns.name.Name, list[str]]:
    glue: dict[dns.name.Name, list[str]] = {}
    for rrset in response.additional:
        if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            glue.setdefault(rrset.name, []).extend(rdata.address for rdata in rrset)
    return glue


def _targets_for_names(
    ns_names: list[dns.name.Name],
    port: int,
    resolver: dns.resolver.Resolver,
    deadline: float | None,
    glue: dict[dns.name.Name, list[str]] | None = None,
) -> list[Target]:
    targets = []
    for ns_name in ns_names:
        host = ns_name.to_text(omit_final_dot=True)
        addresses = (glue or {}).get(ns_name)
        error = ""
        if not addresses:
            addresses, error = _addresses_of(ns_name, resolver, deadline)
        if not addresses:
            targets.append(
                Target(role=Role.AUTHORITATIVE, port=port, address=None, host=host, error=error)
            )
        for address in addresses:
            targets.append(Target(role=Role.AUTHORITATIVE, port=port, address=address, host=host))
    return targets


def _addresses_of(
    name: dns.name.Name, resolver: dns.resolver.Resolver, deadline: float | None
) -> tuple[list[str], str]:
    """Return the IPv4 and IPv6 addresses of a server name, or none and the reason."""
    host = name.to_text(omit_final_dot=True)
    addresses: list[str] = []
    reasons = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = _lookup(resolver, name, rdtype, deadline)
        except dns.resolver.NXDOMAIN:
            return [], f"server name {host} does not exist (NXDOMAIN)"
        except dns.exception.DNSException as error:
            reasons.append(f"{rdtype} lookup failed: {error}")
            continue
        if answer.rrset is not None:
            addresses.extend(rdata.address for rdata in answer.rrset)
    if addresses:
        return addresses, ""
    reason = "; ".join(reasons) if reasons else "it has no A or AAAA record"
    return [], f"server name {host} does not resolve: {reason}"


def _lookup(
    resolver: dns.resolver.Resolver, name: dns.name.Name, rdtype: str, deadline: float | None
) -> dns.resolver.Answer:
    return resolver.resolve(
        name,
        rdtype,
        raise_on_no_answer=False,
        lifetime=_budget(resolver.lifetime, deadline),
    )


def _budget(seconds: float, deadline: float | None) -> float:
    """Return `seconds`, cut to the time left before `deadline`.

    :raises dns.exception.Timeout: when the deadline has passed.
    """
    if deadline is None:
        return seconds
    left = deadline - time.monotonic()
    if left <= 0:
        raise dns.exception.Timeout(timeout=0)
    return min(seconds, left)


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True)
