"""The teardown record saved before a destroy."""

import json

import pytest

from scripts.sweep import AssociatedResources, ResourceRef, StackRecord
from scripts.teardownrecord import (
    RecordUnreadable,
    load_record,
    record_path,
    remove_record,
    save_record,
)


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def test_record_round_trip_keeps_known_outputs_only(state_home):
    outputs = {
        "clusterId": "c-1",
        "loadBalancerIp": "198.51.100.7",
        "kubeconfig": "apiVersion: v1\ntoken: kubeconfig-secret",
        "scimUrl": "https://scim.example.com",
    }
    associated = AssociatedResources(volumes=(ResourceRef("vol-1", "pvc-1"),))
    record = StackRecord.from_outputs("prod", outputs, associated)

    path = save_record(record, outputs)

    assert path == state_home / "scim-bridge" / "teardown" / "prod.json"
    assert "kubeconfig-secret" not in path.read_text()
    assert load_record("prod") == (
        {"clusterId": "c-1", "loadBalancerIp": "198.51.100.7"},
        associated,
    )


def test_missing_record_loads_as_none():
    assert load_record("never-saved") is None


def test_qualified_stack_name_is_one_file(state_home):
    assert record_path("acme/scim/prod").parent == state_home / "scim-bridge" / "teardown"
    assert record_path("acme/scim/prod").name == "acme_scim_prod.json"


@pytest.mark.parametrize("text", ["not json", json.dumps([1]), json.dumps({"version": 99})])
def test_unreadable_record_names_the_file(text):
    path = record_path("prod")
    path.parent.mkdir(parents=True)
    path.write_text(text)

    with pytest.raises(RecordUnreadable) as caught:
        load_record("prod")

    assert str(path) in str(caught.value)


def test_remove_record_is_idempotent():
    record = StackRecord.from_outputs("prod", {"clusterId": "c-1"})
    save_record(record, {"clusterId": "c-1"})

    remove_record("prod")
    remove_record("prod")

    assert load_record("prod") is None
