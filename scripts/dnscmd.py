"""The `scim-bridge dns` commands: check once, or wait until a name has propagated.

Both print a table (or one JSON document with `--json`) on stdout and exit 0 when the name
has propagated, 1 when it has not, and 2 on bad input. `wait` writes its progress to stderr.
"""

from __future__ import annotations

import enum
import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from infra.dnsinput import MAX_QUERY_TIMEOUT, MAX_WAIT_TIMEOUT

if TYPE_CHECKING:
    from infra.dnsreport import Report, ServerResult

EXIT_CODES_HELP = "Exit codes: 0 propagated, 1 not propagated (or timed out), 2 bad input."

app = typer.Typer(
    help="Check and wait for DNS propagation of the bridge's name.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
)


class RecordType(enum.StrEnum):
    """The record types the checker compares."""

    A = "A"
    AAAA = "AAAA"


NameArgument = Annotated[
    str,
    typer.Argument(
        metavar="NAME",
        help="The name to check, such as scim.example.com; Unicode or punycode.",
        show_default=False,
    ),
]
ExpectOption = Annotated[
    list[str] | None,
    typer.Option(
        "--expect",
        metavar="ADDR",
        help="An address the name must resolve to; repeat for several.",
        show_default=False,
    ),
]
NameserverOption = Annotated[
    list[str] | None,
    typer.Option(
        "--nameserver",
        metavar="HOST[:PORT]",
        help="An authoritative server to ask instead of the zone's NS records; repeat for "
        "several. IPv6 as [::1]:5301.",
        show_default=False,
    ),
]
ResolverOption = Annotated[
    list[str] | None,
    typer.Option(
        "--resolver",
        metavar="HOST[:PORT]",
        help="A recursive resolver to ask, replacing the defaults 1.1.1.1, 8.8.8.8 and "
        "9.9.9.9; repeat for several.",
        show_default=False,
    ),
]
TypeOption = Annotated[
    RecordType,
    typer.Option("--type", case_sensitive=False, help="The record type: A (IPv4) or AAAA (IPv6)."),
]
NoResolversOption = Annotated[
    bool,
    typer.Option(
        "--no-resolvers",
        help="Ask only the authoritative servers, and no recursive resolver.",
    ),
]
QuorumOption = Annotated[
    int | None,
    typer.Option(
        "--quorum",
        metavar="N",
        help="How many resolvers must answer the expected addresses. [default: all]",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document instead of the table.")
]
BootstrapOption = Annotated[
    str | None,
    typer.Option(
        "--bootstrap-resolver",
        metavar="HOST[:PORT]",
        help="The resolver used to find the zone's nameservers and the addresses of servers "
        "given by name. [default: the system's resolver]",
        show_default=False,
    ),
]
AaaaOption = Annotated[
    bool,
    typer.Option(
        "--aaaa-check/--no-aaaa-check",
        help="With IPv4 addresses expected, count an AAAA record at the name as a mismatch.",
    ),
]


@app.command(epilog=EXIT_CODES_HELP)
def check(
    name: NameArgument,
    expect: ExpectOption = None,
    nameserver: NameserverOption = None,
    resolver: ResolverOption = None,
    no_resolvers: NoResolversOption = False,
    record_type: TypeOption = RecordType.A,
    quorum: QuorumOption = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            metavar="S",
            help=f"Seconds each server has to respond to a query, at most {MAX_QUERY_TIMEOUT:g}. "
            "The timeout is per query. The whole check can take up to two timeouts, plus any "
            "nameserver lookups, because the resolvers are asked only after the authoritative "
            "servers have answered.",
        ),
    ] = 2.0,
    json_output: JsonOption = False,
    bootstrap_resolver: BootstrapOption = None,
    aaaa_check: AaaaOption = True,
) -> None:
    """Ask every server once and show what each answers.

    Without --expect, the name counts as propagated when every server answers the same
    non-empty set of addresses.
    """
    from infra import dnscheck

    report = dnscheck.check(
        name,
        expect or (),
        record_type=record_type.value,
        nameservers=nameserver,
        resolvers=_resolvers(resolver, no_resolvers),
        quorum=quorum,
        timeout=timeout,
        check_aaaa=aaaa_check,
        bootstrap_resolver=bootstrap_resolver,
    )
    _print_report(report, json_output)
    raise typer.Exit(code=0 if report.propagated else 1)


@app.command(epilog=EXIT_CODES_HELP)
def wait(
    name: NameArgument,
    expect: ExpectOption = None,
    nameserver: NameserverOption = None,
    resolver: ResolverOption = None,
    no_resolvers: NoResolversOption = False,
    record_type: TypeOption = RecordType.A,
    quorum: QuorumOption = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            metavar="S",
            help=f"Seconds to wait before giving up, at most {MAX_WAIT_TIMEOUT:g} (a day).",
        ),
    ] = 900.0,
    query_timeout: Annotated[
        float,
        typer.Option(
            "--query-timeout",
            metavar="S",
            help=f"Seconds each server has to respond to a query, at most {MAX_QUERY_TIMEOUT:g}.",
        ),
    ] = 2.0,
    json_output: JsonOption = False,
    bootstrap_resolver: BootstrapOption = None,
    aaaa_check: AaaaOption = True,
) -> None:
    """Poll until every server answers the expected addresses, two rounds in a row.

    Progress goes to stderr. On timeout, the last table goes to stdout and the command
    exits 1.
    """
    from infra import dnscheck

    try:
        report = dnscheck.wait_for_propagation(
            name,
            expect or (),
            record_type=record_type.value,
            nameservers=nameserver,
            resolvers=_resolvers(resolver, no_resolvers),
            quorum=quorum,
            timeout=timeout,
            query_timeout=query_timeout,
            on_progress=_print_progress,
            check_aaaa=aaaa_check,
            bootstrap_resolver=bootstrap_resolver,
        )
    except dnscheck.PropagationTimeout as timeout_error:
        _print_report(timeout_error.report, json_output)
        typer.echo(f"error: {timeout_error}", err=True)
        raise typer.Exit(code=1) from None
    _print_report(report, json_output)


def _resolvers(resolver: list[str] | None, no_resolvers: bool) -> tuple[str, ...]:
    """Return the resolvers to ask: those given, none, or the public defaults."""
    from infra import dnscheck

    if no_resolvers and resolver:
        raise dnscheck.InvalidDnsInput(
            "dns: --no-resolvers and --resolver exclude each other; pass one of them"
        )
    if no_resolvers:
        return ()
    if resolver is None:
        return dnscheck.DEFAULT_RESOLVERS
    return tuple(resolver)


def _print_report(report: Report, json_output: bool) -> None:
    if json_output:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(render_table(report))


def _print_progress(report: Report) -> None:
    typer.echo(render_progress(report), err=True)
    sys.stderr.flush()


def render_table(report: Report) -> str:
    """Render a report as a table (server, role, status, answers, TTL, ms, detail) and a verdict."""
    header = ("SERVER", "ROLE", "STATUS", "ANSWERS", "TTL", "MS", "DETAIL")
    rows = [header]
    for server in report.servers:
        rows.append(
            (
                server.server if server.host is None else f"{server.server} ({server.host})",
                server.role.value,
                server.status.value,
                ", ".join(server.answers) or "-",
                "-" if server.ttl is None else str(server.ttl),
                "-" if server.elapsed_ms is None else str(server.elapsed_ms),
                server.detail,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append(_verdict(report))
    return "\n".join(lines)


def _not_propagated(report: Report) -> str:
    """Return how many of the servers queried differ, and how many resolvers wait their turn."""
    pending = sum(server.status.value == "pending" for server in report.servers)
    queried = len(report.servers) - pending
    differing = sum(server.status.value not in ("match", "pending") for server in report.servers)
    reference = report.expected or report.agreed
    if reference:
        verdict = f"{differing} of {queried} servers queried do not answer {', '.join(reference)}"
    else:
        verdict = "the servers queried do not agree on a non-empty set of addresses"
    if pending:
        noun = "resolver is" if pending == 1 else "resolvers are"
        verdict += f"; {pending} {noun} queried once the authoritative servers agree"
    return f"not propagated: {verdict}"


def _verdict(report: Report) -> str:
    if not report.propagated:
        return _not_propagated(report)
    target = f"{report.name} {report.record_type}"
    addresses = ", ".join(report.expected or report.agreed)
    resolvers = [server for server in report.servers if server.role.value == "resolver"]
    matching = sum(server.status.value == "match" for server in resolvers)
    places = []
    if len(resolvers) < len(report.servers):
        places.append("every authoritative server")
    if matching < len(resolvers):
        places.append(f"{matching} of {len(resolvers)} resolvers, which meets the quorum")
    elif resolvers:
        places.append("every resolver")
    return f"propagated: {target} is {addresses} at " + " and at ".join(places)


def render_progress(report: Report) -> str:
    """Render one progress line of a wait: elapsed time, who still differs and why, next poll.

    Pending resolvers are counted rather than listed, since they all wait for the same thing.
    """
    line = f"dns: {report.elapsed_s:.1f} s, round {report.rounds}: "
    matching = len(report.servers) - len(report.lagging)
    line += f"{matching} of {len(report.servers)} servers match"
    differing = [server for server in report.lagging if server.status.value != "pending"]
    pending = len(report.lagging) - len(differing)
    described = ", ".join(_describe_briefly(server, report.record_type) for server in differing)
    if report.propagated:
        line += "; propagated"
        if differing:
            line += f" without {described}, which the quorum allows"
        if report.next_poll_s is not None:
            line += "; one more round to confirm"
    elif differing:
        line += f"; waiting for {described}"
    if pending and not report.propagated:
        noun = "resolver" if pending == 1 else "resolvers"
        line += f"; {pending} {noun} pending until the authoritative servers agree"
    if report.next_poll_s is not None:
        line += f"; next poll in {report.next_poll_s:.1f} s"
    return line


def _describe_briefly(server: ServerResult, record_type: str) -> str:
    text = f"{server.server} {server.status.value}"
    if server.answers:
        text += " " + ",".join(server.answers)
    other_records = [record for record in server.extra if not record.startswith(record_type + " ")]
    if other_records:
        text += " (also " + ", ".join(other_records) + ")"
    if server.role.value == "resolver" and server.ttl and server.status.value != "match":
        text += f" (cached {server.ttl} s more)"
    return text
