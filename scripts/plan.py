"""The `scim-bridge plan` command: what the deploy would create, computed offline.

It runs the repository's Pulumi program against a simulated DigitalOcean (see
`scripts.simulation`), so it needs no credentials, no network and no Pulumi CLI.
"""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from infra.errors import InvalidInput

# Rough creation times in seconds, by type token, for the critical path. They are
# estimates from typical DigitalOcean runs, not measurements of this stack.
ESTIMATED_SECONDS = {
    "digitalocean:index/vpc:Vpc": 5,
    "digitalocean:index/kubernetesCluster:KubernetesCluster": 420,
    "digitalocean:index/loadBalancer:LoadBalancer": 120,
    "digitalocean:index/certificate:Certificate": 60,
    "digitalocean:index/dnsRecord:DnsRecord": 5,
    "pulumi-python:dynamic/propagation:Gate": 60,
    "digitalocean:index/containerRegistry:ContainerRegistry": 10,
    "docker-build:index:Image": 120,
    "kubernetes:apps/v1:Deployment": 60,
    "kubernetes:core/v1:PersistentVolumeClaim": 20,
}
DEFAULT_ESTIMATE = 2


def _seconds(resource) -> int:
    if not resource.custom:
        return 0
    return ESTIMATED_SECONDS.get(resource.type, DEFAULT_ESTIMATE)


def critical_path(simulation) -> tuple[list, int]:
    """Return the chain of resources with the longest estimated creation time, and that time."""
    by_urn = {resource.urn: resource for resource in simulation.resources}
    finish: dict[str, tuple[int, str | None]] = {}

    def finish_time(urn: str) -> int:
        if urn not in finish:
            resource = by_urn[urn]
            best, via = 0, None
            for dependency in resource.depends_on:
                if dependency in by_urn and finish_time(dependency) > best:
                    best, via = finish_time(dependency), dependency
            finish[urn] = (best + _seconds(resource), via)
        return finish[urn][0]

    if not by_urn:
        return [], 0
    last = max(by_urn, key=finish_time)
    chain = []
    current: str | None = last
    while current is not None:
        chain.append(by_urn[current])
        current = finish[current][1]
    chain.reverse()
    return [resource for resource in chain if resource.custom], finish_time(last)


def _short_type(type_token: str) -> str:
    if type_token.startswith("pulumi:providers:"):
        return f"Provider({type_token.rsplit(':', 1)[-1]})"
    return type_token.rsplit(":", 1)[-1]


def _pick(inputs: dict, *paths: str) -> list[str]:
    """Return `path=value` for each dotted input path that is set."""
    pairs = []
    for path in paths:
        value: Any = inputs
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None and value != [] and value != {}:
            shown = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            pairs.append(f"{path.rsplit('.', 1)[-1]}={shown}")
    return pairs


def key_settings(resource) -> list[str]:
    """Return the few inputs worth showing on a resource's line of the tree."""
    inputs = resource.inputs
    kind = resource.type
    if kind == "digitalocean:index/kubernetesCluster:KubernetesCluster":
        pairs = _pick(inputs, "name", "region", "version", "ha", "autoUpgrade", "surgeUpgrade")
        pool = inputs.get("nodePool", {})
        pairs.append(f"nodes={pool.get('nodeCount')}x{pool.get('size')}")
        pairs.append(f"nodeTags={','.join(pool.get('tags', []))}")
        if resource.protect:
            pairs.append("protected")
        return pairs
    if kind == "digitalocean:index/loadBalancer:LoadBalancer":
        check = inputs.get("healthcheck", {})
        rules = [
            f"{rule.get('entryPort')}/{rule.get('entryProtocol')}->"
            f"{rule.get('targetPort')}/{rule.get('targetProtocol')}"
            for rule in inputs.get("forwardingRules", [])
        ]
        return [
            *_pick(inputs, "name", "region", "dropletTag"),
            f"forwarding={','.join(rules)}",
            f"healthcheck={check.get('protocol')}:{check.get('port')}{check.get('path', '')}",
        ]
    if kind == "digitalocean:index/dnsRecord:DnsRecord":
        return _pick(inputs, "domain", "type", "name", "value", "ttl")
    if kind == "pulumi-python:dynamic/propagation:Gate":
        return _pick(inputs, "name", "expected", "resolvers", "timeout")
    if kind == "kubernetes:apps/v1:Deployment":
        containers = (
            inputs.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
        )
        images = ",".join(container.get("image", "?") for container in containers)
        return [
            *_pick(inputs, "metadata.name", "spec.replicas", "spec.strategy.type"),
            f"image={images}",
        ]
    if kind == "kubernetes:core/v1:Service":
        ports = [
            f"{port.get('port')}" + (f"->node:{port['nodePort']}" if "nodePort" in port else "")
            for port in inputs.get("spec", {}).get("ports", [])
        ]
        return [*_pick(inputs, "metadata.name", "spec.type"), f"ports={','.join(ports)}"]
    if kind.startswith("kubernetes:"):
        return _pick(inputs, "metadata.name")
    return _pick(inputs, "name", "region", "type", "domains", "subscriptionTierSlug")


def render_tree(simulation) -> str:
    """Render the resources as a tree by parent, each with key settings and dependencies."""
    by_urn = {resource.urn: resource for resource in simulation.resources}
    children: dict[str | None, list] = {}
    for resource in simulation.resources:
        parent = resource.parent if resource.parent in by_urn else None
        children.setdefault(parent, []).append(resource)

    lines = [f"stack {simulation.stack} (simulated DigitalOcean: nothing is created)"]

    def walk(parent: str | None, prefix: str) -> None:
        items = children.get(parent, [])
        for index, resource in enumerate(items):
            last = index == len(items) - 1
            branch, indent = ("└─ ", "   ") if last else ("├─ ", "│  ")
            settings = "  ".join(key_settings(resource))
            lines.append(
                f"{prefix}{branch}{_short_type(resource.type)} {resource.name}  {settings}".rstrip()
            )
            external = [by_urn[urn].name for urn in resource.depends_on if urn in by_urn]
            if external and resource.custom:
                lines.append(f"{prefix}{indent}    depends on: {', '.join(external)}")
            walk(resource.urn, prefix + indent)

    walk(None, "")

    lines.append("")
    lines.append("outputs:")
    width = max((len(key) for key in simulation.outputs), default=0)
    for key, value in simulation.outputs.items():
        shown = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        lines.append(f"  {key:<{width}}  {shown}")

    chain, total = critical_path(simulation)
    lines.append("")
    lines.append(f"critical path (estimated, about {round(total / 60)} min):")
    lines.append("  " + " -> ".join(f"{item.name} (~{_seconds(item)} s)" for item in chain))
    return "\n".join(lines)


def render_json(simulation) -> str:
    """Render the plan as one JSON document of resources and outputs, secrets masked."""
    document = {
        "resources": [
            {
                "urn": resource.urn,
                "type": resource.type,
                "name": resource.name,
                "parent": resource.parent,
                "depends_on": resource.depends_on,
                "inputs": resource.inputs,
            }
            for resource in simulation.resources
        ],
        "outputs": simulation.outputs,
    }
    return json.dumps(document, indent=2)


def render_graph(simulation) -> str:
    """Render the dependency graph as a Mermaid flowchart, one subgraph per component."""
    by_urn = {resource.urn: resource for resource in simulation.resources}
    ids = {resource.urn: f"r{index}" for index, resource in enumerate(simulation.resources)}
    lines = ["flowchart LR"]
    for component in simulation.resources:
        if component.custom:
            continue
        members = [r for r in simulation.resources if r.parent == component.urn and r.custom]
        if not members:
            continue
        lines.append(f'  subgraph {ids[component.urn]}["{component.name}"]')
        for member in members:
            lines.append(f'    {ids[member.urn]}["{_short_type(member.type)}<br/>{member.name}"]')
        lines.append("  end")
    for resource in simulation.resources:
        if not resource.custom:
            continue
        if resource.parent not in by_urn:
            lines.append(
                f'  {ids[resource.urn]}["{_short_type(resource.type)}<br/>{resource.name}"]'
            )
        for dependency in resource.depends_on:
            if dependency in by_urn and by_urn[dependency].custom:
                lines.append(f"  {ids[dependency]} --> {ids[resource.urn]}")
    return "\n".join(lines)


def kubernetes_manifests(simulation) -> list[tuple[str, dict]]:
    """Return (file name, object) for every Kubernetes object, secrets masked."""
    manifests = []
    for resource in simulation.resources:
        if not resource.type.startswith("kubernetes:") or not resource.custom:
            continue
        # apiVersion, kind and metadata first, as people write manifests.
        head = {key: resource.inputs[key] for key in ("apiVersion", "kind", "metadata")}
        document = {**head, **resource.inputs}
        kind = document.get("kind", _short_type(resource.type))
        name = document.get("metadata", {}).get("name", resource.name)
        manifests.append((f"{len(manifests) + 1:02d}-{kind.lower()}-{name}.yaml", document))
    return manifests


def write_manifests(simulation, directory: Path) -> list[Path]:
    """Write each Kubernetes object to its own YAML file in `directory`; return the paths."""
    import yaml

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInput(f"plan: --manifests {directory}: cannot create it: {error}") from error
    paths = []
    for file_name, document in kubernetes_manifests(simulation):
        path = directory / file_name
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def plan(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Stack settings file (Pulumi.<stack>.yaml layout). "
            "Default: examples/Pulumi.example.yaml of this repository.",
            dir_okay=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document of resources and outputs.")
    ] = False,
    graph: Annotated[
        bool, typer.Option("--graph", help="Print the dependency graph as a Mermaid flowchart.")
    ] = False,
    manifests: Annotated[
        Path | None,
        typer.Option(
            "--manifests",
            help="Also write every Kubernetes object as YAML into this directory, one file each.",
            file_okay=False,
        ),
    ] = None,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack",
            help="Stack name used in URNs and resource names. Default: the <stack> of a "
            "Pulumi.<stack>.yaml config file, else example.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show what `pulumi up` would create, offline: no credentials, network or Pulumi CLI.

    Runs the Pulumi program against a simulated DigitalOcean (addresses from
    203.0.113.0/24) and prints the resources as a tree with their key settings and
    dependencies, the stack outputs and the critical path, with every secret value masked.
    """
    from scripts.simulation import (
        DEFAULT_CONFIG,
        read_stack_file,
        simulate,
        stack_name_of,
        with_stand_ins,
    )
    from scripts.stack import validate_stack_name

    if as_json and graph:
        raise InvalidInput("plan: --json and --graph print different documents; choose one")
    path = config or DEFAULT_CONFIG
    stack = stack or stack_name_of(path) or "example"
    validate_stack_name(stack)
    stack_file = read_stack_file(path)
    values = with_stand_ins(stack_file, path)
    for key in stack_file.encrypted:
        typer.echo(
            f"plan: {key} is encrypted (secure:), so plan uses a stand-in and does not check "
            f"its content; `scim-bridge preflight --stack {stack}` checks it (or preflight "
            "--config with --scimsession FILE)",
            err=True,
        )
    simulation = simulate(values, stack_file.secret_keys, stack=stack)

    if manifests is not None:
        paths = write_manifests(simulation, manifests)
        typer.echo(f"plan: wrote {len(paths)} Kubernetes manifests to {manifests}", err=True)
    if as_json:
        typer.echo(render_json(simulation))
    elif graph:
        typer.echo(render_graph(simulation))
    else:
        typer.echo(render_tree(simulation))
