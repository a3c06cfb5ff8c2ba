"""The propagation gate's dynamic provider, called directly with the DNS wait replaced."""

import base64
import json
import os
import subprocess
import sys

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from infra import dnscheck
from infra.dnsreport import PropagationTimeout, Report, Role, ServerResult, Status
from infra.propagation import PropagationFailed, PropagationProvider
from infra.settings import PROJECT_DIR

PROPS = {
    "name": "scim.example.com",
    "expected": "203.0.113.10",
    "record_id": "123",
    "resolvers": ["127.0.0.1:5301"],
    "timeout": 30,
}


def make_report(status: Status, answers: list[str]) -> Report:
    servers = [
        ServerResult(server="127.0.0.1:5300", role=Role.AUTHORITATIVE, status=status,
                     answers=answers, ttl=60, elapsed_ms=1),
        ServerResult(server="127.0.0.1:5301", role=Role.RESOLVER, status=status,
                     answers=answers, ttl=60, elapsed_ms=2),
    ]  # fmt: skip
    return Report(
        name="scim.example.com",
        record_type="A",
        expected=["203.0.113.10"],
        propagated=status is Status.MATCH,
        servers=servers,
    )


@pytest.fixture
def waits(monkeypatch):
    """Replace the DNS wait; record each call and return or raise what the test sets."""
    calls = []
    outcome = {"report": make_report(Status.MATCH, ["203.0.113.10"]), "raise": None}

    def wait(name, expected, **options):
        calls.append({"name": name, "expected": expected, **options})
        if outcome["raise"] is not None:
            raise outcome["raise"]
        return outcome["report"]

    monkeypatch.setattr(dnscheck, "wait_for_propagation", wait)
    return calls, outcome


def test_create_waits_with_settings(waits):
    calls, _ = waits

    result = PropagationProvider().create(dict(PROPS))

    assert calls == [
        {
            "name": "scim.example.com",
            "expected": ["203.0.113.10"],
            "resolvers": ["127.0.0.1:5301"],
            "timeout": 30.0,
        }
    ]
    assert result.id
    assert result.outs["servers"] == ["127.0.0.1:5300", "127.0.0.1:5301"]
    assert result.outs["report"]["propagated"] is True
    assert result.outs["propagated_at"].endswith("+00:00")
    assert result.outs["expected"] == "203.0.113.10"


def test_update_waits_again(waits):
    calls, _ = waits
    news = {**PROPS, "expected": "203.0.113.11"}

    result = PropagationProvider().update("gate", dict(PROPS), news)

    assert calls[0]["expected"] == ["203.0.113.11"]
    assert result.outs["report"]["servers"][0]["status"] == "match"


def test_create_timeout_reports_servers(waits):
    _, outcome = waits
    report = make_report(Status.MISMATCH, ["198.51.100.1"])
    outcome["raise"] = PropagationTimeout(
        "dns: scim.example.com A did not resolve to 203.0.113.10 within 30 s: "
        "127.0.0.1:5301 (resolver) mismatch 198.51.100.1",
        report,
    )

    with pytest.raises(PropagationFailed) as caught:
        PropagationProvider().create(dict(PROPS))

    message = str(caught.value)
    assert message.startswith("propagation: gave up on scim.example.com after 30 s")
    assert "127.0.0.1:5301 (resolver) mismatch 198.51.100.1" in message
    assert caught.value.__cause__ is outcome["raise"]


def test_update_timeout_fails(waits):
    _, outcome = waits
    outcome["raise"] = PropagationTimeout("dns: timed out", make_report(Status.TIMEOUT, []))

    with pytest.raises(PropagationFailed):
        PropagationProvider().update("gate", dict(PROPS), dict(PROPS))


def test_unchanged_inputs_do_not_rerun():
    diff = PropagationProvider().diff("gate", dict(PROPS), dict(PROPS))

    assert diff.changes is False


@pytest.mark.parametrize("key", ["name", "expected", "record_id", "resolvers"])
def test_changed_input_reruns(key):
    news = {**PROPS, key: ["127.0.0.9"] if key == "resolvers" else "changed"}

    diff = PropagationProvider().diff("gate", dict(PROPS), news)

    assert diff.changes is True
    assert diff.replaces == []


def test_provider_pickles_by_reference():
    serialized = serialize_provider(PropagationProvider())
    payload = base64.b64decode(serialized)

    # By reference, the pickle stays small and stable across code changes.
    assert b"infra.propagation" in payload
    assert len(payload) < 2000


def test_provider_loads_in_fresh_process(tmp_path):
    # Pulumi's dynamic-provider host loads the provider with dill in its own process.
    serialized = serialize_provider(PropagationProvider())
    script = (
        "import base64, sys, dill\n"
        "provider = dill.loads(base64.b64decode(sys.argv[1]))\n"
        "print(type(provider).__module__, type(provider).__name__,\n"
        "      provider.diff('id', {'name': 'a'}, {'name': 'b'}).changes)\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    result = subprocess.run(
        [sys.executable, "-c", script, serialized],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["infra.propagation", "PropagationProvider", "True"]


def test_report_is_json(waits):
    result = PropagationProvider().create(dict(PROPS))

    assert json.loads(json.dumps(result.outs))["report"]["name"] == "scim.example.com"
