"""Deploy the 1Password SCIM Bridge on DigitalOcean: settings, components, stack outputs."""

import pulumi

from infra.bridge import Bridge
from infra.cluster import Cluster, Network, resolve_kubernetes_version
from infra.edge import Edge
from infra.propagation import PropagationGate
from infra.settings import ImageSource, load_settings

settings = load_settings()
kubernetes_version = resolve_kubernetes_version(settings)

network = Network("network", settings)

# The load balancer, record and gate depend on nothing in the cluster, so they are
# created while the cluster is.
edge = Edge("edge", settings, vpc_id=network.vpc_id)
gate = PropagationGate(
    "propagation",
    fqdn=settings.fqdn,
    expected=edge.load_balancer_ip,
    record_id=edge.record_id,
    resolvers=settings.resolvers,
    timeout=settings.propagation_timeout,
)

registry = None
image = settings.bridge_image
if settings.image_source is ImageSource.REGISTRY:
    from infra.registry import Registry

    registry = Registry("registry", settings)
    image = registry.image

cluster = Cluster(
    "cluster",
    settings,
    version=kubernetes_version,
    vpc_id=network.vpc_id,
    registry=registry.registry if registry is not None else None,
)
bridge = Bridge("bridge", settings, provider=cluster.provider, image=image, gate=gate.gate)

pulumi.export("scimUrl", f"https://{settings.fqdn}")
pulumi.export("hostname", settings.fqdn)
pulumi.export("loadBalancerIp", edge.load_balancer_ip)
pulumi.export("clusterId", cluster.cluster_id)
pulumi.export("clusterName", cluster.name)
pulumi.export("clusterRegion", cluster.region)
pulumi.export("clusterVersion", cluster.version)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("namespace", bridge.namespace)
pulumi.export("image", bridge.image)
pulumi.export("tlsMode", settings.tls_mode.value)
pulumi.export(
    "propagation",
    {"propagatedAt": gate.propagated_at, "servers": gate.servers, "name": settings.fqdn},
)
