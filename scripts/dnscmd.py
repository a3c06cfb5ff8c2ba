"""The `scim-bridge dns` commands (not written yet)."""

import typer

app = typer.Typer(
    help="Check and wait for DNS propagation of the bridge's name.", no_args_is_help=True
)


@app.command()
def check() -> None:
    """Not written yet."""
    typer.echo("scim-bridge dns check is not written yet", err=True)
    raise typer.Exit(code=1)
