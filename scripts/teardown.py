"""The `scim-bridge teardown` command (not written yet)."""

import typer


def teardown() -> None:
    """Not written yet."""
    typer.echo("scim-bridge teardown is not written yet", err=True)
    raise typer.Exit(code=1)
