"""A stateful fake of the DigitalOcean API on 127.0.0.1, checked against DigitalOcean's OpenAPI.

Every request the code under test sends, and every response the fake returns, is validated with
openapi-core against the vendored description in tests/data/digitalocean-openapi. A request
that breaks it gets a 400 and both kinds of break are kept in `violations`, which the pytest
fixture turns into a test error, so the fake cannot drift from the real API unnoticed.

State lives in plain dicts in the API's own shape; the `add_*` helpers build complete objects.
`inject` queues one-shot faults (a status, a Retry-After, a delay) per method and path pattern,
and `requests` records every request so that tests can assert what was and was not deleted.
"""

from __future__ import annotations

import copy
import fnmatch
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

SPEC_PATH = (
    Path(__file__).resolve().parent.parent
    / "data"
    / "digitalocean-openapi"
    / "digitalocean-public.v2.json"
)
# The server URL the OpenAPI description lists. Requests are validated as if sent there, so the
# description's paths match; nothing is ever sent to it.
SPEC_SERVER = "https://api.digitalocean.com"
VALID_TOKEN = "dop_v1_" + "0123456789abcdef" * 4
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 200
NAMESERVERS = ("ns1.digitalocean.com", "ns2.digitalocean.com", "ns3.digitalocean.com")
CREATED_AT = "2026-01-15T10:00:00Z"

_REGISTRY = r"/v2/registr(?:y|ies)/(?P<registry>[^/]+)"
_REPOSITORY = _REGISTRY + r"/repositories/(?P<repository>[^/]+)"

_ERROR_IDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    412: "precondition_failed",
    422: "unprocessable_entity",
    429: "too_many_requests",
    500: "server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
_ERROR_MESSAGES = {
    401: "Unable to authenticate you",
    404: "The resource you were accessing could not be found.",
    429: "API Rate limit exceeded.",
    500: "Server was unable to give you a response.",
}


def load_openapi() -> OpenAPI:
    """Load and check DigitalOcean's OpenAPI description (about 5 s, so once per session)."""
    return OpenAPI.from_file_path(str(SPEC_PATH))


def error_body(status: int, message: str = "") -> dict:
    """Return DigitalOcean's error body for a status: `{"id", "message", "request_id"}`."""
    return {
        "id": _ERROR_IDS.get(status, "error"),
        "message": message or _ERROR_MESSAGES.get(status, f"HTTP {status}"),
        "request_id": str(uuid.uuid4()),
    }


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received: method, path (without query) and query parameters."""

    method: str
    path: str
    query: dict[str, str]
    status: int


@dataclass
class Fault:
    """A one-shot fault: respond with `status` (and `retry_after`), or first wait `delay` s."""

    method: str
    pattern: str
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    message: str = ""


class _HttpError(Exception):
    def __init__(self, status: int, message: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _Route:
    method: str
    regex: re.Pattern
    handler: Callable[..., tuple[int, Any]]


@dataclass
class FakeState:
    """The account the fake serves. Collections are keyed by id (or name) in insertion order."""

    account: dict = field(default_factory=dict)
    regions: list[dict] = field(default_factory=list)
    sizes: list[dict] = field(default_factory=list)
    kubernetes_options: dict = field(
        default_factory=lambda: {"regions": [], "versions": [], "sizes": []}
    )
    clusters: dict[str, dict] = field(default_factory=dict)
    associated: dict[str, dict] = field(default_factory=dict)
    domains: dict[str, dict] = field(default_factory=dict)
    records: dict[str, list[dict]] = field(default_factory=dict)
    load_balancers: dict[str, dict] = field(default_factory=dict)
    certificates: dict[str, dict] = field(default_factory=dict)
    volumes: dict[str, dict] = field(default_factory=dict)
    tags: dict[str, dict] = field(default_factory=dict)
    registry: dict | None = None
    repositories: dict[str, dict] = field(default_factory=dict)
    droplet_count: int = 0


class FakeDigitalOcean:
    """The fake API server. Start it with `start()`, point the client at `base_url`."""

    def __init__(self, openapi: OpenAPI, *, token: str = VALID_TOKEN):
        self.openapi = openapi
        self.token = token
        self.state = FakeState()
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.deletions: list[tuple[str, str]] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._record_ids = itertools.count(10_000_001)
        self._server = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self._routes = self._build_routes()
        self._droplet_template = self._load_droplet_template()
        self.set_account()

    # Server lifecycle.

    def start(self) -> FakeDigitalOcean:
        """Serve on 127.0.0.1 on a free port, in a background thread."""
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        # A short poll interval keeps `stop()` (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the server thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    # Assertions for tests.

    def paths(self, method: str) -> list[str]:
        """Return the path of every request with this method, in order."""
        return [request.path for request in self.requests if request.method == method]

    def inject(
        self,
        method: str,
        pattern: str,
        *,
        status: int | None = None,
        retry_after: str | int | None = None,
        delay: float = 0.0,
        message: str = "",
        times: int = 1,
    ) -> None:
        """Queue `times` one-shot faults for requests whose path matches a glob `pattern`.

        A fault responds with `status` (and a Retry-After header when given) instead of handling
        the request, or first waits `delay` seconds, which a client sees as a timeout when its
        read timeout is shorter. Faults are used in the order they were queued.
        """
        retry_after = None if retry_after is None else str(retry_after)
        with self._lock:
            for _ in range(times):
                self._faults.append(
                    Fault(method.upper(), pattern, status, retry_after, delay, message)
                )

    def pending_faults(self) -> list[Fault]:
        """Return the faults queued and not yet used."""
        with self._lock:
            return list(self._faults)

    # State builders. Each returns the object as the API lists it.

    def set_account(
        self,
        *,
        status: str = "active",
        email_verified: bool = True,
        droplet_limit: int = 25,
        floating_ip_limit: int = 3,
        email: str = "ops@example.com",
        status_message: str = "",
    ) -> dict:
        self.state.account = {
            "droplet_limit": droplet_limit,
            "floating_ip_limit": floating_ip_limit,
            "email": email,
            "name": "Platform Team",
            "uuid": "b6fr89dbf6d9156cace5f3c78dc9851d957381ef",
            "email_verified": email_verified,
            "status": status,
            "status_message": status_message,
        }
        return self.state.account

    def add_region(self, slug: str, *, name: str = "", available: bool = True, sizes=()) -> dict:
        region = {
            "name": name or slug.upper(),
            "slug": slug,
            "features": ["backups", "ipv6", "metadata", "storage", "install_agent"],
            "available": available,
            "sizes": list(sizes),
        }
        self.state.regions.append(region)
        return region

    def add_size(self, slug: str, *, regions=(), vcpus: int = 2, memory: int = 4096) -> dict:
        size = {
            "slug": slug,
            "memory": memory,
            "vcpus": vcpus,
            "disk": 80,
            "transfer": 4.0,
            "price_monthly": 24.0,
            "price_hourly": 0.03571,
            "regions": list(regions),
            "available": True,
            "description": "Basic",
        }
        self.state.sizes.append(size)
        return size

    def set_kubernetes_options(self, *, regions=(), versions=(), sizes=()) -> dict:
        """Set /v2/kubernetes/options from region slugs, version slugs and size slugs."""
        options = self.state.kubernetes_options
        options["regions"] = [{"name": slug.upper(), "slug": slug} for slug in regions]
        options["versions"] = [
            {
                "slug": slug,
                "kubernetes_version": slug.split("-do.")[0],
                "supported_features": ["cluster-autoscaler", "docr-integration"],
            }
            for slug in versions
        ]
        options["sizes"] = [{"name": slug, "slug": slug} for slug in sizes]
        return options

    def add_cluster(
        self,
        name: str,
        *,
        cluster_id: str | None = None,
        region: str = "nyc1",
        version: str = "1.33.1-do.0",
        tags=(),
        node_size: str = "s-2vcpu-4gb",
        node_count: int = 2,
        state: str = "running",
    ) -> dict:
        """Add a cluster. Like DOKS, its tags include `k8s` and `k8s:<cluster id>`."""
        cluster_id = cluster_id or str(uuid.uuid4())
        cluster_tags = ["k8s", f"k8s:{cluster_id}", *tags]
        pool_id = str(uuid.uuid4())
        cluster = {
            "id": cluster_id,
            "name": name,
            "region": region,
            "version": version,
            "cluster_subnet": "10.244.0.0/16",
            "service_subnet": "10.245.0.0/16",
            "vpc_uuid": str(uuid.uuid4()),
            "ipv4": "68.183.121.157",
            "endpoint": f"https://{cluster_id}.k8s.ondigitalocean.com",
            "tags": cluster_tags,
            "node_pools": [
                {
                    "id": pool_id,
                    "name": f"{name}-pool",
                    "size": node_size,
                    "count": node_count,
                    "tags": ["k8s", f"k8s:{cluster_id}", "k8s:worker", *tags],
                    "labels": None,
                    "taints": [],
                    "auto_scale": False,
                    "min_nodes": 0,
                    "max_nodes": 0,
                    "nodes": [],
                }
            ],
            "maintenance_policy": {"start_time": "00:00", "duration": "4h0m0s", "day": "any"},
            "auto_upgrade": False,
            "status": {"state": state, "message": "Cluster is " + state},
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "surge_upgrade": False,
            "registry_enabled": False,
            "ha": False,
        }
        self.state.clusters[cluster_id] = cluster
        self.state.associated[cluster_id] = {
            "load_balancers": [],
            "volumes": [],
            "volume_snapshots": [],
        }
        for tag in cluster_tags:
            self._ensure_tag(tag)
        return cluster

    def remove_cluster(self, cluster_id: str) -> None:
        """Drop a cluster as an outside `pulumi destroy` would, without recording a deletion.

        What DOKS grew around it (load balancers, volumes, the `k8s:<id>` tag) stays behind.
        """
        del self.state.clusters[cluster_id]

    def associate(self, cluster_id: str, *, load_balancers=(), volumes=(), snapshots=()) -> dict:
        """List resources (objects with `id` and `name`) as the cluster's associated resources."""
        associated = self.state.associated[cluster_id]
        for kind, items in (
            ("load_balancers", load_balancers),
            ("volumes", volumes),
            ("volume_snapshots", snapshots),
        ):
            associated[kind].extend({"id": item["id"], "name": item["name"]} for item in items)
        return associated

    def add_domain(self, name: str, *, ttl: int = 1800) -> dict:
        """Add a domain with its SOA and the three DigitalOcean NS records, as DO creates them."""
        domain = {"name": name, "ttl": ttl, "zone_file": ""}
        self.state.domains[name] = domain
        self.state.records[name] = []
        self.add_record(name, "SOA", "@", "1800", ttl=1800)
        for server in NAMESERVERS:
            self.add_record(name, "NS", "@", server, ttl=1800)
        return domain

    def add_record(
        self, domain: str, type: str, name: str, data: str, *, ttl: int = 300, record_id=None
    ) -> dict:
        """Add a record; `name` is relative to the domain (`scim`, or `@` for the apex)."""
        record = {
            "id": record_id if record_id is not None else next(self._record_ids),
            "type": type,
            "name": name,
            "data": data,
            "priority": None,
            "port": None,
            "ttl": ttl,
            "weight": None,
            "flags": None,
            "tag": None,
        }
        self.state.records[domain].append(record)
        return record

    def add_load_balancer(
        self,
        name: str,
        *,
        ip: str,
        lb_id: str | None = None,
        tag: str = "",
        tags=(),
        region: str = "nyc1",
        droplet_ids=(),
        status: str = "active",
    ) -> dict:
        """Add a load balancer. `tag` selects its target Droplets and `tags` are its own tags.

        DigitalOcean's OpenAPI description lists no `tags` on load balancers, but the API
        returns them, and DOKS tags the load balancers it creates with `k8s:<cluster id>`
        (the cloud controller manager sets them on create).
        """
        lb_id = lb_id or str(uuid.uuid4())
        load_balancer = {
            "id": lb_id,
            "name": name,
            "ip": ip,
            "size_unit": 1,
            "algorithm": "round_robin",
            "status": status,
            "created_at": CREATED_AT,
            "forwarding_rules": [
                {
                    "entry_protocol": "tcp",
                    "entry_port": 443,
                    "target_protocol": "tcp",
                    "target_port": 30443,
                    "certificate_id": "",
                    "tls_passthrough": False,
                }
            ],
            "health_check": {
                "protocol": "tcp",
                "port": 30443,
                "path": "",
                "check_interval_seconds": 10,
                "response_timeout_seconds": 5,
                "healthy_threshold": 3,
                "unhealthy_threshold": 3,
            },
            "sticky_sessions": {"type": "none"},
            "redirect_http_to_https": False,
            "enable_proxy_protocol": False,
            "enable_backend_keepalive": False,
            "vpc_uuid": str(uuid.uuid4()),
            "region": {
                "name": region.upper(),
                "slug": region,
                "features": ["backups", "ipv6", "metadata", "storage", "install_agent"],
                "available": True,
                "sizes": [],
            },
            "droplet_ids": list(droplet_ids),
            "tag": tag,
            "tags": list(tags),
        }
        self.state.load_balancers[lb_id] = load_balancer
        for name_of_tag in (tag, *tags):
            if name_of_tag:
                self._ensure_tag(name_of_tag)
        return load_balancer

    def add_certificate(
        self, name: str, *, dns_names=(), certificate_id: str | None = None, type="lets_encrypt"
    ) -> dict:
        certificate_id = certificate_id or str(uuid.uuid4())
        certificate = {
            "id": certificate_id,
            "name": name,
            "not_after": "2026-04-15T10:00:00Z",
            "sha1_fingerprint": uuid.uuid4().hex + "0" * 8,
            "created_at": CREATED_AT,
            "dns_names": list(dns_names),
            "state": "verified",
            "type": type,
        }
        self.state.certificates[certificate_id] = certificate
        return certificate

    def add_volume(
        self,
        name: str,
        *,
        volume_id: str | None = None,
        tags=(),
        droplet_ids=(),
        region: str = "nyc1",
        size_gigabytes: int = 10,
    ) -> dict:
        """Add a volume; non-empty `droplet_ids` means attached, which blocks its deletion."""
        volume_id = volume_id or str(uuid.uuid4())
        volume = {
            "id": volume_id,
            "droplet_ids": list(droplet_ids),
            "name": name,
            "description": "",
            "size_gigabytes": size_gigabytes,
            "created_at": CREATED_AT,
            "tags": list(tags),
            "region": {
                "name": region.upper(),
                "slug": region,
                "features": ["backups", "ipv6", "metadata", "storage", "install_agent"],
                "available": True,
                "sizes": [],
            },
            "filesystem_type": "ext4",
            "filesystem_label": "",
        }
        self.state.volumes[volume_id] = volume
        for tag in tags:
            self._ensure_tag(tag)
        return volume

    def add_tag(self, name: str) -> dict:
        return self._ensure_tag(name)

    def _ensure_tag(self, name: str) -> dict:
        return self.state.tags.setdefault(name, {"name": name})

    def set_registry(self, name: str, *, region: str = "nyc3") -> dict:
        self.state.registry = {
            "name": name,
            "created_at": CREATED_AT,
            "region": region,
            "storage_usage_bytes": 0,
            "storage_usage_bytes_updated_at": CREATED_AT,
        }
        return self.state.registry

    def add_repository(self, name: str, *, tags=("latest",), manifests: int = 1) -> dict:
        """Add a repository to the registry with `manifests` manifests; the first carries `tags`."""
        registry = self.state.registry["name"]
        repository = {"name": name, "manifests": []}
        for index in range(manifests):
            digest = "sha256:" + uuid.uuid4().hex + uuid.uuid4().hex
            repository["manifests"].append(
                {
                    "registry_name": registry,
                    "repository": name,
                    "digest": digest,
                    "compressed_size_bytes": 1972332,
                    "size_bytes": 2816445,
                    "updated_at": CREATED_AT,
                    "tags": list(tags) if index == 0 else [],
                    "blobs": [],
                }
            )
        self.state.repositories[name] = repository
        return repository

    # Request handling.

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        # DigitalOcean serves `/v2/regions/` like `/v2/regions`, and python-digitalocean sends
        # the trailing slash, but the OpenAPI description lists paths without it.
        path = request.path.rstrip("/") or "/"
        # Routing and validation use the path as sent, because a repository name carries its
        # `/` encoded as `%2F` inside one path segment.
        raw_path = request.environ.get("RAW_URI", request.path).split("?", 1)[0]
        raw_path = raw_path.rstrip("/") or "/"
        method = request.method.upper()
        query = request.args.to_dict()

        fault = self._take_fault(method, path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)

        mock_request = MockRequest(
            SPEC_SERVER,
            method,
            raw_path,
            args=request.args,
            headers=dict(request.headers),
            data=request.get_data() or None,
            content_type=request.mimetype or "application/json",
        )
        status, body, headers = self._respond(mock_request, request, method, raw_path, fault)

        data = b"" if body is None else json.dumps(body).encode()
        headers = {
            "ratelimit-limit": "5000",
            "ratelimit-remaining": "4999",
            "ratelimit-reset": str(int(time.time()) + 60),
            **headers,
        }
        content_type = "application/json" if body is not None else ""
        mock_response = MockResponse(data, status_code=status, headers=headers)
        if body is not None:
            try:
                self.openapi.validate_response(mock_request, mock_response)
            except Exception as error:  # openapi-core raises several unrelated classes
                self._violation(f"response to {method} {path} ({status})", error)

        with self._lock:
            self.requests.append(RecordedRequest(method, path, query, status))
        response = Response(data, status=status, headers=headers)
        if content_type:
            response.content_type = content_type
        return response

    def _respond(self, mock_request, request, method, path, fault):
        query = request.args.to_dict()
        if not self._authorized(request):
            return 401, error_body(401), {}

        try:
            self.openapi.validate_request(mock_request)
        except Exception as error:  # openapi-core raises several unrelated classes
            message = self._violation(f"request {method} {path}", error)
            return 400, error_body(400, message), {}

        if fault is not None and fault.status is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return fault.status, error_body(fault.status, fault.message), headers

        for route in self._routes:
            match = route.regex.fullmatch(path)
            if route.method == method and match:
                try:
                    with self._lock:
                        parameters = {k: unquote(v) for k, v in match.groupdict().items()}
                        status, body = route.handler(
                            query=query, body=_json_body(request), path=path, **parameters
                        )
                except _HttpError as error:
                    return error.status, error_body(error.status, error.message), {}
                return status, body, {}

        message = f"the fake does not serve {method} {path}"
        self._violation("routing", message)
        return 404, error_body(404, message), {}

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header == f"Bearer {self.token}"

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.method == method and fnmatch.fnmatchcase(path, fault.pattern):
                    return self._faults.pop(index)
        return None

    def _violation(self, context: str, error: object) -> str:
        message = f"{context}: {type(error).__name__}: {error}"
        cause = getattr(error, "__cause__", None)
        if cause is not None and str(cause) not in message:
            message += f" ({cause})"
        with self._lock:
            self.violations.append(message)
        return message

    # Routes. Each handler runs under the lock and returns (status, body).

    def _build_routes(self) -> list[_Route]:
        table = [
            ("GET", r"/v2/account", self._get_account),
            ("GET", r"/v2/regions", self._list("regions", lambda: self.state.regions)),
            ("GET", r"/v2/sizes", self._list("sizes", lambda: self.state.sizes)),
            ("GET", r"/v2/droplets", self._list_droplets),
            ("GET", r"/v2/kubernetes/options", self._get_kubernetes_options),
            (
                "GET",
                r"/v2/kubernetes/clusters",
                self._list("kubernetes_clusters", lambda: list(self.state.clusters.values())),
            ),
            ("GET", r"/v2/kubernetes/clusters/(?P<cluster_id>[^/]+)", self._get_cluster),
            ("DELETE", r"/v2/kubernetes/clusters/(?P<cluster_id>[^/]+)", self._delete_cluster),
            (
                "GET",
                r"/v2/kubernetes/clusters/(?P<cluster_id>[^/]+)/destroy_with_associated_resources",
                self._get_associated,
            ),
            (
                "GET",
                r"/v2/domains",
                self._list("domains", lambda: list(self.state.domains.values())),
            ),
            ("GET", r"/v2/domains/(?P<domain>[^/]+)", self._get_domain),
            ("GET", r"/v2/domains/(?P<domain>[^/]+)/records", self._list_records),
            (
                "DELETE",
                r"/v2/domains/(?P<domain>[^/]+)/records/(?P<record_id>[^/]+)",
                self._delete_record,
            ),
            (
                "GET",
                r"/v2/load_balancers",
                self._list("load_balancers", lambda: list(self.state.load_balancers.values())),
            ),
            ("GET", r"/v2/load_balancers/(?P<item_id>[^/]+)", self._get("load_balancers")),
            ("DELETE", r"/v2/load_balancers/(?P<item_id>[^/]+)", self._delete("load_balancers")),
            (
                "GET",
                r"/v2/certificates",
                self._list("certificates", lambda: list(self.state.certificates.values())),
            ),
            ("GET", r"/v2/certificates/(?P<item_id>[^/]+)", self._get("certificates")),
            ("DELETE", r"/v2/certificates/(?P<item_id>[^/]+)", self._delete("certificates")),
            ("GET", r"/v2/volumes", self._list_volumes),
            ("GET", r"/v2/volumes/(?P<item_id>[^/]+)", self._get("volumes")),
            ("DELETE", r"/v2/volumes/(?P<item_id>[^/]+)", self._delete_volume),
            ("GET", r"/v2/tags", self._list("tags", self._tag_listing)),
            ("POST", r"/v2/tags", self._create_tag),
            ("GET", r"/v2/tags/(?P<name>[^/]+)", self._get_tag),
            ("DELETE", r"/v2/tags/(?P<name>[^/]+)", self._delete_tag),
            ("GET", r"/v2/registry", self._get_registry),
            ("GET", r"/v2/registries", self._list_registries),
            ("GET", r"/v2/registries/(?P<registry>[^/]+)", self._get_named_registry),
            # The single-registry API (/v2/registry/...) and the multi-registry one
            # (/v2/registries/...) share the repository calls.
            ("GET", _REGISTRY + r"/repositoriesV2", self._list_repositories),
            ("GET", _REPOSITORY + r"/tags", self._list_repository_tags),
            ("GET", _REPOSITORY + r"/digests", self._list_manifests),
            (
                "DELETE",
                r"/v2/registries/(?P<registry>[^/]+)/repositories/(?P<repository>[^/]+)",
                self._delete_repository,
            ),
            ("DELETE", _REPOSITORY + r"/tags/(?P<tag>[^/]+)", self._delete_repository_tag),
            ("DELETE", _REPOSITORY + r"/digests/(?P<digest>[^/]+)", self._delete_manifest),
        ]
        return [_Route(method, re.compile(pattern), handler) for method, pattern, handler in table]

    def _page(self, key: str, items: list, query: dict, path: str, **extra) -> tuple[int, dict]:
        per_page = min(int(query.get("per_page", DEFAULT_PER_PAGE)), MAX_PER_PAGE)
        page = max(int(query.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(number: int) -> str:
            return f"{self.base_url}{path}?{urlencode({**query, 'page': number})}"

        pages = {}
        if page > 1:
            pages.update(first=link(1), prev=link(page - 1))
        if page < last:
            pages.update(next=link(page + 1), last=link(last))
        body = {key: copy.deepcopy(chunk), "links": {"pages": pages}, "meta": {"total": len(items)}}
        body.update(extra)
        return 200, body

    def _list(self, key: str, source: Callable[[], list]):
        def handler(query, path, **_):
            return self._page(key, source(), query, path)

        return handler

    def _get(self, collection: str):
        singular = {"load_balancers": "load_balancer", "certificates": "certificate"}
        singular["volumes"] = "volume"

        def handler(item_id, **_):
            item = getattr(self.state, collection).get(item_id)
            if item is None:
                raise _HttpError(404)
            return 200, {singular[collection]: copy.deepcopy(item)}

        return handler

    def _delete(self, collection: str):
        def handler(item_id, **_):
            items = getattr(self.state, collection)
            if items.pop(item_id, None) is None:
                raise _HttpError(404)
            self.deletions.append((collection, item_id))
            return 204, None

        return handler

    def _get_account(self, **_):
        return 200, {"account": copy.deepcopy(self.state.account)}

    def _list_droplets(self, query, path, **_):
        droplets = []
        for number in range(self.state.droplet_count):
            droplet = copy.deepcopy(self._droplet_template)
            droplet["id"] = 3164444 + number
            droplet["name"] = f"droplet-{number + 1}"
            droplets.append(droplet)
        return self._page("droplets", droplets, query, path)

    def _get_kubernetes_options(self, **_):
        return 200, {"options": copy.deepcopy(self.state.kubernetes_options)}

    def _get_cluster(self, cluster_id, **_):
        cluster = self.state.clusters.get(cluster_id)
        if cluster is None:
            raise _HttpError(404)
        return 200, {"kubernetes_cluster": copy.deepcopy(cluster)}

    def _delete_cluster(self, cluster_id, **_):
        if self.state.clusters.pop(cluster_id, None) is None:
            raise _HttpError(404)
        self.deletions.append(("clusters", cluster_id))
        return 204, None

    def _get_associated(self, cluster_id, **_):
        if cluster_id not in self.state.clusters:
            raise _HttpError(404)
        associated = self.state.associated.get(cluster_id, {})
        live = {
            "load_balancers": self.state.load_balancers,
            "volumes": self.state.volumes,
            "volume_snapshots": {},
        }
        # DigitalOcean lists only associated resources that still exist.
        body = {
            kind: [item for item in associated.get(kind, []) if item["id"] in live[kind]]
            for kind in ("load_balancers", "volumes", "volume_snapshots")
        }
        return 200, body

    def _get_domain(self, domain, **_):
        if domain not in self.state.domains:
            raise _HttpError(404)
        return 200, {"domain": copy.deepcopy(self.state.domains[domain])}

    def _list_records(self, domain, query, path, **_):
        if domain not in self.state.domains:
            raise _HttpError(404)
        records = self.state.records[domain]
        # `name` filters on the fully qualified name, `type` on the record type.
        if "name" in query:
            expected = query["name"].rstrip(".")
            records = [r for r in records if _fqdn(r["name"], domain) == expected]
        if "type" in query:
            records = [r for r in records if r["type"] == query["type"]]
        return self._page("domain_records", records, query, path)

    def _delete_record(self, domain, record_id, **_):
        records = self.state.records.get(domain)
        if records is None:
            raise _HttpError(404)
        for index, record in enumerate(records):
            if str(record["id"]) == record_id:
                del records[index]
                self.deletions.append(("records", record_id))
                return 204, None
        raise _HttpError(404)

    def _list_volumes(self, query, path, **_):
        volumes = list(self.state.volumes.values())
        if "name" in query:
            volumes = [volume for volume in volumes if volume["name"] == query["name"]]
        if "region" in query:
            volumes = [v for v in volumes if v["region"]["slug"] == query["region"]]
        return self._page("volumes", volumes, query, path)

    def _delete_volume(self, item_id, **_):
        volume = self.state.volumes.get(item_id)
        if volume is None:
            raise _HttpError(404)
        if volume["droplet_ids"]:
            # DigitalOcean returns 409 for an attached volume (the OpenAPI description lists
            # only the default error response for it).
            raise _HttpError(409, "attached volume cannot be deleted")
        del self.state.volumes[item_id]
        self.deletions.append(("volumes", item_id))
        return 204, None

    def _tag_listing(self) -> list[dict]:
        return [self._tag_with_resources(name) for name in self.state.tags]

    def _tag_with_resources(self, name: str) -> dict:
        volumes = [v for v in self.state.volumes.values() if name in v["tags"]]
        load_balancers = [lb for lb in self.state.load_balancers.values() if lb["tag"] == name]
        clusters = [c for c in self.state.clusters.values() if name in c["tags"]]
        count = len(volumes) + len(load_balancers) + len(clusters)
        resources = {
            "count": count,
            "droplets": {"count": 0},
            "images": {"count": 0},
            "volumes": {"count": len(volumes)},
            "volume_snapshots": {"count": 0},
            "databases": {"count": 0},
        }
        if volumes:
            resources["volumes"]["last_tagged_uri"] = (
                f"https://api.digitalocean.com/v2/volumes/{volumes[-1]['id']}"
            )
        return {"name": name, "resources": resources}

    def _create_tag(self, body, **_):
        self._ensure_tag(body["name"])
        return 201, {"tag": self._tag_with_resources(body["name"])}

    def _get_tag(self, name, **_):
        if name not in self.state.tags:
            raise _HttpError(404)
        return 200, {"tag": self._tag_with_resources(name)}

    def _delete_tag(self, name, **_):
        if self.state.tags.pop(name, None) is None:
            raise _HttpError(404)
        # Deleting a tag removes it from every resource that carries it.
        for volume in self.state.volumes.values():
            volume["tags"] = [tag for tag in volume["tags"] if tag != name]
        for load_balancer in self.state.load_balancers.values():
            if load_balancer["tag"] == name:
                load_balancer["tag"] = ""
        self.deletions.append(("tags", name))
        return 204, None

    def _get_registry(self, **_):
        if self.state.registry is None:
            raise _HttpError(404, "registry not found")
        return 200, {"registry": copy.deepcopy(self.state.registry)}

    def _list_registries(self, **_):
        registries = [] if self.state.registry is None else [copy.deepcopy(self.state.registry)]
        return 200, {"registries": registries}

    def _get_named_registry(self, registry, **_):
        if self.state.registry is None or self.state.registry["name"] != registry:
            raise _HttpError(404, "registry not found")
        return 200, {"registry": copy.deepcopy(self.state.registry)}

    def _delete_repository(self, registry, repository, **_):
        self._repository(registry, repository)
        del self.state.repositories[repository]
        self.deletions.append(("repositories", repository))
        return 204, None

    def _repository(self, registry: str, repository: str) -> dict:
        if self.state.registry is None or self.state.registry["name"] != registry:
            raise _HttpError(404, "registry not found")
        if repository not in self.state.repositories:
            raise _HttpError(404, "repository not found")
        return self.state.repositories[repository]

    def _list_repositories(self, registry, query, path, **_):
        if self.state.registry is None or self.state.registry["name"] != registry:
            raise _HttpError(404, "registry not found")
        listing = []
        for name, repository in self.state.repositories.items():
            manifests = repository["manifests"]
            entry = {
                "registry_name": registry,
                "name": name,
                "tag_count": sum(len(manifest["tags"]) for manifest in manifests),
                "manifest_count": len(manifests),
            }
            if manifests:
                entry["latest_manifest"] = copy.deepcopy(manifests[0])
            listing.append(entry)
        return self._page("repositories", listing, query, f"/v2/registry/{registry}/repositoriesV2")

    def _list_repository_tags(self, registry, repository, query, path, **_):
        tags = [
            {
                "registry_name": registry,
                "repository": repository,
                "tag": tag,
                "manifest_digest": manifest["digest"],
                "compressed_size_bytes": manifest["compressed_size_bytes"],
                "size_bytes": manifest["size_bytes"],
                "updated_at": manifest["updated_at"],
            }
            for manifest in self._repository(registry, repository)["manifests"]
            for tag in manifest["tags"]
        ]
        return self._page("tags", tags, query, path)

    def _list_manifests(self, registry, repository, query, path, **_):
        manifests = self._repository(registry, repository)["manifests"]
        return self._page("manifests", manifests, query, path)

    def _delete_repository_tag(self, registry, repository, tag, **_):
        for manifest in self._repository(registry, repository)["manifests"]:
            if tag in manifest["tags"]:
                manifest["tags"].remove(tag)
                self.deletions.append(("repository_tags", f"{repository}:{tag}"))
                return 204, None
        raise _HttpError(404, "tag not found")

    def _delete_manifest(self, registry, repository, digest, **_):
        stored = self._repository(registry, repository)
        for index, manifest in enumerate(stored["manifests"]):
            if manifest["digest"] == digest:
                del stored["manifests"][index]
                self.deletions.append(("repository_manifests", f"{repository}@{digest}"))
                # NOTE: the fake drops a repository with its last manifest. DigitalOcean may
                # keep listing an empty repository until garbage collection runs.
                if not stored["manifests"]:
                    del self.state.repositories[repository]
                return 204, None
        raise _HttpError(404, "manifest not found")

    def _load_droplet_template(self) -> dict:
        # Droplets matter to the fake only as a count, so every one is a copy of the example
        # Droplet in the OpenAPI description itself.
        document = json.loads(SPEC_PATH.read_text())
        example = document["components"]["examples"]["droplets_all"]["value"]
        return example["droplets"][0]


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.get_data() or b"null")
    except ValueError:
        return None


def _fqdn(name: str, domain: str) -> str:
    return domain if name == "@" else f"{name}.{domain}"
