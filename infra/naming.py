"""Names and tags derived from the stack name, shared by the program and by teardown.

Teardown recomputes the stack's tag from the stack name instead of trusting the stack's
outputs, so both sides must derive it the same way. This module imports nothing heavy.
"""

import hashlib
import re

STACK_TAG_PREFIX = "scim-bridge-stack:"
# Resource names get suffixes such as `-lb` and `-nodes`. 48 characters keep them short
# enough for the 63 characters of a Kubernetes label value, which carries the name.
MAX_RESOURCE_NAME = 48
_HASH_LENGTH = 8


def short_stack_name(stack: str) -> str:
    """Return the stack's own name from `org/project/stack` or `stack`."""
    return stack.rsplit("/", 1)[-1]


def resource_name(stack: str) -> str:
    """Return the prefix of every DigitalOcean resource name of `stack`: `scim-bridge-<stack>`.

    Stack names may contain upper case, `_` and `.`, which DigitalOcean names do not allow.
    When cleaning or shortening changes the name, a hash of the exact name is appended, so
    `dev_1` and `dev.1` do not share a name, or a tag that teardown would trust.
    """
    name = short_stack_name(stack)
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "stack"
    prefix = f"scim-bridge-{cleaned}"
    if cleaned == name and len(prefix) <= MAX_RESOURCE_NAME:
        return prefix
    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_LENGTH]
    head = prefix[: MAX_RESOURCE_NAME - _HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{digest}"


def stack_tag(stack: str) -> str:
    """Return the tag that marks a DigitalOcean resource as belonging to `stack`."""
    return f"{STACK_TAG_PREFIX}{resource_name(stack)}"
