"""Decide which DigitalOcean resources a torn-down stack owns, and why.

This module makes no API calls. Its input is what the stack recorded and the account's
current listings. The record contains the stack's outputs and the cluster's associated
resources, as DigitalOcean listed them before the destroy. The output is a plan: each
resource to delete with the proof that the stack owns it, and each owned resource that
must stay, with the reason.

Ownership is proven only by one of these marks:

- the stack's tag, or the tag `k8s:<cluster-id>` that DOKS puts on what it creates;
- an id that the stack recorded (in its outputs, or DigitalOcean's list of the
  cluster's associated resources, which gives id and name together);
- the exact name together with the recorded address or DNS name.

A name prefix alone never proves anything: other stacks and people use similar names.
"""

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from infra import naming

CLUSTER_TAG_PREFIX = "k8s:"
# DOKS cluster ids are UUIDs. Anything else in the outputs is corrupt, and its `k8s:` tag
# could match what another cluster or a person tagged.
_CLUSTER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Kind(enum.StrEnum):
    """A kind of DigitalOcean resource that the sweep can delete."""

    LOAD_BALANCER = "load_balancer"
    DOMAIN_RECORD = "domain_record"
    CERTIFICATE = "certificate"
    VOLUME = "volume"
    VOLUME_SNAPSHOT = "volume_snapshot"
    REPOSITORY = "repository"
    TAG = "tag"


# Deletion order. A certificate in use by a load balancer cannot be deleted, and a tag is
# checked for emptiness only after the volumes that carry it are gone.
DELETION_ORDER = (
    Kind.LOAD_BALANCER,
    Kind.DOMAIN_RECORD,
    Kind.CERTIFICATE,
    Kind.VOLUME,
    Kind.REPOSITORY,
    Kind.TAG,
)


class Action(enum.StrEnum):
    """The sweep's decision for an owned resource."""

    DELETE = "delete"
    KEEP = "keep"


@dataclass(frozen=True)
class ResourceRef:
    """A resource by id and name, as DigitalOcean lists a cluster's associated resources."""

    id: str
    name: str


@dataclass(frozen=True)
class AssociatedResources:
    """The cluster's associated resources, from DigitalOcean's list for deleting a cluster."""

    load_balancers: tuple[ResourceRef, ...] = ()
    volumes: tuple[ResourceRef, ...] = ()
    volume_snapshots: tuple[ResourceRef, ...] = ()

    @classmethod
    def from_api(cls, document: Mapping) -> "AssociatedResources":
        """Build from the JSON body of the associated-resources endpoint (or a saved copy)."""

        def refs(key: str) -> tuple[ResourceRef, ...]:
            return tuple(
                ResourceRef(id=str(item["id"]), name=str(item.get("name", "")))
                for item in document.get(key) or ()
            )

        return cls(
            load_balancers=refs("load_balancers"),
            volumes=refs("volumes"),
            volume_snapshots=refs("volume_snapshots"),
        )

    def to_api(self) -> dict:
        """Return the same shape as the API body, for saving."""
        return {
            key: [{"id": ref.id, "name": ref.name} for ref in getattr(self, key)]
            for key in ("load_balancers", "volumes", "volume_snapshots")
        }

    def merged(self, other: "AssociatedResources") -> "AssociatedResources":
        """Return the union of both lists, keeping the order of first appearance."""

        def union(first, second):
            return tuple(dict.fromkeys((*first, *second)))

        return AssociatedResources(
            load_balancers=union(self.load_balancers, other.load_balancers),
            volumes=union(self.volumes, other.volumes),
            volume_snapshots=union(self.volume_snapshots, other.volume_snapshots),
        )


# Stack outputs that the sweep reads. Only these are ever saved to the teardown record,
# so a secret output such as the kubeconfig never reaches the disk.
RECORDED_OUTPUTS = (
    "clusterId",
    "clusterName",
    "hostname",
    "domain",
    "loadBalancerIp",
    "loadBalancerId",
    "loadBalancerName",
    "certificateId",
    "certificateName",
    "registryName",
    "repositoryName",
    "image",
    "stackTag",
)

# The host of DigitalOcean Container Registry image references.
REGISTRY_HOST = "registry.digitalocean.com"


@dataclass(frozen=True)
class StackRecord:
    """The non-secret stack outputs that the sweep uses, and the cluster's associated resources."""

    stack: str
    cluster_id: str | None = None
    cluster_name: str | None = None
    hostname: str | None = None
    domain: str | None = None
    load_balancer_ip: str | None = None
    load_balancer_id: str | None = None
    load_balancer_name: str | None = None
    certificate_id: str | None = None
    certificate_name: str | None = None
    registry_name: str | None = None
    repository_names: tuple[str, ...] = ()
    stack_tag: str | None = None
    associated: AssociatedResources = field(default_factory=AssociatedResources)
    notes: tuple[str, ...] = ()

    @classmethod
    def from_outputs(
        cls,
        stack: str,
        outputs: Mapping[str, object],
        associated: AssociatedResources | None = None,
    ) -> "StackRecord":
        """Build from stack outputs. Missing, empty and non-string outputs count as unknown.

        `repositoryName` may be one name or a list of names. Without `registryName`, an
        `image` output in DigitalOcean's registry (`registry.digitalocean.com/REGISTRY/REPO`
        with a tag or digest) names the registry and repository. Other outputs are ignored.

        The stack's tag is derived from the stack name, never read from the outputs: a
        corrupt `stackTag` such as `scim-bridge` would mark other stacks' resources. A
        `stackTag` output that differs, a `clusterId` that is not a DOKS cluster id, and an
        output that is not text are ignored and explained in `notes`.
        """
        notes = []

        def text(key: str) -> str | None:
            value = outputs.get(key)
            if value is not None and not isinstance(value, str):
                notes.append(
                    f"output {key} is of type {type(value).__name__}, not text; it is ignored, so "
                    "nothing is proven by it"
                )
                return None
            return value.strip() if isinstance(value, str) and value.strip() else None

        registry = text("registryName")
        repositories = outputs.get("repositoryName")
        if isinstance(repositories, str):
            repositories = [repositories]
        if not isinstance(repositories, list):
            repositories = []
        if registry is None:
            image_registry, image_repository = parse_registry_image(text("image") or "")
            if image_registry is not None:
                registry, repositories = image_registry, [image_repository]

        stack_tag = naming.stack_tag(stack)
        recorded_tag = text("stackTag")
        if recorded_tag is not None and recorded_tag != stack_tag:
            notes.append(
                f"output stackTag {recorded_tag!r} is not {stack_tag!r}, the tag of stack "
                f"{stack}; it is ignored and {stack_tag!r} is used"
            )
        cluster_id = text("clusterId")
        if cluster_id is not None and not _CLUSTER_ID.fullmatch(cluster_id):
            notes.append(
                f"output clusterId {cluster_id!r} is not a DOKS cluster id (a UUID); it is "
                "ignored, so nothing is proven by the cluster's tag"
            )
            cluster_id = None

        hostname = text("hostname")
        domain = text("domain")
        return cls(
            stack=stack,
            cluster_id=cluster_id,
            cluster_name=text("clusterName"),
            hostname=normalize_name(hostname) if hostname else None,
            domain=normalize_name(domain) if domain else None,
            load_balancer_ip=text("loadBalancerIp"),
            load_balancer_id=text("loadBalancerId"),
            load_balancer_name=text("loadBalancerName"),
            certificate_id=text("certificateId"),
            certificate_name=text("certificateName"),
            registry_name=registry,
            repository_names=tuple(
                name.strip() for name in repositories if isinstance(name, str) and name.strip()
            ),
            stack_tag=stack_tag,
            associated=associated or AssociatedResources(),
            notes=tuple(notes),
        )

    @property
    def cluster_tag(self) -> str | None:
        """The tag DOKS puts on the load balancers and volumes it creates for this cluster."""
        return f"{CLUSTER_TAG_PREFIX}{self.cluster_id}" if self.cluster_id else None


@dataclass(frozen=True)
class Inventory:
    """The account's current resources, as the DigitalOcean API lists them (JSON objects).

    `records` are the records of `zone`. `repositories` are those of the recorded
    registry. `tag_counts` maps each tag name looked up to the number of resources
    carrying it, or to None when the tag does not exist.
    """

    load_balancers: Sequence[Mapping] = ()
    volumes: Sequence[Mapping] = ()
    zone: str | None = None
    records: Sequence[Mapping] = ()
    certificates: Sequence[Mapping] = ()
    repositories: Sequence[Mapping] = ()
    tag_counts: Mapping[str, int | None] = field(default_factory=dict)
    cluster_exists: bool = False


@dataclass(frozen=True)
class PlanEntry:
    """One owned resource: what it is, what the sweep does with it, and why.

    `parent` is the zone of a domain record or the registry of a repository, which the
    API needs besides the id to delete them. `pending` marks a kept resource that the
    stack owns and a later run should delete (an attached volume, a resource of a cluster
    that still exists), so the teardown is not finished while one remains.
    """

    kind: Kind
    id: str
    name: str
    action: Action
    reason: str
    parent: str | None = None
    pending: bool = False


@dataclass(frozen=True)
class SweepPlan:
    """The result of planning: the entries in deletion order, then the entries kept."""

    entries: tuple[PlanEntry, ...]

    @property
    def deletions(self) -> tuple[PlanEntry, ...]:
        return tuple(entry for entry in self.entries if entry.action is Action.DELETE)

    @property
    def kept(self) -> tuple[PlanEntry, ...]:
        return tuple(entry for entry in self.entries if entry.action is Action.KEEP)

    @property
    def pending(self) -> tuple[PlanEntry, ...]:
        return tuple(entry for entry in self.entries if entry.pending)


def parse_registry_image(image: str) -> tuple[str | None, str | None]:
    """Return the registry and repository of an image in DigitalOcean's registry, else Nones.

    `registry.digitalocean.com/acme/scim-bridge@sha256:...` gives `("acme", "scim-bridge")`.
    A repository name may contain `/`.
    """
    prefix = REGISTRY_HOST + "/"
    if not image.startswith(prefix):
        return None, None

    path = image[len(prefix) :].split("@", 1)[0]
    registry, _, repository = path.partition("/")
    # A `:` after the last `/` starts the tag.
    head, slash, last = repository.rpartition("/")
    repository = head + slash + last.split(":", 1)[0]
    if not registry or not repository:
        return None, None
    return registry, repository


def normalize_name(name: str) -> str:
    """Return a DNS name in lower case without its trailing dot."""
    return name.strip().rstrip(".").lower()


def zone_for(hostname: str, zones: Iterable[str]) -> str | None:
    """Return the longest zone that contains `hostname`, or None when no zone does."""
    hostname = normalize_name(hostname)
    matches = [
        normalize_name(zone)
        for zone in zones
        if hostname == normalize_name(zone) or hostname.endswith("." + normalize_name(zone))
    ]
    return max(matches, key=len, default=None)


def record_fqdn(record: Mapping, zone: str) -> str:
    """Return the fully qualified name of a record whose API name is relative to `zone`.

    DigitalOcean lists record names relative to their zone, so a record listed as
    `scim.example.com` in `example.com` is `scim.example.com.example.com`.
    """
    name = normalize_name(str(record.get("name", "")))
    zone = normalize_name(zone)
    if name in ("@", ""):
        return zone
    return f"{name}.{zone}"


def plan_sweep(record: StackRecord, inventory: Inventory) -> SweepPlan:
    """Plan the sweep: every resource the stack provably owns, to delete or to keep.

    A resource with no ownership mark is left out of the plan entirely. An owned resource is
    kept, with the reason, when deleting it would be unsafe. That is a volume still attached
    to a droplet, or a resource proven only by the cluster while the cluster still exists
    (DOKS still manages it). Volume snapshots (backups) and tags that other resources carry
    are kept too.
    """
    entries: list[PlanEntry] = []
    load_balancers = _plan_load_balancers(record, inventory)
    entries += load_balancers
    entries += _plan_records(record, inventory, load_balancers)
    entries += _plan_certificates(record, inventory)
    entries += _plan_volumes(record, inventory)
    entries += _plan_snapshots(record)
    entries += _plan_repositories(record, inventory)
    entries += _plan_tags(record, inventory, entries)

    order = {kind: index for index, kind in enumerate((*DELETION_ORDER, Kind.VOLUME_SNAPSHOT))}
    entries.sort(key=lambda entry: (entry.action is Action.KEEP, order[entry.kind]))
    return SweepPlan(entries=tuple(entries))


def _cluster_marks(
    record: StackRecord, resource: Mapping, associated: Sequence[ResourceRef], noun: str
) -> str | None:
    """Return the cluster-based proof of ownership for a load balancer or volume, if any."""
    tags = resource.get("tags") or ()
    if record.cluster_tag and record.cluster_tag in tags:
        return f"tagged {record.cluster_tag}, the tag DOKS puts on what it creates for the cluster"

    ref = ResourceRef(id=str(resource.get("id", "")), name=str(resource.get("name", "")))
    if ref in associated:
        return (
            f"DigitalOcean listed this {noun} (id and name) as associated with cluster "
            f"{record.cluster_id}"
        )
    return None


def _keep_for_live_cluster(record: StackRecord) -> str:
    return (
        f"cluster {record.cluster_id} still exists and DOKS still manages this resource; "
        "run teardown again once the cluster is deleted"
    )


def _plan_load_balancers(record: StackRecord, inventory: Inventory) -> list[PlanEntry]:
    entries = []
    for balancer in inventory.load_balancers:
        balancer_id = str(balancer.get("id", ""))
        name = str(balancer.get("name", ""))
        tags = balancer.get("tags") or ()
        action = Action.DELETE

        if record.stack_tag and record.stack_tag in tags:
            reason = f"tagged {record.stack_tag}, the stack's tag"
        elif record.load_balancer_id and balancer_id == record.load_balancer_id:
            reason = "id recorded in the stack output loadBalancerId"
        elif (
            record.load_balancer_name
            and record.load_balancer_ip
            and name == record.load_balancer_name
            and balancer.get("ip") == record.load_balancer_ip
        ):
            reason = (
                f"name {name} and address {record.load_balancer_ip} match the stack outputs "
                "loadBalancerName and loadBalancerIp"
            )
        else:
            reason = _cluster_marks(
                record, balancer, record.associated.load_balancers, "load balancer"
            )
            if reason is None:
                continue
            if inventory.cluster_exists:
                action, reason = Action.KEEP, _keep_for_live_cluster(record)

        pending = action is Action.KEEP
        entries.append(
            PlanEntry(Kind.LOAD_BALANCER, balancer_id, name, action, reason, pending=pending)
        )
    return entries


def _plan_records(
    record: StackRecord, inventory: Inventory, load_balancers: Sequence[PlanEntry]
) -> list[PlanEntry]:
    """Plan the A and AAAA records at the stack's hostname.

    A record is owned when it points at the recorded load balancer address or at a load
    balancer the sweep deletes. A record at the same name that points elsewhere belongs to
    someone else: it is kept and reported.
    """
    if not record.hostname or not inventory.zone:
        return []

    owned_addresses = {record.load_balancer_ip} - {None}
    deleted_ids = {entry.id for entry in load_balancers if entry.action is Action.DELETE}
    for balancer in inventory.load_balancers:
        if str(balancer.get("id", "")) in deleted_ids:
            owned_addresses |= {balancer.get("ip"), balancer.get("ipv6")} - {None, ""}

    entries = []
    for dns_record in inventory.records:
        if dns_record.get("type") not in ("A", "AAAA"):
            continue
        if record_fqdn(dns_record, inventory.zone) != record.hostname:
            continue

        address = str(dns_record.get("data", ""))
        label = f"{dns_record.get('type')} {record.hostname} -> {address}"
        if address in owned_addresses:
            action = Action.DELETE
            reason = f"at the stack's hostname and points at {address}, a load balancer it owns"
            if address == record.load_balancer_ip:
                reason = (
                    f"at the stack's hostname and points at {address}, the recorded loadBalancerIp"
                )
        else:
            action = Action.KEEP
            reason = (
                f"at the stack's hostname but points at {address}, which the stack does not "
                "own; left for its owner"
            )
        entries.append(
            PlanEntry(
                Kind.DOMAIN_RECORD,
                str(dns_record.get("id", "")),
                label,
                action,
                reason,
                parent=inventory.zone,
            )
        )
    return entries


def _plan_certificates(record: StackRecord, inventory: Inventory) -> list[PlanEntry]:
    """Plan certificates: by recorded id, or by recorded name with exactly the stack's hostname.

    DigitalOcean gives a renewed Let's Encrypt certificate a new id, so a recorded id can
    be stale. Name and DNS names together still identify the certificate then.
    """
    entries = []
    for certificate in inventory.certificates:
        certificate_id = str(certificate.get("id", ""))
        name = str(certificate.get("name", ""))
        dns_names = {normalize_name(str(item)) for item in certificate.get("dns_names") or ()}

        if record.certificate_id and certificate_id == record.certificate_id:
            reason = "id recorded in the stack output certificateId"
        elif (
            record.certificate_name
            and record.hostname
            and name == record.certificate_name
            and dns_names == {record.hostname}
        ):
            reason = (
                f"name {name} and DNS name {record.hostname} match the stack outputs "
                "certificateName and hostname"
            )
        else:
            continue
        entries.append(PlanEntry(Kind.CERTIFICATE, certificate_id, name, Action.DELETE, reason))
    return entries


def _plan_volumes(record: StackRecord, inventory: Inventory) -> list[PlanEntry]:
    entries = []
    for volume in inventory.volumes:
        volume_id = str(volume.get("id", ""))
        name = str(volume.get("name", ""))
        tags = volume.get("tags") or ()
        action = Action.DELETE

        if record.stack_tag and record.stack_tag in tags:
            reason = f"tagged {record.stack_tag}, the stack's tag"
        else:
            reason = _cluster_marks(record, volume, record.associated.volumes, "volume")
            if reason is None:
                continue
            if inventory.cluster_exists:
                action, reason = Action.KEEP, _keep_for_live_cluster(record)

        droplets = volume.get("droplet_ids") or ()
        if droplets and action is Action.DELETE:
            action = Action.KEEP
            listed = ", ".join(str(droplet) for droplet in droplets)
            reason = (
                f"{reason}; still attached to droplet {listed}, so it is not deleted: "
                "detach it, then run teardown again"
            )
        pending = action is Action.KEEP
        entries.append(PlanEntry(Kind.VOLUME, volume_id, name, action, reason, pending=pending))
    return entries


def _plan_snapshots(record: StackRecord) -> list[PlanEntry]:
    reason = "a volume snapshot is a backup, and teardown never deletes backups"
    return [
        PlanEntry(Kind.VOLUME_SNAPSHOT, ref.id, ref.name, Action.KEEP, reason)
        for ref in record.associated.volume_snapshots
    ]


def _plan_repositories(record: StackRecord, inventory: Inventory) -> list[PlanEntry]:
    if not record.registry_name or not record.repository_names:
        return []

    entries = []
    for repository in inventory.repositories:
        name = str(repository.get("name", ""))
        if repository.get("registry_name") != record.registry_name:
            continue
        if name not in record.repository_names:
            continue
        reason = (
            f"registry {record.registry_name} and repository {name} recorded in the stack "
            "outputs (registryName and repositoryName, or image)"
        )
        entries.append(
            PlanEntry(
                Kind.REPOSITORY, name, name, Action.DELETE, reason, parent=record.registry_name
            )
        )
    return entries


def _plan_tags(
    record: StackRecord, inventory: Inventory, planned: Sequence[PlanEntry]
) -> list[PlanEntry]:
    """Plan the stack's tag, and the cluster's tag once the cluster is gone, when empty.

    Deleting a tag in DigitalOcean removes it from every resource that carries it, so a tag
    is deleted only when nothing carries it once the planned volume deletions are done.
    Load balancers are not subtracted: the tag's resource count may not include them, and
    counting too few could delete a tag that is still in use.
    """
    candidates = []
    if record.stack_tag:
        candidates.append((record.stack_tag, "the stack's tag"))
    if record.cluster_tag and not inventory.cluster_exists:
        candidates.append((record.cluster_tag, f"the tag of deleted cluster {record.cluster_id}"))

    deleted_volume_ids = {
        entry.id for entry in planned if entry.kind is Kind.VOLUME and entry.action is Action.DELETE
    }
    entries = []
    for tag, description in candidates:
        count = inventory.tag_counts.get(tag)
        if count is None:
            continue

        carried_by_deleted = sum(
            1
            for volume in inventory.volumes
            if str(volume.get("id", "")) in deleted_volume_ids and tag in (volume.get("tags") or ())
        )
        remaining = count - carried_by_deleted
        if remaining > 0:
            entries.append(
                PlanEntry(
                    Kind.TAG,
                    tag,
                    tag,
                    Action.KEEP,
                    f"{description}, but {remaining} other resource(s) still carry it",
                )
            )
        else:
            reason = f"{description}; no resource carries it once the sweep is done"
            entries.append(PlanEntry(Kind.TAG, tag, tag, Action.DELETE, reason))
    return entries
