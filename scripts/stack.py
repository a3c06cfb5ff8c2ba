"""Read a Pulumi stack's outputs and configuration through the Pulumi CLI.

The commands that take `--stack NAME` (verify, preflight, teardown) use this, so that
one place knows how to call `pulumi` and how its failures read.
"""

import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

from infra.errors import InvalidInput, ScimBridgeError

log = logging.getLogger(__name__)

# The directory holding Pulumi.yaml: the Pulumi CLI must run there to find the project.
PROJECT_DIR = Path(__file__).resolve().parent.parent

INSTALL_HINT = "install the Pulumi CLI (https://www.pulumi.com/docs/install/) and log in"

# Pulumi stack names, optionally qualified as org/stack or org/project/stack.
_STACK_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.\-]*){0,2}")


class StackError(ScimBridgeError):
    """The Pulumi CLI could not read the stack."""


class PulumiNotInstalled(StackError, FileNotFoundError):
    """The `pulumi` executable is not on PATH."""


def validate_stack_name(stack: str, *, argument: str = "--stack") -> str:
    """Return `stack`, or raise InvalidInput naming `argument` when it is not a stack name."""
    if not _STACK_NAME.fullmatch(stack):
        raise InvalidInput(
            f"{argument}: {stack!r} is not a Pulumi stack name; accepted: letters, digits, "
            "'-', '_' and '.', optionally as org/stack or org/project/stack"
        )
    return stack


def pulumi_executable() -> str:
    """Return the path of the `pulumi` executable.

    :raises PulumiNotInstalled: when it is not on PATH.
    """
    path = shutil.which("pulumi")
    if path is None:
        raise PulumiNotInstalled(f"stack: the pulumi command is not on PATH; {INSTALL_HINT}")
    return path


def run_pulumi(
    args: list[str], *, stack: str, cwd: Path | None = None, step: str
) -> subprocess.CompletedProcess[str]:
    """Run `pulumi ARGS --stack STACK --non-interactive` in the project and capture its output.

    :param step: what the call does, for the error message (e.g. "read the outputs").
    :raises StackError: when pulumi exits non-zero; the message carries pulumi's last
        error line, which contains no secret value.
    """
    validate_stack_name(stack)
    command = [pulumi_executable(), *args, "--stack", stack, "--non-interactive"]
    log.debug("running %s in %s", " ".join(command[1:]), cwd or PROJECT_DIR)
    completed = subprocess.run(  # noqa: S603 - the executable is found on PATH, arguments are ours
        command, cwd=cwd or PROJECT_DIR, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        detail = _last_error_line(completed.stderr) or f"exit code {completed.returncode}"
        raise StackError(f"stack: could not {step} of stack {stack!r}: {detail}")
    return completed


def read_outputs(stack: str, *, cwd: Path | None = None) -> dict:
    """Return the stack's outputs, secrets included, as a dict.

    :raises StackError: when the stack does not exist or pulumi fails.
    """
    completed = run_pulumi(
        ["stack", "output", "--json", "--show-secrets"],
        stack=stack,
        cwd=cwd,
        step="read the outputs",
    )
    return _parse_json_object(completed.stdout, stack, "outputs")


def read_config(stack: str, *, cwd: Path | None = None) -> dict:
    """Return the stack's configuration as `{"namespace:key": value}`, secrets included.

    Structured values (lists, maps) come back as Python objects.

    :raises StackError: when the stack does not exist or pulumi fails.
    """
    completed = run_pulumi(
        ["config", "--json", "--show-secrets"],
        stack=stack,
        cwd=cwd,
        step="read the configuration",
    )
    entries = _parse_json_object(completed.stdout, stack, "configuration")
    config = {}
    for key, entry in entries.items():
        if isinstance(entry, dict) and "objectValue" in entry:
            config[key] = entry["objectValue"]
        elif isinstance(entry, dict):
            config[key] = entry.get("value")
        else:
            config[key] = entry
    return config


def _parse_json_object(text: str, stack: str, what: str) -> dict:
    try:
        document = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        # The text contains secrets: report where it broke, never what it says.
        raise StackError(
            f"stack: pulumi printed {what} of stack {stack!r} that are not JSON "
            f"(line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(document, dict):
        raise StackError(f"stack: pulumi printed {what} of stack {stack!r} that are not a map")
    return document


def _last_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""
