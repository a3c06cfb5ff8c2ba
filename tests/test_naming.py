"""Resource names and the stack tag derived from a stack name."""

import pytest

from infra.naming import MAX_RESOURCE_NAME, resource_name, stack_tag


def test_plain_stack_name_is_kept():
    assert resource_name("prod") == "scim-bridge-prod"
    assert stack_tag("prod") == "scim-bridge-stack:scim-bridge-prod"


def test_qualified_stack_name_uses_last_part():
    assert resource_name("acme/scim-bridge/prod") == "scim-bridge-prod"


@pytest.mark.parametrize("pair", [("dev_1", "dev.1"), ("Prod", "prod"), ("dev-1", "dev_1")])
def test_cleaned_names_do_not_collide(pair):
    first, second = pair

    assert resource_name(first) != resource_name(second)


@pytest.mark.parametrize("stack", ["dev_1", "Prod", "x" * 80, "ünïcode"])
def test_cleaned_names_fit_digitalocean(stack):
    name = resource_name(stack)

    assert len(name) <= MAX_RESOURCE_NAME
    assert name.startswith("scim-bridge-")
    assert all(
        character.isascii() and (character.isalnum() or character == "-") for character in name
    )
    assert name == name.lower()
