"""Reading one DNS response: which addresses it gives for a name, through any CNAME chain.

No I/O here: the checker sends the queries and hands each response to `read_response`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from infra.dnsreport import Status

MAX_CNAME_CHAIN = 8
"""The longest CNAME chain followed before it counts as an error. Resolvers give up at about
this depth too (unbound after 8 to 11 restarts, depending on version)."""


@dataclass
class Answer:
    """What one server answered for a name, after following the CNAME chain.

    `status` is None when the response gave addresses; the caller compares them with the
    expected set. `unresolved_target` is set when an authoritative server answered with a
    CNAME whose target is outside the response, so the same server can be asked for it.
    """

    status: Status | None
    addresses: list[str] = field(default_factory=list)
    ttl: int | None = None
    cname_chain: list[str] = field(default_factory=list)
    unresolved_target: dns.name.Name | None = None
    detail: str = ""


def read_response(
    response: dns.message.Message,
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    *,
    authoritative: bool,
    chain_so_far: list[str] | None = None,
) -> Answer:
    """Read the addresses a response gives for `qname`, following CNAMEs in its answer section.

    `authoritative` says the server was asked without recursion and must set the AA flag.
    `chain_so_far` carries the targets already followed in earlier responses, so a loop or
    an over-long chain that spans several queries is caught too.
    """
    chain = list(chain_so_far or [])
    rcode = response.rcode()
    if rcode == dns.rcode.REFUSED:
        return Answer(Status.REFUSED, cname_chain=chain, detail="the server refused the query")
    if rcode == dns.rcode.SERVFAIL:
        return Answer(Status.SERVFAIL, cname_chain=chain, detail="the server failed to answer")
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return Answer(
            Status.ERROR, cname_chain=chain, detail=f"response code {dns.rcode.to_text(rcode)}"
        )
    if authoritative and not response.flags & dns.flags.AA:
        return Answer(Status.ERROR, cname_chain=chain, detail=_not_authoritative_detail(response))

    current = qname
    seen = {qname, *(dns.name.from_text(target) for target in chain)}
    ttls: list[int] = []
    while True:
        rrset = _find(response.answer, current, rdtype)
        if rrset is not None:
            ttls.append(rrset.ttl)
            addresses = sorted({rdata.address for rdata in rrset}, key=_address_key)
            return Answer(None, addresses=addresses, ttl=min(ttls), cname_chain=chain)
        cname = _find(response.answer, current, dns.rdatatype.CNAME)
        if cname is None:
            break
        ttls.append(cname.ttl)
        target = cname[0].target
        chain.append(target.to_text(omit_final_dot=True))
        if target in seen:
            return Answer(
                Status.ERROR,
                cname_chain=chain,
                detail="CNAME loop: " + " -> ".join([_text(qname), *chain]),
            )
        if len(chain) > MAX_CNAME_CHAIN:
            return Answer(
                Status.ERROR,
                cname_chain=chain,
                detail=f"CNAME chain longer than {MAX_CNAME_CHAIN}",
            )
        seen.add(target)
        current = target

    negative_ttl = _negative_ttl(response)
    if rcode == dns.rcode.NXDOMAIN:
        detail = f"{_text(current)} does not exist" if chain else ""
        return Answer(Status.NXDOMAIN, ttl=negative_ttl, cname_chain=chain, detail=detail)
    if chain and authoritative and negative_ttl is None:
        # The target lies outside the zones this server answered from; the caller asks the
        # same server for it, which works when that server also serves the target's zone.
        return Answer(None, ttl=min(ttls), cname_chain=chain, unresolved_target=current)
    detail = f"{_text(current)} has no {dns.rdatatype.to_text(rdtype)} record" if chain else ""
    return Answer(Status.NODATA, ttl=negative_ttl, cname_chain=chain, detail=detail)


def _find(
    section: list[dns.rrset.RRset], name: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> dns.rrset.RRset | None:
    # dns.name.Name compares case-insensitively, as DNS names do.
    for rrset in section:
        if rrset.name == name and rrset.rdtype == rdtype and rrset.rdclass == dns.rdataclass.IN:
            return rrset
    return None


def _negative_ttl(response: dns.message.Message) -> int | None:
    """Return how long a negative answer may be cached (RFC 2308): min(SOA TTL, SOA MINIMUM).

    A resolver returns the SOA with its TTL counting down, so for a resolver this is the
    time left before its cached negative answer expires.
    """
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            return min(rrset.ttl, rrset[0].minimum)
    return None


def _not_authoritative_detail(response: dns.message.Message) -> str:
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.NS:
            return (
                f"not authoritative: referral to {_text(rrset.name)} "
                f"({', '.join(sorted(_text(rdata.target) for rdata in rrset))})"
            )
    return "not authoritative: the answer lacks the AA flag"


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True)


def _address_key(address: str) -> tuple[int, bytes]:
    parsed = ipaddress.ip_address(address)
    return parsed.version, parsed.packed
