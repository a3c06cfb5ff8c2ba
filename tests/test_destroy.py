"""Running `pulumi destroy` through the stand-in executable."""

import pytest

from infra.errors import InvalidInput
from scripts.destroy import run_destroy
from scripts.stack import PROJECT_DIR, PulumiNotInstalled


def test_destroy_passes_stack_and_streams_output(pulumi_standin):
    pulumi_standin.respond(["state", "unprotect"])
    pulumi_standin.respond(["destroy"], stdout="Destroying (prod)\n - 12 deleted\n")
    lines = []

    result = run_destroy("prod", delete_unreachable=False, echo=lines.append)

    assert result.ok
    assert lines == ["Destroying (prod)", " - 12 deleted"]
    unprotect, destroy = pulumi_standin.calls
    assert unprotect["args"] == ["state", "unprotect", "--all", "--yes", "--stack", "prod"]
    assert destroy["args"] == [
        "destroy",
        "--stack",
        "prod",
        "--yes",
        "--skip-preview",
        "--non-interactive",
    ]
    assert destroy["cwd"] == str(PROJECT_DIR)
    assert destroy["delete_unreachable"] is None


def test_destroy_runs_the_program_for_fresh_credentials(pulumi_standin):
    pulumi_standin.respond(["state", "unprotect"])
    pulumi_standin.respond(["destroy"])

    result = run_destroy("prod", delete_unreachable=False, run_program=True, echo=print)

    assert result.ok
    assert result.run_program
    assert pulumi_standin.calls[-1]["args"][-1] == "--run-program"


def test_failed_unprotect_stops_before_destroy(pulumi_standin):
    pulumi_standin.respond(["state", "unprotect"], stderr="error: no stack\n", exit_code=255)
    pulumi_standin.respond(["destroy"])
    lines = []

    result = run_destroy("prod", delete_unreachable=False, echo=lines.append)

    assert not result.ok
    assert result.failed_step == "pulumi state unprotect"
    assert lines == ["error: no stack"]
    assert [call["args"][0] for call in pulumi_standin.calls] == ["state"]


def test_destroy_sets_delete_unreachable_for_this_run(pulumi_standin):
    pulumi_standin.respond(["state", "unprotect"])
    pulumi_standin.respond(["destroy"])

    result = run_destroy("prod", delete_unreachable=True, echo=lambda line: None)

    assert result.delete_unreachable
    assert pulumi_standin.calls[-1]["delete_unreachable"] == "true"


def test_destroy_ignores_delete_unreachable_from_the_shell(pulumi_standin, monkeypatch):
    monkeypatch.setenv("PULUMI_K8S_DELETE_UNREACHABLE", "true")
    pulumi_standin.respond(["state", "unprotect"])
    pulumi_standin.respond(["destroy"])

    run_destroy("prod", delete_unreachable=False, echo=lambda line: None)

    assert pulumi_standin.calls[-1]["delete_unreachable"] is None


def test_destroy_failure_returns_exit_code_and_error_lines(pulumi_standin):
    pulumi_standin.respond(["state", "unprotect"])
    pulumi_standin.respond(["destroy"], stderr="error: update failed\n", exit_code=255)
    lines = []

    result = run_destroy("prod", delete_unreachable=False, echo=lines.append)

    assert result.exit_code == 255
    assert not result.ok
    assert lines == ["error: update failed"]


def test_destroy_rejects_bad_stack_name(pulumi_standin):
    with pytest.raises(InvalidInput):
        run_destroy("prod; rm -rf /", delete_unreachable=False, echo=print)

    assert pulumi_standin.calls == []


def test_destroy_without_pulumi_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(PulumiNotInstalled):
        run_destroy("prod", delete_unreachable=False, echo=print)
