"""Check results shared by `verify` and `preflight`: one line per check, or one JSON document."""

import enum
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from scripts.servertext import escape_controls


class Status(enum.StrEnum):
    """The outcome of one check. Only `fail` makes the command exit 1."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckResult:
    """One check: its name, outcome, what was found, and the fix in a few words when not ok."""

    name: str
    status: Status
    detail: str
    fix: str = ""


def exit_code(results: Iterable[CheckResult]) -> int:
    """Return 1 when any check failed, else 0."""
    return 1 if any(result.status is Status.FAIL for result in results) else 0


def render_lines(results: Iterable[CheckResult]) -> str:
    """Render one line per check: status, name, detail, and the fix after an arrow."""
    results = list(results)
    width = max((len(result.name) for result in results), default=0)
    lines = []
    for result in results:
        line = f"{result.status.value:<4}  {result.name:<{width}}  {result.detail}"
        if result.fix:
            line += f" -> {result.fix}"
        # Details quote API and server data; a control character there could start a new
        # line or drive the terminal.
        lines.append(escape_controls(line))
    return "\n".join(lines)


def render_json(results: Iterable[CheckResult], **extra: object) -> str:
    """Render the checks as one JSON document: `{"ok": bool, "checks": [...], **extra}`."""
    results = list(results)
    checks = [{**asdict(result), "status": result.status.value} for result in results]
    document = {"ok": exit_code(results) == 0, **extra, "checks": checks}
    return json.dumps(document, indent=2)
