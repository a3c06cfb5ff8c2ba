"""`scim-bridge dns check` and `dns wait`: output, exit codes and bad input."""

import json

import pytest
from typer.testing import CliRunner

from scripts.cli import app
from tests.dnsservers import Zone, addresses_behaviour

runner = CliRunner()
NAME = "bridge.example.test"
NEW = "192.0.2.20"
OLD = "192.0.2.10"


@pytest.fixture
def current_and_lagging(start_knot):
    current = start_knot([Zone("example.test", serial=2).add("bridge", "A", NEW)])
    lagging = start_knot([Zone("example.test", serial=1).add("bridge", "A", OLD)])
    return current, lagging


def test_check_json_has_documented_shape(start_knot, start_unbound):
    knot = start_knot([Zone("example.test").add("bridge", "A", NEW)])
    unbound = start_unbound({"example.test": [knot.endpoint]})

    result = runner.invoke(
        app,
        ["dns", "check", NAME, "--expect", NEW, "--nameserver", knot.endpoint,
         "--resolver", unbound.endpoint, "--json"],
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert {"name", "type", "expected", "propagated", "servers"} <= document.keys()
    assert document["name"] == NAME
    assert document["type"] == "A"
    assert document["expected"] == [NEW]
    assert document["propagated"] is True
    authoritative, resolver = document["servers"]
    assert {"server", "role", "status", "answers", "ttl", "elapsed_ms"} <= authoritative.keys()
    assert authoritative["server"] == knot.endpoint
    assert authoritative["role"] == "authoritative"
    assert authoritative["status"] == "match"
    assert authoritative["answers"] == [NEW]
    assert authoritative["ttl"] == 300
    assert isinstance(authoritative["elapsed_ms"], int)
    assert resolver["role"] == "resolver"


def test_check_table_exits_1_when_lagging(current_and_lagging):
    current, lagging = current_and_lagging

    result = runner.invoke(
        app,
        ["dns", "check", NAME, "--expect", NEW, "--nameserver", current.endpoint,
         "--nameserver", lagging.endpoint, "--resolver", "127.0.0.1:9"],
    )  # fmt: skip

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SERVER", "ROLE", "STATUS", "ANSWERS", "TTL", "MS", "DETAIL"]
    assert lines[1].split()[:5] == [current.endpoint, "authoritative", "match", NEW, "300"]
    assert lines[2].split()[:5] == [lagging.endpoint, "authoritative", "mismatch", OLD, "300"]
    assert lines[3].split()[:3] == ["127.0.0.1:9", "resolver", "pending"]
    assert lines[-1] == (
        f"not propagated: 1 of 2 servers queried do not answer {NEW}; "
        "1 resolver is queried once the authoritative servers agree"
    )


def test_check_rejects_empty_resolver(start_knot):
    knot = start_knot([Zone("example.test").add("bridge", "A", NEW)])

    result = runner.invoke(
        app, ["dns", "check", NAME, "--nameserver", knot.endpoint, "--resolver", ""]
    )

    assert result.exit_code == 2
    assert "--resolver is empty" in result.stderr


def test_check_without_expect_or_resolvers_reports_agreement(start_knot):
    zone = Zone("example.test").add("bridge", "A", NEW)
    servers = [start_knot([zone]), start_knot([zone])]
    nameserver_args = [arg for s in servers for arg in ("--nameserver", s.endpoint)]

    result = runner.invoke(app, ["dns", "check", NAME, *nameserver_args, "--no-resolvers"])

    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"propagated: {NAME} A is {NEW} at every authoritative server"
    )


def test_wait_progress_goes_to_stderr(start_responder):
    flapping = start_responder(addresses_behaviour([OLD], [NEW]))

    result = runner.invoke(
        app,
        ["dns", "wait", NAME, "--expect", NEW, "--nameserver", flapping.endpoint,
         "--quorum", "0", "--resolver", "127.0.0.1:9", "--timeout", "20"],
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    progress = result.stderr.splitlines()
    assert progress[0].startswith("dns: 0.")
    assert f"0 of 2 servers match; waiting for {flapping.endpoint} mismatch {OLD};" in progress[0]
    assert "1 resolver pending until the authoritative servers agree" in progress[0]
    assert progress[0].endswith("next poll in 1.0 s")
    assert "propagated without 127.0.0.1:9 timeout, which the quorum allows" in progress[1]
    assert "SERVER" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        f"propagated: {NAME} A is {NEW} at every authoritative server and at 0 of 1 "
        "resolvers, which meets the quorum"
    )


def test_wait_timeout_prints_last_table_and_exits_1(current_and_lagging):
    current, lagging = current_and_lagging

    result = runner.invoke(
        app,
        ["dns", "wait", NAME, "--expect", NEW, "--nameserver", current.endpoint,
         "--nameserver", lagging.endpoint, "--resolver", "127.0.0.1:9",
         "--timeout", "1.5", "--query-timeout", "0.5", "--json"],
    )  # fmt: skip

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["propagated"] is False
    assert [server["status"] for server in document["servers"]] == [
        "match",
        "mismatch",
        "pending",
    ]
    assert f"error: dns: {NAME} A did not resolve to {NEW} everywhere within 1.5 s" in (
        result.stderr
    )
    assert f"{lagging.endpoint} (authoritative) mismatch {OLD}" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["check", "bad..name"], "dns: NAME 'bad..name' has an empty label"),
        (["check", NAME, "--expect", "scim.example.com"], "--expect 'scim.example.com' is not"),
        (["check", NAME, "--expect", "2001:db8::1"], "use --type AAAA"),
        (["check", NAME, "--type", "AAAA", "--expect", NEW], "--expect '192.0.2.20' is an IPv4"),
        (["check", NAME, "--expect", NEW, "--nameserver", "127.0.0.1:99999"], "--nameserver"),
        (["check", NAME, "--expect", NEW, "--nameserver", "a..b"], "--nameserver 'a..b'"),
        (["check", NAME, "--resolver", "[::1"], "--resolver '[::1' has no closing ']'"),
        (["check", NAME, "--resolver", "127.0.0.1:x"], "--resolver '127.0.0.1:x' has port"),
        (["check", NAME, "--type", "MX"], "'--type'"),
        (["check", NAME, "--quorum", "4"], "--quorum 4 is out of range; expected 0 to 1"),
        (["check", NAME, "--timeout", "0"], "--timeout 0.0 is not positive"),
        (["check", NAME, "--timeout", "nan"], "--timeout nan is not a finite number"),
        (["check", NAME, "--timeout", "inf"], "--timeout inf is not a finite number"),
        (["check", NAME, "--timeout", "61"], "--timeout 61.0 is above the maximum"),
        (["check", NAME, "--timeout", "1e308"], "positive number of seconds, at most 60"),
        (["wait", NAME, "--expect", NEW, "--timeout", "nan"], "--timeout nan is not a finite"),
        (["wait", NAME, "--expect", NEW, "--timeout", "inf"], "--timeout inf is not a finite"),
        (["wait", NAME, "--expect", NEW, "--timeout", "1e308"], "--timeout 1e+308 is above"),
        (["wait", NAME, "--expect", NEW, "--timeout", "86401"], "at most 86400"),
        (["wait", NAME, "--expect", NEW, "--query-timeout", "nan"], "--query-timeout nan is"),
        (["wait", NAME, "--expect", NEW, "--query-timeout", "-inf"], "--query-timeout -inf is"),
        (["wait", NAME, "--expect", NEW, "--query-timeout", "61"], "seconds, at most 60"),
        (["wait", NAME], "--expect is missing"),
        (
            ["wait", NAME, "--expect", NEW, "--query-timeout", "-1"],
            "--query-timeout -1.0 is not positive",
        ),
        (["wait", NAME, "--expect", "not-an-ip"], "--expect 'not-an-ip' is not an IP address"),
        (["check", NAME, "--no-resolvers", "--resolver", "127.0.0.1"], "exclude each other"),
    ],
)
def test_bad_input_exits_2_naming_argument(start_responder, arguments, message):
    responder = start_responder(addresses_behaviour([NEW]))
    servers = ["--nameserver", responder.endpoint] if "--nameserver" not in arguments else []
    if "--resolver" not in arguments:
        servers += ["--resolver", responder.endpoint]

    result = runner.invoke(app, ["dns", *arguments, *servers])

    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert responder.queries == 0


def test_duplicate_resolver_quorum_exits_2(start_responder):
    responder = start_responder(addresses_behaviour([NEW]))

    result = runner.invoke(
        app,
        ["dns", "check", NAME, "--expect", NEW, "--nameserver", responder.endpoint,
         "--resolver", responder.endpoint, "--resolver", responder.endpoint, "--quorum", "2"],
    )  # fmt: skip

    assert result.exit_code == 2
    assert "--quorum 2 is out of range; expected 0 to 1, the number of distinct" in result.stderr
    assert result.stdout == ""
    assert responder.queries == 0


def test_lower_case_type_is_accepted(start_knot):
    knot = start_knot([Zone("example.test").add("bridge", "AAAA", "2001:db8::20")])

    result = runner.invoke(
        app,
        ["dns", "check", NAME, "--type", "aaaa", "--expect", "2001:db8::20",
         "--nameserver", knot.endpoint, "--no-resolvers"],
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr


def test_help_documents_exit_codes():
    result = runner.invoke(app, ["dns", "wait", "--help"])

    assert result.exit_code == 0
    assert "2 bad input" in result.stdout


def test_check_help_says_timeout_is_per_query():
    result = runner.invoke(app, ["dns", "check", "--help"])
    words = " ".join(result.stdout.replace("│", " ").split())

    assert result.exit_code == 0
    assert "The timeout is per query." in words
    assert "The whole check can take up to two timeouts" in words
