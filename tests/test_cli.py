"""The root `scim-bridge` command: help text and exit codes."""

import subprocess
import sys

from typer.testing import CliRunner

from scripts.cli import app
from scripts.stack import PROJECT_DIR

runner = CliRunner()


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    for command in ("plan", "dns", "verify", "preflight", "teardown"):
        assert command in result.output


def test_help_documents_exit_codes():
    result = runner.invoke(app, ["--help"])

    assert "2 bad input" in result.output


def test_help_leaves_provider_sdks_unloaded():
    """The Pulumi SDKs take most of a second to import; only the commands that use them do."""
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from scripts.cli import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in "
        "('pulumi', 'pulumi_digitalocean', 'pulumi_kubernetes', 'digitalocean')))\n"
    )

    completed = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_DIR,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
