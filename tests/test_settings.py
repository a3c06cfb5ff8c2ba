"""Settings: defaults, normalization, and each invalid value rejected by `plan` with exit 2."""

import asyncio
import base64
import contextvars
import json
import re
from pathlib import Path

import pulumi
import pytest
import yaml
from pulumi.runtime import set_all_config
from typer.testing import CliRunner

from infra import settings as settings_module
from infra.settings import InvalidSettings, load_settings
from scripts.cli import app
from scripts.simulation import DEFAULT_CONFIG, PROJECT_FILE

runner = CliRunner()

SESSION = {
    "verifier": {"salt": "c2FsdA", "localHash": "aGFzaA"},
    "encCredentials": {"kid": "k", "enc": "A256GCM", "data": "ZGF0YQ"},
    "version": "2",
    "deviceUuid": "device",
}
# A value that must never appear in any message: it stands for credentials.
SESSION_MARKER = "c2VjcmV0LXNlc3Npb24tbWFya2Vy"


def example_config() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG.read_text())["config"]


def load(values: dict) -> settings_module.Settings:
    """Run load_settings against these `scim-bridge:*` values in an isolated config."""
    config = {f"scim-bridge:{key}": value for key, value in values.items()}

    def run():
        set_all_config(config, [])
        return load_settings(pulumi.Config("scim-bridge"), stack="test")

    # Output.secret needs an event loop; a simulation before may have closed the last one.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return contextvars.copy_context().run(run)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def write_config(tmp_path: Path, overrides: dict, remove=()) -> Path:
    config = example_config()
    for key in remove:
        config.pop(f"scim-bridge:{key}", None)
    config.update({f"scim-bridge:{key}": value for key, value in overrides.items()})
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def plan_with(tmp_path, overrides, remove=()):
    path = write_config(tmp_path, overrides, remove)
    return runner.invoke(app, ["plan", "--config", str(path)])


def test_defaults_match_pulumi_yaml():
    declared = yaml.safe_load(PROJECT_FILE.read_text())["config"]
    defaults = {key: spec["default"] for key, spec in declared.items() if "default" in spec}

    assert defaults == settings_module.DEFAULTS


def test_secret_keys_declared_secret():
    declared = yaml.safe_load(PROJECT_FILE.read_text())["config"]

    for key in settings_module.SECRET_KEYS:
        assert declared[key]["secret"] is True, key


def test_default_image_is_dockerfile_from_line():
    dockerfile = (settings_module.PROJECT_DIR / "bridge_image" / "Dockerfile").read_text()
    from_line = next(line for line in dockerfile.splitlines() if line.startswith("FROM "))

    assert settings_module.default_bridge_image() == from_line.split()[1]
    assert load({"domain": "example.com"}).bridge_image == from_line.split()[1]


def test_minimal_settings_take_defaults():
    loaded = load({"domain": "example.com"})

    assert loaded.hostname == "scim"
    assert loaded.fqdn == "scim.example.com"
    assert loaded.region == "nyc3"
    assert loaded.node_count == 2
    assert loaded.dns_ttl == 60
    assert loaded.propagation_timeout == 900
    assert loaded.tls_mode is settings_module.TlsMode.LETSENCRYPT
    assert loaded.image_source is settings_module.ImageSource.UPSTREAM
    assert loaded.resource_tier is settings_module.ResourceTier.DEFAULT
    assert loaded.resolvers == ("1.1.1.1", "8.8.8.8", "9.9.9.9")
    assert loaded.scimsession is None
    assert loaded.protect_cluster is True


@pytest.mark.parametrize(
    ("domain", "hostname", "fqdn"),
    [
        ("Example.COM.", "SCIM", "scim.example.com"),
        ("example.com", "scim.", "scim.example.com"),
        ("straße.de", "scim", "scim.xn--strae-oqa.de"),
        ("bücher.example", "Büro", "xn--bro-hoa.xn--bcher-kva.example"),
        ("example.com", "@", "example.com"),
    ],
)
def test_names_normalized(domain, hostname, fqdn):
    loaded = load({"domain": domain, "hostname": hostname})

    assert loaded.fqdn == fqdn


def test_idna_2008_keeps_sharp_s():
    # IDNA 2003 (Python's codec) maps ß to ss, while IDNA 2008 keeps it.
    assert load({"domain": "straße.de"}).domain != "strasse.de"


def test_session_accepted_as_base64_with_bom_and_crlf():
    text = "\ufeff" + json.dumps(SESSION, indent=1).replace("\n", "\r\n")
    encoded = base64.b64encode(text.encode()).decode()

    loaded = load({"domain": "example.com", "scimsession": encoded})

    assert isinstance(loaded.scimsession, pulumi.Output)


def test_session_domain_matching_fqdn_accepted():
    session = {**SESSION, "domain": "SCIM.example.com."}

    loaded = load({"domain": "example.com", "scimsession": json.dumps(session)})

    assert loaded.scimsession is not None


def test_all_problems_reported_at_once():
    with pytest.raises(InvalidSettings) as caught:
        load({"domain": "https://example.com", "dnsTtl": "10", "nodeCount": "0", "tlsMode": "x"})

    keys = [problem.key for problem in caught.value.problems]
    assert keys == [
        "scim-bridge:domain",
        "scim-bridge:nodeCount",
        "scim-bridge:tlsMode",
        "scim-bridge:dnsTtl",
    ]
    assert caught.value.exit_code == 2


def test_missing_domain_names_command():
    with pytest.raises(InvalidSettings) as caught:
        load({})

    assert "pulumi config set scim-bridge:domain" in str(caught.value)


INVALID = [
    # (key, value, text the message must contain besides the key)
    ("region", "New York", "region slug"),
    ("region", "nyc", "region slug"),
    ("hostname", "scim.example.com", "one DNS label"),
    ("hostname", "scim bridge", "DNS label"),
    ("hostname", "-scim", "hyphen"),
    ("domain", "https://example.com", "without scheme"),
    ("domain", "example.com/path", "without scheme"),
    ("domain", "example.com:8443", "port"),
    ("domain", "example.com junk", "DNS zone"),
    ("domain", "com", "single label"),
    ("domain", "exa_mple.com", "DNS"),
    ("dnsTtl", "29", "from 30"),
    ("dnsTtl", "86401", "greater than 86400"),
    ("dnsTtl", str(2**63), "greater than 86400"),
    ("dnsTtl", "sixty", "not an integer"),
    ("nodeCount", "0", "from 1 to 100"),
    ("nodeCount", str(10**30), "greater than 100"),
    ("nodeCount", "1_000", "not an integer"),
    ("nodeCount", "\u0663", "not an integer"),
    ("domain", "127.0.0.1", "numeric label"),
    ("domain", "example.123", "numeric label"),
    ("domain", "example.com..", "DNS"),
    ("nodeCount", "2.5", "not an integer"),
    ("tlsMode", "passthrough", "letsencrypt, loadbalancer"),
    ("imageSource", "dockerhub", "upstream, registry"),
    ("resourceTier", "huge", "default, high, very-high"),
    ("bridgeImage", "1password/scim:v2.9.13", "digest"),
    ("bridgeImage", "1password/scim@sha256:abc", "digest"),
    ("propagationTimeout", "0", "positive"),
    ("propagationTimeout", "-5", "positive"),
    ("propagationTimeout", "nan", "not an integer"),
    ("propagationTimeout", "inf", "not an integer"),
    ("propagationTimeout", "1e308", "not an integer"),
    ("propagationTimeout", "86401", "greater than 86400"),
    ("letsencryptEmail", "admin", "email"),
    ("letsencryptEmail", "admin@localhost", "email"),
    ("letsencryptEmail", "a b@example.com", "email"),
    ("letsencryptEmail", "a" * 65 + "@example.com", "longer than 64"),
    ("kubernetesVersion", "latest", "version prefix"),
    ("kubernetesVersion", "1.20", "matches no DOKS version"),
    ("ha", "maybe", "true or false"),
    ("resolvers", "8.8.8.8", "list"),
    ("resolvers", '["not a server!"]', "resolver"),
    ("tags", '["has space"]', "DigitalOcean tag"),
    ("tags", '["scim-bridge"]', "reserved"),
    ("tags", '["scim-bridge-stack:scim-bridge-other"]', "reserved"),
    ("resolvers", '["0.0.0.0"]', "unicast"),
    ("resolvers", '["224.0.0.1"]', "unicast"),
    ("resolvers", '["255.255.255.255"]', "unicast"),
    ("resolvers", '["169.254.169.254"]', "unicast"),
]


@pytest.mark.parametrize(("key", "value", "expected"), INVALID)
def test_plan_rejects_invalid_value(tmp_path, key, value, expected):
    result = plan_with(tmp_path, {key: value})

    assert result.exit_code == 2, result.output
    assert f"scim-bridge:{key}" in result.stderr
    assert expected in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("key", "value"), [(k, v) for k, v, _ in INVALID if k != "kubernetesVersion"]
)
def test_plan_shows_bad_plain_value(tmp_path, key, value):
    result = plan_with(tmp_path, {key: value})

    shown = value.strip('[]"') if key in ("resolvers", "tags") else value
    assert shown in result.stderr


SESSION_CASES = [
    ("", "empty"),
    ("   \r\n", "empty"),
    (json.dumps(SESSION)[:40] + SESSION_MARKER, "truncated"),
    (f"not json at all {SESSION_MARKER}", "neither JSON nor base64"),
    (f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ{SESSION_MARKER}.c2lnbmF0dXJl", "bearer token"),
    (f"Bearer eyJhbGciOiJIUzI1NiJ9.eyJ{SESSION_MARKER}.c2ln", "bearer token"),
    (json.dumps({"hello": SESSION_MARKER}), "not a scimsession"),
    (json.dumps({**SESSION, "domain": "other.example.org", "x": SESSION_MARKER}), "other"),
]


@pytest.mark.parametrize(("value", "expected"), SESSION_CASES)
def test_plan_rejects_bad_session_without_echo(tmp_path, value, expected):
    result = plan_with(tmp_path, {"scimsession": value})

    assert result.exit_code == 2, result.output
    assert "scim-bridge:scimsession" in result.stderr
    assert expected in result.stderr
    assert SESSION_MARKER not in result.output
    assert SESSION_MARKER not in result.stderr


def test_session_for_other_host_names_both(tmp_path):
    session = {**SESSION, "domain": "scim.other.example"}
    result = plan_with(tmp_path, {"scimsession": json.dumps(session)})

    assert result.exit_code == 2
    assert "scim.other.example" in result.stderr
    assert "scim.example.com" in result.stderr


@pytest.mark.parametrize("key", ["workspaceCredentials", "workspaceSettings"])
def test_plan_rejects_bad_workspace_file_without_echo(tmp_path, key):
    other = "workspaceSettings" if key == "workspaceCredentials" else "workspaceCredentials"
    result = plan_with(tmp_path, {key: f"{{not json {SESSION_MARKER}", other: "{}"})

    assert result.exit_code == 2
    assert f"scim-bridge:{key}" in result.stderr
    assert "not valid JSON" in result.stderr
    assert SESSION_MARKER not in result.stderr


def test_workspace_files_needed_together(tmp_path):
    result = plan_with(tmp_path, {"workspaceCredentials": "{}"})

    assert result.exit_code == 2
    assert "both" in result.stderr


def test_registry_mode_rejects_other_image(tmp_path):
    image = "example/scim:v1@sha256:" + "a" * 64
    result = plan_with(tmp_path, {"imageSource": "registry", "bridgeImage": image})

    assert result.exit_code == 2
    assert "scim-bridge:bridgeImage" in result.stderr
    assert "bridge_image/Dockerfile" in result.stderr


def test_plan_reports_every_bad_key(tmp_path):
    result = plan_with(tmp_path, {"region": "x", "dnsTtl": "1", "tlsMode": "none"})

    assert result.exit_code == 2
    assert "3 invalid settings" in result.stderr
    for key in ("region", "dnsTtl", "tlsMode"):
        assert re.search(rf"scim-bridge:{key}:", result.stderr), key


def test_keys_match_pulumi_yaml():
    declared = yaml.safe_load(PROJECT_FILE.read_text())["config"]

    assert set(declared) == settings_module.KEYS


def test_misspelled_key_rejected():
    with pytest.raises(settings_module.InvalidSettings) as caught:
        load({"domain": "example.com", "dnsTTL": "10"})

    (problem,) = caught.value.problems
    assert problem.key == "scim-bridge:dnsTTL"
    assert "did you mean scim-bridge:dnsTtl?" in problem.message


def test_unmatched_version_lists_offered(tmp_path):
    result = plan_with(tmp_path, {"kubernetesVersion": 1.2})

    assert result.exit_code == 2
    assert "1.34.1-do.0" in result.stderr
    assert "quote the value" in result.stderr
