"""The preflight rules, offline: each check function on the data it is given."""

import base64
import json

import pytest

from scripts.checks import Status
from scripts.preflightchecks import (
    Deployed,
    Target,
    check_account,
    check_bearer_token,
    check_certificate_name,
    check_cluster_name,
    check_delegation,
    check_droplet_room,
    check_existing_records,
    check_kubernetes_version,
    check_load_balancer_name,
    check_node_size,
    check_region,
    check_scimsession,
    check_zone,
    longest_zone,
)

TARGET = Target(
    domain="example.com",
    hostname="scim",
    region="nyc1",
    node_size="s-2vcpu-4gb",
    node_count=2,
    kubernetes_version="",
    tls_mode="letsencrypt",
    resource_name="scim-bridge-prod",
    node_tag="scim-bridge-prod-nodes",
    stack_tag="scim-bridge-stack:scim-bridge-prod",
)
SESSION = {
    "verifier": {"salt": "c2FsdA", "localHash": "c2VjcmV0LW1hdGVyaWFs"},
    "encCredentials": {"kid": "localauthv2keykid", "enc": "A256GCM", "data": "c2VjcmV0"},
    "version": "2",
    "deviceUuid": "abcdefghijklmnopqrstuvwxyz",
    "domain": "scim.example.com",
}
JWT = (
    base64.urlsafe_b64encode(b'{"alg":"ES256","kid":"k"}').decode().rstrip("=")
    + ".eyJzdWIiOiJzY2ltIn0.c2lnbmF0dXJl"
)


@pytest.mark.parametrize(
    ("status", "verified", "expected", "phrase"),
    [
        ("active", True, Status.OK, "active, email verified"),
        ("locked", True, Status.FAIL, "the account is locked (billing)"),
        ("warning", True, Status.FAIL, "the account is warning"),
        ("active", False, Status.FAIL, "not verified"),
    ],
)
def test_account_status(status, verified, expected, phrase):
    message = "billing" if status == "locked" else ""

    result = check_account(status, message, verified)

    assert result.status is expected
    assert phrase in result.detail


@pytest.mark.parametrize(
    ("limit", "count", "expected"),
    [(25, 0, Status.OK), (10, 7, Status.OK), (10, 8, Status.WARN), (10, 9, Status.FAIL)],
)
def test_droplet_room(limit, count, expected):
    result = check_droplet_room(limit, count, 2)

    assert result.status is expected
    assert f"{count} of {limit} Droplets used" in result.detail


REGIONS = [
    {"slug": "nyc1", "available": True},
    {"slug": "sfo2", "available": True},
    {"slug": "ams2", "available": False},
]


@pytest.mark.parametrize(
    ("region", "expected", "phrase"),
    [
        ("nyc1", Status.OK, "nyc1 offers Kubernetes"),
        ("xyz9", Status.FAIL, "'xyz9' is not a DigitalOcean region"),
        ("ams2", Status.FAIL, "ams2 is not available"),
        ("sfo2", Status.FAIL, "sfo2 does not offer Kubernetes"),
    ],
)
def test_region(region, expected, phrase):
    result = check_region(region, REGIONS, ["nyc1", "ams2", "fra1"])

    assert result.status is expected
    assert phrase in result.detail
    if expected is Status.FAIL:
        assert result.fix == "set region to one of: nyc1"


@pytest.mark.parametrize(
    ("size", "expected", "phrase"),
    [
        ("s-2vcpu-4gb", Status.OK, "offered in nyc1"),
        ("s-1vcpu-2gb", Status.FAIL, "'s-1vcpu-2gb' is not offered for Kubernetes"),
        ("s-4vcpu-8gb", Status.FAIL, "s-4vcpu-8gb is not offered in nyc1"),
    ],
)
def test_node_size(size, expected, phrase):
    size_regions = {"s-2vcpu-4gb": ["nyc1"], "s-4vcpu-8gb": ["sfo2"], "s-1vcpu-2gb": ["nyc1"]}

    result = check_node_size(size, "nyc1", ["s-2vcpu-4gb", "s-4vcpu-8gb"], size_regions)

    assert result.status is expected
    assert phrase in result.detail


@pytest.mark.parametrize(
    ("prefix", "expected", "phrase"),
    [
        ("", Status.OK, "the newest resolves to 1.33.1-do.0"),
        ("1.32", Status.OK, "'1.32' resolves to 1.32.10-do.1"),
        ("1.33.1", Status.OK, "resolves to 1.33.1-do.0"),
        ("1.29", Status.FAIL, "no DOKS version matches '1.29'"),
    ],
)
def test_kubernetes_version(prefix, expected, phrase):
    versions = ["1.32.9-do.0", "1.32.10-do.1", "1.33.1-do.0"]

    result = check_kubernetes_version(prefix, versions)

    assert result.status is expected
    assert phrase in result.detail


def test_longest_zone_prefers_subzone():
    zones = ["example.com", "eu.example.com", "other.org"]

    assert longest_zone("scim.eu.example.com", zones) == "eu.example.com"
    assert longest_zone("scim.example.com", zones) == "example.com"
    assert longest_zone("example.com", zones) == "example.com"
    assert longest_zone("scim.example.net", zones) is None
    assert longest_zone("scim.notexample.com", ["example.com"]) is None


def test_zone_in_account():
    result = check_zone(TARGET, ["example.com", "other.org"])

    assert result.status is Status.OK


def test_zone_missing_from_account():
    result = check_zone(TARGET, ["other.org"])

    assert result.status is Status.FAIL
    assert "no domain of the account contains scim.example.com" in result.detail
    assert "add example.com" in result.fix


def test_zone_subzone_wins_over_domain_setting():
    result = check_zone(TARGET, ["example.com", "scim.example.com"])

    assert result.status is Status.FAIL
    assert "belongs to the account's zone scim.example.com" in result.detail
    assert result.fix == "set domain to scim.example.com and hostname to @"


def test_delegation_to_digitalocean():
    servers = ["NS1.DigitalOcean.com.", "ns2.digitalocean.com", "ns3.digitalocean.com"]

    assert check_delegation("example.com", servers).status is Status.OK


def test_delegation_elsewhere_names_servers():
    result = check_delegation("example.com", ["ns-1.awsdns-01.org", "ns-2.awsdns-02.net"])

    assert result.status is Status.FAIL
    assert "served by ns-1.awsdns-01.org, ns-2.awsdns-02.net" in result.detail
    assert "ns1.digitalocean.com, ns2.digitalocean.com, ns3.digitalocean.com" in result.fix


def test_delegation_missing():
    result = check_delegation("example.com", [])

    assert result.status is Status.FAIL
    assert "not delegated" in result.detail


def test_delegation_lookup_failure_warns():
    result = check_delegation("example.com", None, "Timeout: no answer")

    assert result.status is Status.WARN
    assert "Timeout: no answer" in result.detail


def record(record_id, type, name, data):
    return {"id": record_id, "type": type, "name": name, "data": data}


def test_existing_foreign_record_fails_naming_it():
    records = [
        record(1, "A", "scim", "198.51.100.7"),
        record(2, "TXT", "scim", "v=spf1 -all"),
        record(3, "A", "www", "198.51.100.8"),
    ]

    result = check_existing_records(TARGET, records, Deployed())

    assert result.status is Status.FAIL
    assert "A scim.example.com -> 198.51.100.7 (id 1)" in result.detail
    assert "TXT" not in result.detail
    assert "www" not in result.detail


@pytest.mark.parametrize("type", ["AAAA", "CNAME"])
def test_existing_aaaa_or_cname_fails(type):
    records = [record(5, type, "scim", "target.example.net.")]

    result = check_existing_records(TARGET, records, Deployed())

    assert result.status is Status.FAIL
    assert f"{type} scim.example.com" in result.detail


def test_record_at_own_load_balancer_is_owned():
    records = [record(1, "A", "scim", "203.0.113.10")]

    result = check_existing_records(TARGET, records, Deployed(load_balancer_ip="203.0.113.10"))

    assert result.status is Status.OK


def test_load_balancer_name_clash():
    load_balancers = [
        {"id": "lb-1", "name": "scim-bridge-prod-lb", "tag": "", "ip": "198.51.100.7"},
        {"id": "lb-2", "name": "scim-bridge-prod-lb-old", "tag": "", "ip": "198.51.100.8"},
    ]

    result = check_load_balancer_name(TARGET, load_balancers)

    assert result.status is Status.FAIL
    assert "(id lb-1)" in result.detail
    assert "lb-2" not in result.detail


def test_load_balancer_of_the_stack_is_no_clash():
    load_balancers = [
        {"id": "lb-1", "name": "scim-bridge-prod-lb", "tag": "scim-bridge-prod-nodes", "ip": "x"}
    ]

    result = check_load_balancer_name(TARGET, load_balancers)

    assert result.status is Status.OK
    assert "the stack's own" in result.detail


@pytest.mark.parametrize(
    ("tls_mode", "expected"), [("loadbalancer", Status.FAIL), ("letsencrypt", Status.WARN)]
)
def test_certificate_name_clash(tls_mode, expected):
    target = Target(**{**TARGET.__dict__, "tls_mode": tls_mode})
    certificates = [{"id": "c-1", "name": "scim-bridge-prod-cert"}]

    result = check_certificate_name(target, certificates, set())

    assert result.status is expected
    assert "(id c-1)" in result.detail


def test_certificate_used_by_own_load_balancer_is_owned():
    certificates = [{"id": "c-1", "name": "scim-bridge-prod-cert"}]

    assert check_certificate_name(TARGET, certificates, {"c-1"}).status is Status.OK


def test_cluster_name_clash():
    clusters = [{"id": "k-1", "name": "scim-bridge-prod", "tags": ["k8s", "k8s:k-1"]}]

    result = check_cluster_name(TARGET, clusters, Deployed())

    assert result.status is Status.FAIL
    assert "(id k-1)" in result.detail


def test_cluster_with_stack_tag_is_owned():
    clusters = [{"id": "k-1", "name": "scim-bridge-prod", "tags": [TARGET.stack_tag]}]

    assert check_cluster_name(TARGET, clusters, Deployed()).status is Status.OK


def test_cluster_with_recorded_id_is_owned():
    clusters = [{"id": "k-1", "name": "scim-bridge-prod", "tags": []}]

    assert check_cluster_name(TARGET, clusters, Deployed(cluster_id="k-1")).status is Status.OK


# The scimsession file and the bearer token.


def test_scimsession_valid_for_hostname():
    (result,) = check_scimsession(json.dumps(SESSION), "scimsession", "scim.example.com")

    assert result.status is Status.OK
    assert "made for scim.example.com" in result.detail


def test_scimsession_for_other_hostname_fails():
    (result,) = check_scimsession(json.dumps(SESSION), "scimsession", "bridge.example.org")

    assert result.status is Status.FAIL
    assert "made for scim.example.com, not for bridge.example.org" in result.detail


def test_scimsession_base64_is_decoded_once():
    encoded = base64.b64encode(json.dumps(SESSION).encode()).decode()

    (result,) = check_scimsession(encoded, "scimsession", "scim.example.com")

    assert result.status is Status.OK
    assert result.detail.startswith("base64 of JSON")


def test_scimsession_twice_encoded_fails():
    twice = base64.b64encode(base64.b64encode(json.dumps(SESSION).encode())).decode()

    (result,) = check_scimsession(twice, "scimsession", "scim.example.com")

    assert result.status is Status.FAIL


@pytest.mark.parametrize(
    ("raw", "phrase", "fix"),
    [
        ("", "is empty", "download the scimsession file again"),
        (json.dumps(SESSION)[:60], "is truncated", "copy the whole scimsession file"),
        (JWT, "looks like a bearer token", "the bearer token goes to the identity provider"),
        ('{"version": "2"}', "not a scimsession file", "unchanged"),
        ("not a session at all", "neither JSON nor base64", "unchanged"),
    ],
)
def test_scimsession_problems_have_distinct_messages(raw, phrase, fix):
    (result,) = check_scimsession(raw, "--scimsession s.json", "scim.example.com")

    assert result.status is Status.FAIL
    assert phrase in result.detail
    assert fix in result.fix
    assert result.detail.startswith("--scimsession s.json")


def test_scimsession_bom_and_crlf_get_own_line():
    raw = ("\ufeff" + json.dumps(SESSION, indent=2).replace("\n", "\r\n")).encode()

    session_line, encoding_line = check_scimsession(raw, "scimsession", "scim.example.com")

    assert session_line.status is Status.OK
    assert encoding_line.name == "scimsession encoding"
    assert encoding_line.status is Status.WARN
    assert "a byte-order mark and Windows line endings" in encoding_line.detail


def test_scimsession_missing():
    (result,) = check_scimsession(None, "scim-bridge:scimsession", "scim.example.com")

    assert result.status is Status.FAIL
    assert "pulumi config set --secret scim-bridge:scimsession" in result.fix


def test_scimsession_content_never_shown():
    secret_session = {**SESSION, "encCredentials": {"data": "TOP-SECRET-MATERIAL"}}
    raw = json.dumps(secret_session)

    results = [
        *check_scimsession(raw, "s", "scim.example.com"),
        *check_scimsession(raw[:-5], "s", "scim.example.com"),
    ]

    assert all("TOP-SECRET" not in f"{r.detail} {r.fix}" for r in results)


def test_bearer_token_accepts_jwt():
    result = check_bearer_token(f"  Bearer {JWT}\n")

    assert result.status is Status.OK
    assert "ES256" in result.detail
    assert JWT not in result.detail


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        ("", "empty"),
        (json.dumps(SESSION), "this is the scimsession file"),
        (JWT[:20] + " " + JWT[20:], "whitespace inside"),
        ("opaque-token-value", "1 dot-separated part(s) instead of 3"),
        ("abc.def.ghi", "the first part is not a JWT header"),
    ],
)
def test_bearer_token_problems(raw, phrase):
    result = check_bearer_token(raw)

    assert result.status is Status.FAIL
    assert phrase in result.detail
    assert "opaque-token-value" not in result.detail


def test_json_object_is_not_called_a_session():
    result = check_bearer_token('{"name": "not a session"}')

    assert result.status is Status.FAIL
    assert result.detail == "this is JSON, not a bearer token"


def test_deeply_nested_token_header_fails_cleanly():
    header = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode().rstrip("=")

    result = check_bearer_token(f"{header}.e30.c2ln")

    assert result.status is Status.FAIL
    assert "not a JWT header" in result.detail


def test_empty_kubernetes_regions_are_not_advice():
    result = check_region("nyc1", [{"slug": "nyc1", "available": True}], [])

    assert result.status is Status.FAIL
    assert "listed no available region" in result.detail
    assert "one of" not in result.fix


def test_empty_versions_are_not_advice():
    result = check_kubernetes_version("", [])

    assert result.status is Status.FAIL
    assert result.detail == "DigitalOcean listed no Kubernetes versions"
