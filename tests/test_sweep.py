"""The ownership planner: which resources a torn-down stack owns, and why."""

import pytest

from scripts.sweep import (
    Action,
    AssociatedResources,
    Inventory,
    Kind,
    ResourceRef,
    StackRecord,
    parse_registry_image,
    plan_sweep,
    record_fqdn,
    zone_for,
)

CLUSTER_ID = "5a1d0c1e-0000-4000-8000-00000000c1a5"
OTHER_CLUSTER_ID = "5a1d0c1e-0000-4000-8000-0000000000ff"
STACK_TAG = "scim-bridge-stack:scim-bridge-prod"

OUTPUTS = {
    "scimUrl": "https://scim.example.com",
    "hostname": "scim.example.com",
    "loadBalancerIp": "198.51.100.7",
    "loadBalancerId": "lb-recorded",
    "clusterId": CLUSTER_ID,
    "clusterName": "scim-prod",
    "region": "ams3",
    "kubeconfig": "apiVersion: v1\nusers: [{name: admin, user: {token: kubeconfig-secret}}]",
    "namespace": "scim",
    "tlsMode": "letsencrypt",
    "certificateId": "cert-recorded",
    "certificateName": "scim-prod-cert",
    "registryName": "acme",
    "repositoryName": ["scim-bridge"],
    "stackTag": STACK_TAG,
}


def make_record(**overrides) -> StackRecord:
    outputs = {**OUTPUTS, **overrides.pop("outputs", {})}
    associated = overrides.pop("associated", AssociatedResources())
    return StackRecord.from_outputs("prod", outputs, associated)


def balancer(id, name, ip, tags=()):
    return {"id": id, "name": name, "ip": ip, "tags": list(tags)}


def volume(id, name, tags=(), droplets=()):
    return {"id": id, "name": name, "tags": list(tags), "droplet_ids": list(droplets)}


def a_record(id, name, data, type="A"):
    return {"id": id, "type": type, "name": name, "data": data, "ttl": 300}


def entries_by_id(plan):
    return {entry.id: entry for entry in plan.entries}


def test_from_outputs_keeps_only_known_outputs():
    record = make_record()

    assert record.cluster_tag == f"k8s:{CLUSTER_ID}"
    assert record.repository_names == ("scim-bridge",)
    assert "kubeconfig-secret" not in repr(record)


def test_from_outputs_treats_missing_and_empty_as_unknown():
    record = StackRecord.from_outputs("prod", {"clusterId": "", "hostname": "Scim.Example.COM."})

    assert record.cluster_id is None
    assert record.cluster_tag is None
    assert record.hostname == "scim.example.com"
    assert record.repository_names == ()


def test_from_outputs_accepts_one_repository_name():
    record = StackRecord.from_outputs("prod", {"repositoryName": "scim-bridge"})

    assert record.repository_names == ("scim-bridge",)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("registry.digitalocean.com/acme/scim-bridge@sha256:" + "a" * 64, ("acme", "scim-bridge")),
        ("registry.digitalocean.com/acme/scim-bridge:v2.9.1", ("acme", "scim-bridge")),
        ("registry.digitalocean.com/acme/team/bridge:v1@sha256:ab", ("acme", "team/bridge")),
        ("registry.digitalocean.com/acme", (None, None)),
        ("1password/scim:v2.9.1@sha256:" + "a" * 64, (None, None)),
        ("docker.io/registry.digitalocean.com/acme/x", (None, None)),
    ],
)
def test_parse_registry_image(image, expected):
    assert parse_registry_image(image) == expected


def test_from_outputs_reads_registry_from_image():
    record = StackRecord.from_outputs(
        "prod", {"image": "registry.digitalocean.com/scim-bridge-example-com/scim-bridge@sha256:ab"}
    )

    assert record.registry_name == "scim-bridge-example-com"
    assert record.repository_names == ("scim-bridge",)


def test_from_outputs_prefers_registry_outputs_over_image():
    record = StackRecord.from_outputs(
        "prod",
        {
            "registryName": "acme",
            "repositoryName": "bridge",
            "image": "registry.digitalocean.com/other/scim-bridge:v1",
        },
    )

    assert record.registry_name == "acme"
    assert record.repository_names == ("bridge",)


@pytest.mark.parametrize(
    ("hostname", "zones", "expected"),
    [
        ("scim.example.com", ["example.com", "example.org"], "example.com"),
        ("scim.eu.example.com", ["example.com", "eu.example.com"], "eu.example.com"),
        ("scim.example.com", ["ample.com"], None),
        ("example.com", ["example.com"], "example.com"),
        ("scim.example.com.", ["EXAMPLE.com"], "example.com"),
    ],
)
def test_zone_for_picks_longest_zone(hostname, zones, expected):
    assert zone_for(hostname, zones) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("scim", "scim.example.com"),
        ("@", "example.com"),
        ("SCIM.eu", "scim.eu.example.com"),
        ("scim.example.com", "scim.example.com.example.com"),
    ],
)
def test_record_fqdn(name, expected):
    assert record_fqdn({"name": name}, "example.com") == expected


def test_load_balancer_marks_each_prove_ownership():
    inventory = Inventory(
        load_balancers=[
            balancer("lb-k8s", "a1b2c3", "198.51.100.20", tags=[f"k8s:{CLUSTER_ID}"]),
            balancer("lb-stack", "anything", "198.51.100.21", tags=[STACK_TAG]),
            balancer("lb-recorded", "scim-prod-lb", "198.51.100.7"),
        ]
    )

    plan = plan_sweep(make_record(), inventory)
    found = entries_by_id(plan)

    assert set(found) == {"lb-k8s", "lb-stack", "lb-recorded"}
    assert all(entry.action is Action.DELETE for entry in found.values())
    assert f"k8s:{CLUSTER_ID}" in found["lb-k8s"].reason
    assert "stack's tag" in found["lb-stack"].reason
    assert "loadBalancerId" in found["lb-recorded"].reason


def test_load_balancer_name_alone_proves_nothing():
    record = make_record(outputs={"loadBalancerId": "", "loadBalancerName": "scim-prod-lb"})
    inventory = Inventory(
        load_balancers=[
            balancer("lb-same-name", "scim-prod-lb", "203.0.113.9"),
            balancer("lb-prefix", "scim-prod-lb-2", "198.51.100.7"),
            balancer("lb-other-cluster", "x", "203.0.113.10", tags=[f"k8s:{OTHER_CLUSTER_ID}"]),
            balancer("lb-stack-prefix", "y", "203.0.113.11", tags=["scim-bridge-prod-2"]),
        ]
    )

    plan = plan_sweep(record, inventory)

    assert plan.entries == ()


def test_load_balancer_name_with_recorded_address_proves_ownership():
    record = make_record(outputs={"loadBalancerId": "", "loadBalancerName": "scim-prod-lb"})
    inventory = Inventory(load_balancers=[balancer("lb-1", "scim-prod-lb", "198.51.100.7")])

    plan = plan_sweep(record, inventory)

    assert [entry.id for entry in plan.deletions] == ["lb-1"]
    assert "198.51.100.7" in plan.deletions[0].reason


def test_associated_resources_need_id_and_name():
    associated = AssociatedResources(
        load_balancers=(ResourceRef("lb-assoc", "a0fe"),),
        volumes=(ResourceRef("vol-assoc", "pvc-1"),),
    )
    inventory = Inventory(
        load_balancers=[
            balancer("lb-assoc", "a0fe", "203.0.113.1"),
            balancer("lb-renamed", "a0fe", "203.0.113.2"),
        ],
        volumes=[volume("vol-assoc", "pvc-1"), volume("vol-other", "pvc-1")],
    )

    plan = plan_sweep(make_record(associated=associated), inventory)

    assert {entry.id for entry in plan.deletions} == {"lb-assoc", "vol-assoc"}
    assert all("associated with cluster" in entry.reason for entry in plan.deletions)


def test_live_cluster_keeps_what_only_the_cluster_proves():
    inventory = Inventory(
        load_balancers=[
            balancer("lb-k8s", "a1b2c3", "198.51.100.20", tags=[f"k8s:{CLUSTER_ID}"]),
            balancer("lb-recorded", "scim-prod-lb", "198.51.100.7"),
        ],
        volumes=[volume("vol-k8s", "pvc-1", tags=[f"k8s:{CLUSTER_ID}"])],
        cluster_exists=True,
    )

    found = entries_by_id(plan_sweep(make_record(), inventory))

    assert found["lb-recorded"].action is Action.DELETE
    assert found["lb-k8s"].action is Action.KEEP
    assert found["lb-k8s"].pending
    assert "still exists" in found["lb-k8s"].reason
    assert found["vol-k8s"].action is Action.KEEP
    assert found["vol-k8s"].pending


def test_attached_volume_is_kept_and_reported():
    inventory = Inventory(
        volumes=[
            volume("vol-attached", "pvc-a", tags=[f"k8s:{CLUSTER_ID}"], droplets=[4242]),
            volume("vol-free", "pvc-b", tags=[f"k8s:{CLUSTER_ID}"]),
        ]
    )

    found = entries_by_id(plan_sweep(make_record(), inventory))

    assert found["vol-attached"].action is Action.KEEP
    assert found["vol-attached"].pending
    assert "attached to droplet 4242" in found["vol-attached"].reason
    assert found["vol-free"].action is Action.DELETE


def test_volume_of_other_cluster_is_not_planned():
    inventory = Inventory(
        volumes=[
            volume("vol-other", "pvc-x", tags=[f"k8s:{OTHER_CLUSTER_ID}"]),
            volume("vol-named", "scim-prod-data"),
        ]
    )

    assert plan_sweep(make_record(), inventory).entries == ()


def test_records_at_hostname_by_address():
    inventory = Inventory(
        load_balancers=[balancer("lb-k8s", "a1", "198.51.100.20", tags=[f"k8s:{CLUSTER_ID}"])],
        zone="example.com",
        records=[
            a_record(1, "scim", "198.51.100.7"),
            a_record(2, "scim", "198.51.100.20"),
            a_record(3, "scim", "203.0.113.50"),
            a_record(4, "www", "198.51.100.7"),
            a_record(5, "scim-old", "198.51.100.7"),
            a_record(6, "scim", "v=spf1 -all", type="TXT"),
            a_record(7, "scim.staging", "198.51.100.7"),
        ],
    )

    found = entries_by_id(plan_sweep(make_record(), inventory))

    assert found["1"].action is Action.DELETE
    assert "loadBalancerIp" in found["1"].reason
    assert found["2"].action is Action.DELETE
    assert found["2"].parent == "example.com"
    assert found["3"].action is Action.KEEP
    assert not found["3"].pending
    assert "does not own" in found["3"].reason
    assert {"4", "5", "6", "7"}.isdisjoint(found)


def test_records_need_a_known_zone_and_hostname():
    inventory = Inventory(zone=None, records=[a_record(1, "scim", "198.51.100.7")])

    assert plan_sweep(make_record(), inventory).entries == ()


def test_certificates_by_id_or_name_with_hostname():
    record = make_record()
    inventory = Inventory(
        certificates=[
            {"id": "cert-recorded", "name": "renamed", "dns_names": ["other.example.com"]},
            {"id": "cert-renewed", "name": "scim-prod-cert", "dns_names": ["scim.example.com"]},
            {
                "id": "cert-wider",
                "name": "scim-prod-cert",
                "dns_names": ["scim.example.com", "x.org"],
            },
            {"id": "cert-prefix", "name": "scim-prod-cert-2", "dns_names": ["scim.example.com"]},
        ]
    )

    found = entries_by_id(plan_sweep(record, inventory))

    assert set(found) == {"cert-recorded", "cert-renewed"}
    assert "certificateId" in found["cert-recorded"].reason
    assert "certificateName" in found["cert-renewed"].reason


def test_repositories_need_recorded_registry_and_name():
    inventory = Inventory(
        repositories=[
            {"registry_name": "acme", "name": "scim-bridge"},
            {"registry_name": "acme", "name": "scim-bridge-dev"},
            {"registry_name": "other", "name": "scim-bridge"},
        ]
    )

    plan = plan_sweep(make_record(), inventory)

    assert [(entry.parent, entry.id) for entry in plan.entries] == [("acme", "scim-bridge")]


def test_tag_deleted_when_empty_after_sweep():
    inventory = Inventory(
        volumes=[volume("vol-1", "pvc-1", tags=[STACK_TAG])],
        tag_counts={STACK_TAG: 1, f"k8s:{CLUSTER_ID}": 0},
    )

    found = entries_by_id(plan_sweep(make_record(), inventory))

    assert found[STACK_TAG].action is Action.DELETE
    assert found[f"k8s:{CLUSTER_ID}"].action is Action.DELETE


def test_tag_kept_while_other_resources_carry_it():
    inventory = Inventory(
        volumes=[volume("vol-1", "pvc-1", tags=[STACK_TAG], droplets=[7])],
        tag_counts={STACK_TAG: 1},
    )

    found = entries_by_id(plan_sweep(make_record(), inventory))

    assert found[STACK_TAG].action is Action.KEEP
    assert "1 other resource" in found[STACK_TAG].reason


def test_cluster_tag_kept_out_while_cluster_exists():
    inventory = Inventory(tag_counts={f"k8s:{CLUSTER_ID}": 0}, cluster_exists=True)

    assert plan_sweep(make_record(), inventory).entries == ()


def test_missing_tag_is_not_planned():
    inventory = Inventory(tag_counts={STACK_TAG: None})

    assert plan_sweep(make_record(), inventory).entries == ()


def test_snapshots_are_reported_never_deleted():
    associated = AssociatedResources(volume_snapshots=(ResourceRef("snap-1", "backup"),))

    plan = plan_sweep(make_record(associated=associated), Inventory())

    assert plan.deletions == ()
    assert [entry.kind for entry in plan.kept] == [Kind.VOLUME_SNAPSHOT]
    assert not plan.kept[0].pending


def test_deletions_come_in_dependency_order():
    inventory = Inventory(
        load_balancers=[balancer("lb-recorded", "lb", "198.51.100.7")],
        volumes=[volume("vol-1", "pvc-1", tags=[f"k8s:{CLUSTER_ID}"])],
        zone="example.com",
        records=[a_record(1, "scim", "198.51.100.7")],
        certificates=[{"id": "cert-recorded", "name": "c", "dns_names": []}],
        repositories=[{"registry_name": "acme", "name": "scim-bridge"}],
        tag_counts={STACK_TAG: 0},
    )

    plan = plan_sweep(make_record(), inventory)

    assert [entry.kind for entry in plan.deletions] == [
        Kind.LOAD_BALANCER,
        Kind.DOMAIN_RECORD,
        Kind.CERTIFICATE,
        Kind.VOLUME,
        Kind.REPOSITORY,
        Kind.TAG,
    ]


def test_record_without_outputs_plans_nothing():
    inventory = Inventory(
        load_balancers=[balancer("lb-1", "scim-prod-lb", "198.51.100.7", tags=["k8s:"])],
        volumes=[volume("vol-1", "pvc-1", tags=["k8s:"])],
        zone="example.com",
        records=[a_record(1, "scim", "198.51.100.7")],
        tag_counts={"k8s:": 0},
    )

    assert plan_sweep(StackRecord(stack="prod"), inventory).entries == ()


def test_stack_tag_comes_from_stack_name():
    record = make_record(outputs={"stackTag": "scim-bridge"})

    assert record.stack_tag == STACK_TAG
    assert len(record.notes) == 1
    assert "'scim-bridge'" in record.notes[0]


def test_shared_tag_output_proves_nothing():
    record = make_record(outputs={"stackTag": "scim-bridge"})
    inventory = Inventory(
        load_balancers=[balancer("lb-other", "scim-prod-lb", "203.0.113.9", tags=["scim-bridge"])],
        tag_counts={"scim-bridge": 1},
    )

    plan = plan_sweep(record, inventory)

    assert "lb-other" not in entries_by_id(plan)
    assert "scim-bridge" not in entries_by_id(plan)


def test_cluster_id_must_be_a_uuid():
    record = make_record(outputs={"clusterId": "prod"})

    assert record.cluster_id is None
    assert record.cluster_tag is None
    assert "not a DOKS cluster id" in record.notes[0]


def test_non_text_outputs_are_noted():
    record = make_record(outputs={"clusterId": 123, "loadBalancerIp": 7})

    assert record.cluster_id is None
    assert record.load_balancer_ip is None
    assert any("output clusterId is of type int" in note for note in record.notes)
    assert any("output loadBalancerIp is of type int" in note for note in record.notes)
