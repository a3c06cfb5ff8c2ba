"""The root `scim-bridge` command: help text and exit codes."""

from typer.testing import CliRunner

from scripts.cli import app

runner = CliRunner()


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    for command in ("plan", "dns", "verify", "preflight", "teardown"):
        assert command in result.output


def test_help_documents_exit_codes():
    result = runner.invoke(app, ["--help"])

    assert "2 bad input" in result.output
