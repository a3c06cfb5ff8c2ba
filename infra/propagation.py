"""The propagation gate: a dynamic resource that waits until the bridge's name resolves.

Its create and update poll the zone's authoritative servers and the configured recursive
resolvers through `infra.dnscheck` until all of them return the load balancer's address,
and fail after the timeout with a per-server report. The checker is imported inside the
provider's methods: the provider runs in Pulumi's dynamic-provider process, and the
program itself never needs dnspython.
"""

import datetime
import uuid

import pulumi
import pulumi.dynamic

from infra.errors import ScimBridgeError


class PropagationFailed(ScimBridgeError):
    """The record did not propagate in time, or the servers could not be asked."""


def _wait(props: dict) -> dict:
    """Wait for the record and return the outputs to store: the report and when it passed."""
    from infra import dnscheck

    try:
        report = dnscheck.wait_for_propagation(
            props["name"],
            [props["expected"]],
            resolvers=list(props["resolvers"]),
            timeout=float(props["timeout"]),
        )
    except dnscheck.PropagationTimeout as error:
        raise PropagationFailed(
            f"propagation: gave up on {props['name']} after {props['timeout']} s; {error}"
        ) from error
    except dnscheck.DnsCheckError as error:
        raise PropagationFailed(f"propagation: checking {props['name']} failed: {error}") from error

    document = report.to_dict()
    return {
        "propagated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "servers": [server["server"] for server in document["servers"]],
        "report": document,
    }


class PropagationProvider(pulumi.dynamic.ResourceProvider):
    """The gate's provider. It keeps no state, so it pickles by reference to this module."""

    def create(self, props: dict) -> pulumi.dynamic.CreateResult:
        outputs = _wait(props)
        return pulumi.dynamic.CreateResult(id_=uuid.uuid4().hex, outs={**props, **outputs})

    def diff(self, _id: str, olds: dict, news: dict) -> pulumi.dynamic.DiffResult:
        watched = ("name", "expected", "record_id", "resolvers")
        changed = [key for key in watched if olds.get(key) != news.get(key)]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[])

    def update(self, _id: str, _olds: dict, news: dict) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs={**news, **_wait(news)})


class _GateResource(pulumi.dynamic.Resource, module="propagation", name="Gate"):
    propagated_at: pulumi.Output[str]
    servers: pulumi.Output[list]
    report: pulumi.Output[dict]

    def __init__(self, name: str, props: dict, opts: pulumi.ResourceOptions):
        super().__init__(
            PropagationProvider(),
            name,
            {**props, "propagated_at": None, "servers": None, "report": None},
            opts,
        )


class PropagationGate(pulumi.ComponentResource):
    """Wait, during `pulumi up`, until `name` resolves to `expected` everywhere that counts.

    The gate runs again whenever the address, the record or the resolvers change. Its
    outputs are when it passed and which servers agreed.
    """

    propagated_at: pulumi.Output[str]
    servers: pulumi.Output[list]
    report: pulumi.Output[dict]
    gate: pulumi.Resource

    def __init__(
        self,
        name: str,
        *,
        fqdn: str,
        expected: pulumi.Input[str],
        record_id: pulumi.Input[str],
        resolvers: tuple[str, ...],
        timeout: int,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("scimbridge:propagation:PropagationGate", name, None, opts)

        self.gate = _GateResource(
            f"{name}-wait",
            {
                "name": fqdn,
                "expected": expected,
                "record_id": record_id,
                "resolvers": list(resolvers),
                "timeout": timeout,
            },
            pulumi.ResourceOptions(parent=self),
        )
        self.propagated_at = self.gate.propagated_at
        self.servers = self.gate.servers
        self.report = self.gate.report
        self.register_outputs(
            {"propagatedAt": self.propagated_at, "servers": self.servers, "report": self.report}
        )
