"""The sweep runner: retries with backoff, keeps going after a failure, tags last."""

from scripts.sweep import Action, Kind, PlanEntry
from scripts.sweeprun import AlreadyGone, DeleteFailed, RetryPolicy, Status, run_deletions


def entry(kind, id):
    return PlanEntry(kind, id, id, Action.DELETE, "test")


class ScriptedDelete:
    """A delete callable that raises the scripted errors per id, in order, then succeeds."""

    def __init__(self, script):
        self.script = {key: list(errors) for key, errors in script.items()}
        self.calls = []

    def __call__(self, planned):
        self.calls.append(planned.id)
        errors = self.script.get(planned.id, [])
        if errors:
            raise errors.pop(0)


def test_retryable_failure_is_retried_with_backoff():
    delays = []
    delete = ScriptedDelete({"lb": [DeleteFailed("500", retryable=True)] * 2})

    outcomes = run_deletions(
        [entry(Kind.LOAD_BALANCER, "lb")],
        delete,
        policy=RetryPolicy(max_attempts=4, initial_delay=0.5),
        sleep=delays.append,
    )

    assert outcomes[0].status is Status.DELETED
    assert outcomes[0].attempts == 3
    assert delays == [0.5, 1.0]


def test_backoff_is_capped():
    policy = RetryPolicy(initial_delay=1.0, max_delay=5.0)

    assert [policy.delay_after(attempt) for attempt in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]


def test_failure_does_not_stop_the_sweep():
    delete = ScriptedDelete({"vol-1": [DeleteFailed("500", retryable=True)] * 10})

    outcomes = run_deletions(
        [entry(Kind.LOAD_BALANCER, "lb"), entry(Kind.VOLUME, "vol-1"), entry(Kind.VOLUME, "vol-2")],
        delete,
        policy=RetryPolicy(max_attempts=3),
        sleep=lambda seconds: None,
    )

    assert [outcome.status for outcome in outcomes] == [
        Status.DELETED,
        Status.FAILED,
        Status.DELETED,
    ]
    assert outcomes[1].attempts == 3
    assert outcomes[1].detail == "500"


def test_non_retryable_failure_is_not_retried():
    delete = ScriptedDelete({"cert": [DeleteFailed("403 forbidden", retryable=False)]})

    outcomes = run_deletions([entry(Kind.CERTIFICATE, "cert")], delete, sleep=lambda s: None)

    assert outcomes[0].status is Status.FAILED
    assert delete.calls == ["cert"]


def test_already_gone_counts_as_done():
    delete = ScriptedDelete({"rec": [AlreadyGone()]})

    outcomes = run_deletions([entry(Kind.DOMAIN_RECORD, "rec")], delete, sleep=lambda s: None)

    assert outcomes[0].status is Status.ALREADY_GONE


def test_tag_skipped_after_a_failure():
    delete = ScriptedDelete({"vol": [DeleteFailed("500", retryable=False)]})

    outcomes = run_deletions(
        [entry(Kind.VOLUME, "vol"), entry(Kind.TAG, "scim-bridge-prod")],
        delete,
        sleep=lambda s: None,
    )

    assert outcomes[1].status is Status.SKIPPED
    assert "scim-bridge-prod" not in delete.calls


def test_tag_deleted_when_all_else_succeeded():
    delete = ScriptedDelete({})

    outcomes = run_deletions(
        [entry(Kind.VOLUME, "vol"), entry(Kind.TAG, "scim-bridge-prod")],
        delete,
        sleep=lambda s: None,
    )

    assert [outcome.status for outcome in outcomes] == [Status.DELETED, Status.DELETED]
