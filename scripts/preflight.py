"""The `scim-bridge preflight` command: find in seconds what would make `pulumi up` fail later.

It validates the stack's settings, asks DigitalOcean whether the account, region, node size,
Kubernetes version, DNS zone and resource names fit, reads the zone's public delegation, and
checks the scimsession file and the bearer token. The rules live in `scripts.preflightchecks`;
this module fetches the data. Nothing is created, changed or deleted.
"""

from __future__ import annotations

import contextvars
import dataclasses
import json
import logging
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from infra.errors import InvalidInput
from scripts.checks import CheckResult, Status, exit_code, render_json, render_lines
from scripts.preflightchecks import (
    Deployed,
    Target,
    check_account,
    check_bearer_token,
    check_bridge_image,
    check_certificate_name,
    check_cluster_name,
    check_delegation,
    check_droplet_room,
    check_existing_records,
    check_kubernetes_version,
    check_load_balancer_name,
    check_load_balancer_room,
    check_node_size,
    check_region,
    check_scimsession,
    check_zone,
    longest_zone,
)
from scripts.servertext import server_text

logger = logging.getLogger(__name__)

NAMESPACE = "scim-bridge"
SCIMSESSION_KEY = f"{NAMESPACE}:scimsession"
PULUMI_INSTALL_HINT = "install it from https://www.pulumi.com/docs/install/"
DEFAULT_DNS_TIMEOUT = 3.0
# Larger than any scimsession or bearer token file.
MAX_INPUT_FILE = 256 * 1024

# A function that returns the NS names of a zone, and raises OSError or a dnspython
# exception when the lookup fails. Tests pass a table; production asks a resolver.
NsLookup = Callable[[str], list[str]]


@dataclass
class StackInput:
    """The configuration preflight checks: where it came from and its `namespace:key` values."""

    source: str
    stack: str
    config: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)
    deployed: Deployed = field(default_factory=Deployed)
    encrypted: list[str] = field(default_factory=list)


def preflight(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            exists=True,
            dir_okay=False,
            readable=True,
            help="A stack configuration file such as Pulumi.prod.yaml (plain values, no "
            "secure: entries).",
        ),
    ] = None,
    stack: Annotated[
        str | None,
        typer.Option("--stack", help="A Pulumi stack whose configuration the Pulumi CLI can read."),
    ] = None,
    scimsession: Annotated[
        Path | None,
        typer.Option(
            "--scimsession",
            exists=True,
            dir_okay=False,
            readable=True,
            help="Check this scimsession file instead of the one in the stack configuration.",
        ),
    ] = None,
    bearer_token_file: Annotated[
        Path | None,
        typer.Option(
            "--bearer-token-file",
            exists=True,
            dir_okay=False,
            readable=True,
            help="Also check that this file contains a bridge bearer token.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar=["DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"],
            show_envvar=True,
            show_default=False,
            help="The DigitalOcean API token (read access is enough).",
        ),
    ] = None,
    resolver: Annotated[
        str | None,
        typer.Option(
            "--resolver",
            help="The resolver (IP[:PORT]) that reads the zone's NS records; default: the "
            "system's.",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", min=0.1, help="Seconds to wait for each DigitalOcean API response."
        ),
    ] = 30.0,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of lines.")
    ] = False,
) -> None:
    """Check settings, the DigitalOcean account, DNS and credentials before `pulumi up`.

    Exactly one of --config and --stack is required. Each check prints one line: ok, warn or
    fail, with the fix after an arrow.
    """
    from scripts.doclient import DigitalOceanClient, resolve_token
    from scripts.doerrors import TokenMissing

    stack_input = _read_stack_input(config, stack)
    ns_lookup = system_ns_lookup(resolver)
    session_raw, session_source = _scimsession_source(stack_input, scimsession)
    bearer_text = _read_text(bearer_token_file, "--bearer-token-file")

    client = None
    token_problem = ""
    try:
        client = DigitalOceanClient(resolve_token(token), read_timeout=timeout)
    except TokenMissing as error:
        if token and token.strip():
            # A value was given but cannot be a token: bad input, not a failed check.
            raise
        token_problem = str(error)

    try:
        results = run_checks(
            stack_input,
            client=client,
            token_problem=token_problem,
            ns_lookup=ns_lookup,
            scimsession=(session_raw, session_source),
            bearer_text=bearer_text,
        )
    finally:
        if client is not None:
            client.close()

    if json_output:
        typer.echo(render_json(results, source=stack_input.source))
    else:
        typer.echo(render_lines(results))
    raise typer.Exit(code=exit_code(results))


def run_checks(
    stack_input: StackInput,
    *,
    client: Any,
    token_problem: str = "",
    ns_lookup: NsLookup,
    scimsession: tuple[bytes | str | None, str],
    bearer_text: str | None = None,
    pulumi_probe: Callable[[], CheckResult] | None = None,
) -> list[CheckResult]:
    """Run every check and return one result per line, in the order they print.

    :param client: a `DigitalOceanClient`, or None when the token is missing (`token_problem`
        then says why, and the DigitalOcean checks are not run).
    :param scimsession: the raw scimsession (None when not given) and the name of its source.
    """
    settings_result, target = settings_check(stack_input)
    results = [settings_result]
    if target is not None:
        results.append(check_bridge_image(target.bridge_image))
    results.append((pulumi_probe or pulumi_cli_check)())

    if client is None:
        results.append(
            CheckResult(
                "digitalocean token",
                Status.FAIL,
                token_problem or "no token given",
            )
        )
    else:
        results.extend(_digitalocean_checks(client, target, stack_input.deployed, ns_lookup))

    session_raw, session_source = scimsession
    if session_raw is None and SCIMSESSION_KEY in stack_input.encrypted:
        results.append(
            CheckResult(
                "scimsession",
                Status.WARN,
                f"{SCIMSESSION_KEY} is encrypted (secure:) in {stack_input.source}, so it was "
                "not checked",
                "pass --scimsession FILE, or --stack NAME to read it through the Pulumi CLI",
            )
        )
    else:
        results.extend(check_scimsession(session_raw, session_source, target and target.fqdn))
    if bearer_text is not None:
        results.append(check_bearer_token(bearer_text))
    return results


# Settings.


def settings_check(stack_input: StackInput) -> tuple[CheckResult, Target | None]:
    """Validate the settings as the program does; return the line and, when valid, the target.

    Problems with the scimsession are left to its own check, so they are not reported twice.
    """
    from infra.settings import InvalidSettings

    try:
        settings = _load_settings(stack_input.config, stack_input.secret_keys, stack_input.stack)
    except InvalidSettings as error:
        problems = [problem for problem in error.problems if problem.key != SCIMSESSION_KEY]
        if problems:
            listed = "; ".join(str(problem) for problem in problems)
            result = CheckResult(
                "settings",
                Status.FAIL,
                f"{len(problems)} invalid in {stack_input.source}: {listed}",
                "fix each key with `pulumi config set`; the DigitalOcean checks that need "
                "them were not run",
            )
            return result, None
        # Only the scimsession is wrong: load the rest without it to get the target.
        config = {k: v for k, v in stack_input.config.items() if k != SCIMSESSION_KEY}
        settings = _load_settings(config, stack_input.secret_keys, stack_input.stack)

    target = Target(
        domain=settings.domain,
        hostname=settings.hostname,
        region=settings.region,
        node_size=settings.node_size,
        node_count=settings.node_count,
        kubernetes_version=settings.kubernetes_version,
        tls_mode=settings.tls_mode.value,
        resource_name=settings.resource_name,
        node_tag=settings.node_tag,
        stack_tag=settings.all_tags[1],
        bridge_image=settings.bridge_image,
    )
    detail = f"valid in {stack_input.source} ({target.fqdn} in {target.region})"
    return CheckResult("settings", Status.OK, detail), target


def _load_settings(config: dict[str, str], secret_keys: list[str], stack: str):
    import asyncio

    import pulumi
    from pulumi import runtime

    from infra.settings import load_settings

    def load():
        runtime.set_all_config(config, secret_keys)
        return load_settings(pulumi.Config(NAMESPACE), stack=stack)

    # The Pulumi runtime keeps its config in context variables: a copy keeps this run apart.
    # Secret settings become Outputs, whose futures need a current event loop; another
    # command run in this process (a simulated plan) may have cleared it.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return contextvars.copy_context().run(load)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def _read_stack_input(config: Path | None, stack: str | None) -> StackInput:
    if (config is None) == (stack is None):
        raise InvalidInput(
            "preflight: pass exactly one of --config FILE and --stack NAME "
            f"(given: {'both' if config else 'neither'})"
        )
    if config is not None:
        return _read_config_file(config)
    return _read_stack(stack)


def _read_config_file(path: Path) -> StackInput:
    from scripts.simulation import read_stack_file, stack_name_of, with_stand_ins

    stack_file = read_stack_file(path, command="preflight")
    try:
        # Encrypted secrets get stand-ins for the settings check; the scimsession check
        # reads --scimsession instead, or says that it could not check the value.
        values = with_stand_ins(stack_file, path)
    except InvalidInput as error:
        # The stand-ins are shared with `plan`, whose name starts their messages.
        raise InvalidInput("preflight: " + str(error).removeprefix("plan: ")) from error
    return StackInput(
        f"--config {path}",
        stack_name_of(path) or path.stem or "stack",
        values,
        stack_file.secret_keys,
        encrypted=stack_file.encrypted,
    )


def _read_stack(stack: str) -> StackInput:
    from scripts.stack import StackError, read_config, read_outputs, validate_stack_name

    validate_stack_name(stack)
    values = {key: _config_string(value) for key, value in read_config(stack).items()}
    try:
        outputs = read_outputs(stack)
    except StackError as error:
        # Before the first `pulumi up` a stack may have no outputs to read.
        logger.info("preflight: no outputs for stack %s: %s", stack, error)
        outputs = {}
    deployed = Deployed(
        load_balancer_ip=str(outputs.get("loadBalancerIp") or ""),
        cluster_id=str(outputs.get("clusterId") or ""),
    )
    return StackInput(f"stack {stack}", stack.rsplit("/", 1)[-1], values, [], deployed)


def _config_string(value: object) -> str:
    # The Pulumi runtime hands a program every value as a string, lists and maps as JSON.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return "" if value is None else str(value)


def _scimsession_source(
    stack_input: StackInput, path: Path | None
) -> tuple[bytes | str | None, str]:
    if path is not None:
        return _read_bytes(path, "--scimsession"), f"--scimsession {path}"
    if SCIMSESSION_KEY in stack_input.encrypted:
        return None, SCIMSESSION_KEY
    return stack_input.config.get(SCIMSESSION_KEY), SCIMSESSION_KEY


def _read_bytes(path: Path, option: str) -> bytes:
    # Read one byte past the limit, so a larger file (or /dev/zero) is reported, not loaded.
    try:
        with path.open("rb") as file:
            data = file.read(MAX_INPUT_FILE + 1)
    except OSError as error:
        raise InvalidInput(
            f"preflight: {option} {path}: cannot be read: {error.strerror}"
        ) from None
    if len(data) > MAX_INPUT_FILE:
        raise InvalidInput(
            f"preflight: {option} {path}: is larger than {MAX_INPUT_FILE // 1024} KiB; "
            "accepted: a scimsession or bearer token file, a few kilobytes"
        )
    return data


def _read_text(path: Path | None, option: str) -> str | None:
    if path is None:
        return None
    try:
        return _read_bytes(path, option).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"preflight: {option} {path}: is not UTF-8 text") from None


# The Pulumi CLI.


def pulumi_cli_check() -> CheckResult:
    """Warn when the `pulumi` executable is missing or does not run; report its version."""
    path = shutil.which("pulumi")
    if path is None:
        return CheckResult("pulumi cli", Status.WARN, "pulumi is not on PATH", PULUMI_INSTALL_HINT)
    try:
        completed = subprocess.run(  # noqa: S603 - the executable is found on PATH, no shell
            [path, "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return CheckResult(
            "pulumi cli", Status.WARN, f"{path} version failed: {error}", PULUMI_INSTALL_HINT
        )
    version = completed.stdout.strip().splitlines()[0] if completed.stdout.strip() else ""
    if completed.returncode != 0 or not version:
        return CheckResult(
            "pulumi cli",
            Status.WARN,
            f"{path} version exited with {completed.returncode}",
            PULUMI_INSTALL_HINT,
        )
    return CheckResult("pulumi cli", Status.OK, f"pulumi {version} at {path}")


# DigitalOcean.


def _digitalocean_checks(client, target: Target | None, deployed: Deployed, ns_lookup: NsLookup):
    from scripts.doerrors import DigitalOceanError, TokenRejected

    try:
        account = client.account()
    except TokenRejected as error:
        return [CheckResult("digitalocean token", Status.FAIL, str(error), _token_fix())]
    except DigitalOceanError as error:
        return [CheckResult("digitalocean token", Status.FAIL, str(error), _retry_fix())]

    email = server_text(account.email)
    results = [
        CheckResult("digitalocean token", Status.OK, f"accepted for {email}"),
        _guarded(
            "account",
            lambda: check_account(
                server_text(account.status),
                server_text(account.status_message or ""),
                bool(account.email_verified),
            ),
        ),
    ]
    node_count = target.node_count if target else 1
    results.append(
        _guarded(
            "droplet limit",
            lambda: check_droplet_room(account.droplet_limit, client.droplet_count(), node_count),
        )
    )
    load_balancers = _fetch(client.load_balancers)
    results.append(
        _guarded("load balancers", lambda: check_load_balancer_room(len(load_balancers())))
    )
    if target is None:
        return results

    options = _fetch(client.kubernetes_options)
    region = _guarded("region", lambda: _check_region(client, target, options()))
    results.append(region)
    if region.status is Status.OK:
        results.append(_guarded("node size", lambda: _check_node_size(client, target, options())))
    results.append(
        _guarded(
            "kubernetes version",
            lambda: check_kubernetes_version(
                target.kubernetes_version, [item["slug"] for item in options()["versions"]]
            ),
        )
    )

    zones = _fetch(lambda: [domain.name for domain in client.domains()])
    results.append(_guarded("dns zone", lambda: check_zone(target, zones())))
    zone = _zone_of(target, zones)
    results.append(_delegation(zone or target.domain, ns_lookup))
    if zone is not None:
        results.append(
            _guarded("existing records", lambda: _check_records(client, target, zone, deployed))
        )

    listed = _fetch(lambda: [_load_balancer_dict(lb) for lb in load_balancers()])
    results.append(
        _guarded("load balancer name", lambda: check_load_balancer_name(target, listed()))
    )
    results.append(
        _guarded(
            "certificate name",
            lambda: check_certificate_name(
                target,
                [{"id": cert.id, "name": cert.name} for cert in client.certificates()],
                _owned_certificates(target, load_balancers()),
            ),
        )
    )
    results.append(
        _guarded("cluster name", lambda: check_cluster_name(target, client.clusters(), deployed))
    )
    return results


def _fetch(function: Callable[[], Any]) -> Callable[[], Any]:
    """Wrap a listing so it is fetched at most once and its error re-raised on every use."""
    cache: dict[str, Any] = {}

    def fetch():
        if "error" in cache:
            raise cache["error"]
        if "value" not in cache:
            from scripts.doerrors import DigitalOceanError

            try:
                cache["value"] = function()
            except DigitalOceanError as error:
                cache["error"] = error
                raise
        return cache["value"]

    return fetch


def _guarded(name: str, check: Callable[[], CheckResult]) -> CheckResult:
    """Run one check; turn an API failure, or data of a shape it cannot use, into a fail line."""
    from scripts.doerrors import DigitalOceanError, TokenRejected

    try:
        return check()
    except TokenRejected as error:
        return CheckResult(name, Status.FAIL, str(error), _token_fix())
    except DigitalOceanError as error:
        return CheckResult(name, Status.FAIL, str(error), _retry_fix())
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        # The client checks the fields it hands out; this catches any it does not.
        logger.debug("preflight: %s check failed on the API data", name, exc_info=True)
        reason = (
            f"the field {error.args[0]!r} is missing"
            if isinstance(error, KeyError)
            else ("a field has an unexpected type or value")
        )
        return CheckResult(
            name,
            Status.FAIL,
            f"DigitalOcean returned an unexpected response to the {name} check: "
            f"{server_text(reason)}",
            _retry_fix(),
        )


def _token_fix() -> str:
    return "create a token with read scopes and set DIGITALOCEAN_TOKEN"


def _retry_fix() -> str:
    return "run preflight again; if it keeps failing, see https://status.digitalocean.com"


def _check_region(client, target: Target, options: dict) -> CheckResult:
    regions = [{"slug": region.slug, "available": region.available} for region in client.regions()]
    kubernetes_regions = [item["slug"] for item in options.get("regions") or []]
    return check_region(target.region, regions, kubernetes_regions)


def _check_node_size(client, target: Target, options: dict) -> CheckResult:
    kubernetes_sizes = [item["slug"] for item in options.get("sizes") or []]
    size_regions = {size.slug: list(size.regions or []) for size in client.sizes()}
    return check_node_size(target.node_size, target.region, kubernetes_sizes, size_regions)


def _zone_of(target: Target, zones: Callable[[], list[str]]) -> str | None:
    """Return the account's zone that contains the hostname, or None when none does (or unknown)."""
    from scripts.doerrors import DigitalOceanError

    try:
        return longest_zone(target.fqdn, zones())
    except DigitalOceanError:
        return None


def _delegation(zone: str, ns_lookup: NsLookup) -> CheckResult:
    import dns.exception
    import dns.resolver

    try:
        nameservers = ns_lookup(zone)
    except dns.resolver.LifetimeTimeout:
        return check_delegation(zone, None, "the resolver did not answer in time")
    except dns.resolver.NoNameservers:
        return check_delegation(zone, None, "the resolver failed to answer (SERVFAIL or refused)")
    except (OSError, dns.exception.DNSException, InvalidInput) as error:
        return check_delegation(zone, None, f"{type(error).__name__}: {error}")
    return check_delegation(zone, nameservers)


def _check_records(client, target: Target, zone: str, deployed: Deployed) -> CheckResult:
    records = [
        {"id": record.id, "type": record.type, "name": record.name, "data": record.data}
        for record in client.records(zone, name=target.fqdn)
    ]
    # Records are named relative to the zone that contains them, which may be a subzone.
    relative = target.fqdn.removesuffix("." + zone) if target.fqdn != zone else "@"
    in_zone = dataclasses.replace(target, domain=zone, hostname=relative)
    owned_ip = deployed.load_balancer_ip or _own_load_balancer_ip(client, target)
    return check_existing_records(in_zone, records, Deployed(owned_ip, deployed.cluster_id))


def _own_load_balancer_ip(client, target: Target) -> str:
    for lb in client.load_balancers():
        if lb.name == target.load_balancer_name and lb.tag == target.node_tag:
            return lb.ip or ""
    return ""


def _load_balancer_dict(lb) -> dict:
    return {"id": lb.id, "name": lb.name, "tag": lb.tag, "ip": lb.ip}


def _owned_certificates(target: Target, load_balancers) -> set[str]:
    owned = set()
    for lb in load_balancers:
        if lb.name == target.load_balancer_name and lb.tag == target.node_tag:
            owned.update(rule.certificate_id for rule in lb.forwarding_rules if rule.certificate_id)
    return owned


# DNS.


def system_ns_lookup(resolver: str | None, *, timeout: float = DEFAULT_DNS_TIMEOUT) -> NsLookup:
    """Return an NS lookup through `resolver` (IP[:PORT]), or through the system's resolver.

    The lookup returns the NS names of the zone as a recursive resolver returns them, which
    are the servers the zone is delegated to, and an empty list when the zone does not exist.

    :raises InvalidInput: naming --resolver when it is not an IP address with an optional port.
    """
    server = None
    if resolver is not None:
        server = _parse_resolver(resolver)

    def lookup(zone: str) -> list[str]:
        import dns.resolver

        from infra.dnsdiscovery import make_bootstrap_resolver

        stub = make_bootstrap_resolver(server, timeout)
        try:
            answer = stub.resolve(zone, "NS", raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return []
        if answer.rrset is None:
            return []
        return sorted(rdata.target.to_text(omit_final_dot=True) for rdata in answer.rrset)

    return lookup


def _parse_resolver(text: str) -> tuple[str, int]:
    from infra.dnsinput import is_ip_address, parse_server

    accepted = "accepted: an IP address with an optional port, such as 127.0.0.1:5353"
    try:
        host, port = parse_server(text, "--resolver")
    except InvalidInput as error:
        raise InvalidInput(f"preflight: --resolver {text!r} is invalid; {accepted}") from error
    if not is_ip_address(host):
        raise InvalidInput(f"preflight: --resolver {text!r} is not an IP address; {accepted}")
    return host, port
