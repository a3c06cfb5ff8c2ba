"""The `scim-bridge preflight` command (not written yet)."""

import typer


def preflight() -> None:
    """Not written yet."""
    typer.echo("scim-bridge preflight is not written yet", err=True)
    raise typer.Exit(code=1)
