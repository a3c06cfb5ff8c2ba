"""`scim-bridge verify` against a local HTTPS stand-in of the bridge on 127.0.0.1.

Every invocation goes through `run`, which also asserts that the bearer token appears
nowhere in stdout, stderr, the exception text or the log records.
"""

import json
import logging
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from typer.testing import CliRunner

from scripts import verify as verify_module
from scripts.bridgecheck import Verification
from scripts.checks import CheckResult, Status
from scripts.cli import app
from scripts.verify import _render
from tests.bridge_standin import (
    BUILD,
    VERSION,
    BridgeStandIn,
    HealthAnswer,
    SilentListener,
    Trickle,
    unused_port,
    write_server_pem,
)

TOKEN = "scimtest-Zq8vN3kL5pR7tW2xY9bC4dF6"
WRONG_TOKEN = "scimtest-wrong-Hj3Kl9Qw2Er5Ty8Ui1"
# Shaped like a JWT, as long bearer tokens are.
LONG_TOKEN = "eyJhbGciOiJFUzI1NiIsImtpZCI6InRlc3QifQ." + "eyJ0ZXN0IjoidmVyaWZ5In0" * 4 + ".c2ln"

runner = CliRunner()


@pytest.fixture(autouse=True)
def debug_logging(caplog):
    caplog.set_level(logging.DEBUG)


@pytest.fixture
def ca():
    return trustme.CA()


@pytest.fixture
def ca_file(tmp_path, ca):
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


def start_bridge(tmp_path, certificate, *, with_chain=True):
    pem = write_server_pem(tmp_path / "server.pem", certificate, with_chain=with_chain)
    return BridgeStandIn(pem, token=TOKEN)


@pytest.fixture
def bridge(tmp_path, ca):
    with start_bridge(tmp_path, ca.issue_cert("127.0.0.1", "localhost")) as standin:
        yield standin


def run(args, caplog, *, token=TOKEN, input=None, env=None):
    result = runner.invoke(app, ["verify", *args], input=input, env=env)

    assert token not in result.stdout
    assert token not in result.stderr
    assert token not in str(result.exception or "")
    assert token not in caplog.text
    return result


def verify_args(url, token_file, ca_file, *extra):
    return [
        url,
        "--token-file",
        str(token_file),
        "--ca-file",
        str(ca_file),
        "--timeout",
        "2",
        *extra,
    ]


def lines_of(output):
    """Map each check name to its line, for checks that appear once."""
    lines = {}
    for line in output.splitlines():
        status, rest = line.split(maxsplit=1)
        name = rest.split("  ")[0].strip()
        lines[name] = line
    return lines


def test_verify_healthy_bridge(bridge, token_file, ca_file, caplog):
    result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 0, result.output
    lines = lines_of(result.stdout)
    assert list(lines)[:6] == ["dns", "tls", "chain", "expiry", "ping", "health"]
    assert lines["dns"].startswith("ok")
    assert "127.0.0.1 is an IP address, no lookup needed" in lines["dns"]
    assert lines["tls"].startswith("ok")
    assert "certificate for localhost, 127.0.0.1" in lines["tls"]
    assert lines["chain"].startswith("ok")
    assert lines["expiry"].startswith("ok")
    assert lines["ping"].startswith("ok")
    assert f"bridge {VERSION} (build {BUILD}): all 4 components healthy" in lines["health"]
    assert lines["component RedisCache"].startswith("ok")
    assert f"healthy (bridge {VERSION})" in lines["component RedisCache"]


def test_verify_sends_token_only_to_health(bridge, token_file, ca_file, caplog):
    run(verify_args(bridge.url(), token_file, ca_file), caplog)

    paths = [request.path for request in bridge.requests]
    assert paths == ["/ping", "/health"]
    ping, health = bridge.requests
    assert "Authorization" not in ping.headers
    assert health.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in health.path


def test_verify_resolves_host_name(bridge, token_file, ca_file, caplog):
    result = run(verify_args(bridge.url("localhost"), token_file, ca_file), caplog)

    assert result.exit_code == 0, result.output
    assert "localhost resolves to 127.0.0.1" in result.stdout
    assert bridge.requests[0].headers["Host"] == f"localhost:{bridge.port}"


def test_verify_json_document(bridge, token_file, ca_file, caplog):
    result = run(verify_args(bridge.url(), token_file, ca_file, "--json"), caplog)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert document["url"] == f"https://127.0.0.1:{bridge.port}/"
    assert document["bridge_version"] == VERSION
    assert document["bridge_build"] == BUILD
    names = [check["name"] for check in document["checks"]]
    assert names[:6] == ["dns", "tls", "chain", "expiry", "ping", "health"]
    assert all(check["status"] == "ok" for check in document["checks"])


def test_verify_json_failure_document(bridge, token_file, ca_file, caplog):
    bridge.reports[0]["state"] = "unhealthy"

    result = run(verify_args(bridge.url(), token_file, ca_file, "--json"), caplog)

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    failed = [check["name"] for check in document["checks"] if check["status"] == "fail"]
    assert failed == ["health", "component ConfirmationWatcher"]


@pytest.mark.parametrize("status", [401, 403])
def test_verify_wrong_token_is_rejected(bridge, tmp_path, ca_file, caplog, status):
    bridge.reject_status = status
    wrong_token_file = tmp_path / "wrong-token"
    wrong_token_file.write_text(WRONG_TOKEN)

    result = run(verify_args(bridge.url(), wrong_token_file, ca_file), caplog, token=WRONG_TOKEN)

    assert result.exit_code == 1
    health = lines_of(result.stdout)["health"]
    assert health.startswith("fail")
    assert "the bridge rejected the bearer token" in health
    assert f"returned {status}" in health
    assert "scimsession" in health


def test_verify_unhealthy_component_fails(bridge, token_file, ca_file, caplog):
    bridge.reports[1]["state"] = "unhealthy"

    result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 1
    lines = lines_of(result.stdout)
    assert lines["health"].startswith("fail")
    assert "1 of 4 components not healthy" in lines["health"]
    assert lines["component RedisCache"].startswith("fail")
    assert f"unhealthy (bridge {VERSION})" in lines["component RedisCache"]
    assert lines["component SCIMServer"].startswith("ok")


def test_verify_health_error_status_fails(bridge, token_file, ca_file, caplog):
    bridge.health_status = 503

    result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 1
    health = lines_of(result.stdout)["health"]
    assert health.startswith("fail")
    assert "GET /health returned 503" in health


def test_verify_stale_component_report_warns(bridge, token_file, ca_file, caplog):
    bridge.reports[0]["expires"] = "2020-01-01T00:00:00Z"

    result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 0, result.output
    line = lines_of(result.stdout)["component ConfirmationWatcher"]
    assert line.startswith("warn")
    assert "expired at 2020-01-01T00:00:00Z" in line


def test_verify_setup_page_names_sign_in(bridge, token_file, ca_file, caplog):
    bridge.health_answer = HealthAnswer.SETUP_PAGE

    result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 1
    health = lines_of(result.stdout)["health"]
    assert health.startswith("fail")
    assert "the bridge is waiting for setup" in health
    assert f"sign in at https://127.0.0.1:{bridge.port}/" in health


def test_verify_ping_error_status_fails(bridge, token_file, ca_file, caplog):
    bridge.ping_status = 502

    result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 1
    ping = lines_of(result.stdout)["ping"]
    assert ping.startswith("fail")
    assert "GET /ping returned 502" in ping
    assert "load balancer" in ping


def test_verify_redirect_is_not_followed(tmp_path, ca, token_file, ca_file, caplog):
    certificate = ca.issue_cert("127.0.0.1")
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    with (
        start_bridge(tmp_path, certificate) as bridge,
        start_bridge(other_dir, certificate) as other,
    ):
        bridge.health_answer = HealthAnswer.REDIRECT
        bridge.redirect_location = other.url() + "/health"

        result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 1
    health = lines_of(result.stdout)["health"]
    assert health.startswith("fail")
    assert f"a redirect to {other.url()}/health, which is not followed" in health
    assert other.requests == []


def test_verify_redacts_token_echoed_by_server(bridge, token_file, ca_file, caplog):
    bridge.health_answer = HealthAnswer.REDIRECT
    bridge.echo_token_in_location = True

    result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 1
    assert "?received=[redacted]" in lines_of(result.stdout)["health"]


def test_verify_deeply_nested_health_report_fails(bridge, token_file, ca_file, caplog):
    bridge.health_body = b"[" * 100_000 + b"]" * 100_000

    result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    health = lines_of(result.stdout)["health"]
    assert health.startswith("fail")
    assert "the body is JSON nested too deeply" in health


def hostile_health_body(*, version, source):
    document = {
        "build": BUILD,
        "version": version,
        "reports": [{"source": source, "state": "healthy"}],
    }
    return json.dumps(document).encode()


def test_verify_escapes_control_characters_from_server(bridge, token_file, ca_file, caplog):
    bridge.health_body = hostile_health_body(
        version="\x1b]0;title\x07\x1b[31mred", source="A\rok    forged line\n\u2028next"
    )

    result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 7
    assert lines[-1].startswith("ok    component A\\rok    forged line\\n\\u2028next  ")
    assert "bridge \\x1b]0;title\\x07\\x1b[31mred (build" in lines[-2]
    for character in "\r\x1b\x07\u2028":
        assert character not in result.stdout


def test_verify_json_escapes_control_characters(bridge, token_file, ca_file, caplog):
    bridge.health_body = hostile_health_body(version="\x1b[2Jv", source="A\nB")

    result = run(verify_args(bridge.url(), token_file, ca_file, "--json"), caplog)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["bridge_version"] == "\\x1b[2Jv"
    assert document["checks"][-1]["name"] == "component A\\nB"


def test_verify_cuts_long_server_text(bridge, token_file, ca_file, caplog):
    bridge.health_body = hostile_health_body(version="9" * 5000, source="SCIMServer")

    result = run(verify_args(bridge.url(), token_file, ca_file, "--json"), caplog)

    assert result.exit_code == 0, result.output
    version = json.loads(result.stdout)["bridge_version"]
    assert version == "9" * 200 + "... (4800 more characters)"


def echoing_health_body(echoed):
    document = {
        "build": echoed,
        "version": "Bearer " + echoed,
        "reports": [{"source": echoed, "state": "healthy", "time": echoed}],
    }
    return json.dumps(document).encode()


def test_verify_json_redacts_token_in_version(bridge, token_file, ca_file, caplog):
    bridge.health_body = echoing_health_body(TOKEN)

    result = run(verify_args(bridge.url(), token_file, ca_file, "--json"), caplog)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["bridge_version"] == "[redacted]"
    assert document["bridge_build"] == "[redacted]"
    assert document["checks"][-1]["name"] == "component [redacted]"
    assert "contains the bearer token" in caplog.text


def test_verify_redacts_token_in_health_report(bridge, token_file, ca_file, caplog):
    bridge.health_body = echoing_health_body(TOKEN)

    result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 0, result.output
    lines = lines_of(result.stdout)
    assert "bridge [redacted] (build [redacted])" in lines["health"]
    assert "reported [redacted]" in lines["component [redacted]"]


def test_verify_redacts_json_escaped_token(bridge, token_file, ca_file, caplog):
    # JSON lets a server spell each character as \uXXXX, so the token is not in the body
    # as sent, only in the parsed report.
    escaped = "".join(f"\\u{ord(character):04x}" for character in TOKEN)
    reports = '[{"source": "SCIMServer", "state": "healthy"}]'
    bridge.health_body = f'{{"version": "{escaped}", "reports": {reports}}}'.encode()

    result = run(verify_args(bridge.url(), token_file, ca_file, "--json"), caplog)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["bridge_version"] == "[redacted]"


def unclean_verification():
    """Results that skipped the cleaning where server text enters the report."""
    return Verification(
        results=[CheckResult(f"component {TOKEN}\n", Status.OK, f"Bearer {TOKEN}\x1b[2J", TOKEN)],
        bridge_version=f"\r{TOKEN}",
        bridge_build=TOKEN,
    )


def test_render_lines_guards_every_field():
    rendered = _render(unclean_verification(), "https://127.0.0.1/", TOKEN, json_output=False)

    assert TOKEN not in rendered
    assert "\x1b" not in rendered
    assert rendered.splitlines() == [
        "ok    component [redacted]\\n  [redacted]\\x1b[2J -> [redacted]"
    ]


def test_render_json_guards_every_field():
    rendered = _render(unclean_verification(), "https://127.0.0.1/", TOKEN, json_output=True)

    assert TOKEN not in rendered
    document = json.loads(rendered)
    assert document["bridge_version"] == "\\r[redacted]"
    assert document["bridge_build"] == "[redacted]"
    assert document["checks"][0]["name"] == "component [redacted]\\n"
    assert document["checks"][0]["detail"] == "[redacted]\\x1b[2J"


def test_verify_expired_certificate(tmp_path, ca, token_file, ca_file, caplog):
    expired = datetime.now(UTC) - timedelta(days=3)
    certificate = ca.issue_cert(
        "127.0.0.1", not_before=expired - timedelta(days=90), not_after=expired
    )
    with start_bridge(tmp_path, certificate) as bridge:
        result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 1
    lines = lines_of(result.stdout)
    assert lines["tls"].startswith("fail")
    assert f"expired on {expired:%Y-%m-%d}" in lines["tls"]
    assert lines["expiry"].startswith("fail")
    assert "ping" not in lines
    assert bridge.requests == []


def test_verify_certificate_expiring_soon_warns(tmp_path, ca, token_file, ca_file, caplog):
    expires = datetime.now(UTC) + timedelta(days=5, hours=1)
    certificate = ca.issue_cert("127.0.0.1", not_after=expires)
    with start_bridge(tmp_path, certificate) as bridge:
        result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 0, result.output
    expiry = lines_of(result.stdout)["expiry"]
    assert expiry.startswith("warn")
    assert "in 5 days (under 14)" in expiry


def test_verify_certificate_for_another_name(tmp_path, ca, token_file, ca_file, caplog):
    with start_bridge(tmp_path, ca.issue_cert("other.example")) as bridge:
        result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 1
    tls = lines_of(result.stdout)["tls"]
    assert tls.startswith("fail")
    assert "is for other.example, not 127.0.0.1" in tls
    assert bridge.requests == []


def test_verify_chain_without_intermediate(tmp_path, ca, token_file, ca_file, caplog):
    intermediate = ca.create_child_ca()
    certificate = intermediate.issue_cert("127.0.0.1")
    with start_bridge(tmp_path, certificate, with_chain=False) as bridge:
        result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 1
    lines = lines_of(result.stdout)
    assert lines["tls"].startswith("fail")
    assert "is not trusted" in lines["tls"]
    assert lines["chain"].startswith("fail")
    assert "incomplete: the server sent only its own certificate" in lines["chain"]
    assert "send the full chain" in lines["chain"]
    assert bridge.requests == []


def test_verify_chain_with_intermediate_passes(tmp_path, ca, token_file, ca_file, caplog):
    certificate = ca.create_child_ca().issue_cert("127.0.0.1")
    with start_bridge(tmp_path, certificate, with_chain=True) as bridge:
        result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 0, result.output
    chain = lines_of(result.stdout)["chain"]
    assert chain.startswith("ok")
    assert chain.count("<-") == 2


def test_verify_intermediate_from_local_store(tmp_path, ca, token_file, caplog):
    intermediate = ca.create_child_ca()
    certificate = intermediate.issue_cert("127.0.0.1")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(ca.cert_pem.bytes() + intermediate.cert_pem.bytes())
    with start_bridge(tmp_path, certificate, with_chain=False) as bridge:
        result = run(verify_args(bridge.url(), token_file, bundle), caplog)

    assert result.exit_code == 1
    lines = lines_of(result.stdout)
    assert lines["tls"].startswith("ok")
    assert lines["chain"].startswith("fail")
    assert "the server did not send the intermediate certificate" in lines["chain"]
    assert "this machine's trust store contains it" in lines["chain"]


def test_verify_unknown_ca_suggests_ca_file(tmp_path, token_file, caplog):
    unknown_ca = trustme.CA()
    with start_bridge(tmp_path, unknown_ca.issue_cert("127.0.0.1")) as bridge:
        result = run([bridge.url(), "--token-file", str(token_file), "--timeout", "2"], caplog)

    assert result.exit_code == 1
    lines = lines_of(result.stdout)
    assert lines["tls"].startswith("fail")
    assert lines["chain"].startswith("fail")
    assert "--ca-file" in lines["chain"]
    assert bridge.requests == []


def test_verify_silent_server_times_out_in_tls(token_file, ca_file, caplog):
    with SilentListener() as listener:
        started = time.monotonic()
        result = run(
            [listener.url, "--token-file", str(token_file), "--ca-file", str(ca_file)]
            + ["--timeout", "0.5"],
            caplog,
        )
        elapsed = time.monotonic() - started

    assert result.exit_code == 1
    tls = lines_of(result.stdout)["tls"]
    assert tls.startswith("fail")
    assert "TLS handshake with 127.0.0.1" in tls
    assert "timed out after 0.5 s" in tls
    # A bound, not a speed goal: the run must end instead of waiting for the server.
    assert elapsed < 30


def test_verify_ping_timeout(bridge, token_file, ca_file, caplog):
    bridge.hang_paths.add("/ping")

    result = run(
        [bridge.url(), "--token-file", str(token_file), "--ca-file", str(ca_file)]
        + ["--timeout", "0.5"],
        caplog,
    )

    assert result.exit_code == 1
    lines = lines_of(result.stdout)
    assert lines["tls"].startswith("ok")
    assert lines["ping"].startswith("fail")
    assert "GET /ping did not complete within 0.5 s" in lines["ping"]
    assert "waiting for the response from 127.0.0.1" in lines["ping"]
    assert "health" not in lines


@pytest.mark.parametrize(
    "part, phase",
    [
        (Trickle.HEADERS, "reading the response headers from 127.0.0.1"),
        (Trickle.BODY, "reading the response body from 127.0.0.1"),
    ],
)
def test_verify_trickled_response_times_out(bridge, token_file, ca_file, caplog, part, phase):
    # Each piece arrives well within the timeout, so only a deadline for the whole
    # request ends the step.
    bridge.trickle_paths["/health"] = part

    result = run(
        [bridge.url(), "--token-file", str(token_file), "--ca-file", str(ca_file)]
        + ["--timeout", "1"],
        caplog,
    )

    assert result.exit_code == 1
    lines = lines_of(result.stdout)
    assert lines["ping"].startswith("ok")
    assert lines["health"].startswith("fail")
    assert "GET /health did not complete within 1 s" in lines["health"]
    assert phase in lines["health"]


def test_verify_refused_connection_names_step(token_file, ca_file, caplog):
    url = f"https://127.0.0.1:{unused_port()}"

    result = run(verify_args(url, token_file, ca_file), caplog)

    assert result.exit_code == 1
    lines = lines_of(result.stdout)
    assert lines["dns"].startswith("ok")
    assert lines["tls"].startswith("fail")
    assert "refused the connection" in lines["tls"]


def test_verify_name_that_does_not_resolve(monkeypatch, token_file, ca_file, caplog):
    # The system resolver would send this query off the machine, so the test replaces it.
    def no_such_name(host, port, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)

    result = run(verify_args("https://scim.example.com", token_file, ca_file), caplog)

    assert result.exit_code == 1
    dns = lines_of(result.stdout)["dns"]
    assert dns.startswith("fail")
    assert "scim.example.com does not resolve" in dns
    assert "scim-bridge dns check scim.example.com" in dns


def test_verify_token_from_environment(bridge, ca_file, caplog):
    result = run(
        [bridge.url(), "--token-env", "BRIDGE_TOKEN", "--ca-file", str(ca_file)],
        caplog,
        env={"BRIDGE_TOKEN": f"  {TOKEN}\n"},
    )

    assert result.exit_code == 0, result.output
    assert bridge.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.fixture
def terminal(monkeypatch):
    """Make verify treat standard input as a terminal, so it prompts for the token."""
    monkeypatch.setattr(verify_module, "_stdin_is_terminal", lambda: True)


def test_verify_token_from_prompt_is_not_echoed(bridge, ca_file, caplog, terminal):
    result = run([bridge.url(), "--ca-file", str(ca_file)], caplog, input=TOKEN + "\n")

    assert result.exit_code == 0, result.output
    assert "Bearer token" in result.stderr
    assert bridge.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"


def test_verify_token_piped_without_prompt(bridge, ca_file, caplog):
    result = run([bridge.url(), "--ca-file", str(ca_file)], caplog, input=TOKEN + "\n")

    assert result.exit_code == 0, result.output
    assert "Bearer token" not in result.stderr
    assert "echoed" not in result.stderr
    assert bridge.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"


def test_verify_token_file_bearer_prefix(bridge, tmp_path, ca_file, caplog):
    token_file = tmp_path / "token"
    token_file.write_bytes(f"\ufeff  Bearer {TOKEN}\r\n\r\n".encode())

    result = run(verify_args(bridge.url(), token_file, ca_file), caplog)

    assert result.exit_code == 0, result.output
    assert bridge.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"


def test_verify_url_from_stack_output(bridge, pulumi_standin, token_file, ca_file, caplog):
    outputs = {"scimUrl": bridge.url(), "kubeconfig": "secret"}
    pulumi_standin.respond(["stack", "output"], stdout=json.dumps(outputs))

    result = run(
        ["--stack", "prod", "--token-file", str(token_file), "--ca-file", str(ca_file)], caplog
    )

    assert result.exit_code == 0, result.output
    assert pulumi_standin.calls[0]["args"][:2] == ["stack", "output"]
    assert "--stack" in pulumi_standin.calls[0]["args"]
    assert [request.path for request in bridge.requests] == ["/ping", "/health"]


def test_verify_stack_without_url_output(pulumi_standin, token_file, caplog):
    pulumi_standin.respond(["stack", "output"], stdout="{}")

    result = run(["--stack", "prod", "--token-file", str(token_file)], caplog)

    assert result.exit_code == 1
    assert "stack 'prod' has no scimUrl output" in result.stderr


BAD_ARGUMENTS = {
    "both token options": (
        ["{url}", "--token-file", "{token_file}", "--token-env", "BRIDGE_TOKEN"],
        "--token-file and --token-env: give one of them, not both",
    ),
    "missing token file": (
        ["{url}", "--token-file", "{tmp}/absent"],
        "--token-file '{tmp}/absent': cannot read the file: No such file or directory",
    ),
    "token file is a directory": (
        ["{url}", "--token-file", "{tmp}"],
        "--token-file '{tmp}': cannot read the file",
    ),
    "unset token variable": (
        ["{url}", "--token-env", "UNSET_BRIDGE_TOKEN"],
        "--token-env 'UNSET_BRIDGE_TOKEN': no environment variable of that name is set",
    ),
    "empty token file": (
        ["{url}", "--token-file", "{tmp}/empty"],
        "the bearer token from --token-file '{tmp}/empty' is empty",
    ),
    "only a Bearer prefix": (
        ["{url}", "--token-env", "BEARER_ONLY"],
        "the bearer token from --token-env 'BEARER_ONLY' is empty",
    ),
    "whitespace inside the token": (
        ["{url}", "--token-env", "SPLIT_TOKEN"],
        "the bearer token from --token-env 'SPLIT_TOKEN' has whitespace inside",
    ),
    "control character in the token": (
        ["{url}", "--token-env", "CONTROL_TOKEN"],
        "the bearer token from --token-env 'CONTROL_TOKEN' has characters other than printable",
    ),
    "empty line on standard input": (["{url}"], "the bearer token from standard input is empty"),
    "plain http": (
        ["http://127.0.0.1:{port}", "--token-file", "{token_file}"],
        "URL: 'http://127.0.0.1:{port}' uses http",
    ),
    "no scheme": (
        ["scim.example.com", "--token-file", "{token_file}"],
        "URL: 'scim.example.com' has no scheme; did you mean 'https://scim.example.com'?",
    ),
    "path in the URL": (
        ["{url}/app", "--token-file", "{token_file}"],
        "has a path, query or fragment",
    ),
    "port out of range": (
        ["https://127.0.0.1:70000", "--token-file", "{token_file}"],
        "URL: 'https://127.0.0.1:70000' is not a URL",
    ),
    "user info in the URL": (
        ["https://admin@127.0.0.1:{port}", "--token-file", "{token_file}"],
        "URL: the URL contains user info",
    ),
    "password in the URL": (
        ["https://admin:hunter2@127.0.0.1:{port}", "--token-file", "{token_file}"],
        "URL: the URL contains user info",
    ),
    "token given as the URL": (
        ["{long_token}", "--token-file", "{token_file}"],
        "URL: (a value that looks like a bearer token, not shown) has no scheme",
    ),
    "token given as the variable name": (
        ["{url}", "--token-env", "{long_token}"],
        "--token-env (a value that looks like a bearer token, not shown): no environment",
    ),
    "token given as the token file": (
        ["{url}", "--token-file", "{long_token}"],
        "--token-file (a value that looks like a bearer token, not shown): cannot read",
    ),
    "invalid host name": (
        ["https://bad_host..example", "--token-file", "{token_file}"],
        "does not name a valid host",
    ),
    "neither URL nor stack": (["--token-file", "{token_file}"], "URL: missing"),
    "URL and stack": (
        ["{url}", "--stack", "prod", "--token-file", "{token_file}"],
        "URL and --stack: give one of them, not both",
    ),
    "invalid stack name": (
        ["--stack", "no spaces allowed", "--token-file", "{token_file}"],
        "--stack: 'no spaces allowed' is not a Pulumi stack name",
    ),
    "zero timeout": (
        ["{url}", "--token-file", "{token_file}", "--timeout", "0"],
        "--timeout: 0 is not accepted",
    ),
    "ca file without certificates": (
        ["{url}", "--token-file", "{token_file}", "--ca-file", "{token_file}"],
        "--ca-file: {token_file} contains no PEM certificate",
    ),
    "missing ca file": (
        ["{url}", "--token-file", "{token_file}", "--ca-file", "{tmp}/absent.pem"],
        "--ca-file: cannot read {tmp}/absent.pem",
    ),
}


@pytest.mark.parametrize("args, message", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_verify_bad_arguments_exit_2(bridge, tmp_path, token_file, caplog, args, message):
    (tmp_path / "empty").write_text("\n")
    values = {
        "url": bridge.url(),
        "port": bridge.port,
        "token_file": token_file,
        "tmp": tmp_path,
        "long_token": LONG_TOKEN,
    }
    env = {
        "BRIDGE_TOKEN": TOKEN,
        "BEARER_ONLY": "Bearer ",
        "SPLIT_TOKEN": TOKEN[:8] + " " + TOKEN[8:],
        "CONTROL_TOKEN": TOKEN + "\x07x",
        "UNSET_BRIDGE_TOKEN": None,
    }

    result = run([arg.format(**values) for arg in args], caplog, input="\n", env=env)

    assert result.exit_code == 2, result.output
    # A prompt, when there is one, precedes the message on stderr.
    error = result.stderr[result.stderr.find("error: ") :]
    assert error.startswith("error: ")
    assert message.format(**values) in error
    assert result.stdout.strip() == ""
    assert bridge.requests == []
    for part in (TOKEN[:8], TOKEN[8:]):
        assert part not in result.stderr
    assert LONG_TOKEN not in result.stderr
    assert "hunter2" not in result.stderr


def test_verify_prompt_closed_input_exits_2(bridge, ca_file, caplog, terminal):
    result = run([bridge.url(), "--ca-file", str(ca_file)], caplog)

    assert result.exit_code == 2
    assert "no bearer token was entered at the prompt" in result.stderr
    assert bridge.requests == []
