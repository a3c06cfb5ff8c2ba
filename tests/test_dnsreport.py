"""The report of a propagation check: its JSON form and its timeout error."""

import json
import pickle

from infra.dnsreport import PropagationTimeout, Report, Role, ServerResult, Status


def make_report() -> Report:
    return Report(
        name="bridge.example.test",
        record_type="A",
        expected=["192.0.2.1"],
        propagated=False,
        servers=[
            ServerResult(
                server="[::1]:5301",
                role=Role.AUTHORITATIVE,
                status=Status.MISMATCH,
                answers=["192.0.2.9"],
                ttl=300,
                elapsed_ms=3,
                queries=2,
            ),
            ServerResult(server="127.0.0.1:5300", role=Role.RESOLVER),
        ],
    )


def test_to_dict_has_documented_shape():
    document = make_report().to_dict()

    assert list(document)[:5] == ["name", "type", "expected", "propagated", "servers"]
    assert document["type"] == "A"
    first, second = document["servers"]
    assert list(first)[:6] == ["server", "role", "status", "answers", "ttl", "elapsed_ms"]
    assert first["server"] == "[::1]:5301"
    assert first["role"] == "authoritative"
    assert first["status"] == "mismatch"
    assert second["status"] == "pending"
    assert second["elapsed_ms"] is None
    assert document["queries"] == 2
    json.dumps(document)  # every value is JSON-serialisable


def test_lagging_lists_servers_that_do_not_match():
    report = make_report()

    assert report.lagging == report.servers


def test_propagation_timeout_survives_pickling():
    report = make_report()

    copy = pickle.loads(pickle.dumps(PropagationTimeout("dns: timed out", report)))

    assert str(copy) == "dns: timed out"
    assert copy.report == report
    assert isinstance(copy, TimeoutError)
