"""The `scim-bridge plan` command: tree, JSON, Mermaid graph and manifests, all offline."""

import json
import os
import re
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from scripts.cli import app
from scripts.simulation import DEFAULT_CONFIG, PROJECT_DIR

runner = CliRunner()

# Parts of the example's placeholder session and of the simulated kubeconfig: neither may
# appear in any plan output.
SECRET_MARKERS = ("placeholderplaceholder00", "cGxhY2Vob2xkZXI", "simulated-")


def invoke(*args):
    return runner.invoke(app, ["plan", *args])


def assert_no_secrets(text):
    for marker in SECRET_MARKERS:
        assert marker not in text, f"plan output contains {marker!r}"


def test_tree_lists_resources_outputs_and_path():
    result = invoke()

    assert result.exit_code == 0, result.stderr
    output = result.stdout
    assert "KubernetesCluster cluster" in output
    assert "LoadBalancer edge-lb" in output
    assert "dropletTag=scim-bridge-example-nodes" in output
    assert "depends on: edge-lb" in output
    assert re.search(r"kubeconfig +\[secret\]", output)
    assert re.search(r"scimUrl +https://scim\.example\.com", output)
    assert "critical path (estimated" in output
    assert "cluster (~420 s)" in output
    assert_no_secrets(output)


def test_json_document_shape():
    result = invoke("--json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"resources", "outputs"}
    for resource in document["resources"]:
        assert set(resource) == {"urn", "type", "name", "parent", "depends_on", "inputs"}
        assert resource["urn"].startswith("urn:pulumi:example::scim-bridge::")
    urns = {resource["urn"] for resource in document["resources"]}
    for resource in document["resources"]:
        assert set(resource["depends_on"]) <= urns, resource["urn"]
    assert document["outputs"]["kubeconfig"] == "[secret]"
    assert_no_secrets(result.stdout)


def test_json_depends_on_includes_output_use():
    document = json.loads(invoke("--json").stdout)
    by_name = {resource["name"]: resource for resource in document["resources"]}

    # The record uses the load balancer's address; nothing else links the two.
    assert by_name["edge-lb"]["urn"] in by_name["edge-record"]["depends_on"]


def test_json_masks_every_secret_input():
    document = json.loads(invoke("--json").stdout)
    by_name = {resource["name"]: resource for resource in document["resources"]}

    assert by_name["bridge-secret"]["inputs"]["stringData"] == {"scimsession": "[secret]"}
    assert by_name["cluster-kubernetes"]["inputs"]["kubeconfig"] == "[secret]"
    assert by_name["propagation-wait"]["inputs"]["__provider"] == "[secret]"


def test_graph_is_mermaid():
    result = invoke("--graph")

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    assert any(line.strip().startswith("subgraph") for line in lines)
    assert sum(" --> " in line for line in lines) >= 10
    assert_no_secrets(result.stdout)


def test_json_and_graph_together_rejected():
    result = invoke("--json", "--graph")

    assert result.exit_code == 2
    assert "--json and --graph" in result.stderr


def test_manifests_written_one_per_object(tmp_path):
    result = invoke("--manifests", str(tmp_path / "manifests"))

    assert result.exit_code == 0, result.stderr
    files = sorted((tmp_path / "manifests").iterdir())
    kinds = [yaml.safe_load(path.read_text())["kind"] for path in files]
    assert sorted(kinds) == sorted(
        ["Namespace", "Secret", "Deployment", "Deployment", "Service", "Service", "NetworkPolicy"]
    )
    for path in files:
        assert_no_secrets(path.read_text())


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"scim-bridge:tlsMode": "loadbalancer"},
        {"scim-bridge:resourceTier": "very-high"},
        {"scim-bridge:kubernetesVersion": "1.31"},
    ],
)
def test_manifests_validate_against_deployed_version(tmp_path, settings):
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    config["config"].update(settings)
    if "scim-bridge:kubernetesVersion" not in settings:
        config["config"].pop("scim-bridge:scimsession")  # also covers the claim
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump(config))

    result = invoke("--config", str(path), "--json", "--manifests", str(tmp_path / "out"))

    assert result.exit_code == 0, result.stderr
    outputs = json.loads(result.stdout)["outputs"]
    version = outputs["clusterVersion"].split("-", 1)[0]
    for manifest in sorted((tmp_path / "out").iterdir()):
        document = yaml.safe_load(manifest.read_text())
        validated = kubernetes_validate.validate(document, version, strict=True)
        assert validated == ".".join(version.split(".")[:2]), manifest.name


def test_missing_config_file(tmp_path):
    result = invoke("--config", str(tmp_path / "nope.yaml"))

    assert result.exit_code == 2
    assert "--config" in result.stderr
    assert "no such file" in result.stderr


def test_encrypted_secret_gets_stand_in(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(
        "config:\n  scim-bridge:domain: example.com\n"
        "  scim-bridge:scimsession:\n    secure: v1:AAAABBBBCCCC\n"
    )

    result = invoke("--config", str(path), "--json")

    assert result.exit_code == 0, result.stderr
    assert "scim-bridge:scimsession is encrypted" in result.stderr
    assert "preflight --stack" in result.stderr
    assert "AAAABBBBCCCC" not in result.stdout + result.stderr
    secrets = [r for r in json.loads(result.stdout)["resources"] if r["type"].endswith("Secret")]
    assert secrets, "the stand-in scimsession should give the bridge its Secret"


def test_encrypted_plain_setting_rejected(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text("config:\n  scim-bridge:domain:\n    secure: v1:AAAABBBBCCCC\n")

    result = invoke("--config", str(path))

    assert result.exit_code == 2
    assert "scim-bridge:domain is encrypted" in result.stderr
    assert "AAAABBBBCCCC" not in result.stderr


def test_misspelled_key_rejected(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text("config:\n  scim-bridge:domain: example.com\n  scim-bridge:dnsTTL: 10\n")

    result = invoke("--config", str(path))

    assert result.exit_code == 2
    assert "scim-bridge:dnsTTL: is not a setting" in result.stderr
    assert "did you mean scim-bridge:dnsTtl?" in result.stderr


def test_other_namespaces_pass_through(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(
        "config:\n  scim-bridge:domain: example.com\n  digitalocean:token: not-read-here\n"
    )

    result = invoke("--config", str(path))

    assert result.exit_code == 0, result.stderr


def test_bare_keys_belong_to_project(tmp_path):
    path = tmp_path / "Pulumi.short.yaml"
    path.write_text("config:\n  domain: example.org\n  hostname: bridge\n")

    result = invoke("--config", str(path), "--json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["outputs"]["scimUrl"] == "https://bridge.example.org"


def test_invalid_stack_name():
    result = invoke("--stack", "bad name")

    assert result.exit_code == 2
    assert "--stack" in result.stderr


def test_default_config_found_from_any_directory(tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    result = subprocess.run(
        [sys.executable, "-m", "scripts", "plan", "--json"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outputs"]["hostname"] == "scim.example.com"


def test_invalid_settings_exit_2_in_subprocess(tmp_path):
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text("config:\n  scim-bridge:domain: example.com\n  scim-bridge:dnsTtl: 5\n")
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}

    result = subprocess.run(
        [sys.executable, "-m", "scripts", "plan", "--config", str(path)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert "scim-bridge:dnsTtl: 5 is less than 30" in result.stderr
    assert "Traceback" not in result.stderr


def test_scalars_read_as_written(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(
        "config:\n  scim-bridge:domain: example.com\n  scim-bridge:kubernetesVersion: 1.30\n"
    )

    result = invoke("--config", str(path))

    assert result.exit_code == 2
    assert "'1.30' matches no DOKS version" in result.stderr


def test_yaml_aliases_rejected(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(
        "other: &a [x, x]\nconfig:\n  scim-bridge:domain: example.com\n  scim-bridge:tags: *a\n"
    )

    result = invoke("--config", str(path))

    assert result.exit_code == 2
    assert "aliases" in result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "config:\n  scim-bridge:domain: example.com\n  scim-bridge:domain: example.org\n",
        "config:\n  domain: example.com\n  scim-bridge:domain: example.org\n",
    ],
)
def test_key_set_twice_rejected(tmp_path, text):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(text)

    result = invoke("--config", str(path))

    assert result.exit_code == 2
    assert "set twice" in result.stderr


def test_stack_name_from_config_file_name(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text("config:\n  scim-bridge:domain: example.com\n")

    result = invoke("--config", str(path))

    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("stack prod ")
    assert "scim-bridge-prod" in result.stdout
