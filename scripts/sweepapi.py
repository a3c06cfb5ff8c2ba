"""The DigitalOcean calls of teardown, made through the shared client in `scripts.doclient`.

Listings are read as the API's own JSON objects, which is what the planner in
`scripts.sweep` takes. Import this module inside a command function: it imports requests
and python-digitalocean.
"""

import logging
import time
from collections.abc import Callable
from urllib.parse import quote

from scripts.doclient import DigitalOceanClient
from scripts.doerrors import DigitalOceanError, NotFound
from scripts.sweep import (
    AssociatedResources,
    Inventory,
    Kind,
    PlanEntry,
    StackRecord,
    zone_for,
)
from scripts.sweeprun import AlreadyGone, DeleteFailed
from scripts.teardownflow import ClusterState

logger = logging.getLogger(__name__)

# The client already retries 429, 5xx and network failures with backoff. These statuses
# are worth another round from the sweep runner: a resource still in use by one that is
# being deleted (a certificate by its load balancer) returns a conflict for a while.
_CONFLICT_STATUSES = frozenset({409, 422})


# Waits between retries. Tests replace it so that they never sleep.
_pause = time.sleep


def connect(token: str, *, sleep: Callable[[float], None] | None = None) -> "DoSweepApi":
    """Return the teardown API on a new client for `token` (base URL from DIGITALOCEAN_END_POINT).

    `sleep` waits between the client's retries; by default it is `time.sleep`.

    :raises TokenMissing: when the token is empty or has whitespace inside.
    :raises InvalidEndpoint: when DIGITALOCEAN_END_POINT is not an http(s) URL.
    """
    client = DigitalOceanClient(token, sleep=sleep or (lambda seconds: _pause(seconds)))
    return DoSweepApi(client)


class DoSweepApi:
    """The `SweepApi` of `scripts.teardownflow`, on a DigitalOceanClient."""

    def __init__(self, client: DigitalOceanClient) -> None:
        self.client = client

    def cluster(self, cluster_id: str) -> ClusterState:
        """Return whether the cluster exists (a 404 or the state `deleted` means gone)."""
        try:
            cluster = self.client.cluster(cluster_id)
        except NotFound:
            return ClusterState(exists=False)

        state = (cluster.get("status") or {}).get("state")
        if state == "deleted":
            return ClusterState(exists=False, state=state)
        tags = tuple(tag for tag in cluster.get("tags") or () if isinstance(tag, str))
        return ClusterState(exists=True, endpoint=cluster.get("endpoint"), state=state, tags=tags)

    def associated_resources(self, cluster_id: str) -> AssociatedResources:
        """Return what DigitalOcean lists as the cluster's associated resources."""
        return AssociatedResources.from_api(self.client.associated_resources(cluster_id))

    def inventory(self, record: StackRecord, *, cluster_exists: bool) -> Inventory:
        """List what the planner needs for this stack: the listings it can match against.

        Records are listed only in the zone of the stack's hostname, repositories only in
        the recorded registry, and tags only by the names the stack could own.
        """
        client = self.client
        zone = self._zone(record)
        records = []
        if zone:
            records = client.list(
                f"/v2/domains/{zone}/records",
                "domain_records",
                step=f"list the records of domain {zone}",
            )

        return Inventory(
            load_balancers=client.list(
                "/v2/load_balancers", "load_balancers", step="list load balancers"
            ),
            volumes=client.list("/v2/volumes", "volumes", step="list volumes"),
            zone=zone,
            records=records,
            certificates=client.list("/v2/certificates", "certificates", step="list certificates"),
            repositories=self._repositories(record),
            tag_counts={tag: self._tag_count(tag) for tag in self._tag_names(record)},
            cluster_exists=cluster_exists,
        )

    def delete(self, entry: PlanEntry) -> None:
        """Delete one planned resource.

        :raises AlreadyGone: when DigitalOcean returns 404.
        :raises DeleteFailed: on any other failure, retryable for conflicts and for a tag
            that still shows resources.
        """
        try:
            deleted = self._delete(entry)
        except DigitalOceanError as error:
            raise DeleteFailed(str(error), retryable=error.status in _CONFLICT_STATUSES) from error
        if not deleted:
            raise AlreadyGone()

    def _delete(self, entry: PlanEntry) -> bool:
        client = self.client
        if entry.kind is Kind.LOAD_BALANCER:
            return client.delete_load_balancer(entry.id)
        if entry.kind is Kind.DOMAIN_RECORD:
            return client.delete_record(str(entry.parent), int(entry.id))
        if entry.kind is Kind.CERTIFICATE:
            return client.delete_certificate(entry.id)
        if entry.kind is Kind.VOLUME:
            return client.delete_volume(entry.id)
        if entry.kind is Kind.REPOSITORY:
            return client.delete_repository(str(entry.parent), entry.id)
        if entry.kind is Kind.TAG:
            return self._delete_tag(entry.id)
        raise DeleteFailed(f"teardown: cannot delete a {entry.kind.value}", retryable=False)

    def _delete_tag(self, tag: str) -> bool:
        # Deleting a tag removes it from every resource that carries it, so check right
        # before: the plan's count may be out of date.
        count = self._tag_count(tag)
        if count is None:
            return False
        if count > 0:
            raise DeleteFailed(
                f"teardown: tag {tag} is still on {count} resource(s), so it was not deleted",
                retryable=True,
            )
        return self.client.delete_tag(tag)

    def _zone(self, record: StackRecord) -> str | None:
        if record.domain:
            return record.domain
        if not record.hostname:
            return None
        domains = self.client.list("/v2/domains", "domains", step="list domains")
        return zone_for(record.hostname, [str(domain.get("name", "")) for domain in domains])

    def _repositories(self, record: StackRecord) -> list[dict]:
        if not record.registry_name or not record.repository_names:
            return []
        try:
            return self.client.repositories(record.registry_name)
        except NotFound:
            logger.info("registry %s not found: no repositories to sweep", record.registry_name)
            return []

    def _tag_names(self, record: StackRecord) -> list[str]:
        return [tag for tag in (record.stack_tag, record.cluster_tag) if tag]

    def _tag_count(self, tag: str) -> int | None:
        try:
            body = self.client.get(f"/v2/tags/{quote(tag, safe=':')}", step=f"read tag {tag}")
        except NotFound:
            return None
        resources = (body.get("tag") or {}).get("resources") or {}
        return int(resources.get("count") or 0)
