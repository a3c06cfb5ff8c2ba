"""The DigitalOcean API fake itself: validation, authentication, faults, paging, seeds."""

import pytest
import requests

from tests.fakes.digitalocean import FakeDigitalOcean
from tests.fakes.scenarios import seed_ready_account, seed_stack_with_decoys


@pytest.fixture
def unchecked_fake(digitalocean_openapi):
    """A fake whose violations the test inspects itself (the usual fixture fails on them)."""
    fake = FakeDigitalOcean(digitalocean_openapi).start()
    yield fake
    fake.stop()


def get(fake, path, token=None, **params):
    token = fake.token if token is None else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(fake.base_url + path, headers=headers, params=params, timeout=5)


def test_response_outside_spec_is_a_violation(unchecked_fake):
    unchecked_fake.state.account["droplet_limit"] = "twenty"

    response = get(unchecked_fake, "/v2/account")

    assert response.status_code == 200
    assert len(unchecked_fake.violations) == 1
    assert "response to GET /v2/account" in unchecked_fake.violations[0]
    assert "is not of type 'integer'" in unchecked_fake.violations[0]


def test_request_outside_spec_gets_400(unchecked_fake):
    response = get(unchecked_fake, "/v2/regions", per_page=500)

    assert response.status_code == 400
    assert response.json()["id"] == "bad_request"
    assert "per_page" in unchecked_fake.violations[0]


def test_unknown_path_is_a_violation(unchecked_fake):
    response = get(unchecked_fake, "/v2/nowhere")

    assert response.status_code == 400
    assert any("Path not found" in violation for violation in unchecked_fake.violations)


@pytest.mark.parametrize("token", ["", "dop_v1_wrong"])
def test_missing_or_wrong_token_gets_401(fake_digitalocean, token):
    response = get(fake_digitalocean, "/v2/account", token=token)

    assert response.status_code == 401
    assert response.json()["id"] == "unauthorized"
    assert response.json()["message"] == "Unable to authenticate you"


def test_faults_are_used_once_in_order(fake_digitalocean):
    fake_digitalocean.inject("GET", "/v2/regions", status=429, retry_after=2)
    fake_digitalocean.inject("GET", "/v2/regions", status=500)
    fake_digitalocean.inject("DELETE", "/v2/regions", status=503)

    first = get(fake_digitalocean, "/v2/regions")
    second = get(fake_digitalocean, "/v2/regions")
    third = get(fake_digitalocean, "/v2/regions")

    assert (first.status_code, first.headers["Retry-After"]) == (429, "2")
    assert second.status_code == 500
    assert third.status_code == 200
    assert len(fake_digitalocean.pending_faults()) == 1


def test_fault_pattern_is_a_glob(fake_digitalocean):
    fake_digitalocean.add_volume("pvc-1")
    fake_digitalocean.inject("GET", "/v2/volumes/*", status=500)

    assert get(fake_digitalocean, "/v2/volumes").status_code == 200
    assert len(fake_digitalocean.pending_faults()) == 1


def test_listing_pages_carry_links_and_total(fake_digitalocean):
    for number in range(5):
        fake_digitalocean.add_region(f"r{number}")

    body = get(fake_digitalocean, "/v2/regions", per_page=2, page=2).json()

    assert [region["slug"] for region in body["regions"]] == ["r2", "r3"]
    assert body["meta"]["total"] == 5
    assert "page=3" in body["links"]["pages"]["next"]
    assert "page=1" in body["links"]["pages"]["prev"]
    assert body["links"]["pages"]["next"].startswith(fake_digitalocean.base_url)


def test_requests_are_recorded(fake_digitalocean):
    get(fake_digitalocean, "/v2/account")
    get(fake_digitalocean, "/v2/tags", token="dop_v1_wrong")

    recorded = [(r.method, r.path, r.status) for r in fake_digitalocean.requests]
    assert recorded == [("GET", "/v2/account", 200), ("GET", "/v2/tags", 401)]


def test_deleting_tag_untags_volumes(fake_digitalocean):
    volume = fake_digitalocean.add_volume("pvc-1", tags=["scim-prod", "keep"])
    headers = {"Authorization": f"Bearer {fake_digitalocean.token}"}

    response = requests.delete(
        fake_digitalocean.base_url + "/v2/tags/scim-prod", headers=headers, timeout=5
    )

    assert response.status_code == 204
    assert volume["tags"] == ["keep"]
    assert "scim-prod" not in fake_digitalocean.state.tags


def test_tag_counts_tagged_resources(fake_digitalocean):
    fake_digitalocean.add_volume("pvc-1", tags=["scim-prod"])
    fake_digitalocean.add_load_balancer("lb", ip="203.0.113.10", tag="scim-prod")

    body = get(fake_digitalocean, "/v2/tags/scim-prod").json()

    assert body["tag"]["resources"]["count"] == 2
    assert body["tag"]["resources"]["volumes"]["count"] == 1


def test_associated_resources_of_removed_cluster_are_gone(fake_digitalocean):
    cluster = fake_digitalocean.add_cluster("scim")
    fake_digitalocean.remove_cluster(cluster["id"])

    path = f"/v2/kubernetes/clusters/{cluster['id']}/destroy_with_associated_resources"
    assert get(fake_digitalocean, path).status_code == 404
    assert fake_digitalocean.deletions == []


def test_ready_account_serves_valid_listings(fake_digitalocean):
    seed_ready_account(fake_digitalocean)

    for path in ("/v2/account", "/v2/regions", "/v2/sizes", "/v2/kubernetes/options"):
        assert get(fake_digitalocean, path).status_code == 200
    assert get(fake_digitalocean, "/v2/domains/example.com/records").status_code == 200


def test_stack_scenario_lists_valid_and_separates_owned(fake_digitalocean):
    scenario = seed_stack_with_decoys(fake_digitalocean)

    for path in (
        "/v2/load_balancers",
        "/v2/volumes",
        "/v2/certificates",
        "/v2/tags",
        "/v2/kubernetes/clusters",
        f"/v2/domains/{scenario.zone}/records",
        f"/v2/registries/{scenario.registry}/repositoriesV2",
        f"/v2/kubernetes/clusters/{scenario.cluster_id}/destroy_with_associated_resources",
    ):
        assert get(fake_digitalocean, path, per_page=200).status_code == 200, path
    assert len(scenario.decoys) >= 50
    assert not scenario.owned & scenario.decoys
