pytest_plugins = ["tests.pulumi_standin", "tests.fakes.fixtures"]
