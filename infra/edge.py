"""The load balancer in front of the nodes, its certificate, and the bridge's A record."""

import pulumi
import pulumi_digitalocean as digitalocean

from infra.settings import Settings, TlsMode

# Fixed NodePorts of the bridge's Service, which the load balancer forwards to. Both lie in
# Kubernetes' default NodePort range (30000-32767).
HTTPS_NODE_PORT = 30443
HTTP_NODE_PORT = 30080


class Edge(pulumi.ComponentResource):
    """The load balancer, its certificate in `loadbalancer` mode, and the A record.

    The load balancer targets the node pool by tag, so nothing here depends on the
    cluster: it is created while the cluster is. The zone is only looked up, never owned,
    so destroying the stack leaves the zone and its other records alone.
    """

    load_balancer_id: pulumi.Output[str]
    load_balancer_ip: pulumi.Output[str]
    record_id: pulumi.Output[str]
    record_fqdn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        vpc_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("scimbridge:edge:Edge", name, None, opts)

        # Fails the run when the zone is not in the account's DigitalOcean DNS.
        zone = digitalocean.get_domain_output(name=settings.domain)

        if settings.tls_mode is TlsMode.LOADBALANCER:
            certificate = digitalocean.Certificate(
                f"{name}-certificate",
                name=f"{settings.resource_name}-cert",
                type="lets_encrypt",
                domains=[settings.fqdn],
                opts=pulumi.ResourceOptions(parent=self),
            )
            forwarding_rules = [
                digitalocean.LoadBalancerForwardingRuleArgs(
                    entry_port=443,
                    entry_protocol="https",
                    target_port=HTTP_NODE_PORT,
                    target_protocol="http",
                    certificate_name=certificate.name,
                ),
                # Only there for the redirect to HTTPS.
                digitalocean.LoadBalancerForwardingRuleArgs(
                    entry_port=80,
                    entry_protocol="http",
                    target_port=HTTP_NODE_PORT,
                    target_protocol="http",
                ),
            ]
            healthcheck = digitalocean.LoadBalancerHealthcheckArgs(
                port=HTTP_NODE_PORT, protocol="http", path="/ping"
            )
        else:
            # The bridge answers the TLS-ALPN-01 challenge itself, so port 443 passes
            # through untouched. No port 80 rule: it would serve the SCIM API in clear text.
            forwarding_rules = [
                digitalocean.LoadBalancerForwardingRuleArgs(
                    entry_port=443,
                    entry_protocol="tcp",
                    target_port=HTTPS_NODE_PORT,
                    target_protocol="tcp",
                ),
            ]
            # A TCP check: an HTTPS check would fail until the bridge has its certificate,
            # and it cannot get one while the load balancer sends it no traffic.
            healthcheck = digitalocean.LoadBalancerHealthcheckArgs(
                port=HTTPS_NODE_PORT, protocol="tcp"
            )

        load_balancer = digitalocean.LoadBalancer(
            f"{name}-lb",
            name=f"{settings.resource_name}-lb",
            region=settings.region,
            vpc_uuid=vpc_id,
            droplet_tag=settings.node_tag,
            forwarding_rules=forwarding_rules,
            healthcheck=healthcheck,
            redirect_http_to_https=settings.tls_mode is TlsMode.LOADBALANCER,
            # The stack owns the A record; DigitalOcean must not add its own for the certificate.
            disable_lets_encrypt_dns_records=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

        record = digitalocean.DnsRecord(
            f"{name}-record",
            domain=zone.name,
            type="A",
            # Relative to the zone: DigitalOcean appends the zone to whatever name it is given.
            name=settings.record_name,
            value=load_balancer.ip,
            ttl=settings.dns_ttl,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.load_balancer_id = load_balancer.id
        self.load_balancer_ip = load_balancer.ip
        self.record_id = record.id
        self.record_fqdn = record.fqdn
        self.register_outputs(
            {
                "loadBalancerId": self.load_balancer_id,
                "loadBalancerIp": self.load_balancer_ip,
                "recordId": self.record_id,
                "recordFqdn": self.record_fqdn,
            }
        )
