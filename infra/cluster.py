"""The network and the DOKS cluster, and the Kubernetes provider that talks to it."""

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
        offered = ", ".join(versions.valid_versions or []) or "none"
        raise InvalidSettings(
            [
                Problem(
                    "scim-bridge:kubernetesVersion",
                    f"{settings.kubernetes_version!r} matches no DOKS version; accepted: a "
                    f"prefix of an offered version ({offered}), or empty for the newest",
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
                tags=[settings.node_tag],
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
        fresh = digitalocean.get_kubernetes_cluster_output(name=cluster.name)
        self.kubeconfig = pulumi.Output.secret(fresh.kube_configs[0].raw_config)

        self.provider = kubernetes.Provider(
            f"{name}-kubernetes",
            kubeconfig=self.kubeconfig,
            # Lets a destroy finish when the cluster is already gone.
            delete_unreachable=True,
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
