"""Run `pulumi destroy` for a stack through the Pulumi CLI, streaming its progress.

The stack's protections are lifted first: the program protects the cluster, and a
protected resource stops the destroy.
"""

import logging
import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from scripts.stack import PROJECT_DIR, pulumi_executable, validate_stack_name

logger = logging.getLogger(__name__)

# Read by the Kubernetes provider of pulumi-kubernetes (its provider argument
# `deleteUnreachable`): when set, resources of a cluster that cannot be reached are
# removed from the state instead of failing the destroy.
DELETE_UNREACHABLE_ENV = "PULUMI_K8S_DELETE_UNREACHABLE"


@dataclass(frozen=True)
class DestroyResult:
    """The exit code of the last Pulumi command run, and how `pulumi destroy` was run.

    `delete_unreachable` records whether the Kubernetes provider was allowed to drop the
    objects of an unreachable cluster; `run_program` whether the program ran to fetch fresh
    cluster credentials; `failed_step` names the command that failed, if one did.
    """

    exit_code: int
    delete_unreachable: bool
    run_program: bool = False
    failed_step: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def unprotect_arguments(stack: str) -> list[str]:
    """Return the arguments after `pulumi` that lift the protection of every resource of `stack`.

    The program protects the cluster against an accidental replacement, and `pulumi destroy`
    refuses to delete a protected resource. Teardown is the confirmed intent to delete it.
    """
    return ["state", "unprotect", "--all", "--yes", "--stack", stack]


def destroy_arguments(stack: str, *, run_program: bool = False) -> list[str]:
    """Return the arguments after `pulumi` that destroy `stack` without asking.

    With `run_program`, Pulumi runs the program first, which fetches fresh cluster
    credentials: the ones stored in the state expire seven days after the last update.
    """
    arguments = ["destroy", "--stack", stack, "--yes", "--skip-preview", "--non-interactive"]
    if run_program:
        arguments.append("--run-program")
    return arguments


def destroy_commands(stack: str, *, run_program: bool) -> list[list[str]]:
    """Return the Pulumi commands that teardown runs, in order, each without `pulumi`."""
    return [unprotect_arguments(stack), destroy_arguments(stack, run_program=run_program)]


def run_destroy(
    stack: str,
    *,
    delete_unreachable: bool,
    echo: Callable[[str], None],
    run_program: bool = False,
    extra_env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> DestroyResult:
    """Lift the stack's protections, run `pulumi destroy`, and pass each output line to `echo`.

    With `delete_unreachable`, the Kubernetes provider drops the objects of an unreachable
    cluster from the state for this run only. Use it only when the cluster is known to be
    deleted: on a live cluster it would lose track of objects that still exist.
    `run_program` runs the program first for fresh cluster credentials; it needs the cluster
    to exist, since the program looks it up. `extra_env` is added to the environment of the
    child processes, which run in the project directory unless `cwd` is given. When lifting
    the protections fails, the destroy is not run.

    :raises InvalidInput: when `stack` is not a stack name.
    :raises PulumiNotInstalled: when the CLI is not on PATH.
    """
    validate_stack_name(stack)
    executable = pulumi_executable()
    env = {**os.environ, **(extra_env or {})}
    # Never inherit the setting from the caller's shell: on a live cluster it would drop
    # objects from the state that still exist.
    env.pop(DELETE_UNREACHABLE_ENV, None)
    if delete_unreachable:
        env[DELETE_UNREACHABLE_ENV] = "true"

    for arguments in destroy_commands(stack, run_program=run_program):
        exit_code = _stream([executable, *arguments], env, cwd or PROJECT_DIR, echo)
        if exit_code != 0:
            return DestroyResult(
                exit_code=exit_code,
                delete_unreachable=delete_unreachable,
                run_program=run_program,
                failed_step=_command_name(arguments),
            )
    return DestroyResult(0, delete_unreachable=delete_unreachable, run_program=run_program)


def _command_name(arguments: list[str]) -> str:
    """Return the command without its flags: `pulumi destroy`, `pulumi state unprotect`."""
    words = []
    for argument in arguments:
        if argument.startswith("-"):
            break
        words.append(argument)
    return " ".join(["pulumi", *words])


def _stream(
    command: list[str], env: Mapping[str, str], cwd: Path, echo: Callable[[str], None]
) -> int:
    logger.info("running pulumi %s", " ".join(command[1:]))
    # The arguments are a fixed list plus the stack name, never a shell string.
    with subprocess.Popen(  # noqa: S603
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            echo(line.rstrip("\n"))
    return process.returncode
