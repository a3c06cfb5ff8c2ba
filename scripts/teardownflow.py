"""The steps of `scim-bridge teardown`: gather what the stack owns, destroy it, sweep the rest.

`prepare` reads the stack and DigitalOcean and changes nothing. `plan` lists what the
sweep would delete. `execute` saves the teardown record, runs `pulumi destroy` and sweeps.
The DigitalOcean calls go through a `SweepApi`, and the Pulumi CLI through
`scripts.destroy`, so that this module holds only the order of the steps and the
decisions between them.
"""

import dataclasses
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from infra.errors import ScimBridgeError
from scripts import destroy, teardownrecord
from scripts.stack import PulumiNotInstalled, StackError, read_outputs
from scripts.sweep import (
    RECORDED_OUTPUTS,
    AssociatedResources,
    Inventory,
    PlanEntry,
    StackRecord,
    SweepPlan,
    plan_sweep,
)
from scripts.sweeprun import Outcome, RetryPolicy, Status, run_deletions

logger = logging.getLogger(__name__)

# Waits between retries. Tests replace it so that they never sleep.
_pause = time.sleep

_STACK_GONE_NOTE = "the stack does not exist, so there is nothing to destroy"


class ClusterUnreachable(ScimBridgeError, ConnectionError):
    """The cluster exists but its Kubernetes API does not respond, so destroying is unsafe."""


class ClusterNotOwned(ScimBridgeError):
    """The recorded cluster id names a cluster without the stack's tag: another stack's."""


@dataclass(frozen=True)
class ClusterState:
    """Whether the stack's cluster still exists, and where its Kubernetes API listens."""

    exists: bool
    endpoint: str | None = None
    state: str | None = None
    tags: tuple[str, ...] = ()


class SweepApi(Protocol):
    """The DigitalOcean calls that teardown makes."""

    def cluster(self, cluster_id: str) -> ClusterState:
        """Return the cluster's state. A cluster that is not found does not exist."""
        ...

    def associated_resources(self, cluster_id: str) -> AssociatedResources:
        """Return what DigitalOcean lists as the cluster's associated resources."""
        ...

    def inventory(self, record: StackRecord, *, cluster_exists: bool) -> Inventory:
        """List the account's resources that the planner looks at for this stack."""
        ...

    def delete(self, entry: PlanEntry) -> None:
        """Delete one resource; raise AlreadyGone on 404 and DeleteFailed otherwise."""
        ...


@dataclass(frozen=True)
class Preparation:
    """The state that teardown reads before it changes anything.

    `outputs` contains only the outputs the sweep uses (never a secret one): the stack's
    current outputs over those saved in the teardown record. `stack_error` is the reason
    the stack could not be read. `stack_gone` is true when that reason is that the stack
    does not exist.
    """

    record: StackRecord
    outputs: dict
    cluster: ClusterState | None
    stack_error: str | None = None
    stack_gone: bool = False

    @property
    def delete_unreachable(self) -> bool:
        """True when the recorded cluster is gone, so its Kubernetes objects cannot be reached."""
        return self.cluster is not None and not self.cluster.exists

    @property
    def run_program(self) -> bool:
        """True when the cluster exists, so the program can fetch fresh credentials for it."""
        return self.cluster is not None and self.cluster.exists


@dataclass(frozen=True)
class DestroyStep:
    """The outcome of `pulumi destroy`: ran (with its exit code), or skipped and why."""

    ran: bool
    exit_code: int | None = None
    delete_unreachable: bool = False
    run_program: bool = False
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.ran or self.exit_code == 0


@dataclass(frozen=True)
class TeardownReport:
    """The result of a teardown, or of a dry run when `outcomes` is empty and `dry_run` set."""

    stack: str
    dry_run: bool
    preparation: Preparation
    plan: SweepPlan
    destroy: DestroyStep
    outcomes: tuple[Outcome, ...] = ()
    record_kept: bool = False

    @property
    def failures(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status in (Status.FAILED, Status.SKIPPED))

    @property
    def ok(self) -> bool:
        """True when nothing failed and nothing owned is left for a later run."""
        if self.dry_run:
            return True
        return self.destroy.ok and not self.failures and not self.plan.pending


def prepare(stack: str, api: SweepApi, *, probe_timeout: float = 5.0) -> Preparation:
    """Read the stack's outputs, the teardown record and the cluster's state. Change nothing.

    :raises ClusterUnreachable: when the cluster exists but its API does not respond.
    :raises PulumiNotInstalled: when the Pulumi CLI is missing.
    :raises RecordUnreadable: when a teardown record exists but cannot be read.
    """
    stack_error = None
    live_outputs: dict = {}
    try:
        live_outputs = read_outputs(stack)
    except PulumiNotInstalled:
        raise
    except StackError as error:
        stack_error = str(error)
        logger.warning("%s", error)

    saved_outputs: dict = {}
    associated = AssociatedResources()
    saved = teardownrecord.load_record(stack)
    if saved is not None:
        saved_outputs, associated = saved

    outputs = {**saved_outputs}
    outputs.update({key: live_outputs[key] for key in RECORDED_OUTPUTS if key in live_outputs})
    record = StackRecord.from_outputs(stack, outputs, associated)

    cluster = None
    if record.cluster_id:
        cluster = api.cluster(record.cluster_id)
        if cluster.exists:
            _require_owned(record, cluster)
            _require_reachable(record, cluster, probe_timeout)
            listed = api.associated_resources(record.cluster_id)
            record = StackRecord.from_outputs(stack, outputs, associated.merged(listed))

    return Preparation(
        record=record,
        outputs=outputs,
        cluster=cluster,
        stack_error=stack_error,
        # The Pulumi CLI's error for a stack that does not exist contains this text.
        stack_gone=stack_error is not None and "no stack named" in stack_error,
    )


def plan(preparation: Preparation, api: SweepApi) -> SweepPlan:
    """List the account's resources and plan the sweep as it would run after the destroy.

    The stack's cluster is a resource of the stack, so the plan assumes that `pulumi
    destroy` deletes it, unless the stack is gone and no destroy runs. When the destroy
    fails, the real sweep keeps what only the cluster proves, and reports it.
    """
    cluster_exists = preparation.cluster is not None and preparation.cluster.exists
    if not preparation.stack_gone:
        cluster_exists = False
    inventory = api.inventory(preparation.record, cluster_exists=cluster_exists)
    return plan_sweep(preparation.record, inventory)


def dry_run(stack: str, api: SweepApi) -> TeardownReport:
    """Return what teardown would do for `stack`, deleting nothing."""
    preparation = prepare(stack, api)
    return TeardownReport(
        stack=stack,
        dry_run=True,
        preparation=preparation,
        plan=plan(preparation, api),
        destroy=_destroy_step_preview(preparation),
    )


def execute(
    preparation: Preparation,
    api: SweepApi,
    *,
    echo: Callable[[str], None],
    policy: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so a shared default is safe
    sleep: Callable[[float], None] | None = None,
) -> TeardownReport:
    """Save the teardown record, run `pulumi destroy`, then sweep what the stack still owns.

    The sweep runs even when the destroy fails or the stack is gone, from the recorded
    outputs and the tags. The teardown record is removed once nothing failed and nothing
    owned remains, so the next run starts clean.
    """
    record = preparation.record
    teardownrecord.save_record(record, preparation.outputs)

    destroy_step = _run_destroy(preparation, echo)

    cluster_exists = False
    if record.cluster_id:
        cluster_exists = api.cluster(record.cluster_id).exists
    inventory = api.inventory(record, cluster_exists=cluster_exists)
    sweep_plan = plan_sweep(record, inventory)

    outcomes = run_deletions(
        sweep_plan.deletions,
        api.delete,
        policy=policy,
        sleep=sleep or (lambda seconds: _pause(seconds)),
    )

    report = TeardownReport(
        stack=record.stack,
        dry_run=False,
        preparation=preparation,
        plan=sweep_plan,
        destroy=destroy_step,
        outcomes=tuple(outcomes),
    )
    if report.ok:
        teardownrecord.remove_record(record.stack)
        return report
    return dataclasses.replace(report, record_kept=True)


def _destroy_step_preview(preparation: Preparation) -> DestroyStep:
    if preparation.stack_gone:
        return DestroyStep(ran=False, note=_STACK_GONE_NOTE)
    return DestroyStep(
        ran=False,
        delete_unreachable=preparation.delete_unreachable,
        run_program=preparation.run_program,
    )


def _run_destroy(preparation: Preparation, echo: Callable[[str], None]) -> DestroyStep:
    stack = preparation.record.stack
    if preparation.stack_gone:
        return DestroyStep(ran=False, note=_STACK_GONE_NOTE)

    result = destroy.run_destroy(
        stack,
        delete_unreachable=preparation.delete_unreachable,
        run_program=preparation.run_program,
        echo=echo,
    )
    note = "" if result.ok else f"{result.failed_step} failed with exit code {result.exit_code}"
    return DestroyStep(
        ran=True,
        exit_code=result.exit_code,
        delete_unreachable=result.delete_unreachable,
        run_program=result.run_program,
        note=note,
    )


def _require_owned(record: StackRecord, cluster: ClusterState) -> None:
    """Raise ClusterNotOwned unless the live cluster carries the stack's tag.

    The cluster's `k8s:<id>` tag proves ownership of load balancers and volumes, so a
    recorded id that names another stack's cluster would let the sweep delete its resources.
    """
    if record.stack_tag in cluster.tags:
        return
    raise ClusterNotOwned(
        f"teardown: the recorded cluster {record.cluster_id} exists but does not carry the "
        f"stack's tag {record.stack_tag} (its tags: {', '.join(cluster.tags) or 'none'}), so "
        "it may belong to another stack. Nothing was deleted. Check the stack's clusterId "
        "output against the cluster in DigitalOcean."
    )


def _require_reachable(record: StackRecord, cluster: ClusterState, timeout: float) -> None:
    """Raise ClusterUnreachable unless the cluster's API endpoint accepts a connection.

    Dropping objects from the state is allowed only for a deleted cluster. A cluster that
    exists but does not respond would make `pulumi destroy` fail, or, with objects dropped,
    leave them running untracked. So teardown stops before it changes anything.
    """
    problem = probe_endpoint(cluster.endpoint, timeout) if cluster.endpoint else "no endpoint"
    if problem is None:
        return
    raise ClusterUnreachable(
        f"teardown: cluster {record.cluster_name or ''} ({record.cluster_id}) still exists "
        f"(state {cluster.state or 'unknown'}), but its Kubernetes API "
        f"{cluster.endpoint or ''} does not respond: {problem}. Nothing was deleted. Wait "
        "until the cluster is running, or delete it in DigitalOcean first; teardown then "
        "drops its objects from the state."
    )


def probe_endpoint(endpoint: str, timeout: float) -> str | None:
    """Open a TCP connection to the host and port of `endpoint`, and return the error or None.

    A connection proves that something listens there. No request is sent, so no
    credential is needed and none can leak.
    """
    parts = urlsplit(endpoint)
    if not parts.hostname:
        return f"endpoint {endpoint!r} has no host"
    port = parts.port or (80 if parts.scheme == "http" else 443)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return None
    except OSError as error:
        return str(error) or type(error).__name__
