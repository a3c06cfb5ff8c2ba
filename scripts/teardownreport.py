"""Render a teardown report: one line per resource with the reason, or one JSON document.

Neither form contains a secret: the report holds only the outputs the sweep uses, and
resource ids, names, addresses and API error messages.
"""

import json

from scripts.destroy import destroy_commands
from scripts.servertext import escape_controls
from scripts.sweep import Action, PlanEntry
from scripts.sweeprun import Outcome, Status
from scripts.teardownflow import TeardownReport


def render_text(report: TeardownReport) -> str:
    """Render the report as lines: what ran, each resource with its status and reason, a summary."""
    lines = [_heading(report)]
    lines += _cluster_lines(report)
    lines += _destroy_lines(report)

    if report.dry_run:
        for entry in report.plan.entries:
            verb = "would delete" if entry.action is Action.DELETE else "would keep"
            lines.append(_entry_line(verb, entry, entry.reason))
        if not report.plan.entries:
            lines.append("nothing to sweep: no resource carries a mark of this stack")
        return "\n".join(lines)

    for outcome in report.outcomes:
        detail = outcome.entry.reason
        if outcome.status is Status.FAILED:
            detail = outcome.detail
            if outcome.attempts > 1:
                detail = f"{outcome.detail} (after {outcome.attempts} attempts)"
        elif outcome.status is Status.SKIPPED:
            detail = outcome.detail
        lines.append(_entry_line(outcome.status.value, outcome.entry, detail))
    for entry in report.plan.kept:
        lines.append(_entry_line("kept", entry, entry.reason))
    lines.append(_summary(report))
    return "\n".join(lines)


def render_json(report: TeardownReport) -> str:
    """Render the report as one JSON document with `ok`, the destroy step and every resource."""
    preparation = report.preparation
    cluster = preparation.cluster
    document = {
        "ok": report.ok,
        "stack": report.stack,
        "dry_run": report.dry_run,
        "stack_error": preparation.stack_error,
        "notes": list(preparation.record.notes),
        "cluster": {
            "id": preparation.record.cluster_id,
            "name": preparation.record.cluster_name,
            "exists": None if cluster is None else cluster.exists,
        },
        "destroy": {
            "commands": [["pulumi", *arguments] for arguments in _commands(report)],
            "ran": report.destroy.ran,
            "exit_code": report.destroy.exit_code,
            "delete_unreachable": report.destroy.delete_unreachable,
            "note": report.destroy.note,
        },
        "resources": _resources(report),
        "record_kept": report.record_kept,
    }
    return json.dumps(document, indent=2)


def _resources(report: TeardownReport) -> list[dict]:
    outcomes = {(o.entry.kind, o.entry.id): o for o in report.outcomes}
    resources = []
    for entry in report.plan.entries:
        item = {
            "kind": entry.kind.value,
            "id": entry.id,
            "name": entry.name,
            "parent": entry.parent,
            "action": entry.action.value,
            "reason": entry.reason,
            "pending": entry.pending,
        }
        outcome: Outcome | None = outcomes.get((entry.kind, entry.id))
        if outcome is not None:
            item |= {
                "status": outcome.status.value,
                "attempts": outcome.attempts,
                "detail": outcome.detail,
            }
        elif not report.dry_run:
            item["status"] = "kept"
        resources.append(item)
    return resources


def _heading(report: TeardownReport) -> str:
    if report.dry_run:
        return f"teardown of stack {report.stack}: dry run, nothing is deleted"
    return f"teardown of stack {report.stack}"


def _cluster_lines(report: TeardownReport) -> list[str]:
    preparation = report.preparation
    record = preparation.record
    lines = [escape_controls(f"note: {note}") for note in record.notes]
    if preparation.stack_error:
        lines.append(f"stack outputs not read: {preparation.stack_error}")
    if record.cluster_id is None:
        lines.append("no cluster id recorded: the sweep uses the other recorded ids and tags")
    elif preparation.cluster is not None and not preparation.cluster.exists:
        lines.append(
            f"cluster {record.cluster_id} is already deleted: pulumi destroy drops its "
            "Kubernetes objects from the state"
        )
    elif preparation.cluster is not None and report.dry_run and not preparation.stack_gone:
        lines.append(
            f"cluster {record.cluster_id} exists: the plan assumes pulumi destroy deletes it, "
            "and keeps what only the cluster proves if it does not"
        )
    return lines


def _destroy_lines(report: TeardownReport) -> list[str]:
    step = report.destroy
    commands = [" ".join(["pulumi", *arguments]) for arguments in _commands(report)]
    if step.note and not step.ran:
        return [f"{'skipped':<14}{command}: {step.note}" for command in commands]
    if report.dry_run:
        return [f"{'would run':<14}{command}" for command in commands]
    if step.ok:
        return [f"{'ran':<14}{command}" for command in commands]
    return [f"{'failed':<14}{' && '.join(commands)}: {step.note}"]


def _commands(report: TeardownReport) -> list[list[str]]:
    return destroy_commands(report.stack, run_program=report.destroy.run_program)


def _entry_line(verb: str, entry: PlanEntry, detail: str) -> str:
    label = entry.id if entry.name in ("", entry.id) else f"{entry.id} ({entry.name})"
    if entry.parent:
        label = f"{entry.parent}: {label}"
    # Names and reasons quote the account's data, which must not drive the terminal.
    return escape_controls(f"{verb:<14}{entry.kind.value:<16}{label}: {detail}")


def _summary(report: TeardownReport) -> str:
    counts = {status: 0 for status in Status}
    for outcome in report.outcomes:
        counts[outcome.status] += 1
    parts = [f"{counts[status]} {status.value}" for status in Status]
    parts.append(f"{len(report.plan.kept)} kept")
    return "summary: " + ", ".join(parts)
