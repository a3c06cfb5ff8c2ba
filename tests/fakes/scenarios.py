"""Accounts to load into the DigitalOcean API fake: a ready account, and a stack among decoys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from tests.fakes.digitalocean import FakeDigitalOcean

REGION = "nyc1"
NODE_SIZE = "s-2vcpu-4gb"
KUBERNETES_VERSION = "1.33.1-do.0"


def seed_ready_account(
    fake: FakeDigitalOcean,
    *,
    region: str = REGION,
    node_size: str = NODE_SIZE,
    versions: tuple[str, ...] = ("1.32.5-do.0", KUBERNETES_VERSION),
    zones: tuple[str, ...] = ("example.com",),
) -> None:
    """Load an active, verified account where a deploy to `region` can succeed.

    The region offers Kubernetes and `node_size`, `versions` are the DOKS versions on offer,
    and every zone in `zones` is a domain of the account.
    """
    fake.set_account()
    fake.add_region(region, sizes=[node_size, "s-1vcpu-2gb"])
    fake.add_region("sfo2", sizes=["s-1vcpu-2gb"])
    fake.add_region("ams2", available=False)
    fake.add_size(node_size, regions=[region])
    fake.add_size("s-1vcpu-2gb", regions=[region, "sfo2"], vcpus=1, memory=2048)
    fake.set_kubernetes_options(
        regions=[region, "fra1"], versions=list(versions), sizes=[node_size, "s-4vcpu-8gb"]
    )
    for zone in zones:
        fake.add_domain(zone)


@dataclass
class StackScenario:
    """What `seed_stack_with_decoys` loaded: the stack's ids, and what must survive a teardown.

    `owned` and `decoys` hold `(kind, id)` pairs with the kinds of `FakeDigitalOcean.deletions`,
    so a test can compare the two directly.
    """

    stack_tag: str
    hostname: str
    zone: str
    cluster_id: str
    load_balancer_ip: str
    load_balancer_id: str
    certificate_id: str
    registry: str
    repository: str
    attached_volume_id: str
    owned: set[tuple[str, str]] = field(default_factory=set)
    decoys: set[tuple[str, str]] = field(default_factory=set)


def seed_stack_with_decoys(
    fake: FakeDigitalOcean,
    *,
    stack_tag: str = "scim-bridge-prod",
    hostname: str = "scim.example.com",
    load_balancer_ip: str = "203.0.113.10",
    registry: str = "acme",
    repository: str = "scim-bridge-prod",
    decoy_rounds: int = 6,
) -> StackScenario:
    """Load a deployed stack, what DOKS grew around its cluster, and decoys with similar names.

    Owned: the cluster (tagged `stack_tag`), a Service load balancer and two PVC volumes
    tagged `k8s:<cluster id>` and listed as its associated resources (one volume still
    attached, so it must be reported and kept), the A record at `hostname` pointing at
    `load_balancer_ip`, the certificate for `hostname`, the repository, and `stack_tag`.
    Decoys, about eight per round: another cluster with its own load balancer and volume, load
    balancers, volumes, certificates and repositories with similar names, other records in the
    zone, an A record at `hostname` that points elsewhere, and a TXT record at `hostname`.
    """
    zone = hostname.split(".", 1)[1]
    prefix = hostname.split(".", 1)[0]
    seed_ready_account(fake, zones=(zone, f"eu.{zone}"))

    cluster = fake.add_cluster(f"{stack_tag}-cluster", tags=[stack_tag])
    cluster_id = cluster["id"]
    cluster_tag = f"k8s:{cluster_id}"
    service_lb = fake.add_load_balancer(
        "a" + uuid.uuid4().hex, ip=load_balancer_ip, tag=cluster_tag
    )
    free_volume = fake.add_volume(f"pvc-{uuid.uuid4()}", tags=[cluster_tag])
    attached_volume = fake.add_volume(f"pvc-{uuid.uuid4()}", tags=[cluster_tag], droplet_ids=[11])
    fake.associate(cluster_id, load_balancers=[service_lb], volumes=[free_volume, attached_volume])
    record = fake.add_record(zone, "A", prefix, load_balancer_ip)
    certificate = fake.add_certificate(f"{stack_tag}-cert", dns_names=[hostname])
    fake.set_registry(registry)
    fake.add_repository(repository, tags=["v2.9.1"])
    fake.add_tag(stack_tag)

    scenario = StackScenario(
        stack_tag=stack_tag,
        hostname=hostname,
        zone=zone,
        cluster_id=cluster_id,
        load_balancer_ip=load_balancer_ip,
        load_balancer_id=service_lb["id"],
        certificate_id=certificate["id"],
        registry=registry,
        repository=repository,
        attached_volume_id=attached_volume["id"],
    )
    scenario.owned = {
        ("load_balancers", service_lb["id"]),
        ("volumes", free_volume["id"]),
        ("records", str(record["id"])),
        ("certificates", certificate["id"]),
        ("repositories", repository),
        ("tags", stack_tag),
    }
    # Kept on purpose: the cluster goes with `pulumi destroy`, the volume is still attached.
    scenario.decoys = {("clusters", cluster_id), ("volumes", attached_volume["id"])}

    for round_number in range(decoy_rounds):
        scenario.decoys |= _add_decoy_round(
            fake, round_number, stack_tag, zone, prefix, load_balancer_ip
        )

    outsider = fake.add_record(zone, "A", prefix, "198.51.100.7")
    text = fake.add_record(zone, "TXT", prefix, "v=spf1 -all")
    scenario.decoys |= {("records", str(outsider["id"])), ("records", str(text["id"]))}
    return scenario


def _add_decoy_round(
    fake: FakeDigitalOcean,
    number: int,
    stack_tag: str,
    zone: str,
    prefix: str,
    owned_ip: str,
) -> set[tuple[str, str]]:
    other = fake.add_cluster(f"{stack_tag}-cluster-{number}", tags=[f"{stack_tag}-{number}"])
    other_tag = f"k8s:{other['id']}"
    other_ip = f"198.51.100.{20 + number}"
    lb = fake.add_load_balancer("a" + uuid.uuid4().hex, ip=other_ip, tag=other_tag)
    named_lb = fake.add_load_balancer(f"{stack_tag}-lb-{number}", ip=f"198.51.100.{60 + number}")
    volume = fake.add_volume(f"pvc-{uuid.uuid4()}", tags=[other_tag])
    untagged = fake.add_volume(f"{stack_tag}-data-{number}")
    certificate = fake.add_certificate(
        f"{stack_tag}-cert-{number}", dns_names=[f"{prefix}{number}.{zone}"]
    )
    record = fake.add_record(zone, "A", f"{prefix}{number}", owned_ip)
    cname = fake.add_record(zone, "CNAME", f"www{number}", f"{prefix}.{zone}.")
    fake.add_repository(f"{stack_tag}-{number}", tags=["latest"])
    fake.add_tag(f"{stack_tag}-{number}")
    return {
        ("clusters", other["id"]),
        ("load_balancers", lb["id"]),
        ("load_balancers", named_lb["id"]),
        ("volumes", volume["id"]),
        ("volumes", untagged["id"]),
        ("certificates", certificate["id"]),
        ("records", str(record["id"])),
        ("records", str(cname["id"])),
        ("repositories", f"{stack_tag}-{number}"),
        ("tags", f"{stack_tag}-{number}"),
        ("tags", other_tag),
    }
