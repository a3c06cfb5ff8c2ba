pytest_plugins = ["tests.pulumi_standin", "tests.dns_fixtures"]
