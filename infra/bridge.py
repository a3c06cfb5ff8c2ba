"""The bridge's workload: namespace, credentials Secret, Redis, the bridge and its Service."""

import pulumi
import pulumi_kubernetes as kubernetes
from pulumi_kubernetes.apps.v1 import (
    Deployment,
    DeploymentSpecArgs,
    DeploymentStrategyArgs,
)
from pulumi_kubernetes.core.v1 import (
    CapabilitiesArgs,
    ContainerArgs,
    ContainerPortArgs,
    EmptyDirVolumeSourceArgs,
    EnvVarArgs,
    ExecActionArgs,
    HTTPGetActionArgs,
    KeyToPathArgs,
    Namespace,
    PersistentVolumeClaim,
    PersistentVolumeClaimSpecArgs,
    PersistentVolumeClaimVolumeSourceArgs,
    PodSecurityContextArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProbeArgs,
    ResourceRequirementsArgs,
    SeccompProfileArgs,
    Secret,
    SecretVolumeSourceArgs,
    SecurityContextArgs,
    Service,
    ServicePortArgs,
    ServiceSpecArgs,
    TCPSocketActionArgs,
    VolumeArgs,
    VolumeMountArgs,
    VolumeResourceRequirementsArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    NetworkPolicy,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from infra.edge import HTTP_NODE_PORT, HTTPS_NODE_PORT
from infra.settings import TIER_RESOURCES, Settings, TlsMode

NAMESPACE = "scim-bridge"
BRIDGE_NAME = "op-scim-bridge"
REDIS_NAME = "redis"
SECRET_NAME = "scimsession"  # noqa: S105 (a Secret object name, not a password)
CREDENTIALS_CLAIM = "op-scim-credentials"

# NOTE: pinned by tag only: the digest of this tag could not be resolved where this was
# written. Pin it by digest (`image@sha256:...`) before relying on reproducible deploys.
REDIS_IMAGE = "redis:7.4.2-alpine"
REDIS_PORT = 6379
# The redis user of the official Alpine image.
REDIS_UID = 999
REDIS_GID = 1000

# The bridge image runs as opuser.
BRIDGE_UID = 999
HTTP_PORT = 3002
HTTPS_PORT = 8443
SESSION_DIR = "/home/opuser/.op"

# Secret keys, which are also the file names the bridge reads beside its session file.
SESSION_KEY = "scimsession"
WORKSPACE_CREDENTIALS_KEY = "workspace-credentials.json"
WORKSPACE_SETTINGS_KEY = "workspace-settings.json"

SECRET_DIGEST_ANNOTATION = "scim-bridge.io/secret-sha256"  # noqa: S105 (an annotation key)


def recommended_labels(settings: Settings, name: str, component: str, version: str) -> dict:
    """Return the Kubernetes recommended labels (app.kubernetes.io/*) for one component."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": settings.resource_name,
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "scim-bridge",
        "app.kubernetes.io/managed-by": "pulumi",
    }


def _selector(labels: dict) -> dict:
    # Selectors are immutable, so they use only the labels that never change.
    return {key: labels[key] for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}


def _image_version(image: str) -> str:
    """Return the tag of an image reference (`v2.9.13`), or "unknown" when it has none."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else "unknown"
    return tag[:63]


def _restricted_container() -> SecurityContextArgs:
    return SecurityContextArgs(
        allow_privilege_escalation=False,
        run_as_non_root=True,
        capabilities=CapabilitiesArgs(drop=["ALL"]),
    )


class Bridge(pulumi.ComponentResource):
    """Redis and the bridge in a namespace of their own, exposed on fixed NodePorts.

    One bridge replica with the Recreate strategy, because the vendor supports one bridge
    at a time. In `letsencrypt` mode the Deployment waits for `gate`, because the bridge
    asks Let's Encrypt for its certificate when it starts. Without a scimsession the
    credentials live on a persistent volume, so the setup page's result survives restarts.
    """

    namespace: pulumi.Output[str]
    image: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        provider: kubernetes.Provider,
        image: pulumi.Input[str],
        gate: pulumi.Resource | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("scimbridge:bridge:Bridge", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        version = _image_version(settings.bridge_image)
        bridge_labels = recommended_labels(settings, BRIDGE_NAME, "scim-bridge", version)
        redis_labels = recommended_labels(
            settings, REDIS_NAME, "cache", _image_version(REDIS_IMAGE)
        )

        namespace = Namespace(
            f"{name}-namespace",
            metadata=ObjectMetaArgs(
                name=NAMESPACE,
                labels={
                    **recommended_labels(settings, NAMESPACE, "namespace", version),
                    # Both workloads meet the restricted Pod Security Standard; enforce it.
                    "pod-security.kubernetes.io/enforce": "restricted",
                },
            ),
            opts=child,
        )
        in_namespace = pulumi.ResourceOptions(
            parent=self, provider=provider, depends_on=[namespace]
        )

        secret = self._secret(name, settings, bridge_labels, in_namespace)
        redis_service = self._redis(name, settings, redis_labels, bridge_labels, in_namespace)

        claim = None
        if settings.scimsession is None:
            claim = PersistentVolumeClaim(
                f"{name}-credentials",
                metadata=ObjectMetaArgs(
                    name=CREDENTIALS_CLAIM, namespace=NAMESPACE, labels=bridge_labels
                ),
                spec=PersistentVolumeClaimSpecArgs(
                    access_modes=["ReadWriteOnce"],
                    storage_class_name="do-block-storage",
                    resources=VolumeResourceRequirementsArgs(requests={"storage": "1Gi"}),
                ),
                opts=in_namespace,
            )

        depends_on = [namespace, redis_service]
        if gate is not None and settings.tls_mode is TlsMode.LETSENCRYPT:
            depends_on.append(gate)
        deployment = Deployment(
            f"{name}-deployment",
            metadata=ObjectMetaArgs(name=BRIDGE_NAME, namespace=NAMESPACE, labels=bridge_labels),
            spec=DeploymentSpecArgs(
                replicas=1,
                strategy=DeploymentStrategyArgs(type="Recreate"),
                selector=LabelSelectorArgs(match_labels=_selector(bridge_labels)),
                template=PodTemplateSpecArgs(
                    metadata=ObjectMetaArgs(
                        labels=bridge_labels,
                        annotations={SECRET_DIGEST_ANNOTATION: settings.secret_digest},
                    ),
                    spec=self._bridge_pod(settings, image, secret, claim),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=depends_on),
        )

        if settings.tls_mode is TlsMode.LETSENCRYPT:
            port = ServicePortArgs(
                name="https", port=HTTPS_PORT, target_port="https", node_port=HTTPS_NODE_PORT
            )
        else:
            port = ServicePortArgs(
                name="http", port=HTTP_PORT, target_port="http", node_port=HTTP_NODE_PORT
            )
        Service(
            f"{name}-service",
            metadata=ObjectMetaArgs(name=BRIDGE_NAME, namespace=NAMESPACE, labels=bridge_labels),
            spec=ServiceSpecArgs(type="NodePort", selector=_selector(bridge_labels), ports=[port]),
            opts=in_namespace,
        )

        self.namespace = namespace.metadata.name
        self.image = pulumi.Output.from_input(image)
        self.deployment_name = deployment.metadata.name
        self.register_outputs({"namespace": self.namespace, "image": self.image})

    def _secret(self, name, settings, labels, opts) -> Secret | None:
        files = {
            SESSION_KEY: settings.scimsession,
            WORKSPACE_CREDENTIALS_KEY: settings.workspace_credentials,
            WORKSPACE_SETTINGS_KEY: settings.workspace_settings,
        }
        string_data = {key: value for key, value in files.items() if value is not None}
        if not string_data:
            return None
        return Secret(
            f"{name}-secret",
            metadata=ObjectMetaArgs(name=SECRET_NAME, namespace=NAMESPACE, labels=labels),
            type="Opaque",
            string_data=string_data,
            opts=opts,
        )

    def _redis(self, name, settings, labels, client_labels, opts) -> Service:
        Deployment(
            f"{name}-redis",
            metadata=ObjectMetaArgs(name=REDIS_NAME, namespace=NAMESPACE, labels=labels),
            spec=DeploymentSpecArgs(
                replicas=1,
                selector=LabelSelectorArgs(match_labels=_selector(labels)),
                template=PodTemplateSpecArgs(
                    metadata=ObjectMetaArgs(labels=labels),
                    spec=PodSpecArgs(
                        automount_service_account_token=False,
                        security_context=PodSecurityContextArgs(
                            run_as_non_root=True,
                            run_as_user=REDIS_UID,
                            run_as_group=REDIS_GID,
                            seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
                        ),
                        containers=[
                            ContainerArgs(
                                name="redis",
                                image=REDIS_IMAGE,
                                # A cache only: bounded memory, evict keys with a TTL, and no
                                # snapshots to disk.
                                args=[
                                    "--maxmemory",
                                    "256mb",
                                    "--maxmemory-policy",
                                    "volatile-lru",
                                    "--save",
                                    "",
                                ],  # fmt: skip
                                ports=[ContainerPortArgs(name="redis", container_port=REDIS_PORT)],
                                readiness_probe=ProbeArgs(
                                    exec_=ExecActionArgs(command=["redis-cli", "ping"]),
                                    period_seconds=5,
                                ),
                                liveness_probe=ProbeArgs(
                                    tcp_socket=TCPSocketActionArgs(port="redis"),
                                    initial_delay_seconds=10,
                                    period_seconds=20,
                                ),
                                resources=ResourceRequirementsArgs(
                                    requests={"cpu": "50m", "memory": "300M"},
                                    limits={"memory": "320M"},
                                ),
                                security_context=SecurityContextArgs(
                                    allow_privilege_escalation=False,
                                    run_as_non_root=True,
                                    read_only_root_filesystem=True,
                                    capabilities=CapabilitiesArgs(drop=["ALL"]),
                                ),
                                volume_mounts=[VolumeMountArgs(name="data", mount_path="/data")],
                            )
                        ],
                        volumes=[VolumeArgs(name="data", empty_dir=EmptyDirVolumeSourceArgs())],
                    ),
                ),
            ),
            opts=opts,
        )
        service = Service(
            f"{name}-redis-service",
            metadata=ObjectMetaArgs(name=REDIS_NAME, namespace=NAMESPACE, labels=labels),
            spec=ServiceSpecArgs(
                selector=_selector(labels),
                ports=[ServicePortArgs(name="redis", port=REDIS_PORT, target_port="redis")],
            ),
            opts=opts,
        )
        NetworkPolicy(
            f"{name}-redis-policy",
            metadata=ObjectMetaArgs(
                name=f"{REDIS_NAME}-from-bridge", namespace=NAMESPACE, labels=labels
            ),
            spec=NetworkPolicySpecArgs(
                pod_selector=LabelSelectorArgs(match_labels=_selector(labels)),
                policy_types=["Ingress"],
                ingress=[
                    NetworkPolicyIngressRuleArgs(
                        from_=[
                            NetworkPolicyPeerArgs(
                                pod_selector=LabelSelectorArgs(
                                    match_labels=_selector(client_labels)
                                )
                            )
                        ],
                        ports=[NetworkPolicyPortArgs(protocol="TCP", port=REDIS_PORT)],
                    )
                ],
            ),
            opts=opts,
        )
        return service

    def _bridge_pod(self, settings, image, secret, claim) -> PodSpecArgs:
        env = [
            EnvVarArgs(name="OP_REDIS_URL", value=f"redis://{REDIS_NAME}:{REDIS_PORT}"),
            # Always set: left out, the bridge takes its Let's Encrypt path.
            EnvVarArgs(
                name="OP_TLS_DOMAIN",
                value=settings.fqdn if settings.tls_mode is TlsMode.LETSENCRYPT else "",
            ),
        ]
        if settings.letsencrypt_email:
            env.append(EnvVarArgs(name="OP_LETSENCRYPT_EMAIL", value=settings.letsencrypt_email))

        volumes = []
        mounts = []
        if claim is not None:
            volumes.append(
                VolumeArgs(
                    name="credentials",
                    persistent_volume_claim=PersistentVolumeClaimVolumeSourceArgs(
                        claim_name=claim.metadata.name
                    ),
                )
            )
            mounts.append(VolumeMountArgs(name="credentials", mount_path=SESSION_DIR))
        if secret is not None:
            keys = [SESSION_KEY] if settings.scimsession is not None else []
            if settings.workspace_credentials is not None:
                keys += [WORKSPACE_CREDENTIALS_KEY, WORKSPACE_SETTINGS_KEY]
            volumes.append(
                VolumeArgs(
                    name="secret",
                    secret=SecretVolumeSourceArgs(
                        secret_name=secret.metadata.name,
                        items=[KeyToPathArgs(key=key, path=key) for key in keys],
                        default_mode=0o440,
                    ),
                )
            )
            # One file each, so the directory stays writable for the bridge. A changed
            # Secret reaches the pod through the digest annotation, which rolls it.
            mounts += [
                VolumeMountArgs(
                    name="secret", mount_path=f"{SESSION_DIR}/{key}", sub_path=key, read_only=True
                )
                for key in keys
            ]

        cpu, memory = TIER_RESOURCES[settings.resource_tier]
        ping = HTTPGetActionArgs(path="/ping", port="http")
        return PodSpecArgs(
            automount_service_account_token=False,
            security_context=PodSecurityContextArgs(
                run_as_non_root=True,
                run_as_user=BRIDGE_UID,
                run_as_group=BRIDGE_UID,
                fs_group=BRIDGE_UID,
                seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
            ),
            init_containers=[
                ContainerArgs(
                    name="wait-for-redis",
                    image=REDIS_IMAGE,
                    command=[
                        "sh",
                        "-c",
                        f"until redis-cli -h {REDIS_NAME} -p {REDIS_PORT} ping | grep -q PONG; "
                        "do echo waiting for redis; sleep 2; done",
                    ],
                    resources=ResourceRequirementsArgs(
                        requests={"cpu": "10m", "memory": "16M"}, limits={"memory": "32M"}
                    ),
                    security_context=_restricted_container(),
                )
            ],
            containers=[
                ContainerArgs(
                    name="op-scim-bridge",
                    image=image,
                    ports=[
                        ContainerPortArgs(name="http", container_port=HTTP_PORT),
                        ContainerPortArgs(name="https", container_port=HTTPS_PORT),
                    ],
                    env=env,
                    # NOTE: the probes use the HTTP port in both modes, on the assumption
                    # that the bridge keeps serving it with OP_TLS_DOMAIN set (the vendor's
                    # examples declare both ports together).
                    readiness_probe=ProbeArgs(
                        http_get=ping, initial_delay_seconds=10, period_seconds=10
                    ),
                    liveness_probe=ProbeArgs(
                        http_get=ping,
                        initial_delay_seconds=30,
                        period_seconds=30,
                        failure_threshold=3,
                    ),
                    resources=ResourceRequirementsArgs(
                        requests={"cpu": cpu, "memory": memory}, limits={"memory": memory}
                    ),
                    security_context=_restricted_container(),
                    volume_mounts=mounts or None,
                )
            ],
            volumes=volumes or None,
        )
