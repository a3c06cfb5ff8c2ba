"""Run `pulumi destroy` for a stack through the Pulumi CLI, streaming its progress."""

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
    """The exit code of `pulumi destroy`, and whether unreachable Kubernetes objects were dropped.

    `delete_unreachable` records whether the provider was allowed to drop them.
    """

    exit_code: int
    delete_unreachable: bool

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def destroy_arguments(stack: str) -> list[str]:
    """Return the arguments after `pulumi` that destroy `stack` without asking."""
    return ["destroy", "--stack", stack, "--yes", "--skip-preview", "--non-interactive"]


def run_destroy(
    stack: str,
    *,
    delete_unreachable: bool,
    echo: Callable[[str], None],
    extra_env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> DestroyResult:
    """Run `pulumi destroy` for `stack` and pass each line of its output to `echo`.

    With `delete_unreachable`, the Kubernetes provider drops the objects of an unreachable
    cluster from the state for this run only. Use it only when the cluster is known to be
    deleted: on a live cluster it would lose track of objects that still exist.
    `extra_env` is added to the environment of the child process, which runs in the
    project directory unless `cwd` is given.

    :raises InvalidInput: when `stack` is not a stack name.
    :raises PulumiNotInstalled: when the CLI is not on PATH.
    """
    validate_stack_name(stack)
    command = [pulumi_executable(), *destroy_arguments(stack)]
    env = {**os.environ, **(extra_env or {})}
    # Never inherit the setting from the caller's shell: on a live cluster it would drop
    # objects from the state that still exist.
    env.pop(DELETE_UNREACHABLE_ENV, None)
    if delete_unreachable:
        env[DELETE_UNREACHABLE_ENV] = "true"

    logger.info("running pulumi %s", " ".join(command[1:]))
    # The arguments are a fixed list plus the stack name, never a shell string.
    with subprocess.Popen(  # noqa: S603
        command,
        cwd=cwd or PROJECT_DIR,
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
    return DestroyResult(exit_code=process.returncode, delete_unreachable=delete_unreachable)
