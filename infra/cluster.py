"""The network and the DOKS cluster, and the Kubernetes provider that talks to it."""

import re

import pulumi
import pulumi_digitalocean as digitalocean
import pulumi_kubernetes as kubernetes

from infra.settings import InvalidSettings, Problem, Settings

# A weekly window at a quiet hour (UTC) for DigitalOcean's automatic patch upgrades.
MAINTENANCE_DAY = "sunday"
MAINTENANCE_START = "04:00"


def resolve_kubernetes_version(settings: Settings) -> str:
    """Return the newest DOKS version matching `kubernetesVersion` (the newest of all if empty).

    :raises InvalidSettings: when DigitalOcean offers no version with that prefix.
    """
    prefix = settings.kubernetes_version or None
    versions = digitalocean.get_kubernetes_versions(version_prefix=prefix)
    if not versions.latest_version:
        # With a prefix, the lookup lists only the matching versions, which are none here.
        every = digitalocean.get_kubernetes_versions()
        offered = ", ".join(every.valid_versions or []) or "none"
        hint = ""
        if re.fullmatch(r"[0-9]+\.[0-9]", settings.kubernetes_version):
            hint = " (YAML reads an unquoted 1.30 as 1.3: quote the value)"
        raise InvalidSettings(
            [
                Problem(
                    "scim-bridge:kubernetesVersion",
                    f"{settings.kubernetes_version!r} matches no DOKS version{hint}; accepted: "
                    f"a prefix of an offered version ({offered}), or empty for the newest",
                )
            ]
        )
    return versions.latest_version


class Network(pulumi.ComponentResource):
    """A VPC of the stack's own, shared by the cluster and the load balancer.

    It is apart from the cluster so that the load balancer, which must sit in the nodes'
    VPC, does not wait for the cluster.
    """

    vpc_id: pulumi.Output[str]

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("scimbridge:cluster:Network", name, None, opts)

        vpc = digitalocean.Vpc(
            f"{name}-vpc",
            name=f"{settings.resource_name}-vpc",
            region=settings.region,
            description=f"scim-bridge stack {settings.stack}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.vpc_id = vpc.id
        self.register_outputs({"vpcId": self.vpc_id})


class Cluster(pulumi.ComponentResource):
    """A DOKS cluster with one tagged node pool, and a Kubernetes provider for it.

    The node pool carries `settings.node_tag`, chosen before anything exists, so the load
    balancer can target the nodes without waiting for the cluster. The cluster is protected
    while `protectCluster` is true, so a change that would replace it fails instead of
    deleting the bridge and its volumes. The version is only used at creation:
    DigitalOcean's automatic patch upgrades then change it, and that is not drift.
    """

    cluster_id: pulumi.Output[str]
    name: pulumi.Output[str]
    region: pulumi.Output[str]
    version: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: kubernetes.Provider

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        version: str,
        vpc_id: pulumi.Input[str],
        registry: pulumi.Resource | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("scimbridge:cluster:Cluster", name, None, opts)

        cluster = digitalocean.KubernetesCluster(
            name,
            name=settings.resource_name,
            region=settings.region,
            version=version,
            vpc_uuid=vpc_id,
            ha=settings.ha,
            auto_upgrade=True,
            surge_upgrade=True,
            maintenance_policy=digitalocean.KubernetesClusterMaintenancePolicyArgs(
                day=MAINTENANCE_DAY, start_time=MAINTENANCE_START
            ),
            registry_integration=registry is not None,
            node_pool=digitalocean.KubernetesClusterNodePoolArgs(
                name=f"{settings.resource_name}-pool",
                size=settings.node_size,
                node_count=settings.node_count,
                tags=[settings.node_tag, *settings.all_tags],
            ),
            tags=settings.all_tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=settings.protect_cluster,
                ignore_changes=["version"],
                depends_on=[registry] if registry is not None else None,
            ),
        )

        # The kube_configs stored in the cluster's state carry a token that expires after
        # seven days. Looking the cluster up again on every run fetches a fresh one, so a
        # stack keeps updating weeks later (`pulumi destroy --run-program` does the same).
        # Keyed on the id, which stays unknown in a preview of a new cluster, so a first
        # preview does not look up a cluster that does not exist yet.
        existing_name = pulumi.Output.all(cluster.id, cluster.name).apply(lambda pair: pair[1])
        fresh = digitalocean.get_kubernetes_cluster_output(
            name=existing_name,
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[cluster]),
        )
        self.kubeconfig = pulumi.Output.secret(fresh.kube_configs[0].raw_config)

        self.provider = kubernetes.Provider(
            f"{name}-kubernetes",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.cluster_id = cluster.id
        self.name = cluster.name
        self.region = cluster.region
        self.version = cluster.version
        self.register_outputs(
            {
                "clusterId": self.cluster_id,
                "name": self.name,
                "region": self.region,
                "version": self.version,
                "kubeconfig": self.kubeconfig,
            }
        )
