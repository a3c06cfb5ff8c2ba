"""The `scim-bridge plan` command (not written yet)."""

import typer


def plan() -> None:
    """Not written yet."""
    typer.echo("scim-bridge plan is not written yet", err=True)
    raise typer.Exit(code=1)
