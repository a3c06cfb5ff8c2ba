"""The results of a DNS propagation check: per-server results, the report, and the errors.

This module holds data only, so the command-line tool and the deploy's propagation gate can
render and record a report without importing dnspython.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from infra.errors import InvalidInput, ScimBridgeError


class DnsCheckError(ScimBridgeError):
    """A DNS propagation check failed."""


class InvalidDnsInput(DnsCheckError, InvalidInput):
    """A name, address, server or option given to the DNS checker is invalid.

    The message names the argument, the value and what is accepted. Exit code 2.
    """


class PropagationTimeout(DnsCheckError, TimeoutError):
    """The record did not propagate before the timeout.

    `report` is the last report. The message lists each lagging server with its last answer.
    """

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


class Status(str, enum.Enum):
    """The outcome of asking one server."""

    MATCH = "match"
    """The server answered exactly the expected addresses (or the agreed ones)."""
    MISMATCH = "mismatch"
    """The server answered other addresses, or an extra record at the name."""
    NXDOMAIN = "nxdomain"
    """The name does not exist on this server."""
    NODATA = "nodata"
    """The name exists but has no record of the requested type."""
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"
    """Any other failure: a malformed or non-authoritative answer, a CNAME loop, a server
    name that does not resolve. `detail` says which."""
    PENDING = "pending"
    """Not asked yet: resolvers wait until the authoritative servers agree."""


class Role(str, enum.Enum):
    """How a server is asked: authoritative servers without recursion, resolvers with it."""

    AUTHORITATIVE = "authoritative"
    RESOLVER = "resolver"


@dataclass
class ServerResult:
    """What one server answered in the latest round in which it was asked.

    `server` is `HOST:PORT` with IPv6 addresses in brackets (`[::1]:5301`). `answers` are
    the addresses at the end of any CNAME chain, sorted. `ttl` is the lowest TTL of the
    answer in seconds or, for NXDOMAIN and NODATA, the negative-caching TTL from the
    zone's SOA; for a resolver it is the time left in its cache. `elapsed_ms` is the
    time the query took, None while pending.
    """

    server: str
    role: Role
    status: Status = Status.PENDING
    answers: list[str] = field(default_factory=list)
    ttl: int | None = None
    elapsed_ms: int | None = None
    detail: str = ""
    """Why the status is what it is, in a few words; empty for a plain match."""
    host: str | None = None
    """The server's host name, when it was given or discovered by name."""
    cname_chain: list[str] = field(default_factory=list)
    """The CNAME targets followed from the queried name, in order."""
    extra: list[str] = field(default_factory=list)
    """Records that should not be there, such as `AAAA 2001:db8::1` when only IPv4 is expected."""
    queries: int = 0
    """Queries sent to this server so far (by this check, or by the whole wait)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: server, role, status, answers, ttl, elapsed_ms, then the rest."""
        return {
            "server": self.server,
            "role": self.role.value,
            "status": self.status.value,
            "answers": list(self.answers),
            "ttl": self.ttl,
            "elapsed_ms": self.elapsed_ms,
            "detail": self.detail,
            "host": self.host,
            "cname_chain": list(self.cname_chain),
            "extra": list(self.extra),
            "queries": self.queries,
        }


@dataclass
class Report:
    """One round of a propagation check, across every server.

    `name` is the queried name in ASCII (punycode) without the trailing dot. `expected` is
    sorted; when it is empty, `agreed` holds the answer most servers gave, which the
    statuses are compared with.
    """

    name: str
    record_type: str
    expected: list[str]
    propagated: bool
    servers: list[ServerResult]
    agreed: list[str] = field(default_factory=list)
    rounds: int = 1
    """Rounds asked so far; `wait_for_propagation` counts every round."""
    elapsed_s: float = 0.0
    """Seconds since the check or the wait started."""
    next_poll_s: float | None = None
    """Seconds until the next round of a wait, None for a single check or the last round."""

    @property
    def lagging(self) -> list[ServerResult]:
        """Return the servers that do not answer the expected (or agreed) set yet."""
        return [server for server in self.servers if server.status is not Status.MATCH]

    @property
    def queries(self) -> int:
        """Return the number of queries sent to all servers."""
        return sum(server.queries for server in self.servers)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document that `dns check --json` prints and the gate records."""
        return {
            "name": self.name,
            "type": self.record_type,
            "expected": list(self.expected),
            "propagated": self.propagated,
            "servers": [server.to_dict() for server in self.servers],
            "agreed": list(self.agreed),
            "rounds": self.rounds,
            "elapsed_s": round(self.elapsed_s, 3),
            "queries": self.queries,
        }
