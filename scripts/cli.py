"""The `scim-bridge` command: one sub-command or sub-app per area, each in its own module.

Exit codes, for every command: 0 success, 1 a check or operation failed, 2 bad input
(nothing was created, changed or deleted).

Heavy packages (pulumi, the provider SDKs, python-digitalocean, dnspython, rich) are
imported inside the commands that use them, so `scim-bridge --help` stays fast.
"""

import typer
from typer.core import TyperGroup

from infra.errors import ScimBridgeError
from scripts import dnscmd, plan, preflight, teardown, verify

EXIT_CODES_HELP = "Exit codes: 0 success, 1 a check or operation failed, 2 bad input."


class _ErrorReportingGroup(TyperGroup):
    """The root command group, which turns a ScimBridgeError into a message and its exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ScimBridgeError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=error.exit_code) from None


app = typer.Typer(
    name="scim-bridge",
    cls=_ErrorReportingGroup,
    help="Deploy, check and tear down the 1Password SCIM Bridge on DigitalOcean.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command(name="plan", epilog=EXIT_CODES_HELP)(plan.plan)
app.add_typer(dnscmd.app, name="dns")
app.command(name="verify", epilog=EXIT_CODES_HELP)(verify.verify)
app.command(name="preflight", epilog=EXIT_CODES_HELP)(preflight.preflight)
app.command(name="teardown", epilog=EXIT_CODES_HELP)(teardown.teardown)


def main() -> None:
    """Run the `scim-bridge` command line."""
    app()
