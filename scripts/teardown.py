"""The `scim-bridge teardown` command: destroy a stack, then sweep what DigitalOcean left."""

import sys
from typing import Annotated

import typer

from infra.errors import InvalidInput
from scripts.stack import validate_stack_name


def teardown(
    stack: Annotated[str, typer.Option("--stack", help="The Pulumi stack to tear down.")],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="List what would be destroyed and deleted, and why, and delete nothing. "
            "This is also what happens without --yes unless the stack name is typed at the "
            "prompt.",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Destroy and delete without asking for confirmation.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON document.")
    ] = False,
    token: Annotated[
        str,
        typer.Option(
            "--token",
            envvar=["DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"],
            show_envvar=True,
            show_default=False,
            help="DigitalOcean API token with read and delete access.",
        ),
    ] = "",
) -> None:
    """Destroy the stack with `pulumi destroy`, then delete what DigitalOcean leaves behind.

    The sweep deletes load balancers and volumes that DOKS tagged with the cluster's id,
    records at the stack's hostname that point at its load balancer, and the certificate,
    registry repositories and tag the stack recorded. A resource is deleted only with a
    proof of ownership (a tag, a recorded id, or the exact name with the recorded address
    or DNS name), and each line names the proof. An attached volume is reported, never detached.

    Without --yes, teardown lists what it would do and prompts for the stack's name. When
    stdin is not a terminal, it stops after the list. Failed deletions are retried and the
    sweep goes on, but the exit code is 1. Running teardown again finishes the job.
    """
    validate_stack_name(stack)
    if dry_run and yes:
        raise InvalidInput("teardown: --dry-run and --yes contradict each other; pass one")
    if not token.strip():
        raise InvalidInput(
            "teardown: --token is missing: set DIGITALOCEAN_TOKEN or pass --token with a "
            "DigitalOcean API token that can read and delete resources"
        )

    from scripts import sweepapi, teardownflow, teardownreport

    api = sweepapi.connect(token.strip())
    render = teardownreport.render_json if json_output else teardownreport.render_text

    preview = teardownflow.dry_run(stack, api)
    if dry_run or not (yes or _confirmed(stack, preview, render)):
        typer.echo(render(preview))
        return

    report = teardownflow.execute(
        preview.preparation, api, echo=lambda line: typer.echo(line, err=True)
    )
    typer.echo(render(report))
    if report.record_kept:
        typer.echo(
            f"teardown: not finished; run `scim-bridge teardown --stack {stack}` again to "
            "finish the job",
            err=True,
        )
    if not report.ok:
        raise typer.Exit(code=1)


def _confirmed(stack: str, preview, render) -> bool:
    """Show the plan and ask for the stack's name; return whether it was typed exactly.

    Without a terminal on stdin nothing is asked, so teardown stays a dry run.
    """
    if not _stdin_is_interactive():
        return False

    typer.echo(render(preview), err=True)
    answer = typer.prompt(
        f"Type the stack name ({stack}) to destroy it and delete the resources above",
        default="",
        show_default=False,
        err=True,
    )
    if answer.strip() != stack:
        typer.echo("teardown: the name typed does not match; nothing was deleted", err=True)
        raise typer.Exit(code=1)
    return True


def _stdin_is_interactive() -> bool:
    return sys.stdin.isatty()
