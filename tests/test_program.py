"""The deploy program under Pulumi's mocks: what it registers, with which settings, in which order."""

import json

import pytest

from infra import bridge as bridge_module
from infra.edge import HTTP_NODE_PORT, HTTPS_NODE_PORT
from tests.conftest import ProgramMocks

CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"
LOAD_BALANCER = "digitalocean:index/loadBalancer:LoadBalancer"
RECORD = "digitalocean:index/dnsRecord:DnsRecord"
GATE = "pulumi-python:dynamic/propagation:Gate"
VPC = "digitalocean:index/vpc:Vpc"
CERTIFICATE = "digitalocean:index/certificate:Certificate"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
SECRET = "kubernetes:core/v1:Secret"
CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"
K8S_PROVIDER = "pulumi:providers:kubernetes"


def only(simulation, type_token):
    found = simulation.by_type(type_token)
    assert len(found) == 1, f"expected one {type_token}, found {[r.urn for r in found]}"
    return found[0]


def named(simulation, type_token, name):
    found = [r for r in simulation.by_type(type_token) if r.inputs["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {type_token} named {name}"
    return found[0]


def bridge_container(deployment):
    return deployment.inputs["spec"]["template"]["spec"]["containers"][0]


def env_of(container):
    return {item["name"]: item.get("value") for item in container["env"]}


@pytest.fixture(scope="module")
def example(request):
    from scripts.simulation import DEFAULT_CONFIG, load_stack_config, simulate

    config, secret_keys = load_stack_config(DEFAULT_CONFIG)
    return simulate(config, secret_keys, stack="test")


def test_registers_every_component(example):
    types = {resource.type for resource in example.resources}

    for token in (
        "scimbridge:cluster:Network",
        "scimbridge:cluster:Cluster",
        "scimbridge:edge:Edge",
        "scimbridge:propagation:PropagationGate",
        "scimbridge:bridge:Bridge",
    ):
        assert token in types
    for token in (VPC, CLUSTER, K8S_PROVIDER, LOAD_BALANCER, RECORD, GATE, SECRET, SERVICE):
        assert token in types
    assert "kubernetes:core/v1:Namespace" in types
    assert "kubernetes:networking.k8s.io/v1:NetworkPolicy" in types


def test_every_child_has_a_component_parent(example):
    components = {r.urn for r in example.resources if not r.custom}

    for resource in example.resources:
        if resource.custom:
            assert resource.parent in components, f"{resource.urn} is not inside a component"


def test_cluster_settings(example):
    cluster = only(example, CLUSTER)
    inputs = cluster.inputs

    assert inputs["region"] == "nyc3"
    assert inputs["version"] == "1.34.1-do.0"
    assert inputs["autoUpgrade"] is True
    assert inputs["surgeUpgrade"] is True
    assert inputs["ha"] is False
    assert inputs["maintenancePolicy"] == {"day": "sunday", "startTime": "04:00"}
    assert inputs["nodePool"]["size"] == "s-2vcpu-4gb"
    assert inputs["nodePool"]["nodeCount"] == 2
    assert inputs["nodePool"]["tags"] == ["scim-bridge-test-nodes"]
    assert "scim-bridge" in inputs["tags"]
    assert "scim-bridge-stack:scim-bridge-test" in inputs["tags"]
    assert inputs["vpcUuid"] == only(example, VPC).id


def test_cluster_is_protected_and_ignores_version_drift(example):
    cluster = only(example, CLUSTER)

    assert cluster.protect is True
    assert cluster.ignore_changes == ["version"]


def test_cluster_protection_can_be_lifted(run_program):
    simulation = run_program({"protectCluster": "false"})

    assert only(simulation, CLUSTER).protect is False


def test_cluster_in_its_own_vpc(example):
    cluster = only(example, CLUSTER)
    vpc = only(example, VPC)

    assert vpc.urn in cluster.depends_on
    assert vpc.inputs["region"] == "nyc3"


def test_kubernetes_version_prefix_resolves_to_newest_match(run_program):
    simulation = run_program({"kubernetesVersion": "1.32"})

    assert only(simulation, CLUSTER).inputs["version"] == "1.32.9-do.1"


def test_kubernetes_provider_uses_fresh_lookup(run_program):
    def lookup(args):
        return {
            "name": args["name"],
            "kubeConfigs": [{"rawConfig": "fresh-kubeconfig-from-lookup"}],
        }

    mocks = ProgramMocks(
        calls={"digitalocean:index/getKubernetesCluster:getKubernetesCluster": lookup}
    )
    simulation = run_program(mocks=mocks)
    provider = only(simulation, K8S_PROVIDER)

    # The value itself is a secret, so only its source is visible: the cluster lookup.
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert only(simulation, CLUSTER).urn in provider.depends_on


def test_load_balancer_targets_node_tag(example):
    load_balancer = only(example, LOAD_BALANCER)
    cluster = only(example, CLUSTER)

    assert load_balancer.inputs["dropletTag"] == cluster.inputs["nodePool"]["tags"][0]
    assert load_balancer.inputs["region"] == "nyc3"
    assert load_balancer.inputs["vpcUuid"] == only(example, VPC).id


def test_letsencrypt_mode_passes_tls_through(example):
    load_balancer = only(example, LOAD_BALANCER)

    assert load_balancer.inputs["forwardingRules"] == [
        {
            "entryPort": 443,
            "entryProtocol": "tcp",
            "targetPort": HTTPS_NODE_PORT,
            "targetProtocol": "tcp",
        }
    ]
    assert load_balancer.inputs["healthcheck"]["port"] == HTTPS_NODE_PORT
    assert load_balancer.inputs["redirectHttpToHttps"] is False
    assert example.by_type(CERTIFICATE) == []


def test_record_points_at_load_balancer(run_program):
    mocks = ProgramMocks(
        resources={LOAD_BALANCER: lambda args, rid, seed: (rid, {"ip": "203.0.113.77"})}
    )
    simulation = run_program(mocks=mocks)
    record = only(simulation, RECORD)

    assert record.inputs["value"] == "203.0.113.77"
    assert record.inputs["type"] == "A"
    assert record.inputs["ttl"] == 60
    assert record.inputs["domain"] == "example.com"
    assert only(simulation, LOAD_BALANCER).urn in record.depends_on
    assert simulation.outputs["loadBalancerIp"] == "203.0.113.77"


def test_record_name_is_relative_to_zone(example):
    assert only(example, RECORD).inputs["name"] == "scim"


def test_apex_record_is_at(run_program):
    simulation = run_program({"hostname": "@"}, remove=("scimsession",))

    assert only(simulation, RECORD).inputs["name"] == "@"
    assert simulation.outputs["scimUrl"] == "https://example.com"


def test_zone_is_looked_up_not_owned(example):
    types = {resource.type for resource in example.resources}

    assert "digitalocean:index/domain:Domain" not in types


@pytest.mark.parametrize("type_token", [LOAD_BALANCER, RECORD, GATE])
def test_edge_does_not_depend_on_cluster(example, type_token):
    resource = only(example, type_token)
    dependencies = example.dependencies_of(resource.urn)
    cluster_side = {
        r.urn
        for r in example.resources
        if r.type in (CLUSTER, K8S_PROVIDER) or r.type.startswith("kubernetes:")
    }

    assert dependencies & cluster_side == set(), f"{resource.urn} waits for the cluster"


def test_gate_waits_for_record_and_address(example):
    gate = only(example, GATE)
    load_balancer = only(example, LOAD_BALANCER)

    assert only(example, RECORD).urn in gate.depends_on
    assert gate.inputs["name"] == "scim.example.com"
    assert gate.inputs["expected"] == load_balancer.outputs["ip"]
    assert gate.inputs["resolvers"] == ["1.1.1.1", "8.8.8.8", "9.9.9.9"]
    assert gate.inputs["timeout"] == 900


def test_bridge_waits_for_gate_in_letsencrypt_mode(example):
    deployment = named(example, DEPLOYMENT, bridge_module.BRIDGE_NAME)

    assert only(example, GATE).urn in deployment.depends_on


def test_bridge_does_not_wait_for_gate_in_loadbalancer_mode(run_program):
    simulation = run_program({"tlsMode": "loadbalancer"})
    deployment = named(simulation, DEPLOYMENT, bridge_module.BRIDGE_NAME)

    assert only(simulation, GATE).urn not in simulation.dependencies_of(deployment.urn)
    assert simulation.outputs["propagation"]["propagatedAt"] == "simulated"


def test_loadbalancer_mode_terminates_tls(run_program):
    simulation = run_program({"tlsMode": "loadbalancer"})
    load_balancer = only(simulation, LOAD_BALANCER)
    certificate = only(simulation, CERTIFICATE)
    rules = load_balancer.inputs["forwardingRules"]

    assert certificate.inputs["type"] == "lets_encrypt"
    assert certificate.inputs["domains"] == ["scim.example.com"]
    assert rules[0]["entryPort"] == 443
    assert rules[0]["entryProtocol"] == "https"
    assert rules[0]["targetPort"] == HTTP_NODE_PORT
    assert rules[0]["targetProtocol"] == "http"
    assert rules[0]["certificateName"] == certificate.inputs["name"]
    assert load_balancer.inputs["redirectHttpToHttps"] is True
    assert load_balancer.inputs["healthcheck"]["path"] == "/ping"
    assert load_balancer.inputs["disableLetsEncryptDnsRecords"] is True


def test_loadbalancer_mode_sets_empty_tls_domain(run_program):
    simulation = run_program({"tlsMode": "loadbalancer"})
    container = bridge_container(named(simulation, DEPLOYMENT, bridge_module.BRIDGE_NAME))

    assert env_of(container)["OP_TLS_DOMAIN"] == ""


def test_letsencrypt_mode_sets_tls_domain_and_email(example):
    container = bridge_container(named(example, DEPLOYMENT, bridge_module.BRIDGE_NAME))
    env = env_of(container)

    assert env["OP_TLS_DOMAIN"] == "scim.example.com"
    assert env["OP_LETSENCRYPT_EMAIL"] == "admin@example.com"
    assert env["OP_REDIS_URL"] == "redis://redis:6379"


def test_email_left_out_when_unset(run_program):
    simulation = run_program(remove=("letsencryptEmail",))
    container = bridge_container(named(simulation, DEPLOYMENT, bridge_module.BRIDGE_NAME))

    assert "OP_LETSENCRYPT_EMAIL" not in env_of(container)


def test_bridge_deployment_shape(example):
    deployment = named(example, DEPLOYMENT, bridge_module.BRIDGE_NAME)
    spec = deployment.inputs["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]

    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    assert pod["securityContext"]["runAsUser"] == 999
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["readinessProbe"]["httpGet"]["path"] == "/ping"
    assert container["livenessProbe"]["httpGet"]["path"] == "/ping"
    assert container["resources"]["requests"] == {"cpu": "125m", "memory": "512M"}
    assert pod["initContainers"][0]["name"] == "wait-for-redis"
    annotations = spec["template"]["metadata"]["annotations"]
    assert len(annotations[bridge_module.SECRET_DIGEST_ANNOTATION]) == 64


@pytest.mark.parametrize(
    ("tier", "cpu", "memory"),
    [("default", "125m", "512M"), ("high", "500m", "1024M"), ("very-high", "1000m", "1024M")],
)
def test_resource_tier_sets_requests(run_program, tier, cpu, memory):
    simulation = run_program({"resourceTier": tier})
    container = bridge_container(named(simulation, DEPLOYMENT, bridge_module.BRIDGE_NAME))

    assert container["resources"]["requests"] == {"cpu": cpu, "memory": memory}
    assert container["resources"]["limits"] == {"memory": memory}


def test_secret_digest_changes_with_session(run_program):
    first = run_program()
    session = json.loads(
        json.dumps(
            {
                "verifier": {"salt": "b3RoZXI", "localHash": "b3RoZXI"},
                "encCredentials": {"kid": "other"},
                "version": "2",
                "deviceUuid": "other",
            }
        )
    )
    second = run_program({"scimsession": json.dumps(session)})

    def digest(simulation):
        deployment = named(simulation, DEPLOYMENT, bridge_module.BRIDGE_NAME)
        annotations = deployment.inputs["spec"]["template"]["metadata"]["annotations"]
        return annotations[bridge_module.SECRET_DIGEST_ANNOTATION]

    assert digest(first) != digest(second)


def test_session_stored_under_scimsession_key(example):
    secret = only(example, SECRET)

    assert secret.inputs["metadata"]["name"] == "scimsession"
    # Secret values never leave the simulation; the whole stringData is masked.
    assert secret.inputs["stringData"] == "[secret]"


def test_session_mounted_where_bridge_reads_it(example):
    container = bridge_container(named(example, DEPLOYMENT, bridge_module.BRIDGE_NAME))

    assert {
        "name": "secret",
        "mountPath": "/home/opuser/.op/scimsession",
        "subPath": "scimsession",
        "readOnly": True,
    } in container["volumeMounts"]


def test_claim_without_session(run_program):
    simulation = run_program(remove=("scimsession",))
    container = bridge_container(named(simulation, DEPLOYMENT, bridge_module.BRIDGE_NAME))

    claim = only(simulation, CLAIM)
    assert claim.inputs["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert simulation.by_type(SECRET) == []
    assert {"name": "credentials", "mountPath": "/home/opuser/.op"} in container["volumeMounts"]


def test_no_claim_with_session(example):
    assert example.by_type(CLAIM) == []


def test_workspace_files_beside_session(run_program):
    simulation = run_program(
        {"workspaceCredentials": '{"type": "service_account"}', "workspaceSettings": "{}"}
    )
    container = bridge_container(named(simulation, DEPLOYMENT, bridge_module.BRIDGE_NAME))
    paths = {mount["mountPath"] for mount in container["volumeMounts"]}

    assert "/home/opuser/.op/workspace-credentials.json" in paths
    assert "/home/opuser/.op/workspace-settings.json" in paths


def test_redis_is_a_cache(example):
    redis = named(example, DEPLOYMENT, bridge_module.REDIS_NAME)
    args = redis.inputs["spec"]["template"]["spec"]["containers"][0]["args"]

    assert args == ["--maxmemory", "256mb", "--maxmemory-policy", "volatile-lru", "--save", ""]


def test_only_bridge_reaches_redis(example):
    policy = only(example, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    redis = named(example, DEPLOYMENT, bridge_module.REDIS_NAME)
    bridge = named(example, DEPLOYMENT, bridge_module.BRIDGE_NAME)
    spec = policy.inputs["spec"]

    assert spec["podSelector"]["matchLabels"] == redis.inputs["spec"]["selector"]["matchLabels"]
    assert spec["policyTypes"] == ["Ingress"]
    peers = spec["ingress"][0]["from"]
    assert peers == [
        {"podSelector": {"matchLabels": bridge.inputs["spec"]["selector"]["matchLabels"]}}
    ]
    assert spec["ingress"][0]["ports"] == [{"port": 6379, "protocol": "TCP"}]


def test_service_has_fixed_node_port(example):
    service = named(example, SERVICE, bridge_module.BRIDGE_NAME)

    assert service.inputs["spec"]["type"] == "NodePort"
    assert service.inputs["spec"]["ports"][0]["nodePort"] == HTTPS_NODE_PORT


def test_kubernetes_objects_carry_recommended_labels(example):
    for resource in example.resources:
        if resource.type.startswith("kubernetes:"):
            labels = resource.inputs["metadata"]["labels"]
            for key in ("name", "instance", "component", "part-of", "managed-by", "version"):
                assert f"app.kubernetes.io/{key}" in labels, f"{resource.urn} lacks {key}"


def test_kubernetes_objects_use_cluster_provider(example):
    provider = only(example, K8S_PROVIDER)

    for resource in example.resources:
        if resource.type.startswith("kubernetes:"):
            assert provider.urn in resource.depends_on, f"{resource.urn} skips the provider"


def test_stack_outputs(example):
    outputs = example.outputs

    assert outputs["scimUrl"] == "https://scim.example.com"
    assert outputs["hostname"] == "scim.example.com"
    assert outputs["loadBalancerIp"].startswith("203.0.113.")
    assert outputs["clusterName"] == "scim-bridge-test"
    assert outputs["clusterRegion"] == "nyc3"
    assert outputs["clusterVersion"] == "1.34.1-do.0"
    assert outputs["clusterId"]
    assert outputs["kubeconfig"] == "[secret]"
    assert outputs["namespace"] == "scim-bridge"
    assert outputs["image"].startswith("1password/scim:v2.9.13@sha256:")
    assert outputs["tlsMode"] == "letsencrypt"
    assert outputs["propagation"]["servers"][-3:] == ["1.1.1.1", "8.8.8.8", "9.9.9.9"]


def test_registry_mode_builds_and_deploys_own_image(run_program):
    simulation = run_program({"imageSource": "registry"})
    registry = only(simulation, "digitalocean:index/containerRegistry:ContainerRegistry")
    image = only(simulation, "docker-build:index:Image")
    deployment = named(simulation, DEPLOYMENT, bridge_module.BRIDGE_NAME)
    deployed = bridge_container(deployment)["image"]

    assert only(simulation, CLUSTER).inputs["registryIntegration"] is True
    assert registry.urn in only(simulation, CLUSTER).depends_on
    assert image.inputs["push"] is True
    assert image.inputs["context"]["location"].endswith("bridge_image")
    # The push credentials make the whole registries input secret.
    assert image.inputs["registries"] == "[secret]"
    assert deployed.startswith("registry.digitalocean.com/scim-bridge-example-com/scim-bridge@")
    assert deployed == simulation.outputs["image"]


def test_upstream_mode_has_no_registry(example):
    assert example.by_type("docker-build:index:Image") == []
    assert only(example, CLUSTER).inputs["registryIntegration"] is False


def test_secrets_never_in_inputs(example):
    session_marker = "placeholderplaceholder00"
    document = json.dumps([resource.inputs for resource in example.resources])

    assert session_marker not in document
    assert "simulated-" not in json.dumps(example.outputs)
