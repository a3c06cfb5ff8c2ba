"""The DigitalOcean API client, against the stateful API fake on 127.0.0.1."""

import socket
import threading

import pytest

from scripts import doclient, doerrors
from scripts.doclient import DigitalOceanClient, resolve_base_url, resolve_token
from scripts.doerrors import (
    ApiUnavailable,
    Conflict,
    DigitalOceanError,
    ForeignHost,
    InvalidEndpoint,
    NotFound,
    RateLimited,
    ScopeMissing,
    TokenMissing,
    TokenRejected,
    UnexpectedResponse,
)
from tests.fakes.hostile import HostileServer


class SleepRecorder:
    """Stands in for time.sleep and keeps the delays the client asked for."""

    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


@pytest.fixture
def sleeps():
    return SleepRecorder()


class SteppingClock:
    """Stands in for time.monotonic: every reading is `step` seconds after the one before."""

    def __init__(self, step=1.0):
        self.now = 0.0
        self.step = step

    def __call__(self):
        self.now += self.step
        return self.now


@pytest.fixture
def hostile(fake_digitalocean):
    """A scripted server in front of the fake, returning odd bodies for scripted paths."""
    server = HostileServer(upstream=fake_digitalocean.base_url).start()
    yield server
    server.stop()


def hostile_client(server, token, sleeps, **options):
    settings = {"read_timeout": 5.0, "retries": 0, "sleep": sleeps, **options}
    return DigitalOceanClient(token, base_url=server.base_url, **settings)


@pytest.fixture
def client(fake_digitalocean, sleeps):
    with DigitalOceanClient(
        fake_digitalocean.token,
        base_url=fake_digitalocean.base_url,
        read_timeout=2.0,
        retries=2,
        backoff=0.25,
        sleep=sleeps,
    ) as client:
        yield client


# Token and base URL.


def test_resolve_token_prefers_argument(monkeypatch):
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", "from-env")

    assert resolve_token("  from-argument\n") == "from-argument"


def test_resolve_token_reads_digitalocean_token_first(monkeypatch):
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", "primary")
    monkeypatch.setenv("DIGITALOCEAN_ACCESS_TOKEN", "secondary")

    assert resolve_token() == "primary"


def test_resolve_token_falls_back_to_access_token(monkeypatch):
    monkeypatch.delenv("DIGITALOCEAN_TOKEN", raising=False)
    monkeypatch.setenv("DIGITALOCEAN_ACCESS_TOKEN", "secondary")

    assert resolve_token() == "secondary"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "no API token given"),
        ("   \n", "is empty"),
        ("dop_v1_abc def", "has whitespace inside"),
    ],
)
def test_resolve_token_rejects_bad_values(monkeypatch, token, message):
    monkeypatch.delenv("DIGITALOCEAN_TOKEN", raising=False)
    monkeypatch.delenv("DIGITALOCEAN_ACCESS_TOKEN", raising=False)

    with pytest.raises(TokenMissing, match=message) as caught:
        resolve_token(token)

    assert caught.value.exit_code == 2
    assert "abc def" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://api.digitalocean.com", "https://api.digitalocean.com"),
        ("https://api.digitalocean.com/v2/", "https://api.digitalocean.com"),
        ("http://127.0.0.1:8080/proxy/v2", "http://127.0.0.1:8080/proxy"),
    ],
)
def test_resolve_base_url_drops_v2(value, expected):
    assert resolve_base_url(value) == expected


def test_resolve_base_url_reads_environment(monkeypatch):
    monkeypatch.setenv("DIGITALOCEAN_END_POINT", "http://127.0.0.1:9/v2/")

    assert resolve_base_url() == "http://127.0.0.1:9"


def test_resolve_base_url_defaults_to_public_api(monkeypatch):
    monkeypatch.delenv("DIGITALOCEAN_END_POINT", raising=False)

    assert resolve_base_url() == "https://api.digitalocean.com"


@pytest.mark.parametrize("value", ["api.digitalocean.com", "ftp://127.0.0.1/", "https://"])
def test_resolve_base_url_rejects_non_http_urls(value):
    with pytest.raises(InvalidEndpoint, match="not a valid URL") as caught:
        resolve_base_url(value)

    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://user:hunter2pass@127.0.0.1:9/v2", "has a user name or password"),
        ("ftp://user:hunter2pass@127.0.0.1:9/", "not a valid URL"),
    ],
)
def test_resolve_base_url_hides_password(monkeypatch, value, message):
    monkeypatch.setenv("DIGITALOCEAN_END_POINT", value)

    with pytest.raises(InvalidEndpoint, match=message) as caught:
        resolve_base_url()

    assert caught.value.exit_code == 2
    assert "DIGITALOCEAN_END_POINT" in str(caught.value)
    assert "hunter2pass" not in str(caught.value)
    assert "127.0.0.1:9" in str(caught.value)


def test_resolve_token_rejects_non_ascii(monkeypatch):
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", "dop_v1_abc\u20acdef")

    with pytest.raises(TokenMissing, match="printable ASCII") as caught:
        resolve_token()

    assert caught.value.exit_code == 2
    assert "in DIGITALOCEAN_TOKEN" in str(caught.value)
    assert "abc" not in str(caught.value)


def test_resolve_token_names_environment_source(monkeypatch):
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", "dop_v1_\x07bell")

    with pytest.raises(TokenMissing, match="in DIGITALOCEAN_TOKEN"):
        resolve_token("dop_v1_\x07bell")


# Reading through python-digitalocean.


def test_account_reads_status_and_limits(fake_digitalocean, client):
    fake_digitalocean.set_account(status="warning", email_verified=False, droplet_limit=10)

    account = client.account()

    assert account.status == "warning"
    assert account.email_verified is False
    assert account.droplet_limit == 10


def test_listings_return_library_objects(fake_digitalocean, client):
    fake_digitalocean.add_region("nyc1", sizes=["s-2vcpu-4gb"])
    fake_digitalocean.add_size("s-2vcpu-4gb", regions=["nyc1"])
    fake_digitalocean.add_domain("example.com")
    fake_digitalocean.add_load_balancer("scim-lb", ip="203.0.113.10", tag="scim-prod")
    fake_digitalocean.add_certificate("scim-cert", dns_names=["scim.example.com"])
    fake_digitalocean.add_volume("pvc-1", tags=["k8s:abc"], droplet_ids=[7])

    assert [region.slug for region in client.regions()] == ["nyc1"]
    assert [size.slug for size in client.sizes()] == ["s-2vcpu-4gb"]
    assert [domain.name for domain in client.domains()] == ["example.com"]
    assert [(lb.name, lb.ip, lb.tag) for lb in client.load_balancers()] == [
        ("scim-lb", "203.0.113.10", "scim-prod")
    ]
    assert [cert.dns_names for cert in client.certificates()] == [["scim.example.com"]]
    assert [(volume.tags, volume.droplet_ids) for volume in client.volumes()] == [
        (["k8s:abc"], [7])
    ]
    assert {tag.name for tag in client.tags()} == {"scim-prod", "k8s:abc"}


def test_library_listing_follows_every_page(fake_digitalocean, client):
    for number in range(205):
        fake_digitalocean.add_domain(f"zone{number}.example")

    domains = client.domains()

    assert len(domains) == 205
    assert fake_digitalocean.paths("GET").count("/v2/domains") == 2


def test_records_filter_by_full_name_and_type(fake_digitalocean, client):
    fake_digitalocean.add_domain("example.com")
    fake_digitalocean.add_record("example.com", "A", "scim", "203.0.113.10")
    fake_digitalocean.add_record("example.com", "TXT", "scim", "owner=other")
    fake_digitalocean.add_record("example.com", "A", "www", "203.0.113.11")

    records = client.records("example.com", name="scim.example.com", type="A")

    assert [(record.name, record.data) for record in records] == [("scim", "203.0.113.10")]
    assert records[0].domain == "example.com"


def test_objects_share_the_client_session(fake_digitalocean, client):
    fake_digitalocean.add_domain("example.com")

    (domain,) = client.domains()
    records = client.records("example.com")

    assert domain._session is client.session
    assert all(record._session is client.session for record in records)


def test_droplet_count_reads_meta_total(fake_digitalocean, client):
    fake_digitalocean.state.droplet_count = 3

    assert client.droplet_count() == 3


# Generic access and Kubernetes, registry.


def test_list_follows_next_links(fake_digitalocean, client):
    for number in range(5):
        fake_digitalocean.add_cluster(f"cluster-{number}")

    clusters = client.list("/v2/kubernetes/clusters", "kubernetes_clusters", params={"per_page": 2})

    assert [cluster["name"] for cluster in clusters] == [f"cluster-{n}" for n in range(5)]
    assert fake_digitalocean.paths("GET").count("/v2/kubernetes/clusters") == 3


def test_kubernetes_options_lists_versions(fake_digitalocean, client):
    fake_digitalocean.set_kubernetes_options(
        regions=["nyc1"], versions=["1.33.1-do.0"], sizes=["s-2vcpu-4gb"]
    )

    options = client.kubernetes_options()

    assert [version["slug"] for version in options["versions"]] == ["1.33.1-do.0"]
    assert [region["slug"] for region in options["regions"]] == ["nyc1"]


def test_cluster_tags_include_cluster_id(fake_digitalocean, client):
    created = fake_digitalocean.add_cluster("scim", tags=["scim-prod"])

    cluster = client.cluster(created["id"])

    assert f"k8s:{created['id']}" in cluster["tags"]
    assert "scim-prod" in cluster["tags"]


def test_cluster_raises_not_found_for_unknown_id(client):
    with pytest.raises(NotFound, match="HTTP 404") as caught:
        client.cluster("7c1e5b1e-55d4-4e6a-a6a0-5e7c2f1c9f00")

    assert isinstance(caught.value, LookupError)
    assert "read Kubernetes cluster 7c1e5b1e" in str(caught.value)


def test_associated_resources_lists_live_ones(fake_digitalocean, client):
    cluster = fake_digitalocean.add_cluster("scim")
    lb = fake_digitalocean.add_load_balancer("a1b2", ip="203.0.113.10")
    volume = fake_digitalocean.add_volume("pvc-1")
    deleted = fake_digitalocean.add_volume("pvc-2")
    fake_digitalocean.associate(cluster["id"], load_balancers=[lb], volumes=[volume, deleted])
    client.delete_volume(deleted["id"])

    associated = client.associated_resources(cluster["id"])

    assert associated["load_balancers"] == [{"id": lb["id"], "name": "a1b2"}]
    assert associated["volumes"] == [{"id": volume["id"], "name": "pvc-1"}]
    assert associated["volume_snapshots"] == []


def test_registry_is_none_without_one(client):
    assert client.registry() is None


def test_registry_lists_repositories_tags_and_manifests(fake_digitalocean, client):
    fake_digitalocean.set_registry("acme")
    fake_digitalocean.add_repository("scim-bridge", tags=["v2.9.1", "latest"], manifests=2)

    repositories = client.repositories("acme")
    tags = client.repository_tags("acme", "scim-bridge")
    manifests = client.repository_manifests("acme", "scim-bridge")

    assert [(r["name"], r["manifest_count"]) for r in repositories] == [("scim-bridge", 2)]
    assert sorted(tag["tag"] for tag in tags) == ["latest", "v2.9.1"]
    assert len(manifests) == 2


def test_post_creates_tag(fake_digitalocean, client):
    body = client.post("/v2/tags", {"name": "scim-prod"}, step="create tag scim-prod")

    assert body["tag"]["name"] == "scim-prod"
    assert "scim-prod" in fake_digitalocean.state.tags


# Deleting.


def test_delete_returns_false_when_already_gone(fake_digitalocean, client):
    lb = fake_digitalocean.add_load_balancer("scim-lb", ip="203.0.113.10")

    assert client.delete_load_balancer(lb["id"]) is True
    assert client.delete_load_balancer(lb["id"]) is False
    assert fake_digitalocean.deletions == [("load_balancers", lb["id"])]


def test_delete_each_kind(fake_digitalocean, client):
    cluster = fake_digitalocean.add_cluster("scim")
    fake_digitalocean.add_domain("example.com")
    record = fake_digitalocean.add_record("example.com", "A", "scim", "203.0.113.10")
    certificate = fake_digitalocean.add_certificate("scim-cert")
    volume = fake_digitalocean.add_volume("pvc-1", tags=["scim-prod"])
    fake_digitalocean.set_registry("acme")
    manifest = fake_digitalocean.add_repository("scim-bridge")["manifests"][0]

    assert client.delete_record("example.com", record["id"])
    assert client.delete_certificate(certificate["id"])
    assert client.delete_volume(volume["id"])
    assert client.delete_tag("scim-prod")
    assert client.delete_repository_tag("acme", "scim-bridge", "latest")
    assert client.delete_repository_manifest("acme", "scim-bridge", manifest["digest"])
    assert client.delete_cluster(cluster["id"])
    assert [kind for kind, _ in fake_digitalocean.deletions] == [
        "records",
        "certificates",
        "volumes",
        "tags",
        "repository_tags",
        "repository_manifests",
        "clusters",
    ]


def test_delete_tag_with_cluster_id_colon(fake_digitalocean, client):
    cluster = fake_digitalocean.add_cluster("scim")

    assert client.delete_tag(f"k8s:{cluster['id']}") is True
    assert f"/v2/tags/k8s:{cluster['id']}" in fake_digitalocean.paths("DELETE")


def test_delete_attached_volume_raises_conflict(fake_digitalocean, client):
    volume = fake_digitalocean.add_volume("pvc-1", droplet_ids=[7])

    with pytest.raises(Conflict, match="HTTP 409: attached volume cannot be deleted"):
        client.delete_volume(volume["id"])

    assert volume["id"] in fake_digitalocean.state.volumes


# Errors, retries and timeouts.


def test_rejected_token_raises_with_hint(fake_digitalocean):
    wrong = "dop_v1_" + "f" * 64
    client = DigitalOceanClient(wrong, base_url=fake_digitalocean.base_url, retries=0)

    with pytest.raises(TokenRejected) as caught:
        client.account()

    message = str(caught.value)
    assert isinstance(caught.value, PermissionError)
    assert "read the account failed: HTTP 401" in message
    assert "DIGITALOCEAN_TOKEN" in message
    assert "scopes" in message
    assert wrong not in message
    assert caught.value.status == 401


def test_forbidden_names_missing_scope(fake_digitalocean, client):
    fake_digitalocean.inject("GET", "/v2/load_balancers", status=403, message="Forbidden")

    with pytest.raises(ScopeMissing, match="add the load_balancer:read scope"):
        client.load_balancers()


def test_rate_limit_waits_retry_after_then_succeeds(fake_digitalocean, client, sleeps):
    fake_digitalocean.add_region("nyc1")
    fake_digitalocean.inject("GET", "/v2/regions", status=429, retry_after=3)

    regions = client.regions()

    assert [region.slug for region in regions] == ["nyc1"]
    assert sleeps.delays == [3.0]
    assert fake_digitalocean.paths("GET") == ["/v2/regions", "/v2/regions"]


def test_rate_limit_on_every_attempt_raises(fake_digitalocean, client, sleeps):
    fake_digitalocean.inject("GET", "/v2/account", status=429, retry_after=1, times=3)

    with pytest.raises(RateLimited, match="read the account failed: HTTP 429"):
        client.account()

    assert sleeps.delays == [1.0, 1.0]


def test_long_retry_after_fails_at_once(fake_digitalocean, client, sleeps):
    fake_digitalocean.inject("GET", "/v2/account", status=429, retry_after=3600)

    with pytest.raises(RateLimited, match="retry after 3600 s"):
        client.account()

    assert sleeps.delays == []


def test_server_error_is_retried_with_backoff(fake_digitalocean, client, sleeps):
    fake_digitalocean.add_domain("example.com")
    fake_digitalocean.inject("GET", "/v2/domains", status=500, times=2)

    domains = client.domains()

    assert [domain.name for domain in domains] == ["example.com"]
    assert sleeps.delays == [0.25, 0.5]


def test_server_error_on_every_attempt_raises(fake_digitalocean, client):
    fake_digitalocean.inject("GET", "/v2/kubernetes/options", status=500, times=3)

    with pytest.raises(ApiUnavailable) as caught:
        client.kubernetes_options()

    assert "read the Kubernetes options failed: HTTP 500" in str(caught.value)
    assert "Server was unable to give you a response" in str(caught.value)
    assert caught.value.status == 500


def test_post_is_not_retried_after_server_error(fake_digitalocean, client, sleeps):
    fake_digitalocean.inject("POST", "/v2/tags", status=500)

    with pytest.raises(ApiUnavailable):
        client.post("/v2/tags", {"name": "scim-prod"})

    assert fake_digitalocean.paths("POST") == ["/v2/tags"]
    assert sleeps.delays == []


def test_delete_is_retried_after_server_error(fake_digitalocean, client):
    volume = fake_digitalocean.add_volume("pvc-1")
    fake_digitalocean.inject("DELETE", "/v2/volumes/*", status=503)

    assert client.delete_volume(volume["id"]) is True
    assert fake_digitalocean.deletions == [("volumes", volume["id"])]


def test_timeout_on_every_attempt_raises(fake_digitalocean, sleeps):
    client = DigitalOceanClient(
        fake_digitalocean.token,
        base_url=fake_digitalocean.base_url,
        read_timeout=0.2,
        retries=1,
        sleep=sleeps,
    )
    fake_digitalocean.inject("GET", "/v2/account", delay=1.0, times=2)

    with pytest.raises(ApiUnavailable, match="no response within 0.2 s"):
        client.account()

    assert len(sleeps.delays) == 1


def test_timeout_then_success(fake_digitalocean, sleeps):
    client = DigitalOceanClient(
        fake_digitalocean.token,
        base_url=fake_digitalocean.base_url,
        read_timeout=0.2,
        retries=1,
        sleep=sleeps,
    )
    fake_digitalocean.inject("GET", "/v2/account", delay=1.0)

    assert client.account().status == "active"


def test_refused_connection_raises_unavailable(sleeps):
    # A port that was just free on loopback, so nothing listens there.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    client = DigitalOceanClient("dop_v1_x", base_url=base_url, retries=1, sleep=sleeps)

    with pytest.raises(ApiUnavailable, match=f"cannot connect to {base_url}"):
        client.regions()

    assert len(sleeps.delays) == 1


def test_token_never_leaves_the_base_url(client):
    with pytest.raises(ForeignHost, match="must not receive the API token"):
        client.session.get("http://127.0.0.2:9/v2/account")


def test_next_link_on_another_host_is_rebased(fake_digitalocean, client, monkeypatch):
    for number in range(3):
        fake_digitalocean.add_cluster(f"cluster-{number}")
    monkeypatch.setattr(fake_digitalocean, "base_url", "https://api.digitalocean.com")

    clusters = client.list("/v2/kubernetes/clusters", "kubernetes_clusters", params={"per_page": 2})

    assert len(clusters) == 3


def test_every_error_is_a_digitalocean_error():
    leaves = [
        TokenMissing,
        InvalidEndpoint,
        TokenRejected,
        ScopeMissing,
        NotFound,
        doerrors.RequestRejected,
        Conflict,
        RateLimited,
        ApiUnavailable,
        doerrors.UnexpectedResponse,
        ForeignHost,
    ]

    assert all(issubclass(leaf, DigitalOceanError) for leaf in leaves)


def test_delete_repository_with_slash_in_name(fake_digitalocean, client):
    fake_digitalocean.set_registry("acme")
    fake_digitalocean.add_repository("team/scim-bridge", tags=["latest"])
    fake_digitalocean.add_repository("team/other", tags=["latest"])

    assert [r["name"] for r in client.repositories("acme")] == ["team/scim-bridge", "team/other"]
    assert client.delete_repository("acme", "team/scim-bridge") is True
    assert client.delete_repository("acme", "team/scim-bridge") is False
    assert list(fake_digitalocean.state.repositories) == ["team/other"]


def test_registries_lists_the_registry(fake_digitalocean, client):
    fake_digitalocean.set_registry("acme")

    assert [registry["name"] for registry in client.registries()] == ["acme"]


# Hostile answers.


def test_trickling_body_is_cut_at_deadline(hostile, fake_digitalocean, sleeps):
    hostile.script("/v2/domains", body=b" " * 2000, trickle=0.001)
    clock = SteppingClock(step=1.0)
    client = hostile_client(hostile, fake_digitalocean.token, sleeps, read_timeout=30, clock=clock)

    with pytest.raises(ApiUnavailable, match="list domains did not complete within 30 s"):
        client.domains()

    assert sleeps.delays == []


def test_body_over_size_cap_is_rejected(hostile, fake_digitalocean, sleeps):
    hostile.script("/v2/domains", body={"domains": [], "padding": "x" * 5000})
    client = hostile_client(hostile, fake_digitalocean.token, sleeps, max_body_bytes=1000)

    with pytest.raises(UnexpectedResponse, match="list domains failed: the response is larger"):
        client.domains()


def test_next_link_to_same_page_stops(hostile, fake_digitalocean, sleeps):
    page = {
        "kubernetes_clusters": [],
        "links": {"pages": {"next": hostile.base_url + "/v2/kubernetes/clusters?page=2"}},
    }
    # A bound, so that a client that loops ends and fails the test instead of hanging.
    hostile.script("/v2/kubernetes/clusters", body=page, times=50)
    client = hostile_client(hostile, fake_digitalocean.token, sleeps)

    with pytest.raises(UnexpectedResponse, match="points back to a page already read"):
        client.clusters()

    assert len(hostile.requests) == 2


def test_library_listing_with_looping_link_stops(hostile, fake_digitalocean, sleeps):
    page = {
        "domains": [{"name": "example.com"}],
        "links": {"pages": {"next": hostile.base_url + "/v2/domains?per_page=200"}},
    }
    hostile.script("/v2/domains", body=page, times=50)
    client = hostile_client(hostile, fake_digitalocean.token, sleeps)

    with pytest.raises(UnexpectedResponse, match="list domains failed: .*already read"):
        client.domains()


def test_listing_stops_after_max_pages(fake_digitalocean, sleeps):
    for number in range(5):
        fake_digitalocean.add_cluster(f"cluster-{number}")
    client = DigitalOceanClient(
        fake_digitalocean.token, base_url=fake_digitalocean.base_url, max_pages=3, sleep=sleeps
    )

    with pytest.raises(UnexpectedResponse, match="more than 3 pages"):
        client.list("/v2/kubernetes/clusters", "kubernetes_clusters", params={"per_page": 1})

    assert fake_digitalocean.paths("GET").count("/v2/kubernetes/clusters") == 3


def test_library_next_link_to_other_host_is_rebased(hostile, fake_digitalocean, sleeps):
    page = {
        "domains": [{"name": "first.example"}],
        "links": {"pages": {"next": "https://other.invalid/v2/domains?page=2&per_page=1"}},
    }
    hostile.script("/v2/domains", body=page, times=1)
    fake_digitalocean.add_domain("first.example")
    fake_digitalocean.add_domain("second.example")
    client = hostile_client(hostile, fake_digitalocean.token, sleeps)

    domains = client.domains()

    assert [domain.name for domain in domains] == ["first.example", "second.example"]
    assert hostile.requests == ["/v2/domains", "/v2/domains"]


@pytest.mark.parametrize(
    ("path", "body", "read", "message"),
    [
        ("/v2/account", {"account": None}, "account", "'account' is missing or not an object"),
        (
            "/v2/account",
            {
                "account": {
                    "status": "active",
                    "email": "a@b",
                    "email_verified": "yes",
                    "droplet_limit": 10,
                }
            },
            "account",
            "account.email_verified is not true or false",
        ),
        ("/v2/domains", {"domains": [{"name": None}]}, "domains", r"domains\[0\].name is null"),
        (
            "/v2/kubernetes/clusters",
            {"kubernetes_clusters": ["prod"]},
            "clusters",
            r"kubernetes_clusters\[0\] is not an object",
        ),
        (
            "/v2/kubernetes/options",
            {"options": {"versions": [{"kubernetes_version": "1.33"}]}},
            "kubernetes_options",
            r"options.versions\[0\].slug is missing",
        ),
        (
            "/v2/kubernetes/options",
            {"options": {"sizes": "all"}},
            "kubernetes_options",
            "options.sizes is not a list",
        ),
    ],
)
def test_odd_shapes_raise_unexpected_response(
    hostile, fake_digitalocean, sleeps, path, body, read, message
):
    hostile.script(path, body=body)
    client = hostile_client(hostile, fake_digitalocean.token, sleeps)

    with pytest.raises(UnexpectedResponse, match=message):
        getattr(client, read)()


@pytest.mark.parametrize("links", [[], None, {"pages": None}, {"pages": {"next": 7}}, "x"])
def test_odd_links_end_the_listing(hostile, fake_digitalocean, sleeps, links):
    hostile.script("/v2/domains", body={"domains": [{"name": "example.com"}], "links": links})
    client = hostile_client(hostile, fake_digitalocean.token, sleeps)

    assert [domain.name for domain in client.domains()] == ["example.com"]


def test_missing_option_lists_are_empty(hostile, fake_digitalocean, sleeps):
    hostile.script("/v2/kubernetes/options", body={"options": {"regions": [], "versions": None}})
    client = hostile_client(hostile, fake_digitalocean.token, sleeps)

    options = client.kubernetes_options()

    assert options["versions"] == []
    assert options["sizes"] == []


def test_retry_after_over_cap_fails_at_once(fake_digitalocean, client, sleeps):
    fake_digitalocean.inject("GET", "/v2/account", status=429, retry_after=60)

    with pytest.raises(RateLimited, match="retry after 60 s"):
        client.account()

    assert sleeps.delays == []


def test_total_retry_wait_is_capped(fake_digitalocean, sleeps):
    client = DigitalOceanClient(
        fake_digitalocean.token,
        base_url=fake_digitalocean.base_url,
        retries=10,
        backoff=10.0,
        sleep=sleeps,
    )
    fake_digitalocean.inject("GET", "/v2/account", status=503, times=11)

    with pytest.raises(ApiUnavailable, match="HTTP 503"):
        client.account()

    assert sleeps.delays == [10.0, 20.0]
    assert sum(sleeps.delays) <= doclient.DEFAULT_MAX_RETRY_WAIT


def test_timeout_is_retried_only_once(fake_digitalocean, sleeps):
    client = DigitalOceanClient(
        fake_digitalocean.token,
        base_url=fake_digitalocean.base_url,
        read_timeout=0.2,
        retries=4,
        sleep=sleeps,
    )
    fake_digitalocean.inject("GET", "/v2/account", delay=1.0, times=2)

    with pytest.raises(ApiUnavailable, match="no response within 0.2 s"):
        client.account()

    assert len(sleeps.delays) == 1


def test_server_message_controls_are_escaped(hostile, fake_digitalocean, sleeps):
    forged = "boom\n\x1b[32mok    region\x07 " + fake_digitalocean.token
    hostile.script("/v2/account", status=422, body={"id": "x", "message": forged})
    client = hostile_client(hostile, fake_digitalocean.token, sleeps)

    with pytest.raises(doerrors.RequestRejected) as caught:
        client.account()

    message = str(caught.value)
    assert "boom\\n\\x1b[32mok" in message
    assert "\n" not in message
    assert "\x1b" not in message
    assert "\x07" not in message
    assert fake_digitalocean.token not in message


def test_error_without_message_says_so(hostile, fake_digitalocean, sleeps):
    hostile.script("/v2/account", status=503, body={})
    client = hostile_client(hostile, fake_digitalocean.token, sleeps)

    with pytest.raises(ApiUnavailable, match=r"HTTP 503 \(no message in the response\)"):
        client.account()


def test_deeply_nested_json_is_unexpected(hostile, fake_digitalocean, sleeps):
    hostile.script("/v2/domains", body=b'{"domains":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    client = hostile_client(hostile, fake_digitalocean.token, sleeps)

    with pytest.raises(UnexpectedResponse, match="nested too deeply"):
        client.domains()


@pytest.fixture
def slow_headers():
    """A server on 127.0.0.1 that sends a status line, then one header line every 0.2 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                for _ in range(90):
                    if stop.wait(0.2):
                        break
                    try:
                        connection.sendall(b"X-Slow: 1\r\n")
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_slow_headers_time_out(slow_headers, sleeps):
    client = DigitalOceanClient(
        "dop_v1_test", base_url=slow_headers, read_timeout=1.0, retries=0, sleep=sleeps
    )

    with pytest.raises(ApiUnavailable, match="no response within 1 s"):
        client.account()
