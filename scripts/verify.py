"""The `scim-bridge verify` command: check a running bridge with its bearer token."""

import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infra.errors import InvalidInput

if TYPE_CHECKING:
    from scripts.bridgecheck import BridgeUrl, Verification
    from scripts.checks import CheckResult

log = logging.getLogger(__name__)

# The stack output that carries the bridge's URL.
URL_OUTPUT = "scimUrl"

MAX_TIMEOUT_SECONDS = 300.0

# Bearer tokens are about a kilobyte; reading stops well past that.
MAX_TOKEN_BYTES = 64 * 1024


def verify(
    url: Annotated[
        str | None,
        typer.Argument(
            help="The bridge's address, e.g. https://scim.example.com. Leave it out with --stack.",
            metavar="URL",
            show_default=False,
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            metavar="FILE",
            help="Read the bearer token from this file.",
            show_default=False,
        ),
    ] = None,
    token_env: Annotated[
        str | None,
        typer.Option(
            "--token-env",
            metavar="VAR",
            help="Read the bearer token from this environment variable.",
            show_default=False,
        ),
    ] = None,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack",
            metavar="NAME",
            help=f"Take the URL from this Pulumi stack's {URL_OUTPUT} output.",
            show_default=False,
        ),
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option(
            "--ca-file",
            metavar="FILE",
            help="Also trust the CA certificates in this PEM file.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            metavar="S",
            help="Seconds to wait for each step: name lookup, connection, handshake, response.",
        ),
    ] = 10.0,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of one line per check.")
    ] = False,
) -> None:
    """Check a running bridge: DNS, TLS chain and expiry, /ping and /health.

    Without --token-file or --token-env, the bearer token is asked for
    without echo, or read as one line from standard input when that is not
    a terminal. It is sent only in the Authorization header of
    GET /health, only to the bridge's host; redirects are not followed.
    """
    # The checks import cryptography and idna, which --help does not need.
    from scripts import bridgecheck, checks

    if token_file is not None and token_env is not None:
        raise InvalidInput("verify: --token-file and --token-env: give one of them, not both")
    if not 0 < timeout <= MAX_TIMEOUT_SECONDS:
        raise InvalidInput(
            f"verify: --timeout: {timeout:g} is not accepted; give seconds above 0 and at "
            f"most {MAX_TIMEOUT_SECONDS:g}"
        )

    target = _target(url, stack)
    context = bridgecheck.make_tls_context(ca_file)
    token = _read_token(token_file, token_env)

    log.debug("verifying the bridge at %s", target.url)
    verification = bridgecheck.check_bridge(target, token, context=context, timeout=timeout)
    typer.echo(_render(verification, target.url, token, json_output=json_output))

    code = checks.exit_code(verification.results)
    if code:
        raise typer.Exit(code=code)


def _render(verification: "Verification", url: str, token: str, *, json_output: bool) -> str:
    from scripts import checks
    from scripts.servertext import escape_controls, redact

    # Text from the server was redacted and made printable where it entered the report.
    # Escaping every field and redacting the whole output again guards against any path
    # that missed it.
    results = [_printable(result) for result in verification.results]
    if json_output:
        version, build = verification.bridge_version, verification.bridge_build
        rendered = checks.render_json(
            results,
            url=url,
            bridge_version=None if version is None else escape_controls(version),
            bridge_build=None if build is None else escape_controls(build),
        )
    else:
        rendered = checks.render_lines(results)
    return redact(rendered, token)


def _printable(result: "CheckResult") -> "CheckResult":
    from scripts.servertext import escape_controls

    return replace(
        result,
        name=escape_controls(result.name),
        detail=escape_controls(result.detail),
        fix=escape_controls(result.fix),
    )


def _target(url: str | None, stack: str | None) -> "BridgeUrl":
    from scripts import bridgecheck

    if url is not None and stack is not None:
        raise InvalidInput("verify: URL and --stack: give one of them, not both")
    if url is not None:
        return bridgecheck.parse_bridge_url(url, argument="URL")
    if stack is None:
        raise InvalidInput(
            "verify: URL: missing; give the bridge's URL (e.g. https://scim.example.com) "
            "or --stack NAME"
        )

    from scripts import stack as stacks

    outputs = stacks.read_outputs(stack)
    value = outputs.get(URL_OUTPUT)
    if not isinstance(value, str) or not value:
        raise bridgecheck.MissingStackOutput(
            f"verify: stack {stack!r} has no {URL_OUTPUT} output; run `pulumi up` on it "
            "first, or pass the bridge's URL instead of --stack"
        )
    return bridgecheck.parse_bridge_url(value, argument=f"the {URL_OUTPUT} output of {stack!r}")


def _read_token(token_file: Path | None, token_env: str | None) -> str:
    from scripts import bridgecheck

    if token_file is not None:
        source = f"--token-file {bridgecheck.shown(str(token_file))}"
        try:
            with token_file.open("rb") as file:
                data = file.read(MAX_TOKEN_BYTES + 1)
            if len(data) > MAX_TOKEN_BYTES:
                raise InvalidInput(
                    f"verify: {source}: the file is larger than {MAX_TOKEN_BYTES // 1024} KiB, "
                    "so it is not a bearer token file"
                )
            raw = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(
                f"verify: {source}: the file is not UTF-8 text; save the bearer token as text"
            ) from None
        except OSError as error:
            raise InvalidInput(
                f"verify: {source}: cannot read the file: {error.strerror or error}"
            ) from None
        return bridgecheck.clean_token(raw, source=source)

    if token_env is not None:
        source = f"--token-env {bridgecheck.shown(token_env)}"
        raw = os.environ.get(token_env)
        if raw is None:
            raise InvalidInput(
                f"verify: {source}: no environment variable of that name is set; give the "
                "name of the variable that contains the token, not the token"
            )
        return bridgecheck.clean_token(raw, source=source)

    if not _stdin_is_terminal():
        # Piped in, as in `op read ... | scim-bridge verify URL`. A prompt here would only
        # print getpass's warning that input may be echoed.
        line = sys.stdin.readline(MAX_TOKEN_BYTES + 1)
        if len(line) > MAX_TOKEN_BYTES:
            raise InvalidInput(
                f"verify: the first line of standard input is longer than "
                f"{MAX_TOKEN_BYTES // 1024} KiB, so it is not a bearer token"
            )
        return bridgecheck.clean_token(line, source="standard input")

    # A default keeps an empty entry from prompting again, so that it is reported instead.
    try:
        raw = typer.prompt(
            "Bearer token", hide_input=True, default="", show_default=False, err=True
        )
    except typer.Abort:
        # Raised on end of input (and on Ctrl-C) before a token was entered.
        raise InvalidInput(
            "verify: no bearer token was entered at the prompt; pass --token-file FILE or "
            "--token-env VAR when no one can type it"
        ) from None
    return bridgecheck.clean_token(raw, source="the prompt")


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()
