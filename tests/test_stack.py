"""Reading stack outputs and configuration through the Pulumi CLI (a stand-in here)."""

import json

import pytest

from infra.errors import InvalidInput
from scripts.stack import (
    PROJECT_DIR,
    PulumiNotInstalled,
    StackError,
    read_config,
    read_outputs,
)


def test_read_outputs_returns_document(pulumi_standin):
    outputs = {"scimUrl": "https://scim.example.com", "kubeconfig": "apiVersion: v1"}
    pulumi_standin.respond(["stack", "output"], stdout=json.dumps(outputs))

    assert read_outputs("dev") == outputs
    call = pulumi_standin.calls[0]
    assert call["args"] == [
        "stack",
        "output",
        "--json",
        "--show-secrets",
        "--stack",
        "dev",
        "--non-interactive",
    ]
    assert call["cwd"] == str(PROJECT_DIR)


def test_read_config_flattens_values(pulumi_standin):
    config = {
        "scim-bridge:domain": {"value": "example.com", "secret": False},
        "scim-bridge:resolvers": {"value": '["1.1.1.1"]', "objectValue": ["1.1.1.1"]},
        "scim-bridge:scimsession": {"value": "{}", "secret": True},
    }
    pulumi_standin.respond(["config"], stdout=json.dumps(config))

    assert read_config("org/dev") == {
        "scim-bridge:domain": "example.com",
        "scim-bridge:resolvers": ["1.1.1.1"],
        "scim-bridge:scimsession": "{}",
    }


def test_missing_stack_names_pulumi_error(pulumi_standin):
    pulumi_standin.respond(
        ["stack", "output"], stderr="error: no stack named 'gone' found\n", exit_code=255
    )

    with pytest.raises(StackError) as caught:
        read_outputs("gone")

    assert "could not read the outputs of stack 'gone'" in str(caught.value)
    assert "no stack named 'gone' found" in str(caught.value)


def test_non_json_output_does_not_echo_it(pulumi_standin):
    pulumi_standin.respond(["stack", "output"], stdout="secret-value-not-json")

    with pytest.raises(StackError) as caught:
        read_outputs("dev")

    assert "not JSON" in str(caught.value)
    assert "secret-value" not in str(caught.value)


def test_missing_pulumi_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(PulumiNotInstalled) as caught:
        read_outputs("dev")

    assert "install the Pulumi CLI" in str(caught.value)


@pytest.mark.parametrize("name", ["", "dev stack", "a/b/c/d", "dev;rm", "--help"])
def test_rejects_bad_stack_name(name, pulumi_standin):
    with pytest.raises(InvalidInput) as caught:
        read_outputs(name)

    assert "--stack" in str(caught.value)
    assert pulumi_standin.calls == []
