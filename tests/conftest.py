pytest_plugins = ["tests.pulumi_standin"]
