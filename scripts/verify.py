"""The `scim-bridge verify` command (not written yet)."""

import typer


def verify() -> None:
    """Not written yet."""
    typer.echo("scim-bridge verify is not written yet", err=True)
    raise typer.Exit(code=1)
