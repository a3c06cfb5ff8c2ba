"""`scim-bridge teardown` against the DigitalOcean API fake, loaded with a decoy account.

The account contains the stack's resources and the orphans DOKS left behind, plus about fifty
unrelated resources with similar names, another cluster's tags, other records in the same
zone and a record at the stack's hostname that points elsewhere. Every test asserts
exactly what was deleted, so a decoy that goes missing fails it.
"""

import json
import socket
import uuid

import pytest
from typer.testing import CliRunner

from scripts import sweepapi, teardown, teardownflow, teardownreport
from scripts.cli import app
from scripts.sweep import Action, Kind, PlanEntry
from scripts.teardownrecord import load_record, record_path

runner = CliRunner()

STACK = "prod"
CLUSTER_ID = "0f5e7c1a-6d0b-4c55-9d7e-5a3b2c1d0e9f"
OTHER_CLUSTER_ID = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
# The program tags what it creates with `scim-bridge` (every stack) and this (one stack).
STACK_TAG = "scim-bridge-stack:scim-bridge-prod"
LB_IP = "198.51.100.7"
SERVICE_LB_IP = "198.51.100.20"
KUBECONFIG_SECRET = "kubeconfig-token-must-not-leak"


def stack_outputs(**overrides):
    outputs = {
        "scimUrl": "https://scim.example.com",
        "loadBalancerIp": LB_IP,
        "loadBalancerId": "7d2c0f0e-0000-4000-8000-0000000000a1",
        "hostname": "scim.example.com",
        "clusterId": CLUSTER_ID,
        "clusterName": "scim-prod",
        "region": "ams3",
        "kubeconfig": f"apiVersion: v1\nusers:\n- user:\n    token: {KUBECONFIG_SECRET}\n",
        "namespace": "scim",
        "tlsMode": "loadbalancer",
        "certificateId": "c3e7a1f0-0000-4000-8000-0000000000c1",
        "certificateName": "scim-prod-cert",
        "image": "registry.digitalocean.com/acme/scim-bridge@sha256:" + "5e" * 32,
        "stackTag": STACK_TAG,
    }
    outputs.update(overrides)
    return outputs


class Account:
    """The decoy account: what the stack owns, by kind, and every decoy that must survive."""

    def __init__(self, fake):
        self.fake = fake
        self.owned: set[tuple[str, str]] = set()
        self.decoys: set[tuple[str, str]] = set()

    def own(self, collection, item_id):
        self.owned.add((collection, str(item_id)))

    def decoy(self, collection, item_id):
        self.decoys.add((collection, str(item_id)))

    def surviving(self):
        state = self.fake.state
        present = {("load_balancers", key) for key in state.load_balancers}
        present |= {("volumes", key) for key in state.volumes}
        present |= {("certificates", key) for key in state.certificates}
        present |= {("tags", key) for key in state.tags}
        present |= {("repositories", key) for key in state.repositories}
        for records in state.records.values():
            present |= {("records", str(record["id"])) for record in records}
        return present


def build_account(fake) -> Account:
    """Load the fake with the stack's resources, its orphans and the decoys."""
    account = Account(fake)
    outputs = stack_outputs()

    # What the stack owns. The cluster itself is already deleted.
    program_lb = fake.add_load_balancer("scim-prod-lb", ip=LB_IP, lb_id=outputs["loadBalancerId"])
    account.own("load_balancers", program_lb["id"])
    service_lb = fake.add_load_balancer(
        "a" + uuid.uuid4().hex[:31], ip=SERVICE_LB_IP, tags=[f"k8s:{CLUSTER_ID}"]
    )
    account.own("load_balancers", service_lb["id"])
    account.own("volumes", fake.add_volume("pvc-3f2a", tags=[f"k8s:{CLUSTER_ID}"])["id"])
    account.own("volumes", fake.add_volume("scim-redis-data", tags=[STACK_TAG])["id"])
    account.own(
        "certificates",
        fake.add_certificate(
            "scim-prod-cert",
            certificate_id=outputs["certificateId"],
            dns_names=["scim.example.com"],
        )["id"],
    )
    fake.add_domain("example.com")
    account.own("records", fake.add_record("example.com", "A", "scim", LB_IP)["id"])
    account.own("records", fake.add_record("example.com", "A", "scim", SERVICE_LB_IP)["id"])
    fake.set_registry("acme")
    fake.add_repository("scim-bridge")
    account.own("repositories", "scim-bridge")
    fake.add_tag(f"k8s:{CLUSTER_ID}")
    account.own("tags", f"k8s:{CLUSTER_ID}")
    account.own("tags", STACK_TAG)

    # Decoys: another cluster and what DOKS made for it.
    fake.add_cluster("scim-staging", cluster_id=OTHER_CLUSTER_ID)
    account.decoy("tags", f"k8s:{OTHER_CLUSTER_ID}")
    account.decoy("tags", "k8s")
    account.decoy("tags", "k8s:worker")
    fake.add_tag("k8s:worker")
    for index in range(4):
        balancer = fake.add_load_balancer(
            f"a{index}{uuid.uuid4().hex[:30]}",
            ip=f"203.0.113.{index + 1}",
            tags=[f"k8s:{OTHER_CLUSTER_ID}"],
        )
        account.decoy("load_balancers", balancer["id"])
        volume = fake.add_volume(f"pvc-staging-{index}", tags=[f"k8s:{OTHER_CLUSTER_ID}"])
        account.decoy("volumes", volume["id"])

    # Decoys: similar names, the same name with another address, similar tags.
    for name, ip in [
        ("scim-prod-lb", "203.0.113.80"),
        ("scim-prod-lb-2", LB_IP.replace(".7", ".77")),
        ("scim-prod", "203.0.113.81"),
        ("scim-prod-lb-old", "203.0.113.82"),
        ("prod", "203.0.113.83"),
    ]:
        account.decoy("load_balancers", fake.add_load_balancer(name, ip=ip)["id"])
    for tag in (
        "scim-bridge-stack:scim-bridge-prod-2",
        "scim-bridge-stack:scim-bridge-staging",
        "scim-bridge-prod",
        "scim-bridge",
        "k8s:0f5e7c1a",
    ):
        label = tag.replace(":", "-")
        balancer = fake.add_load_balancer(f"lb-{label}", ip="203.0.113.90", tags=[tag])
        account.decoy("load_balancers", balancer["id"])
        volume = fake.add_volume(f"vol-{label}", tags=[tag])
        account.decoy("volumes", volume["id"])
        account.decoy("tags", tag)
    for name in ("scim-prod-data", "pvc-3f2a-copy", "scim-redis-data-2"):
        account.decoy("volumes", fake.add_volume(name)["id"])

    # Decoys: certificates with the recorded name but other DNS names, or a similar name.
    for name, dns_names in [
        ("scim-prod-cert", ["other.example.com"]),
        ("scim-prod-cert-2", ["scim.example.com"]),
        ("scim-staging-cert", ["scim-staging.example.com"]),
        ("scim-prod-cert", ["scim.example.com", "www.example.com"]),
    ]:
        account.decoy("certificates", fake.add_certificate(name, dns_names=dns_names)["id"])

    # Decoys: other records in the same zone, a record at the same hostname pointing
    # elsewhere, the stack's address under other names, and the same name in another zone.
    for type, name, data in [
        ("A", "scim", "203.0.113.50"),
        ("TXT", "scim", "v=spf1 -all"),
        ("A", "www", LB_IP),
        ("A", "scim-staging", "203.0.113.1"),
        ("A", "scim.eu", LB_IP),
        ("A", "@", "203.0.113.60"),
        ("CNAME", "docs", "example.org."),
        ("A", "scim2", LB_IP),
    ]:
        account.decoy("records", fake.add_record("example.com", type, name, data)["id"])
    for record in fake.state.records["example.com"]:
        if record["type"] in ("SOA", "NS"):
            account.decoy("records", record["id"])
    fake.add_domain("example.org")
    account.decoy("records", fake.add_record("example.org", "A", "scim", LB_IP)["id"])
    for record in fake.state.records["example.org"]:
        if record["type"] in ("SOA", "NS"):
            account.decoy("records", record["id"])

    # Decoys: other repositories in the same registry.
    for name in ("scim-bridge-dev", "scim-bridge-staging", "scim", "bridge"):
        fake.add_repository(name)
        account.decoy("repositories", name)

    # The stack's tag exists because the volume carries it.
    assert STACK_TAG in fake.state.tags
    assert len(account.decoys) >= 50
    return account


@pytest.fixture(autouse=True)
def isolated_state(tmp_path, monkeypatch):
    """Keep teardown records in the test's directory, and make every wait instant.

    The cluster probe may connect only to loopback: the fake gives clusters a public
    endpoint name, which a test must replace before teardown probes it.
    """
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(sweepapi, "_pause", lambda seconds: None)
    monkeypatch.setattr(teardownflow, "_pause", lambda seconds: None)

    connect = socket.create_connection

    def connect_to_loopback_only(address, *args, **kwargs):
        assert address[0].startswith("127."), f"probe of {address[0]} outside loopback"
        return connect(address, *args, **kwargs)

    monkeypatch.setattr(teardownflow.socket, "create_connection", connect_to_loopback_only)


@pytest.fixture
def account(digitalocean_env):
    return build_account(digitalocean_env)


@pytest.fixture
def pulumi(pulumi_standin):
    """The stand-in `pulumi`, returning the stack's outputs and a successful destroy."""
    pulumi_standin.respond(["stack", "output"], stdout=json.dumps(stack_outputs()))
    pulumi_standin.respond(["state", "unprotect"])
    pulumi_standin.respond(["destroy"], stdout="Destroying (prod):\nResources:\n    - 14 deleted\n")
    return pulumi_standin


def invoke(*args, input=None):
    return runner.invoke(app, ["teardown", "--stack", STACK, *args], input=input)


def destroy_calls(pulumi):
    return [call for call in pulumi.calls if call["args"][:1] == ["destroy"]]


def assert_no_secret(result, fake):
    for text in (result.stdout, result.stderr):
        assert KUBECONFIG_SECRET not in text
        assert fake.token not in text


def test_dry_run_lists_owned_set_and_deletes_nothing(account, pulumi):
    fake = account.fake

    result = invoke("--dry-run")

    assert result.exit_code == 0, result.output
    assert fake.paths("DELETE") == []
    assert destroy_calls(pulumi) == []
    assert "dry run, nothing is deleted" in result.stdout
    assert "would run     pulumi destroy --stack prod" in result.stdout
    delete_lines = [line for line in result.stdout.splitlines() if line.startswith("would delete")]
    for collection, item_id in account.owned:
        assert any(item_id in line for line in delete_lines), (collection, item_id)
    assert len(delete_lines) == len(account.owned)
    assert f"tagged k8s:{CLUSTER_ID}" in result.stdout
    assert "points at 203.0.113.50, which the stack does not own" in result.stdout
    assert not record_path(STACK).exists()
    assert_no_secret(result, fake)


COLLECTION_OF_KIND = {
    "load_balancer": "load_balancers",
    "volume": "volumes",
    "certificate": "certificates",
    "domain_record": "records",
    "repository": "repositories",
    "tag": "tags",
}


def test_dry_run_plans_exactly_the_owned_set(account, pulumi):
    result = invoke("--dry-run", "--json")

    assert result.exit_code == 0, result.output
    planned = {
        (COLLECTION_OF_KIND[item["kind"]], item["id"])
        for item in json.loads(result.stdout)["resources"]
        if item["action"] == "delete"
    }
    assert planned == account.owned
    assert account.fake.paths("DELETE") == []


def test_default_without_terminal_is_a_dry_run(account, pulumi):
    result = invoke()

    assert result.exit_code == 0, result.output
    assert account.fake.paths("DELETE") == []
    assert destroy_calls(pulumi) == []
    assert "would delete" in result.stdout


def test_yes_deletes_exactly_the_owned_set(account, pulumi):
    fake = account.fake

    result = invoke("--yes")

    assert result.exit_code == 0, result.output
    deleted = {(collection, str(item)) for collection, item in fake.deletions}
    assert deleted == account.owned
    assert len(fake.deletions) == len(account.owned)
    surviving = account.surviving()
    assert account.decoys <= surviving, account.decoys - surviving
    assert account.owned.isdisjoint(surviving)
    assert_no_secret(result, fake)


def test_yes_runs_destroy_with_unreachable_objects_dropped(account, pulumi):
    result = invoke("--yes")

    assert result.exit_code == 0, result.output
    calls = destroy_calls(pulumi)
    assert len(calls) == 1
    assert calls[0]["args"] == [
        "destroy",
        "--stack",
        STACK,
        "--yes",
        "--skip-preview",
        "--non-interactive",
    ]
    assert calls[0]["delete_unreachable"] == "true"
    assert "14 deleted" in result.stderr
    assert "summary:" in result.stdout


def test_record_removed_after_complete_teardown(account, pulumi):
    result = invoke("--yes")

    assert result.exit_code == 0, result.output
    assert not record_path(STACK).exists()


def test_injected_500_then_second_run_completes(account, pulumi):
    fake = account.fake
    failing = next(v["id"] for v in fake.state.volumes.values() if v["name"] == "pvc-3f2a")
    # As many faults as the client makes attempts (one and four retries), so the deletion fails.
    fake.inject("DELETE", f"/v2/volumes/{failing}", status=500, times=5)

    first = invoke("--yes")

    assert first.exit_code == 1, first.output
    assert fake.paths("DELETE").count(f"/v2/volumes/{failing}") == 5
    assert failing in fake.state.volumes
    deleted = {(collection, str(item)) for collection, item in fake.deletions}
    assert ("volumes", failing) not in deleted
    assert f"k8s:{CLUSTER_ID}" in fake.state.tags
    # Tags wait for a run in which nothing failed.
    assert STACK_TAG in fake.state.tags
    others = account.owned - {("volumes", failing), ("tags", f"k8s:{CLUSTER_ID}")}
    others -= {("tags", STACK_TAG), ("repositories", "scim-bridge")}
    assert others <= deleted
    assert "failed" in first.stdout
    assert "HTTP 500" in first.stdout
    assert "run `scim-bridge teardown --stack prod` again" in first.stderr
    assert load_record(STACK) is not None
    saved = record_path(STACK).read_text()
    assert KUBECONFIG_SECRET not in saved
    assert fake.token not in saved

    second = invoke("--yes")

    assert second.exit_code == 0, second.output
    assert failing not in fake.state.volumes
    assert f"k8s:{CLUSTER_ID}" not in fake.state.tags
    assert account.decoys <= account.surviving()
    assert account.owned.isdisjoint(account.surviving())
    assert not record_path(STACK).exists()


def test_second_run_after_destroy_uses_the_record(account, pulumi_standin):
    """After a destroy the stack's outputs are empty: the record still names what to sweep."""
    fake = account.fake
    pulumi_standin.respond(["stack", "output"], stdout=json.dumps(stack_outputs()))
    pulumi_standin.respond(["state", "unprotect"])
    pulumi_standin.respond(["destroy"])
    failing = next(iter(fake.state.certificates))
    fake.inject("DELETE", f"/v2/certificates/{failing}", status=500, times=5)
    assert invoke("--yes").exit_code == 1

    # The destroy emptied the outputs.
    (pulumi_standin.directory / "answers.json").write_text("[]")
    pulumi_standin.respond(["stack", "output"], stdout="{}")
    pulumi_standin.respond(["state", "unprotect"])
    pulumi_standin.respond(["destroy"])
    second = invoke("--yes")

    assert second.exit_code == 0, second.output
    assert failing not in fake.state.certificates
    assert account.decoys <= account.surviving()


def test_404_on_delete_counts_as_already_gone(account, pulumi):
    fake = account.fake
    gone = next(iter(fake.state.certificates))
    fake.inject("DELETE", f"/v2/certificates/{gone}", status=404)

    result = invoke("--yes")

    assert result.exit_code == 0, result.output
    assert "already gone" in result.stdout


def test_attached_volume_is_reported_not_detached(account, pulumi):
    fake = account.fake
    attached = fake.add_volume("pvc-9c1d", tags=[f"k8s:{CLUSTER_ID}"], droplet_ids=[4242])

    result = invoke("--yes")

    assert result.exit_code == 1, result.output
    assert attached["id"] in fake.state.volumes
    assert not any(path.startswith(f"/v2/volumes/{attached['id']}") for path in fake.paths("POST"))
    assert f"/v2/volumes/{attached['id']}" not in fake.paths("DELETE")
    assert "attached to droplet 4242" in result.stdout
    # The cluster's tag stays, or a later run could no longer find the volume by it.
    assert f"k8s:{CLUSTER_ID}" in fake.state.tags


def test_stack_gone_sweeps_from_record_without_destroy(account, pulumi_standin):
    pulumi_standin.respond(["stack", "output"], stdout=json.dumps(stack_outputs()))
    pulumi_standin.respond(["state", "unprotect"])
    pulumi_standin.respond(["destroy"], stderr="error: update failed\n", exit_code=255)
    fake = account.fake
    keep_one = next(iter(fake.state.certificates))
    fake.inject("DELETE", f"/v2/certificates/{keep_one}", status=500, times=5)
    first = invoke("--yes")
    assert first.exit_code == 1
    assert "pulumi destroy failed with exit code 255" in first.stdout

    (pulumi_standin.directory / "answers.json").write_text("[]")
    pulumi_standin.respond(
        ["stack", "output"], stderr="error: no stack named 'prod' found\n", exit_code=255
    )
    second = invoke("--yes")

    assert second.exit_code == 0, second.output
    assert len(destroy_calls(pulumi_standin)) == 1
    assert "the stack does not exist" in second.stdout
    assert keep_one not in fake.state.certificates
    assert account.decoys <= account.surviving()


def test_json_output_is_one_document(account, pulumi):
    result = invoke("--dry-run", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert document["dry_run"] is True
    assert document["destroy"]["delete_unreachable"] is True
    listed = {(item["kind"], item["id"]) for item in document["resources"]}
    assert ("tag", STACK_TAG) in listed
    assert all(item["reason"] for item in document["resources"])
    assert_no_secret(result, account.fake)


def test_json_after_run_has_each_status(account, pulumi):
    result = invoke("--yes", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    statuses = {item["status"] for item in document["resources"]}
    assert statuses <= {"deleted", "kept"}
    assert document["destroy"]["ran"] is True


def test_typed_stack_name_confirms(account, pulumi, monkeypatch):
    monkeypatch.setattr(teardown, "_stdin_is_interactive", lambda: True)

    result = invoke(input="prod\n")

    assert result.exit_code == 0, result.output
    assert len(destroy_calls(pulumi)) == 1
    assert account.owned.isdisjoint(account.surviving())


def test_wrong_name_at_prompt_deletes_nothing(account, pulumi, monkeypatch):
    monkeypatch.setattr(teardown, "_stdin_is_interactive", lambda: True)

    result = invoke(input="production\n")

    assert result.exit_code == 1
    assert "does not match" in result.stderr
    assert account.fake.paths("DELETE") == []
    assert destroy_calls(pulumi) == []


@pytest.fixture
def listening_endpoint():
    """A TCP listener on 127.0.0.1 standing in for a cluster's Kubernetes API."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield f"https://127.0.0.1:{server.getsockname()[1]}"


@pytest.fixture
def closed_endpoint():
    """An address on 127.0.0.1 where nothing listens."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    return f"https://127.0.0.1:{port}"


def add_stack_cluster(fake, endpoint):
    cluster = fake.add_cluster("scim-prod", cluster_id=CLUSTER_ID, tags=[STACK_TAG])
    # Never the public endpoint the fake invents: the probe must stay on loopback.
    cluster["endpoint"] = endpoint
    return cluster


def test_unreachable_live_cluster_stops_before_anything(account, pulumi, closed_endpoint):
    fake = account.fake
    add_stack_cluster(fake, closed_endpoint)

    result = invoke("--yes")

    assert result.exit_code == 1
    assert "still exists" in result.stderr
    assert "does not respond" in result.stderr
    assert "Nothing was deleted" in result.stderr
    assert fake.paths("DELETE") == []
    assert destroy_calls(pulumi) == []


def test_live_cluster_destroy_keeps_provider_state(account, pulumi, listening_endpoint):
    fake = account.fake
    add_stack_cluster(fake, listening_endpoint)

    result = invoke("--yes")

    # The stand-in destroy does not delete the cluster, so what only it proves stays.
    assert result.exit_code == 1, result.output
    assert destroy_calls(pulumi)[0]["delete_unreachable"] is None
    service_lb = next(
        lb for lb in fake.state.load_balancers.values() if lb.get("ip") == SERVICE_LB_IP
    )
    assert "still exists" in result.stdout
    assert service_lb["id"] in fake.state.load_balancers


def test_dry_run_with_live_cluster_plans_after_destroy(account, pulumi, listening_endpoint):
    fake = account.fake
    add_stack_cluster(fake, listening_endpoint)

    result = invoke("--dry-run", "--json")

    assert result.exit_code == 0, result.output
    planned = {
        (COLLECTION_OF_KIND[item["kind"]], item["id"])
        for item in json.loads(result.stdout)["resources"]
        if item["action"] == "delete"
    }
    # The live cluster carries both tags, so they stay out of the plan.
    assert planned == account.owned - {("tags", f"k8s:{CLUSTER_ID}"), ("tags", STACK_TAG)}
    assert json.loads(result.stdout)["destroy"]["delete_unreachable"] is False
    assert fake.paths("DELETE") == []


def test_associated_resources_recorded_before_destroy(account, pulumi, listening_endpoint):
    """A volume known only from the cluster's associated resources is swept after the
    cluster is gone, because teardown recorded the list before destroying."""
    fake = account.fake
    add_stack_cluster(fake, listening_endpoint)
    untagged = fake.add_volume("pvc-untagged")
    fake.associate(CLUSTER_ID, volumes=[untagged])
    api = sweepapi.connect(fake.token)

    preparation = teardownflow.prepare(STACK, api)
    del fake.state.clusters[CLUSTER_ID]
    report = teardownflow.execute(preparation, api, echo=lambda line: None)

    assert report.ok, report
    assert untagged["id"] not in fake.state.volumes
    assert account.decoys <= account.surviving()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dry-run", "--yes"], "--dry-run and --yes"),
        (["--token", " "], "--token is missing"),
    ],
)
def test_bad_arguments_exit_2(account, pulumi, args, message):
    result = invoke(*args)

    assert result.exit_code == 2
    assert message in result.stderr
    assert account.fake.requests == []


def test_bad_stack_name_exit_2(account, pulumi):
    result = runner.invoke(app, ["teardown", "--stack", "prod; rm -rf /"])

    assert result.exit_code == 2
    assert "--stack" in result.stderr
    assert account.fake.requests == []


def test_rejected_token_stops_before_anything(account, pulumi):
    result = invoke("--token", "dop_v1_" + "f" * 64)

    assert result.exit_code == 1
    assert "HTTP 401" in result.stderr
    assert "check the DigitalOcean token" in result.stderr
    assert account.fake.paths("DELETE") == []
    assert destroy_calls(pulumi) == []
    assert "f" * 64 not in result.stderr


def test_missing_pulumi_stops_before_anything(account, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    result = invoke("--yes")

    assert result.exit_code == 1
    assert "install the Pulumi CLI" in result.stderr
    assert account.fake.paths("DELETE") == []


def test_conflict_on_delete_is_retried(account, pulumi):
    fake = account.fake
    certificate = next(iter(fake.state.certificates))
    # A certificate still in use by a load balancer being deleted returns a conflict.
    fake.inject("DELETE", f"/v2/certificates/{certificate}", status=409, times=2)

    result = invoke("--yes")

    assert result.exit_code == 0, result.output
    assert fake.paths("DELETE").count(f"/v2/certificates/{certificate}") == 3
    assert certificate not in fake.state.certificates


def test_live_cluster_of_another_stack_stops_teardown(account, pulumi, listening_endpoint):
    fake = account.fake
    cluster = fake.add_cluster("scim-prod", cluster_id=CLUSTER_ID, tags=["scim-bridge"])
    cluster["endpoint"] = listening_endpoint

    result = invoke("--yes")

    assert result.exit_code == 1
    assert "does not carry the stack's tag" in result.stderr
    assert "Nothing was deleted" in result.stderr
    assert fake.paths("DELETE") == []
    assert destroy_calls(pulumi) == []


def test_report_line_escapes_account_data():
    entry = PlanEntry(
        kind=Kind.LOAD_BALANCER,
        id="lb-1",
        name="lb\x1b]52;c;eA==\x07\nkept          forged line\r",
        action=Action.DELETE,
        reason="tagged with the stack's tag",
    )

    line = teardownreport._entry_line("would delete", entry, entry.reason)

    assert "\n" not in line
    assert "\x1b" not in line
    assert "\\nkept" in line
