"""Carry out a sweep plan: delete each entry, retry failures with backoff, and keep going.

The deletion itself is a callable supplied by the caller, so this module makes no API
calls and is tested with plain functions.
"""

import enum
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scripts.sweep import Kind, PlanEntry

logger = logging.getLogger(__name__)


class AlreadyGone(Exception):
    """The resource no longer exists (the API returned 404), so there is nothing to delete."""


class DeleteFailed(Exception):
    """A deletion failed. `retryable` is true for failures that may pass on a later attempt."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Status(enum.StrEnum):
    """The status of one planned deletion."""

    DELETED = "deleted"
    ALREADY_GONE = "already gone"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    """The outcome of one planned deletion: its status, the attempts made and the last error."""

    entry: PlanEntry
    status: Status
    attempts: int
    detail: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed deletion is retried.

    The delay before attempt n+1 is `initial_delay * 2**(n-1)` seconds, capped at
    `max_delay`.
    """

    max_attempts: int = 4
    initial_delay: float = 1.0
    max_delay: float = 30.0

    def delay_after(self, attempt: int) -> float:
        return min(self.initial_delay * 2 ** (attempt - 1), self.max_delay)


def run_deletions(
    entries: Iterable[PlanEntry],
    delete: Callable[[PlanEntry], None],
    *,
    policy: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so a shared default is safe
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Delete each entry in order and return one outcome per entry.

    `delete` raises AlreadyGone when the resource is gone (that counts as done) and
    DeleteFailed otherwise. A retryable failure is retried up to the policy's attempts.
    A failure never stops the sweep. Tags are deleted only when every earlier deletion
    succeeded: deleting a tag removes it from the resources still carrying it, and a
    later run could no longer find those resources by the tag.
    """
    outcomes = []
    for entry in entries:
        if entry.kind is Kind.TAG and any(o.status is Status.FAILED for o in outcomes):
            detail = "not deleted because an earlier deletion failed; run teardown again"
            outcomes.append(Outcome(entry, Status.SKIPPED, 0, detail))
            continue
        outcomes.append(_delete_with_retries(entry, delete, policy, sleep))
    return outcomes


def _delete_with_retries(
    entry: PlanEntry,
    delete: Callable[[PlanEntry], None],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> Outcome:
    attempt = 0
    while True:
        attempt += 1
        try:
            delete(entry)
        except AlreadyGone:
            logger.info("%s %s was already gone", entry.kind.value, entry.id)
            return Outcome(entry, Status.ALREADY_GONE, attempt)
        except DeleteFailed as error:
            if not error.retryable or attempt >= policy.max_attempts:
                logger.warning(
                    "deleting %s %s failed after %d attempt(s): %s",
                    entry.kind.value,
                    entry.id,
                    attempt,
                    error,
                )
                return Outcome(entry, Status.FAILED, attempt, str(error))

            delay = policy.delay_after(attempt)
            logger.warning(
                "deleting %s %s failed (attempt %d of %d), retrying in %.1f s: %s",
                entry.kind.value,
                entry.id,
                attempt,
                policy.max_attempts,
                delay,
                error,
            )
            sleep(delay)
        else:
            logger.info("deleted %s %s", entry.kind.value, entry.id)
            return Outcome(entry, Status.DELETED, attempt)
