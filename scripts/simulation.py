"""Run the deploy program offline, against a simulated DigitalOcean, and record what it registers.

`simulate` runs the repository's own `__main__.py` under Pulumi's unit-test mock runtime:
no credentials, no network and no Pulumi CLI. Every resource gets generated ids, every
address comes from 203.0.113.0/24 (TEST-NET-3, which is never routed), and the result
lists each resource with its inputs, its parent and its direct dependencies.

Generated values derive from a hash of each resource's URN, so the same settings give
the same plan on every run.
"""

import asyncio
import contextvars
import gc
import hashlib
import json
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime
import yaml

from infra.errors import InvalidInput

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROGRAM = PROJECT_DIR / "__main__.py"
PROJECT_FILE = PROJECT_DIR / "Pulumi.yaml"
DEFAULT_CONFIG = PROJECT_DIR / "examples" / "Pulumi.example.yaml"
PROJECT = "scim-bridge"
SECRET = "[secret]"  # noqa: S105 (the mask printed in place of a secret)

# DOKS versions the simulation offers, newest first.
SIMULATED_KUBERNETES_VERSIONS = ("1.34.1-do.0", "1.33.5-do.0", "1.32.9-do.1", "1.31.13-do.2")
SIMULATED_NAMESERVERS = ("ns1.digitalocean.com", "ns2.digitalocean.com", "ns3.digitalocean.com")


@dataclass
class RegisteredResource:
    """One resource as the program registered it, with the state the simulation returned."""

    urn: str
    id: str
    type: str
    name: str
    parent: str | None
    custom: bool
    depends_on: list[str]
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    protect: bool = False
    ignore_changes: list[str] = field(default_factory=list)


@dataclass
class Simulation:
    """The resources in registration order, and the stack outputs with secrets masked."""

    stack: str
    resources: list[RegisteredResource]
    outputs: dict[str, Any]

    def by_type(self, type_token: str) -> list[RegisteredResource]:
        """Return the resources of one type, in registration order."""
        return [resource for resource in self.resources if resource.type == type_token]

    def get(self, urn: str) -> RegisteredResource:
        """Return the resource with this URN. Raises KeyError when there is none."""
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def dependencies_of(self, urn: str) -> set[str]:
        """Return every URN that `urn` depends on, directly or through other resources."""
        by_urn = {resource.urn: resource for resource in self.resources}
        seen: set[str] = set()
        pending = list(by_urn[urn].depends_on)
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in by_urn:
                pending.extend(by_urn[current].depends_on)
        return seen


def mask_secrets(value: Any) -> Any:
    """Return `value` as plain JSON data with every Pulumi secret replaced by "[secret]".

    A secret map keeps its keys and has each value replaced.
    """
    from pulumi.runtime import rpc

    if rpc.is_rpc_secret(value):
        return _mask_all(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        # Sorted, because protocol buffers deliver map keys in no particular order.
        return {str(key): mask_secrets(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [mask_secrets(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        # Protocol buffers carry every number as a double; counts and ports are integers.
        return int(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    urn = getattr(value, "urn", None)
    if urn is not None:
        return f"[resource {type(value).__name__}]"
    return str(value)


def _mask_all(value: Any) -> Any:
    # A secret map keeps its keys, such as a Secret's file names, so that manifests keep
    # their shape. Every value inside it is masked.
    if isinstance(value, dict):
        return {str(key): _mask_all(value[key]) for key in sorted(value, key=str)}
    return SECRET


def _unwrap(value: Any) -> Any:
    from pulumi.runtime import rpc

    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {key: _unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap(item) for item in value]
    return value


def _seed(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def simulated_address(*parts: str) -> str:
    """Return a stable address in 203.0.113.0/24 for a resource."""
    return f"203.0.113.{int(_seed(*parts)[:8], 16) % 254 + 1}"


def simulated_kubeconfig(name: str, endpoint: str) -> str:
    """Return a kubeconfig in the shape DOKS hands out, with a made-up token."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": endpoint}}],
            "users": [
                {"name": f"{name}-admin", "user": {"token": f"simulated-{_seed(name)[:32]}"}}
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": f"{name}-admin"}}],
            "current-context": name,
        }
    )


def _cluster_state(args, resource_id, seed):
    name = args.inputs.get("name", args.name)
    endpoint = f"https://{resource_id}.k8s.ondigitalocean.com"
    pool = dict(args.inputs.get("nodePool") or {})
    pool.update({"id": f"pool-{seed[:8]}", "actualNodeCount": pool.get("nodeCount", 1)})
    return resource_id, {
        "endpoint": endpoint,
        "ipv4Address": simulated_address(args.typ, args.name, "control-plane"),
        "status": "running",
        "clusterSubnet": "10.244.0.0/16",
        "serviceSubnet": "10.245.0.0/16",
        "nodePool": pool,
        "kubeConfigs": [{"rawConfig": simulated_kubeconfig(name, endpoint)}],
    }


def _cluster_lookup(args):
    name = args.get("name", "cluster")
    seed = _seed("lookup", name)
    endpoint = f"https://{seed[:8]}.k8s.ondigitalocean.com"
    return {
        "id": seed[:36],
        "name": name,
        "endpoint": endpoint,
        "kubeConfigs": [
            {
                "rawConfig": simulated_kubeconfig(name, endpoint),
                "host": endpoint,
                "token": f"simulated-{seed[:32]}",
                "clusterCaCertificate": "",
                "clientCertificate": "",
                "clientKey": "",
                "expiresAt": "2030-01-01T00:00:00Z",
            }
        ],
    }


def _versions(args):
    prefix = args.get("versionPrefix") or ""
    matching = [version for version in SIMULATED_KUBERNETES_VERSIONS if version.startswith(prefix)]
    return {
        "id": prefix or "all",
        "latestVersion": matching[0] if matching else "",
        "validVersions": list(matching),
        "versionPrefix": prefix,
    }


def _record_fqdn(inputs) -> str:
    domain = _unwrap(inputs.get("domain", ""))
    name = _unwrap(inputs.get("name", "@"))
    return domain if name == "@" else f"{name}.{domain}"


def _registry_credentials_state(args, resource_id, seed):
    import base64

    login = base64.b64encode(f"simulated:{seed[:32]}".encode()).decode("ascii")
    config = json.dumps({"auths": {"registry.digitalocean.com": {"auth": login}}})
    from pulumi.runtime import rpc

    return resource_id, {"dockerCredentials": rpc.wrap_rpc_secret(config)}


def _gate_state(args, resource_id, seed):
    inputs = _unwrap(args.inputs)
    servers = [
        server if ":" in server else f"{server}:53"
        for server in [*SIMULATED_NAMESERVERS, *inputs.get("resolvers", [])]
    ]
    report = {
        "name": inputs.get("name"),
        "type": "A",
        "expected": [inputs.get("expected")],
        "propagated": True,
        "servers": [
            {
                "server": server,
                "role": "authoritative" if server.startswith("ns") else "resolver",
                "status": "match",
                "answers": [inputs.get("expected")],
                "ttl": 60,
                "elapsed_ms": 0,
            }
            for server in servers
        ],
    }
    return resource_id, {
        "propagated_at": "simulated",
        "servers": servers,
        "report": report,
    }


def _kubernetes_state(inputs, seed):
    metadata = dict(inputs.get("metadata") or {})
    metadata.setdefault("name", f"generated-{seed[:6]}")
    metadata["uid"] = f"{seed[:8]}-{seed[8:12]}-{seed[12:16]}-{seed[16:20]}-{seed[20:32]}"
    return {"metadata": metadata}


class SimulatedDigitalOcean(pulumi.runtime.Mocks):
    """DigitalOcean, DOKS and the image build, simulated per type token.

    New resources echo their inputs and add what the provider would compute. A subclass
    may change `resource_handlers` or `call_handlers` (keyed by type token) for a test.
    """

    def new_resource(self, args):
        seed = _seed(args.typ, args.name)
        resource_id = f"{seed[:8]}-{seed[8:12]}-{seed[12:16]}-{seed[16:20]}-{seed[20:32]}"
        state = dict(args.inputs)
        handler = self.resource_handlers.get(args.typ)
        if handler is not None:
            resource_id, extra = handler(args, resource_id, seed)
            state.update(extra)
        elif args.typ.startswith("kubernetes:"):
            state.update(_kubernetes_state(args.inputs, seed))
        return resource_id, state

    def call(self, args):
        handler = self.call_handlers.get(args.token)
        if handler is None:
            return {}
        return handler(args.args)

    resource_handlers = {
        "digitalocean:index/vpc:Vpc": lambda args, rid, seed: (
            rid,
            {"ipRange": "10.116.0.0/20", "urn": f"do:vpc:{rid}"},
        ),
        "digitalocean:index/kubernetesCluster:KubernetesCluster": _cluster_state,
        "digitalocean:index/loadBalancer:LoadBalancer": lambda args, rid, seed: (
            rid,
            {"ip": simulated_address(args.typ, args.name), "status": "active"},
        ),
        "digitalocean:index/dnsRecord:DnsRecord": lambda args, rid, seed: (
            str(int(seed[:7], 16)),
            {"fqdn": _record_fqdn(args.inputs)},
        ),
        "digitalocean:index/certificate:Certificate": lambda args, rid, seed: (
            rid,
            {"state": "verified", "uuid": rid},
        ),
        "digitalocean:index/containerRegistry:ContainerRegistry": lambda args, rid, seed: (
            args.inputs.get("name", rid),
            {
                "endpoint": f"registry.digitalocean.com/{args.inputs.get('name')}",
                "serverUrl": "registry.digitalocean.com",
            },
        ),
        "digitalocean:index/containerRegistryDockerCredentials:"
        "ContainerRegistryDockerCredentials": _registry_credentials_state,
        "docker-build:index:Image": lambda args, rid, seed: (
            rid,
            {"digest": f"sha256:{seed}", "ref": f"{(args.inputs.get('tags') or [''])[0]}"},
        ),
        "pulumi-python:dynamic/propagation:Gate": _gate_state,
    }

    call_handlers = {
        "digitalocean:index/getKubernetesVersions:getKubernetesVersions": _versions,
        "digitalocean:index/getDomain:getDomain": lambda args: {
            "id": args.get("name"),
            "name": args.get("name"),
            "ttl": 1800,
            "urn": f"do:domain:{args.get('name')}",
            "zoneFile": "",
        },
        "digitalocean:index/getKubernetesCluster:getKubernetesCluster": _cluster_lookup,
    }


def make_mocks() -> SimulatedDigitalOcean:
    """Return the simulated DigitalOcean that `plan` uses."""
    return SimulatedDigitalOcean()


# A stack file with every setting and three secret files is a few tens of kilobytes.
MAX_STACK_FILE = 1024 * 1024

# What plan puts in place of a secret it cannot decrypt: values that pass the settings'
# checks without claiming anything about the real ones. The scimsession stand-in has no
# `domain`, so it matches any hostname.
ENCRYPTED_STAND_INS = {
    f"{PROJECT}:scimsession": json.dumps(
        {
            "verifier": {"salt": "stand-in", "localHash": "stand-in"},
            "encCredentials": {"kid": "stand-in", "enc": "A256GCM", "data": "stand-in"},
            "version": "2",
            "deviceUuid": "stand-in",
        }
    ),
    f"{PROJECT}:workspaceCredentials": "{}",
    f"{PROJECT}:workspaceSettings": "{}",
}


@dataclass
class StackFile:
    """A stack configuration file read as the Pulumi CLI would hand it to the program.

    `encrypted` lists the keys whose values are `secure:`, which only the Pulumi CLI can
    decrypt; they are left out of `values`.
    """

    values: dict[str, str]
    secret_keys: list[str]
    encrypted: list[str]


def read_stack_file(path: Path, *, command: str = "plan") -> StackFile:
    """Read a `Pulumi.<stack>.yaml` file and apply Pulumi.yaml's defaults, as the Pulumi CLI does.

    Values become the strings that the Pulumi runtime hands a program (lists and maps as
    JSON). Keys without a namespace belong to this project.

    :raises InvalidInput: naming `--config` when the file is missing, unreadable, larger than
        any stack file, or sets a key twice. Keys that Pulumi.yaml does not declare are left
        to the settings check, which rejects them for the program too.
    """
    try:
        document = _load_stack_yaml(_read_limited(path, command)) or {}
    except FileNotFoundError:
        raise InvalidInput(f"{command}: --config {path}: no such file") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InvalidInput(f"{command}: --config {path}: cannot be read as YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise InvalidInput(
            f"{command}: --config {path}: expected a mapping with a `config:` mapping"
        )

    project = yaml.safe_load(PROJECT_FILE.read_text(encoding="utf-8"))
    declared = project.get("config", {})
    secret_keys = [f"{PROJECT}:{key}" for key, spec in declared.items() if spec.get("secret")]

    config: dict[str, str] = {}
    for key, spec in declared.items():
        if "default" in spec:
            config[f"{PROJECT}:{key}"] = _config_string(spec["default"])
    encrypted = []
    keys_in_file = set()
    for key, value in (document.get("config") or {}).items():
        full_key = key if ":" in str(key) else f"{PROJECT}:{key}"
        if full_key in keys_in_file:
            raise InvalidInput(
                f"{command}: --config {path}: {full_key} is set twice, with and without its "
                f"{PROJECT}: namespace; accepted: one of them"
            )
        keys_in_file.add(full_key)
        if isinstance(value, dict) and "secure" in value:
            encrypted.append(full_key)
            continue
        config[full_key] = _config_string(value)
    return StackFile(config, secret_keys, encrypted)


class _StackFileLoader(yaml.SafeLoader):
    """Read a stack file as the Pulumi CLI hands values to a program: each scalar as its text.

    The Pulumi CLI passes `1.30` and `no` through as written, where YAML 1.1 would read the
    float 1.3 and the boolean false. Aliases are rejected: a few nested ones expand into
    gigabytes, and stack files have no use for them. A key set twice is rejected too.
    """

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not accepted in a stack file", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is set twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# Scalars stay text: only strings, and the null of an empty value, are resolved.
_StackFileLoader.yaml_implicit_resolvers = {}


def _load_stack_yaml(text: str):
    return yaml.load(text, Loader=_StackFileLoader)  # noqa: S506 - a SafeLoader subclass


def _read_limited(path: Path, command: str) -> str:
    """Return the file's text, refusing one larger than any stack file (or /dev/zero)."""
    with path.open("rb") as file:
        data = file.read(MAX_STACK_FILE + 1)
    if len(data) > MAX_STACK_FILE:
        raise InvalidInput(
            f"{command}: --config {path}: is larger than {MAX_STACK_FILE // 1024} KiB; "
            "accepted: a Pulumi.<stack>.yaml stack file"
        )
    return data.decode("utf-8")


def stack_name_of(path: Path) -> str:
    """Return the stack name a `Pulumi.<stack>.yaml` file is for, or "" for another name."""
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name[len("Pulumi.") :].rsplit(".", 1)[0]
    return ""


def load_stack_config(path: Path) -> tuple[dict[str, str], list[str]]:
    """Read a stack configuration file that has no encrypted values; see `read_stack_file`.

    :raises InvalidInput: as `read_stack_file` does, and when a value is encrypted.
    :returns: the config and the keys that Pulumi.yaml declares secret.
    """
    stack_file = read_stack_file(path)
    if stack_file.encrypted:
        raise InvalidInput(
            f"plan: --config {path}: {stack_file.encrypted[0]} is encrypted (secure:), which "
            "only the Pulumi CLI can decrypt; use --stack NAME to read it through the CLI"
        )
    return stack_file.values, stack_file.secret_keys


def with_stand_ins(stack_file: StackFile, path: Path) -> dict[str, str]:
    """Return the file's values with a stand-in for each encrypted secret.

    :raises InvalidInput: when a setting that is not secret is encrypted: plan needs its
        value to render the deploy.
    """
    values = dict(stack_file.values)
    for key in stack_file.encrypted:
        if key not in ENCRYPTED_STAND_INS:
            raise InvalidInput(
                f"plan: --config {path}: {key} is encrypted (secure:), and plan needs its "
                "value; accepted: a plain value for every setting except scimsession, "
                "workspaceCredentials and workspaceSettings"
            )
        values[key] = ENCRYPTED_STAND_INS[key]
    return values


def _config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return "" if value is None else str(value)


def simulate(
    config: dict[str, str], secret_keys: list[str], *, stack: str = "example", mocks=None
) -> Simulation:
    """Run the program with this config under the mock runtime and return what it registered.

    Each call runs in a fresh context, so calls do not share Pulumi's runtime state.
    `mocks` replaces the simulated DigitalOcean of `make_mocks()`, for tests.

    :raises InvalidInput: (InvalidSettings) when a setting is invalid; nothing is registered
        before settings are checked.
    """
    context = contextvars.copy_context()
    return context.run(_simulate, config, secret_keys, stack, mocks)


def _simulate(config, secret_keys, stack, mocks) -> Simulation:
    from pulumi import runtime
    from pulumi.runtime import rpc
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import set_root_resource
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    records: list[RegisteredResource] = []

    class RecordingMonitor(MockMonitor):
        """Record each registration's parent, dependencies and inputs, then return the response."""

        def RegisterResource(self, request):
            response = super().RegisterResource(request)
            if request.type == "pulumi:pulumi:Stack":
                return response
            inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
            depends_on = set(request.dependencies)
            for dependencies in request.propertyDependencies.values():
                depends_on.update(dependencies.urns)
            if request.provider:
                provider_urn = request.provider.rsplit("::", 1)[0]
                if provider_urn.startswith("urn:") and not provider_urn.endswith("::default"):
                    depends_on.add(provider_urn)
            state = self.resources[response.urn].state
            records.append(
                RegisteredResource(
                    urn=response.urn,
                    id=response.id,
                    type=request.type,
                    name=request.name,
                    parent=request.parent or None,
                    custom=request.custom,
                    depends_on=sorted(depends_on - {response.urn}),
                    inputs=inputs,
                    outputs=state,
                    protect=bool(request.protect),
                    ignore_changes=list(request.ignoreChanges),
                )
            )
            return response

    # The mock runtime binds its futures to the event loop current at set_mocks, so the
    # loop is made first and closed when the run ends.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runtime.set_all_config(config, secret_keys)
    set_root_resource(None)
    # MockSettings keeps the process-wide set of pending outputs, which may hold tasks of
    # an earlier, closed event loop. This run waits only for its own.
    runtime.settings.SETTINGS.outputs = set()

    mocks = mocks if mocks is not None else make_mocks()
    runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=False, monitor=RecordingMonitor(mocks)
    )
    root = runtime.settings.get_root_resource()
    resolved: dict[str, Any] = {}

    async def resolve_outputs():
        for key, value in root.outputs.items():
            output = pulumi.Output.from_input(value)
            plain = await output.future()
            resolved[key] = SECRET if await output.is_secret() else mask_secrets(plain)

    def program():
        runpy.run_path(str(PROGRAM), run_name="__main__")
        return resolve_outputs()

    loops_before = _open_event_loops()
    try:
        _sync_await(run_pulumi_func(program))
    finally:
        asyncio.set_event_loop(None)
        loop.close()
        _close_idle_loops(loops_before)

    for record in records:
        record.inputs = mask_secrets(record.inputs)
        record.outputs = mask_secrets(record.outputs)
    return Simulation(stack=stack, resources=_in_creation_order(records), outputs=resolved)


def _open_event_loops() -> set[int]:
    return {id(item) for item in gc.get_objects() if isinstance(item, asyncio.AbstractEventLoop)}


def _close_idle_loops(before: set[int]) -> None:
    """Close the event loops that the run left open in the SDK's worker threads.

    The Pulumi SDK (3.x, `pulumi.runtime.sync_await._ensure_event_loop`) gives a thread
    without a loop a new one and never closes it. Left to the garbage collector at exit,
    such a loop may be closed after its self-pipe, and Python prints "Exception ignored in
    BaseEventLoop.__del__" on standard error.
    """
    for item in gc.get_objects():
        if not isinstance(item, asyncio.AbstractEventLoop) or id(item) in before:
            continue
        if not item.is_running() and not item.is_closed():
            item.close()


def _in_creation_order(records: list[RegisteredResource]) -> list[RegisteredResource]:
    """Sort resources by dependency depth, then URN: registration order varies between runs."""
    by_urn = {record.urn: record for record in records}
    depth: dict[str, int] = {}

    def depth_of(urn: str) -> int:
        if urn not in depth:
            depth[urn] = 0  # guards against a cycle, which Pulumi would reject anyway
            dependencies = [d for d in by_urn[urn].depends_on if d in by_urn]
            depth[urn] = 1 + max((depth_of(d) for d in dependencies), default=-1)
        return depth[urn]

    def sort_key(record: RegisteredResource) -> tuple[int, str]:
        if record.custom:
            return depth_of(record.urn), record.urn
        children = [r for r in records if r.parent == record.urn]
        return min((sort_key(child)[0] for child in children), default=0), record.urn

    return sorted(records, key=sort_key)
