"""The decisions of `scim-bridge preflight`: each check turns data already fetched into one result.

Nothing here talks to DigitalOcean, DNS or the Pulumi CLI, so every rule is testable offline;
`scripts.preflight` fetches the data and calls these functions.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from infra.scimsession import SESSION_FIELDS, InvalidScimSession, ScimSession, parse_scimsession
from scripts.checks import CheckResult, Status

DIGITALOCEAN_NAMESERVERS = ("ns1.digitalocean.com", "ns2.digitalocean.com", "ns3.digitalocean.com")
# Record types that would clash with the stack's A record at the same name.
CLASHING_RECORD_TYPES = ("A", "AAAA", "CNAME")
MAX_LISTED = 8  # the most offered values a message lists before "..."

_JWT_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Target:
    """The resources the stack would create, from valid settings: names, place, sizes, tags.

    `kubernetes_version` is a version prefix, or "" for the newest. `hostname` is a DNS label,
    or "@" for the zone's apex. `resource_name` prefixes the names of DigitalOcean resources
    and `node_tag` is the tag of the node pool that the stack's load balancer targets.
    """

    domain: str
    hostname: str
    region: str
    node_size: str
    node_count: int
    kubernetes_version: str
    tls_mode: str
    resource_name: str
    node_tag: str
    stack_tag: str
    bridge_image: str = ""

    @property
    def fqdn(self) -> str:
        """The bridge's full DNS name, such as `scim.example.com`."""
        return self.domain if self.hostname == "@" else f"{self.hostname}.{self.domain}"

    @property
    def load_balancer_name(self) -> str:
        return f"{self.resource_name}-lb"

    @property
    def certificate_name(self) -> str:
        return f"{self.resource_name}-cert"


@dataclass(frozen=True)
class Deployed:
    """The resources the stack already owns, from its last outputs (empty before a deploy)."""

    load_balancer_ip: str = ""
    cluster_id: str = ""


def _listed(values: Iterable[str]) -> str:
    values = sorted(set(values))
    if not values:
        return "none"
    shown = ", ".join(values[:MAX_LISTED])
    return shown + (", ..." if len(values) > MAX_LISTED else "")


# The image.


def check_bridge_image(image: str) -> CheckResult:
    """Fail when the bridge image is pinned by the placeholder digest, which no registry serves."""
    # Imported here: infra.settings imports the Pulumi SDK, which `scim-bridge --help` avoids.
    from infra.settings import has_placeholder_digest

    if has_placeholder_digest(image):
        return CheckResult(
            "bridge image",
            Status.FAIL,
            f"{image} has an all-zero placeholder digest, so the cluster cannot pull it",
            "run `python bridge_image/pin_digest.py TAG`, or set scim-bridge:bridgeImage to a "
            "reference pinned by its real digest",
        )
    return CheckResult("bridge image", Status.OK, image)


# The account.


def check_account(status: str, status_message: str, email_verified: bool) -> CheckResult:
    """Fail unless the account is active and its email address verified."""
    if status != "active":
        detail = f"the account is {status}"
        if status_message:
            detail += f" ({status_message})"
        return CheckResult(
            "account",
            Status.FAIL,
            detail,
            "resolve it in the DigitalOcean control panel (Billing or Support)",
        )
    if not email_verified:
        return CheckResult(
            "account",
            Status.FAIL,
            "the account's email address is not verified",
            "click the link in DigitalOcean's verification email",
        )
    return CheckResult("account", Status.OK, "active, email verified")


def check_droplet_room(droplet_limit: int, droplet_count: int, node_count: int) -> CheckResult:
    """Fail when the account cannot hold the node pool's Droplets next to the ones it has."""
    room = droplet_limit - droplet_count
    detail = f"{droplet_count} of {droplet_limit} Droplets used, the node pool needs {node_count}"
    if room < node_count:
        return CheckResult(
            "droplet limit",
            Status.FAIL,
            detail,
            "ask DigitalOcean support to raise the Droplet limit, or lower nodeCount",
        )
    if room < node_count + 1:
        # A node pool upgrade adds a surge node before it removes an old one.
        return CheckResult(
            "droplet limit",
            Status.WARN,
            detail + ", with no room for the extra node of an upgrade",
            "raise the Droplet limit before the first cluster upgrade",
        )
    return CheckResult("droplet limit", Status.OK, detail)


def check_load_balancer_room(load_balancer_count: int) -> CheckResult:
    """Report how many load balancers the account has (the API does not return the limit)."""
    # NOTE: the account object of the API has no load balancer limit, so this line can only
    # report the count. A full account fails later, when `pulumi up` creates the balancer.
    return CheckResult(
        "load balancers",
        Status.OK,
        f"{load_balancer_count} in the account; the stack adds 1 "
        "(the API does not report the account's limit)",
    )


# Where the cluster goes.


_INCOMPLETE_FIX = "run preflight again; if it persists, check DIGITALOCEAN_END_POINT"


def check_region(region: str, regions: list[dict], kubernetes_regions: list[str]) -> CheckResult:
    """Fail unless the region exists, is available and offers Kubernetes.

    :param regions: `{"slug", "available"}` of every region of /v2/regions.
    :param kubernetes_regions: the region slugs of /v2/kubernetes/options.
    """
    available = {item["slug"] for item in regions if item.get("available")}
    offered = sorted(available & set(kubernetes_regions))
    if not offered:
        # DigitalOcean always offers Kubernetes somewhere: an empty list is a broken answer,
        # and advice to pick from it would be wrong.
        return CheckResult(
            "region",
            Status.FAIL,
            "DigitalOcean listed no available region that offers Kubernetes",
            _INCOMPLETE_FIX,
        )
    fix = f"set region to one of: {_listed(offered)}"
    if region not in {item["slug"] for item in regions}:
        return CheckResult("region", Status.FAIL, f"{region!r} is not a DigitalOcean region", fix)
    if region not in available:
        return CheckResult("region", Status.FAIL, f"{region} is not available", fix)
    if region not in kubernetes_regions:
        return CheckResult("region", Status.FAIL, f"{region} does not offer Kubernetes", fix)
    return CheckResult("region", Status.OK, f"{region} offers Kubernetes")


def check_node_size(
    node_size: str, region: str, kubernetes_sizes: list[str], size_regions: dict[str, list[str]]
) -> CheckResult:
    """Fail unless the size is offered for Kubernetes and in the region.

    :param kubernetes_sizes: the size slugs of /v2/kubernetes/options.
    :param size_regions: each size slug of /v2/sizes with the regions that offer it.
    """
    in_region = [slug for slug in kubernetes_sizes if region in size_regions.get(slug, [])]
    fix = f"set nodeSize to one offered in {region}: {_listed(in_region)}"
    if node_size not in kubernetes_sizes:
        detail = f"{node_size!r} is not offered for Kubernetes"
        return CheckResult("node size", Status.FAIL, detail, fix)
    if region not in size_regions.get(node_size, []):
        detail = f"{node_size} is not offered in {region}"
        return CheckResult("node size", Status.FAIL, detail, fix)
    return CheckResult("node size", Status.OK, f"{node_size} is offered in {region}")


def _version_key(slug: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", slug))


def check_kubernetes_version(prefix: str, versions: list[str]) -> CheckResult:
    """Fail unless a DOKS version slug starts with the prefix; report the newest match.

    The program resolves the prefix the same way: the newest offered version that matches.
    """
    if not versions:
        return CheckResult(
            "kubernetes version",
            Status.FAIL,
            "DigitalOcean listed no Kubernetes versions",
            _INCOMPLETE_FIX,
        )
    matches = [slug for slug in versions if slug.startswith(prefix)] if prefix else versions
    if not matches:
        return CheckResult(
            "kubernetes version",
            Status.FAIL,
            f"no DOKS version matches {prefix!r}",
            f"set kubernetesVersion to a prefix of one of: {_listed(versions)}, or leave it empty",
        )
    newest = max(matches, key=_version_key)
    wanted = f"{prefix!r}" if prefix else "the newest"
    return CheckResult("kubernetes version", Status.OK, f"{wanted} resolves to {newest}")


# DNS.


def longest_zone(fqdn: str, zones: Iterable[str]) -> str | None:
    """Return the longest zone that contains `fqdn` (the name itself counts), or None."""
    fqdn = fqdn.lower().rstrip(".")
    matches = [
        zone.lower().rstrip(".")
        for zone in zones
        if fqdn == zone.lower().rstrip(".") or fqdn.endswith("." + zone.lower().rstrip("."))
    ]
    return max(matches, key=len, default=None)


def check_zone(target: Target, zones: list[str]) -> CheckResult:
    """Fail unless the hostname's longest matching zone in the account is the `domain` setting."""
    zone = longest_zone(target.fqdn, zones)
    if zone is None:
        return CheckResult(
            "dns zone",
            Status.FAIL,
            f"no domain of the account contains {target.fqdn}",
            f"add {target.domain} under Networking > Domains, or set domain to one of: "
            f"{_listed(zones)}",
        )
    if zone != target.domain:
        label = target.fqdn.removesuffix("." + zone) if target.fqdn != zone else "@"
        return CheckResult(
            "dns zone",
            Status.FAIL,
            f"{target.fqdn} belongs to the account's zone {zone}, not to {target.domain}",
            f"set domain to {zone} and hostname to {label}",
        )
    return CheckResult("dns zone", Status.OK, f"{target.fqdn} is in the account's zone {zone}")


def check_delegation(zone: str, nameservers: list[str] | None, error: str = "") -> CheckResult:
    """Fail unless the zone's public NS records are DigitalOcean's, naming the ones they are.

    :param nameservers: the NS names the lookup returned, or None when it failed with `error`.
    """
    if nameservers is None:
        return CheckResult(
            "delegation",
            Status.WARN,
            f"the NS records of {zone} could not be read: {error}",
            "check that the resolver answers public names (--resolver IP picks another), "
            "then run preflight again",
        )

    found = sorted(name.lower().rstrip(".") for name in nameservers)
    expected = sorted(DIGITALOCEAN_NAMESERVERS)
    if not found:
        return CheckResult(
            "delegation",
            Status.FAIL,
            f"{zone} is not delegated: its parent zone has no NS records for it",
            f"at the registrar, set the nameservers of {zone} to {', '.join(expected)}",
        )
    if set(found) != set(expected):
        return CheckResult(
            "delegation",
            Status.FAIL,
            f"{zone} is served by {', '.join(found)}, so records written at DigitalOcean "
            "have no effect",
            f"at the registrar, set the nameservers of {zone} to {', '.join(expected)}",
        )
    return CheckResult("delegation", Status.OK, f"{zone} is served by DigitalOcean")


def check_existing_records(target: Target, records: list[dict], deployed: Deployed) -> CheckResult:
    """Fail when an A, AAAA or CNAME record at the hostname exists that the stack does not own.

    The stack owns an A record whose address is its own load balancer's.

    :param records: `{"id", "type", "name", "data"}` of the zone's records, names relative.
    """
    name = target.hostname
    foreign = [
        record
        for record in records
        if record["name"] == name
        and record["type"] in CLASHING_RECORD_TYPES
        and not (
            record["type"] == "A"
            and deployed.load_balancer_ip
            and record["data"] == deployed.load_balancer_ip
        )
    ]
    if foreign:
        described = "; ".join(
            f"{record['type']} {target.fqdn} -> {record['data']} (id {record['id']})"
            for record in foreign
        )
        return CheckResult(
            "existing records",
            Status.FAIL,
            f"{target.fqdn} already has a record the stack does not own: {described}",
            "delete that record yourself if it is unused, or choose another hostname",
        )
    return CheckResult("existing records", Status.OK, f"no other A, AAAA or CNAME at {target.fqdn}")


# Name clashes.


def check_load_balancer_name(target: Target, load_balancers: list[dict]) -> CheckResult:
    """Fail when a load balancer has the stack's name but targets another tag (not the stack's).

    :param load_balancers: `{"id", "name", "tag", "ip"}` of every load balancer.
    """
    same_name = [lb for lb in load_balancers if lb["name"] == target.load_balancer_name]
    others = [lb for lb in same_name if lb.get("tag") != target.node_tag]
    if others:
        ids = ", ".join(lb["id"] for lb in others)
        return CheckResult(
            "load balancer name",
            Status.FAIL,
            f"a load balancer named {target.load_balancer_name} that the stack does not own "
            f"exists (id {ids})",
            "rename or delete that load balancer, or use another stack name",
        )
    if same_name:
        return CheckResult(
            "load balancer name",
            Status.OK,
            f"{target.load_balancer_name} exists and targets {target.node_tag}: the stack's own",
        )
    return CheckResult("load balancer name", Status.OK, f"{target.load_balancer_name} is free")


def check_certificate_name(
    target: Target, certificates: list[dict], owned_certificate_ids: set[str]
) -> CheckResult:
    """Fail when a certificate has the stack's name and is not used by the stack's load balancer.

    :param certificates: `{"id", "name"}` of every certificate.
    :param owned_certificate_ids: the certificates that the stack's own load balancer uses.
    """
    same_name = [cert for cert in certificates if cert["name"] == target.certificate_name]
    others = [cert for cert in same_name if cert["id"] not in owned_certificate_ids]
    if others:
        ids = ", ".join(cert["id"] for cert in others)
        severity = Status.FAIL if target.tls_mode == "loadbalancer" else Status.WARN
        return CheckResult(
            "certificate name",
            severity,
            f"a certificate named {target.certificate_name} that the stack does not own "
            f"exists (id {ids})",
            "delete that certificate if it is unused, or use another stack name",
        )
    if same_name:
        return CheckResult(
            "certificate name", Status.OK, f"{target.certificate_name} is the stack's own"
        )
    return CheckResult("certificate name", Status.OK, f"{target.certificate_name} is free")


def check_cluster_name(target: Target, clusters: list[dict], deployed: Deployed) -> CheckResult:
    """Fail when a cluster has the stack's name but neither its tag nor its recorded id."""
    same_name = [cluster for cluster in clusters if cluster["name"] == target.resource_name]
    others = [
        cluster
        for cluster in same_name
        if target.stack_tag not in (cluster.get("tags") or [])
        and cluster.get("id") != deployed.cluster_id
    ]
    if others:
        ids = ", ".join(cluster["id"] for cluster in others)
        return CheckResult(
            "cluster name",
            Status.FAIL,
            f"a Kubernetes cluster named {target.resource_name} that the stack does not own "
            f"exists (id {ids})",
            "rename or delete that cluster, or use another stack name",
        )
    if same_name:
        return CheckResult("cluster name", Status.OK, f"{target.resource_name} is the stack's own")
    return CheckResult("cluster name", Status.OK, f"{target.resource_name} is free")


# Credentials.


def check_scimsession(raw: bytes | str | None, source: str, fqdn: str | None) -> list[CheckResult]:
    """Check the scimsession file: it parses, carries the session fields, and fits the hostname.

    Returns the scimsession line, plus a warning line for a byte-order mark or Windows line
    endings, which the program removes but which show the file was edited or converted.
    Messages never contain the file's content.
    """
    if raw is None:
        return [
            CheckResult(
                "scimsession",
                Status.FAIL,
                "no scimsession given",
                "pulumi config set --secret scim-bridge:scimsession < scimsession, "
                "or pass --scimsession FILE",
            )
        ]

    try:
        session = parse_scimsession(raw, source=source)
    except InvalidScimSession as error:
        return [CheckResult("scimsession", Status.FAIL, str(error), _SESSION_FIXES[error.reason])]

    results = [_session_result(session, fqdn)]
    if session.had_bom or session.had_crlf:
        found = " and ".join(
            part
            for part, present in (
                ("a byte-order mark", session.had_bom),
                ("Windows line endings", session.had_crlf),
            )
            if present
        )
        results.append(
            CheckResult(
                "scimsession encoding",
                Status.WARN,
                f"{source} has {found}; they are removed before use",
                "use the file exactly as 1Password saved it, without re-saving it in an editor",
            )
        )
    return results


_SESSION_FIXES = {
    "empty": "download the scimsession file again from the bridge setup in 1Password",
    "truncated": "copy the whole scimsession file: the end is missing",
    "bearer-token": "give the scimsession file here; the bearer token goes to the identity "
    "provider",
    "not-json": "give the scimsession file saved during the bridge setup, unchanged",
    "not-a-session": "give the scimsession file saved during the bridge setup, unchanged",
}


def _session_result(session: ScimSession, fqdn: str | None) -> CheckResult:
    form = "base64 of JSON" if session.was_base64 else "JSON"
    fields = ", ".join(sorted(SESSION_FIELDS))
    if session.domain and fqdn:
        host = session.domain.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if host != fqdn:
            return CheckResult(
                "scimsession",
                Status.FAIL,
                f"the session was made for {host}, not for {fqdn}",
                "set domain and hostname to match the session, or make a new session for "
                f"{fqdn} in 1Password",
            )
        return CheckResult("scimsession", Status.OK, f"{form} with {fields}, made for {fqdn}")
    return CheckResult("scimsession", Status.OK, f"{form} with {fields}")


def check_bearer_token(raw: str) -> CheckResult:
    """Fail unless the text looks like the bridge's bearer token: one JWT, nothing else.

    A leading `Bearer ` and surrounding whitespace are ignored. The token is never shown.
    """
    fix = "give the bearer token that the bridge setup in 1Password showed, on one line"
    token = raw.strip().removeprefix("Bearer ").strip()
    if not token:
        return CheckResult("bearer token", Status.FAIL, "the bearer token file is empty", fix)
    if _is_session(token):
        return CheckResult(
            "bearer token",
            Status.FAIL,
            "this is the scimsession file, not the bearer token",
            "give the scimsession to the stack and the bearer token to the identity provider",
        )
    if token.startswith(("{", "[")):
        return CheckResult("bearer token", Status.FAIL, "this is JSON, not a bearer token", fix)
    if any(character.isspace() for character in token):
        return CheckResult("bearer token", Status.FAIL, "the token has whitespace inside", fix)

    segments = token.split(".")
    if len(segments) != 3 or not all(_JWT_SEGMENT.fullmatch(part) for part in segments):
        return CheckResult(
            "bearer token",
            Status.FAIL,
            f"not a JWT: {len(segments)} dot-separated part(s) instead of 3",
            fix,
        )
    try:
        header = json.loads(base64.urlsafe_b64decode(segments[0] + "=" * (-len(segments[0]) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        header = None
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
        return CheckResult(
            "bearer token", Status.FAIL, "not a JWT: the first part is not a JWT header", fix
        )
    return CheckResult("bearer token", Status.OK, f"a JWT signed with {header['alg'][:20]!r}")


def _is_session(text: str) -> bool:
    try:
        parse_scimsession(text, source="bearer token")
    except InvalidScimSession:
        return False
    return True
