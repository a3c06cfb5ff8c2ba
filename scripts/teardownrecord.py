"""The teardown record: what a stack owned, saved before the destroy for later runs.

After `pulumi destroy` the stack's outputs are empty, and after the cluster is deleted
DigitalOcean no longer lists its associated resources. A teardown that fails halfway would
then forget what to sweep. So teardown saves the non-secret outputs it uses and the
cluster's associated resources to a JSON file before destroying, reads it on the next run,
and removes it once the teardown is complete.

The file lives in `$XDG_STATE_HOME/scim-bridge/teardown/` (by default
`~/.local/state/scim-bridge/teardown/`), one file per stack.
"""

import json
import logging
import os
import re
from pathlib import Path

from infra.errors import ScimBridgeError
from scripts.sweep import RECORDED_OUTPUTS, AssociatedResources, StackRecord

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


class RecordUnreadable(ScimBridgeError, ValueError):
    """The teardown record exists but cannot be read."""


def record_path(stack: str) -> Path:
    """Return the path of the teardown record of `stack`."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    # A fully qualified stack name (org/project/stack) becomes one file name.
    file_name = re.sub(r"[^A-Za-z0-9_.-]", "_", stack) + ".json"
    return Path(state_home) / "scim-bridge" / "teardown" / file_name


def load_record(stack: str) -> tuple[dict, AssociatedResources] | None:
    """Return the saved outputs and associated resources of `stack`, or None when none are saved.

    :raises RecordUnreadable: when the file exists but is not a record written by teardown.
    """
    path = record_path(stack)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise RecordUnreadable(
            f"teardown: cannot read the teardown record {path}: {error}; move it away to "
            "sweep from the stack's current outputs only"
        ) from error

    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        raise RecordUnreadable(
            f"teardown: {path} is not a teardown record of version {FORMAT_VERSION}; move it "
            "away to sweep from the stack's current outputs only"
        )
    outputs = {
        key: value
        for key, value in (document.get("outputs") or {}).items()
        if key in RECORDED_OUTPUTS
    }
    associated = AssociatedResources.from_api(document.get("associated") or {})
    return outputs, associated


def save_record(record: StackRecord, outputs: dict) -> Path:
    """Save the known outputs of the stack and its associated resources, and return the path.

    Only the outputs named in RECORDED_OUTPUTS are written, so secret outputs never are.
    """
    path = record_path(record.stack)
    document = {
        "version": FORMAT_VERSION,
        "stack": record.stack,
        "outputs": {key: outputs[key] for key in RECORDED_OUTPUTS if key in outputs},
        "associated": record.associated.to_api(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
    logger.info("saved the teardown record of stack %s to %s", record.stack, path)
    return path


def remove_record(stack: str) -> None:
    """Remove the teardown record of `stack`, if there is one."""
    record_path(stack).unlink(missing_ok=True)
