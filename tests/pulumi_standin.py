"""A stand-in `pulumi` executable for tests: records its arguments and plays canned answers.

The `pulumi_standin` fixture writes the executable into a temporary directory and puts
that directory first on PATH. Tests program answers with `respond(prefix, ...)`: the
first answer whose argument prefix matches the call is played. Unmatched calls exit 1.
"""

import json
import os
import stat
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

_SCRIPT = """\
#!{python}
import json, os, sys
state = os.environ["PULUMI_STANDIN_DIR"]
args = sys.argv[1:]
with open(os.path.join(state, "calls.jsonl"), "a") as calls:
    calls.write(json.dumps({{"args": args, "cwd": os.getcwd(),
        "delete_unreachable": os.environ.get("PULUMI_K8S_DELETE_UNREACHABLE")}}) + "\\n")
with open(os.path.join(state, "answers.json")) as answers_file:
    answers = json.load(answers_file)
for answer in answers:
    if args[: len(answer["prefix"])] == answer["prefix"]:
        sys.stdout.write(answer["stdout"])
        sys.stderr.write(answer["stderr"])
        sys.exit(answer["exit_code"])
sys.stderr.write("error: the pulumi stand-in has no answer for: " + " ".join(args) + "\\n")
sys.exit(1)
"""


@dataclass
class PulumiStandIn:
    """The stand-in's state directory, with helpers to program answers and read calls."""

    directory: Path

    def respond(
        self, prefix: list[str], *, stdout: str = "", stderr: str = "", exit_code: int = 0
    ) -> None:
        """Answer calls whose arguments start with `prefix`; earlier answers win."""
        answers_path = self.directory / "answers.json"
        answers = json.loads(answers_path.read_text())
        answers.append(
            {"prefix": prefix, "stdout": stdout, "stderr": stderr, "exit_code": exit_code}
        )
        answers_path.write_text(json.dumps(answers))

    @property
    def calls(self) -> list[dict]:
        """Every call so far: `{"args": [...], "cwd": ..., "delete_unreachable": ...}`."""
        calls_path = self.directory / "calls.jsonl"
        if not calls_path.exists():
            return []
        return [json.loads(line) for line in calls_path.read_text().splitlines()]


@pytest.fixture
def pulumi_standin(tmp_path, monkeypatch) -> PulumiStandIn:
    """Put a recording stand-in `pulumi` first on PATH for the duration of a test."""
    directory = tmp_path / "pulumi-standin"
    bin_directory = directory / "bin"
    bin_directory.mkdir(parents=True)
    (directory / "answers.json").write_text("[]")

    executable = bin_directory / "pulumi"
    executable.write_text(textwrap.dedent(_SCRIPT.format(python=sys.executable)))
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)

    monkeypatch.setenv("PULUMI_STANDIN_DIR", str(directory))
    monkeypatch.setenv("PATH", f"{bin_directory}{os.pathsep}{os.environ.get('PATH', '')}")
    return PulumiStandIn(directory)
