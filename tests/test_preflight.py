"""`scim-bridge preflight` against the DigitalOcean API fake, a stand-in pulumi and fake DNS."""

import json
import socket
import threading

import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest
import yaml
from typer.testing import CliRunner

from infra.errors import InvalidInput
from scripts import preflight
from scripts.checks import Status
from scripts.cli import app
from scripts.doclient import DigitalOceanClient
from tests.fakes.scenarios import seed_ready_account

runner = CliRunner()

SESSION = {
    "verifier": {"salt": "c2FsdA", "localHash": "c2VjcmV0LW1hdGVyaWFs"},
    "encCredentials": {"kid": "localauthv2keykid", "enc": "A256GCM", "data": "TOP-SECRET"},
    "version": "2",
    "deviceUuid": "abcdefghijklmnopqrstuvwxyz",
    "domain": "scim.example.com",
}
DIGITALOCEAN_NS = ["ns1.digitalocean.com", "ns2.digitalocean.com", "ns3.digitalocean.com"]


PINNED_IMAGE = "1password/scim:v2.9.13@sha256:" + "ab" * 32


def write_config(directory, stack="prod", **overrides):
    """Write Pulumi.<stack>.yaml with a valid configuration, keys overridden or removed (None)."""
    config = {
        "scim-bridge:domain": "example.com",
        "scim-bridge:hostname": "scim",
        "scim-bridge:region": "nyc1",
        "scim-bridge:scimsession": json.dumps(SESSION),
        "scim-bridge:bridgeImage": PINNED_IMAGE,
    }
    for key, value in overrides.items():
        if value is None:
            config.pop(f"scim-bridge:{key}", None)
        else:
            config[f"scim-bridge:{key}"] = value
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


class NsResponder:
    """A UDP DNS responder on 127.0.0.1 that returns NS records from a table, else NXDOMAIN."""

    def __init__(self, table):
        self.table = table
        self.queries = []
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.05)
        self.address = f"127.0.0.1:{self.socket.getsockname()[1]}"
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                wire, client = self.socket.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True)
            self.queries.append((name, dns.rdatatype.to_text(question.rdtype)))
            response = dns.message.make_response(query)
            if name in self.table:
                response.answer.append(
                    dns.rrset.from_text_list(
                        question.name, 300, "IN", "NS", [f"{ns}." for ns in self.table[name]]
                    )
                )
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.socket.sendto(response.to_wire(), client)

    def stop(self):
        self.running = False
        self.thread.join(timeout=2)
        self.socket.close()


@pytest.fixture
def ns_responder():
    responder = NsResponder({"example.com": DIGITALOCEAN_NS})
    yield responder
    responder.stop()


class SleepRecorder:
    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


@pytest.fixture
def ready(fake_digitalocean):
    seed_ready_account(fake_digitalocean, region="nyc1")
    return fake_digitalocean


@pytest.fixture
def sleeps():
    return SleepRecorder()


def make_client(fake, sleeps, **options):
    settings = {"read_timeout": 2.0, "retries": 2, "backoff": 0.1, "sleep": sleeps, **options}
    return DigitalOceanClient(fake.token, base_url=fake.base_url, **settings)


def run(fake, sleeps, config_path, *, ns=None, token=None, client=None, bearer=None, **options):
    """Run every check on a config file, with a fake NS table and a stand-in Pulumi probe."""
    stack_input = preflight._read_config_file(config_path)
    table = {"example.com": DIGITALOCEAN_NS} if ns is None else ns

    def ns_lookup(zone):
        answer = table.get(zone, [])
        if isinstance(answer, Exception):
            raise answer
        return answer

    if client is None:
        client = make_client(fake, sleeps, **options) if token is None else token
    return preflight.run_checks(
        stack_input,
        client=client,
        ns_lookup=ns_lookup,
        scimsession=preflight._scimsession_source(stack_input, None),
        bearer_text=bearer,
        pulumi_probe=lambda: preflight.CheckResult("pulumi cli", Status.OK, "stand-in"),
    )


def by_name(results):
    return {result.name: result for result in results}


# Every check on a ready account.


def test_ready_account_passes_every_check(ready, sleeps, tmp_path):
    results = run(ready, sleeps, write_config(tmp_path))

    assert [r.name for r in results if r.status is not Status.OK] == []
    assert [r.name for r in results] == [
        "settings",
        "bridge image",
        "pulumi cli",
        "digitalocean token",
        "account",
        "droplet limit",
        "load balancers",
        "region",
        "node size",
        "kubernetes version",
        "dns zone",
        "delegation",
        "existing records",
        "load balancer name",
        "certificate name",
        "cluster name",
        "scimsession",
    ]
    assert ready.paths("DELETE") == []
    assert ready.paths("POST") == []


def test_invalid_settings_list_every_key(ready, sleeps, tmp_path):
    path = write_config(tmp_path, region="NYC 1", nodeCount="zero")

    results = by_name(run(ready, sleeps, path))

    assert results["settings"].status is Status.FAIL
    assert "scim-bridge:region" in results["settings"].detail
    assert "scim-bridge:nodeCount" in results["settings"].detail
    assert "region" not in results
    assert results["account"].status is Status.OK


def test_scimsession_problem_is_reported_once(ready, sleeps, tmp_path):
    path = write_config(tmp_path, scimsession=json.dumps(SESSION)[:50])

    results = by_name(run(ready, sleeps, path))

    assert results["settings"].status is Status.OK
    assert results["scimsession"].status is Status.FAIL
    assert "truncated" in results["scimsession"].detail
    assert results["region"].status is Status.OK


def test_locked_account_fails(ready, sleeps, tmp_path):
    ready.set_account(status="locked", status_message="unpaid invoice")

    results = by_name(run(ready, sleeps, write_config(tmp_path)))

    assert results["account"].status is Status.FAIL
    assert "locked (unpaid invoice)" in results["account"].detail


def test_unverified_email_fails(ready, sleeps, tmp_path):
    ready.set_account(email_verified=False)

    results = by_name(run(ready, sleeps, write_config(tmp_path)))

    assert results["account"].status is Status.FAIL


def test_full_droplet_limit_fails(ready, sleeps, tmp_path):
    ready.set_account(droplet_limit=10)
    ready.state.droplet_count = 9

    results = by_name(run(ready, sleeps, write_config(tmp_path)))

    assert results["droplet limit"].status is Status.FAIL
    assert "9 of 10 Droplets used, the node pool needs 2" in results["droplet limit"].detail


def test_region_without_kubernetes_fails(ready, sleeps, tmp_path):
    results = by_name(run(ready, sleeps, write_config(tmp_path, region="sfo2")))

    assert results["region"].status is Status.FAIL
    assert "sfo2 does not offer Kubernetes" in results["region"].detail


def test_size_not_offered_fails(ready, sleeps, tmp_path):
    results = by_name(run(ready, sleeps, write_config(tmp_path, nodeSize="s-4vcpu-8gb")))

    assert results["node size"].status is Status.FAIL
    assert "not offered in nyc1" in results["node size"].detail


def test_unknown_version_prefix_fails(ready, sleeps, tmp_path):
    results = by_name(run(ready, sleeps, write_config(tmp_path, kubernetesVersion="1.29")))

    assert results["kubernetes version"].status is Status.FAIL
    assert "1.32.5-do.0, 1.33.1-do.0" in results["kubernetes version"].fix


def test_version_prefix_resolves_to_newest(ready, sleeps, tmp_path):
    results = by_name(run(ready, sleeps, write_config(tmp_path, kubernetesVersion="1.33")))

    assert "resolves to 1.33.1-do.0" in results["kubernetes version"].detail


def test_zone_not_in_account_fails(ready, sleeps, tmp_path):
    results = by_name(run(ready, sleeps, write_config(tmp_path, domain="example.org")))

    assert results["dns zone"].status is Status.FAIL
    assert "no domain of the account contains scim.example.org" in results["dns zone"].detail
    assert results["delegation"].status is Status.FAIL
    assert "existing records" not in results


def test_longest_zone_wins(ready, sleeps, tmp_path):
    ready.add_domain("eu.example.com")
    ns = {"eu.example.com": DIGITALOCEAN_NS}
    session = json.dumps({**SESSION, "domain": "scim.eu.example.com"})
    path = write_config(tmp_path, domain="eu.example.com", scimsession=session)

    results = by_name(run(ready, sleeps, path, ns=ns))

    assert (
        results["dns zone"].detail == "scim.eu.example.com is in the account's zone eu.example.com"
    )
    assert results["delegation"].status is Status.OK


def test_delegation_elsewhere_fails(ready, sleeps, tmp_path):
    ns = {"example.com": ["ns1.other-dns.example", "ns2.other-dns.example"]}

    results = by_name(run(ready, sleeps, write_config(tmp_path), ns=ns))

    assert results["delegation"].status is Status.FAIL
    assert "ns1.other-dns.example, ns2.other-dns.example" in results["delegation"].detail


def test_foreign_record_at_hostname_fails(ready, sleeps, tmp_path):
    foreign = ready.add_record("example.com", "A", "scim", "198.51.100.7")
    ready.add_record("example.com", "A", "www", "198.51.100.8")

    results = by_name(run(ready, sleeps, write_config(tmp_path)))

    assert results["existing records"].status is Status.FAIL
    assert f"198.51.100.7 (id {foreign['id']})" in results["existing records"].detail
    assert "198.51.100.8" not in results["existing records"].detail


def test_record_at_stack_load_balancer_passes(ready, sleeps, tmp_path):
    ready.add_load_balancer("scim-bridge-prod-lb", ip="203.0.113.10", tag="scim-bridge-prod-nodes")
    ready.add_record("example.com", "A", "scim", "203.0.113.10")

    results = by_name(run(ready, sleeps, write_config(tmp_path)))

    assert results["existing records"].status is Status.OK
    assert results["load balancer name"].status is Status.OK


def test_name_clashes_fail(ready, sleeps, tmp_path):
    lb = ready.add_load_balancer("scim-bridge-prod-lb", ip="198.51.100.7")
    cert = ready.add_certificate("scim-bridge-prod-cert")
    cluster = ready.add_cluster("scim-bridge-prod")

    results = by_name(run(ready, sleeps, write_config(tmp_path, tlsMode="loadbalancer")))

    assert results["load balancer name"].status is Status.FAIL
    assert lb["id"] in results["load balancer name"].detail
    assert results["certificate name"].status is Status.FAIL
    assert cert["id"] in results["certificate name"].detail
    assert results["cluster name"].status is Status.FAIL
    assert cluster["id"] in results["cluster name"].detail


def test_bearer_token_checked_when_given(ready, sleeps, tmp_path):
    results = by_name(run(ready, sleeps, write_config(tmp_path), bearer=json.dumps(SESSION)))

    assert results["bearer token"].status is Status.FAIL
    assert "TOP-SECRET" not in results["bearer token"].detail


# DigitalOcean failures.


def test_missing_token_skips_api_checks(ready, sleeps, tmp_path):
    stack_input = preflight._read_config_file(write_config(tmp_path))

    results = by_name(
        preflight.run_checks(
            stack_input,
            client=None,
            token_problem="digitalocean: no API token given",
            ns_lookup=lambda zone: DIGITALOCEAN_NS,
            scimsession=(json.dumps(SESSION), "s"),
            pulumi_probe=lambda: preflight.CheckResult("pulumi cli", Status.OK, ""),
        )
    )

    assert results["digitalocean token"].status is Status.FAIL
    assert "region" not in results
    assert ready.requests == []


def test_rejected_token_fails_once(ready, sleeps, tmp_path):
    wrong = "dop_v1_" + "f" * 64
    client = DigitalOceanClient(wrong, base_url=ready.base_url, retries=0)

    results = run(ready, sleeps, write_config(tmp_path), client=client)

    named = by_name(results)
    assert named["digitalocean token"].status is Status.FAIL
    assert "HTTP 401" in named["digitalocean token"].detail
    assert "account" not in named
    assert all(wrong not in f"{r.detail} {r.fix}" for r in results)


def test_rate_limit_then_success(ready, sleeps, tmp_path):
    ready.inject("GET", "/v2/kubernetes/options", status=429, retry_after=2)

    results = by_name(run(ready, sleeps, write_config(tmp_path)))

    assert results["region"].status is Status.OK
    assert sleeps.delays == [2.0]


def test_server_error_fails_only_its_checks(ready, sleeps, tmp_path):
    ready.inject("GET", "/v2/certificates", status=500, times=3)

    results = by_name(run(ready, sleeps, write_config(tmp_path)))

    assert results["certificate name"].status is Status.FAIL
    assert "list certificates failed: HTTP 500" in results["certificate name"].detail
    assert "status.digitalocean.com" in results["certificate name"].fix
    assert results["cluster name"].status is Status.OK
    assert sleeps.delays == [0.1, 0.2]


def test_timeout_fails_with_step(ready, sleeps, tmp_path):
    ready.inject("GET", "/v2/domains", delay=1.0, times=2)

    results = by_name(run(ready, sleeps, write_config(tmp_path), read_timeout=0.2, retries=1))

    assert results["dns zone"].status is Status.FAIL
    assert "list domains failed: no response within 0.2 s" in results["dns zone"].detail
    assert results["region"].status is Status.OK


# The command line.


@pytest.fixture
def cli_env(digitalocean_env, pulumi_standin):
    seed_ready_account(digitalocean_env, region="nyc1")
    pulumi_standin.respond(["version"], stdout="v3.200.0\n")
    return digitalocean_env


def test_cli_prints_one_line_per_check(cli_env, ns_responder, tmp_path):
    path = write_config(tmp_path)
    resolver = ns_responder.address

    result = runner.invoke(
        app, ["preflight", "--config", str(path), "--resolver", resolver, "--timeout", "5"]
    )

    lines = result.stdout.splitlines()
    assert result.exit_code == 0, result.output
    assert len(lines) == 17
    assert lines[0].startswith("ok    settings")
    assert any(line.startswith("ok    pulumi cli") and "v3.200.0" in line for line in lines)
    assert any(
        line.startswith("ok    delegation") and "example.com is served by DigitalOcean" in line
        for line in lines
    )
    assert ns_responder.queries == [("example.com", "NS")]
    assert "TOP-SECRET" not in result.output
    assert cli_env.token not in result.output


def test_cli_json_output(cli_env, ns_responder, tmp_path):
    path = write_config(tmp_path, region="sfo2")
    resolver = ns_responder.address

    result = runner.invoke(
        app, ["preflight", "--config", str(path), "--resolver", resolver, "--json"]
    )

    document = json.loads(result.stdout)
    failed = [check["name"] for check in document["checks"] if check["status"] == "fail"]
    assert result.exit_code == 1
    assert document["ok"] is False
    assert failed == ["region"]
    # The node size is checked only in a region that offers Kubernetes.
    assert "node size" not in [check["name"] for check in document["checks"]]


def test_cli_missing_token_fails_check(cli_env, ns_responder, tmp_path, monkeypatch):
    monkeypatch.delenv("DIGITALOCEAN_TOKEN")
    path = write_config(tmp_path)
    resolver = ns_responder.address

    result = runner.invoke(app, ["preflight", "--config", str(path), "--resolver", resolver])

    assert result.exit_code == 1
    assert "fail  digitalocean token" in result.stdout
    assert cli_env.requests == []


def test_cli_reads_stack_through_pulumi(cli_env, pulumi_standin, ns_responder):
    config = {
        "scim-bridge:domain": {"value": "example.com", "secret": False},
        "scim-bridge:region": {"value": "nyc1", "secret": False},
        "scim-bridge:bridgeImage": {"value": PINNED_IMAGE, "secret": False},
        "scim-bridge:scimsession": {"value": json.dumps(SESSION), "secret": True},
    }
    pulumi_standin.respond(["config"], stdout=json.dumps(config))
    pulumi_standin.respond(["stack", "output"], stdout="{}")
    resolver = ns_responder.address

    result = runner.invoke(app, ["preflight", "--stack", "prod", "--resolver", resolver])

    assert result.exit_code == 0, result.output
    assert "valid in stack prod" in result.stdout
    assert ["config", "--json", "--show-secrets", "--stack", "prod", "--non-interactive"] in [
        call["args"] for call in pulumi_standin.calls
    ]


def test_cli_without_pulumi_warns(digitalocean_env, ns_responder, tmp_path, monkeypatch):
    seed_ready_account(digitalocean_env, region="nyc1")
    monkeypatch.setenv("PATH", str(tmp_path))
    path = write_config(tmp_path)
    resolver = ns_responder.address

    result = runner.invoke(app, ["preflight", "--config", str(path), "--resolver", resolver])

    assert "warn  pulumi cli" in result.stdout
    assert "https://www.pulumi.com/docs/install/" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "phrase"),
    [
        ([], "pass exactly one of --config FILE and --stack NAME (given: neither)"),
        (["--config", "CONFIG", "--stack", "prod"], "(given: both)"),
        (["--config", "missing.yaml"], "--config"),
        (["--stack", "bad name!"], "--stack: 'bad name!' is not a Pulumi stack name"),
        (["--config", "CONFIG", "--resolver", "dns.example.net"], "is not an IP address"),
        (["--config", "CONFIG", "--scimsession", "missing.json"], "--scimsession"),
        (["--config", "CONFIG", "--timeout", "0"], "--timeout"),
    ],
)
def test_cli_bad_input_exits_2(digitalocean_env, tmp_path, arguments, phrase):
    path = write_config(tmp_path)
    arguments = [str(path) if argument == "CONFIG" else argument for argument in arguments]

    result = runner.invoke(app, ["preflight", *arguments])

    assert result.exit_code == 2
    assert phrase in result.output
    assert digitalocean_env.requests == []


def test_cli_unreadable_yaml_exits_2(digitalocean_env, tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text("config: [unclosed")

    result = runner.invoke(app, ["preflight", "--config", str(path)])

    assert result.exit_code == 2
    assert "preflight: --config" in result.output
    assert "cannot be read as YAML" in result.output


def test_cli_names_servers_of_other_provider(cli_env, tmp_path):
    responder = NsResponder({"example.com": ["ns1.other-dns.example", "ns2.other-dns.example"]})
    path = write_config(tmp_path)

    try:
        result = runner.invoke(
            app, ["preflight", "--config", str(path), "--resolver", responder.address]
        )
    finally:
        responder.stop()

    assert result.exit_code == 1
    assert "fail  delegation" in result.stdout
    assert "served by ns1.other-dns.example, ns2.other-dns.example" in result.stdout


def test_cli_unregistered_zone_is_not_delegated(cli_env, tmp_path):
    responder = NsResponder({})
    path = write_config(tmp_path)

    try:
        result = runner.invoke(
            app, ["preflight", "--config", str(path), "--resolver", responder.address]
        )
    finally:
        responder.stop()

    assert "example.com is not delegated" in result.stdout


def test_placeholder_digest_fails(ready, sleeps, tmp_path):
    results = run(ready, sleeps, write_config(tmp_path, bridgeImage=None))

    image = by_name(results)["bridge image"]
    assert image.status is Status.FAIL
    assert "placeholder digest" in image.detail
    assert "pin_digest.py" in image.fix


def test_delegation_lookup_timeout_warns(ready, sleeps, tmp_path):
    timeout = dns.resolver.LifetimeTimeout(timeout=3.0, errors=[])

    results = by_name(run(ready, sleeps, write_config(tmp_path), ns={"example.com": timeout}))

    delegation = results["delegation"]
    assert delegation.status is Status.WARN
    assert delegation.detail.endswith("the resolver did not answer in time")
    assert "--resolver" in delegation.fix


def test_oversized_input_file_rejected(tmp_path):
    path = tmp_path / "scimsession"
    path.write_bytes(b"x" * (preflight.MAX_INPUT_FILE + 1))

    with pytest.raises(InvalidInput) as caught:
        preflight._read_bytes(path, "--scimsession")

    assert "--scimsession" in str(caught.value)
    assert "larger than 256 KiB" in str(caught.value)


# Hostile answers.


@pytest.fixture
def hostile(ready):
    """A scripted server in front of the ready fake, returning odd bodies for scripted paths."""
    from tests.fakes.hostile import HostileServer

    server = HostileServer(upstream=ready.base_url).start()
    yield server
    server.stop()


def run_hostile(ready, hostile, sleeps, tmp_path):
    client = DigitalOceanClient(
        ready.token, base_url=hostile.base_url, read_timeout=5.0, retries=0, sleep=sleeps
    )
    return by_name(run(ready, sleeps, write_config(tmp_path), client=client))


@pytest.mark.parametrize(
    ("path", "body", "check", "phrase"),
    [
        ("/v2/account", {"account": None}, "digitalocean token", "unexpected response"),
        (
            "/v2/kubernetes/options",
            {"options": {"regions": [{"slug": "nyc1"}], "sizes": [{"slug": "s-2vcpu-4gb"}]}},
            "kubernetes version",
            "listed no Kubernetes versions",
        ),
        (
            "/v2/kubernetes/options",
            {"options": {"versions": [{"kubernetes_version": "1.33"}]}},
            "kubernetes version",
            "versions[0].slug is missing",
        ),
        ("/v2/domains", {"domains": [{"name": None}]}, "dns zone", "domains[0].name is null"),
        (
            "/v2/kubernetes/clusters",
            {"kubernetes_clusters": ["prod"]},
            "cluster name",
            "kubernetes_clusters[0] is not an object",
        ),
    ],
)
def test_odd_api_shapes_fail_their_check(
    ready, hostile, sleeps, tmp_path, path, body, check, phrase
):
    hostile.script(path, body=body)

    results = run_hostile(ready, hostile, sleeps, tmp_path)

    assert results[check].status is Status.FAIL
    assert phrase in results[check].detail
    assert "scimsession" in results


def test_odd_links_do_not_stop_preflight(ready, hostile, sleeps, tmp_path):
    hostile.script("/v2/domains", body={"domains": [{"name": "example.com"}], "links": []})

    results = run_hostile(ready, hostile, sleeps, tmp_path)

    assert results["dns zone"].status is Status.OK


def test_guard_turns_type_error_into_fail_line():
    def broken():
        raise TypeError("'bool' object is not subscriptable")

    result = preflight._guarded("region", broken)

    assert result.status is Status.FAIL
    assert result.detail == (
        "DigitalOcean returned an unexpected response to the region check: "
        "a field has an unexpected type or value"
    )


def test_guard_names_missing_field():
    result = preflight._guarded("node size", lambda: {}["slug"])

    assert result.detail.endswith("the field 'slug' is missing")


def test_cli_non_ascii_token_exits_2(cli_env, ns_responder, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", "dop_v1_secret\u20acvalue")
    path = write_config(tmp_path)
    resolver = ns_responder.address

    result = runner.invoke(app, ["preflight", "--config", str(path), "--resolver", resolver])

    assert result.exit_code == 2
    assert "DIGITALOCEAN_TOKEN" in result.output
    assert "printable ASCII" in result.output
    assert "secret" not in result.output
    assert cli_env.requests == []


def test_cli_endpoint_password_is_not_shown(cli_env, ns_responder, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITALOCEAN_END_POINT", "http://user:hunter2pass@127.0.0.1:9")
    path = write_config(tmp_path)
    resolver = ns_responder.address

    result = runner.invoke(app, ["preflight", "--config", str(path), "--resolver", resolver])

    assert result.exit_code == 2
    assert "DIGITALOCEAN_END_POINT" in result.output
    assert "hunter2pass" not in result.output


def encrypted_session_config(directory):
    path = write_config(directory)
    document = yaml.safe_load(path.read_text())
    document["config"]["scim-bridge:scimsession"] = {"secure": "v1:AAAABBBBCCCC"}
    path.write_text(yaml.safe_dump(document))
    return path


def test_encrypted_session_without_file_warns(ready, sleeps, tmp_path):
    results = by_name(run(ready, sleeps, encrypted_session_config(tmp_path)))

    assert results["settings"].status is Status.OK
    assert results["scimsession"].status is Status.WARN
    assert "--scimsession FILE" in results["scimsession"].fix


def test_cli_session_file_replaces_encrypted_value(cli_env, ns_responder, tmp_path):
    path = encrypted_session_config(tmp_path)
    session_file = tmp_path / "scimsession"
    session_file.write_text(json.dumps(SESSION))

    result = runner.invoke(
        app,
        [
            "preflight",
            "--config",
            str(path),
            "--scimsession",
            str(session_file),
            "--resolver",
            ns_responder.address,
        ],
    )

    assert result.exit_code == 0, result.output
    assert any(line.startswith("ok    scimsession") for line in result.stdout.splitlines())
    assert "AAAABBBBCCCC" not in result.output
