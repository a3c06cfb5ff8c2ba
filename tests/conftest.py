pytest_plugins = ["tests.pulumi_standin", "tests.dns_fixtures", "tests.fakes.fixtures"]

import pytest  # noqa: E402

from scripts.simulation import (  # noqa: E402
    DEFAULT_CONFIG,
    SimulatedDigitalOcean,
    load_stack_config,
    simulate,
)


class ProgramMocks(SimulatedDigitalOcean):
    """The simulated DigitalOcean, with results replaced per type token for one test.

    `resources` maps a resource type token to `handler(args, id, seed) -> (id, state)`;
    `calls` maps a function token to `handler(args) -> result`.
    """

    def __init__(self, resources=None, calls=None):
        self.resource_handlers = {**SimulatedDigitalOcean.resource_handlers, **(resources or {})}
        self.call_handlers = {**SimulatedDigitalOcean.call_handlers, **(calls or {})}


@pytest.fixture
def run_program():
    """Return `run(settings, remove=(), mocks=None)`, which simulates the example stack.

    `settings` overrides keys of examples/Pulumi.example.yaml (names without the
    namespace); `remove` drops keys so their defaults apply.
    """

    def run(settings=None, *, remove=(), mocks=None, stack="test"):
        config, secret_keys = load_stack_config(DEFAULT_CONFIG)
        for key in remove:
            config.pop(f"scim-bridge:{key}", None)
        for key, value in (settings or {}).items():
            config[f"scim-bridge:{key}"] = value
        return simulate(config, secret_keys, stack=stack, mocks=mocks)

    return run
