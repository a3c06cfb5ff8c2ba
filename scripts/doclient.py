"""DigitalOcean API access for the command-line tool: one client, one HTTP session, one error model.

python-digitalocean covers accounts, regions, sizes, domains, records, load balancers,
certificates, volumes and tags. What it lacks (Kubernetes options and clusters, a cluster's
associated resources, the container registry) goes through the generic `get`, `list`, `post`
and `delete` methods of the same client. Both halves share one `requests.Session`, so they share
the token, the base URL, the timeouts, the retries and the translation of HTTP errors into
`DigitalOceanError` leaves.

Import this module inside a command function: it imports requests and python-digitalocean.
"""

from __future__ import annotations

import email.utils
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import digitalocean
import requests
from requests.adapters import HTTPAdapter

from infra.errors import InvalidInput, ScimBridgeError

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.digitalocean.com"
BASE_URL_ENVVAR = "DIGITALOCEAN_END_POINT"
# DIGITALOCEAN_ACCESS_TOKEN is the name python-digitalocean and doctl read, so accept it too.
TOKEN_ENVVARS = ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")
TOKENS_PAGE_URL = "https://cloud.digitalocean.com/account/api/tokens"

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 0.5
# A Retry-After longer than this is not waited out: the call fails with RateLimited instead.
DEFAULT_MAX_RETRY_AFTER = 60.0
PAGE_SIZE = 200  # the maximum `per_page` the API accepts

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

# The custom token scope each path needs, as DigitalOcean names them (`<resource>:read` and so
# on), so that a 403 can name the scope to add.
_SCOPE_RESOURCES = {
    "account": "account",
    "regions": "regions",
    "sizes": "sizes",
    "droplets": "droplet",
    "kubernetes": "kubernetes",
    "domains": "domain",
    "load_balancers": "load_balancer",
    "certificates": "certificate",
    "volumes": "block_storage",
    "tags": "tag",
    "registry": "registry",
}
_SCOPE_ACTIONS = {
    "GET": "read",
    "POST": "create",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}


class DigitalOceanError(ScimBridgeError):
    """A DigitalOcean API call failed.

    `step` names what the tool was doing, `status` is the HTTP status (None when no response
    arrived), `api_id` and `api_message` are the `id` and `message` of DigitalOcean's error body.
    The message never contains the token.
    """

    def __init__(
        self,
        message: str,
        *,
        step: str = "",
        status: int | None = None,
        api_id: str = "",
        api_message: str = "",
    ):
        super().__init__(message)
        self.step = step
        self.status = status
        self.api_id = api_id
        self.api_message = api_message


class TokenMissing(DigitalOceanError, InvalidInput):
    """No DigitalOcean token was given, or the value given cannot be a token."""


class InvalidEndpoint(DigitalOceanError, InvalidInput):
    """The API base URL (DIGITALOCEAN_END_POINT) is not an http(s) URL."""


class TokenRejected(DigitalOceanError, PermissionError):
    """DigitalOcean returned 401: the token is unknown, expired or revoked."""


class ScopeMissing(DigitalOceanError, PermissionError):
    """DigitalOcean returned 403: the token is valid but lacks the scope for this request."""


class NotFound(DigitalOceanError, LookupError):
    """DigitalOcean returned 404: the resource does not exist (or no longer does)."""


class RequestRejected(DigitalOceanError, ValueError):
    """DigitalOcean returned a 4xx other than 401, 403, 404 and 429: the request was invalid."""


class Conflict(RequestRejected):
    """DigitalOcean returned 409 or 412: the resource is in use (an attached volume, say)."""


class RateLimited(DigitalOceanError):
    """DigitalOcean returned 429 on every attempt, or a Retry-After longer than the client waits."""


class ApiUnavailable(DigitalOceanError, ConnectionError):
    """DigitalOcean returned 5xx, timed out or refused the connection on every attempt."""


class UnexpectedResponse(DigitalOceanError):
    """DigitalOcean returned a body the client cannot read (not JSON, or a key missing)."""


class ForeignHost(DigitalOceanError):
    """A request would have carried the token to a host other than the API base URL."""


def resolve_token(token: str | None = None) -> str:
    """Return the DigitalOcean token from `token` or the environment, stripped of whitespace.

    Looks at `token`, then DIGITALOCEAN_TOKEN, then DIGITALOCEAN_ACCESS_TOKEN.

    :raises TokenMissing: when none is set, or the value is empty or has whitespace inside.
    """
    source = "--token"
    if token is None:
        for name in TOKEN_ENVVARS:
            if os.environ.get(name):
                token, source = os.environ[name], name
                break
    if token is None:
        raise TokenMissing(
            "digitalocean: no API token given: pass --token or set DIGITALOCEAN_TOKEN "
            f"(create a token at {TOKENS_PAGE_URL})"
        )

    token = token.strip()
    if not token:
        raise TokenMissing(f"digitalocean: the API token in {source} is empty")
    if any(character.isspace() for character in token):
        raise TokenMissing(
            f"digitalocean: the API token in {source} contains whitespace; "
            "paste the token alone, on one line"
        )
    return token


def resolve_base_url(base_url: str | None = None) -> str:
    """Return the API root URL (no `/v2`) from `base_url`, DIGITALOCEAN_END_POINT or the default.

    python-digitalocean reads DIGITALOCEAN_END_POINT as `https://host/v2/`, so a trailing `/v2`
    is accepted and dropped.

    :raises InvalidEndpoint: when the value is not an http or https URL with a host.
    """
    source = "base_url"
    if base_url is None:
        base_url = os.environ.get(BASE_URL_ENVVAR) or DEFAULT_BASE_URL
        source = BASE_URL_ENVVAR

    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidEndpoint(
            f"digitalocean: {source} {base_url!r} is not a valid URL; "
            f"expected an http(s) URL such as {DEFAULT_BASE_URL}"
        )

    path = parts.path.rstrip("/")
    if path.endswith("/v2"):
        path = path[: -len("/v2")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def _retry_after_seconds(response: requests.Response) -> float | None:
    """Return the delay a Retry-After header requests, in seconds, or None when absent."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None

    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class _RetryingAdapter(HTTPAdapter):
    """An HTTP adapter that applies default timeouts and retries 429, 5xx and network failures.

    A 429 is retried for every method, because DigitalOcean rejected the request before acting
    on it. A 5xx, a timeout or a refused connection is retried only for idempotent methods, so a
    POST is never sent twice. Waits double from `backoff` seconds, or follow Retry-After.
    """

    def __init__(
        self,
        *,
        timeout: tuple[float, float],
        retries: int,
        backoff: float,
        max_retry_after: float,
        sleep: Callable[[float], None],
    ):
        super().__init__()
        self.default_timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.sleep = sleep

    def send(self, request, timeout=None, **kwargs):
        timeout = timeout if timeout is not None else self.default_timeout
        idempotent = request.method in _IDEMPOTENT_METHODS
        path = urlsplit(request.url).path
        attempt = 0
        while True:
            attempt += 1
            delay = self.backoff * 2 ** (attempt - 1)
            try:
                response = super().send(request, timeout=timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as error:
                if not idempotent or attempt > self.retries:
                    raise
                logger.warning(
                    "digitalocean: %s %s failed (%s), retry %d of %d in %.1f s",
                    request.method,
                    path,
                    type(error).__name__,
                    attempt,
                    self.retries,
                    delay,
                )
                self.sleep(delay)
                continue

            status = response.status_code
            retryable = status == 429 or (status >= 500 and idempotent)
            if not retryable or attempt > self.retries:
                return response

            retry_after = _retry_after_seconds(response)
            if retry_after is not None:
                if retry_after > self.max_retry_after:
                    return response
                delay = retry_after
            logger.warning(
                "digitalocean: %s %s returned HTTP %d, retry %d of %d in %.1f s",
                request.method,
                path,
                status,
                attempt,
                self.retries,
                delay,
            )
            response.close()
            self.sleep(delay)


class _ForeignHostAdapter(HTTPAdapter):
    """An adapter for every URL outside the base URL, so the token never leaves the API host."""

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        raise ForeignHost(
            f"digitalocean: rejected a request to {parts.scheme}://{parts.netloc}: "
            "it is not the API base URL, so it must not receive the API token"
        )


def _raise_for_status(response: requests.Response, *args, **kwargs) -> None:
    # A session hook, so that python-digitalocean's calls fail with the status and body intact
    # instead of its own exceptions, which drop the status code.
    response.raise_for_status()


def _error_body(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", response.reason or ""
    if not isinstance(body, dict):
        return "", response.reason or ""
    return str(body.get("id", "")), str(body.get("message", ""))


def _scope_for(method: str, path: str) -> str:
    parts = [part for part in path.split("/") if part]
    resource = _SCOPE_RESOURCES.get(parts[1] if len(parts) > 1 else "", "")
    action = _SCOPE_ACTIONS.get(method.upper(), "")
    return f"{resource}:{action}" if resource and action else ""


def error_from_response(step: str, response: requests.Response) -> DigitalOceanError:
    """Build the DigitalOceanError leaf for a failed response, with the step and DO's error text."""
    status = response.status_code
    api_id, api_message = _error_body(response)
    detail = f": {api_message}" if api_message else ""
    base = f"digitalocean: {step} failed: HTTP {status}{detail}"
    fields = {"step": step, "status": status, "api_id": api_id, "api_message": api_message}

    if status == 401:
        hint = (
            "check the DigitalOcean token (DIGITALOCEAN_TOKEN or --token): it is unknown, expired "
            f"or revoked; create a new one with the scopes this command needs at {TOKENS_PAGE_URL}"
        )
        return TokenRejected(f"{base}; {hint}", **fields)
    if status == 403:
        request = response.request
        scope = _scope_for(request.method or "", urlsplit(request.url or "").path)
        hint = f"add the {scope} scope to the token" if scope else "add the scope to the token"
        return ScopeMissing(f"{base}; {hint} at {TOKENS_PAGE_URL}", **fields)
    if status == 404:
        return NotFound(base, **fields)
    if status == 429:
        retry_after = _retry_after_seconds(response)
        wait = f"; retry after {retry_after:.0f} s" if retry_after is not None else ""
        return RateLimited(f"{base} (rate limit reached){wait}", **fields)
    if status in (409, 412):
        return Conflict(base, **fields)
    if status >= 500:
        return ApiUnavailable(f"{base}; DigitalOcean is failing, try again later", **fields)
    return RequestRejected(base, **fields)


_Result = TypeVar("_Result")


class DigitalOceanClient:
    """A DigitalOcean API client for preflight and teardown.

    Generic methods take a path under the API root (`/v2/...`) and return decoded JSON.
    Typed helpers return python-digitalocean objects where the library has them, and dicts in
    the API's own shape otherwise. Every method raises a `DigitalOceanError` leaf, wrapped with
    the step that failed; delete methods return False instead of raising NotFound.

    :param token: the API token, already resolved (see `resolve_token`).
    :param base_url: the API root; None reads DIGITALOCEAN_END_POINT, then the public API.
    :param connect_timeout: seconds to wait for a connection, per attempt.
    :param read_timeout: seconds to wait for a response, per attempt.
    :param retries: extra attempts after a 429, a 5xx or a network failure.
    :param backoff: seconds before the first retry; each later wait doubles.
    :param max_retry_after: the longest Retry-After, in seconds, that the client waits out.
    :param sleep: the function that waits between attempts (tests pass a recorder).
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._token = resolve_token(token)
        self.base_url = resolve_base_url(base_url)
        self.timeout = (connect_timeout, read_timeout)

        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self._token}"
        self.session.headers["Accept"] = "application/json"
        self.session.hooks["response"].append(_raise_for_status)
        # Longest prefix wins, so only the base URL gets the working adapter.
        self.session.mount("http://", _ForeignHostAdapter())
        self.session.mount("https://", _ForeignHostAdapter())
        adapter = _RetryingAdapter(
            timeout=self.timeout,
            retries=retries,
            backoff=backoff,
            max_retry_after=max_retry_after,
            sleep=sleep,
        )
        self.session.mount(self.base_url + "/", adapter)

        self._manager = self._adopt(digitalocean.Manager())

    def __repr__(self) -> str:
        return f"DigitalOceanClient(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def __enter__(self) -> DigitalOceanClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Generic access, for any path of the API.

    def url(self, path: str) -> str:
        """Return the absolute URL of an API path such as `/v2/account`."""
        return self.base_url + "/" + path.lstrip("/")

    def _call(
        self, step: str, function: Callable[..., _Result], *args: Any, **kwargs: Any
    ) -> _Result:
        try:
            return function(*args, **kwargs)
        except requests.HTTPError as error:
            raise error_from_response(step, error.response) from None
        except requests.Timeout as error:
            raise ApiUnavailable(
                f"digitalocean: {step} failed: no response within {self.timeout[1]:g} s "
                "on every attempt",
                step=step,
            ) from error
        except requests.ConnectionError as error:
            raise ApiUnavailable(
                f"digitalocean: {step} failed: cannot connect to {self.base_url}",
                step=step,
            ) from error
        except digitalocean.Error as error:
            raise UnexpectedResponse(
                f"digitalocean: {step} failed: {type(error).__name__}: {error}", step=step
            ) from error
        except (KeyError, TypeError) as error:
            raise UnexpectedResponse(
                f"digitalocean: {step} failed: the response lacks {error}", step=step
            ) from error

    def _json(self, step: str, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError as error:
            raise UnexpectedResponse(
                f"digitalocean: {step} failed: HTTP {response.status_code} without a JSON body",
                step=step,
                status=response.status_code,
            ) from error

    def get(self, path: str, *, params: dict | None = None, step: str = "") -> Any:
        """GET an API path and return its decoded JSON body."""
        step = step or f"GET {path}"
        response = self._call(step, self.session.get, self.url(path), params=params)
        return self._json(step, response)

    def iter_pages(
        self, path: str, key: str, *, params: dict | None = None, step: str = ""
    ) -> Iterator[dict]:
        """Yield the items under `key` of a listing, page by page, following `links.pages.next`.

        The next link's path and query are joined to the base URL, so a listing served through
        DIGITALOCEAN_END_POINT stays on that host.
        """
        step = step or f"list {path}"
        url = self.url(path)
        query = {"per_page": PAGE_SIZE, **(params or {})}
        while url:
            response = self._call(step, self.session.get, url, params=query)
            body = self._json(step, response)
            if not isinstance(body, dict) or not isinstance(body.get(key), list):
                raise UnexpectedResponse(
                    f"digitalocean: {step} failed: the response has no {key!r} list", step=step
                )
            yield from body[key]

            next_link = (body.get("links") or {}).get("pages", {}).get("next")
            if not next_link:
                return
            parts = urlsplit(next_link)
            url = self.url(parts.path) + (f"?{parts.query}" if parts.query else "")
            query = None

    def list(self, path: str, key: str, *, params: dict | None = None, step: str = "") -> list:
        """Return every item under `key` of a paginated listing (see `iter_pages`)."""
        return list(self.iter_pages(path, key, params=params, step=step))

    def post(self, path: str, body: dict, *, step: str = "") -> Any:
        """POST a JSON body to an API path and return the decoded response (None when empty)."""
        step = step or f"POST {path}"

        response = self._call(step, self.session.post, self.url(path), json=body)
        if response.status_code == 204 or not response.content:
            return None
        return self._json(step, response)

    def delete(self, path: str, *, params: dict | None = None, step: str = "") -> bool:
        """DELETE an API path. Return True when deleted, False when it was already gone (404)."""
        step = step or f"DELETE {path}"
        try:
            self._call(step, self.session.delete, self.url(path), params=params)
        except NotFound:
            logger.info("digitalocean: %s: already gone", step)
            return False
        return True

    # python-digitalocean objects, all on this client's session.

    def _adopt(self, obj: _Result) -> _Result:
        # python-digitalocean gives every object a session of its own and reads the base URL
        # from the environment, so point each object at this client's session and base URL.
        obj.token = self._token
        obj.end_point = self.base_url + "/v2/"
        obj._session = self.session
        return obj

    def _adopt_all(self, objects: list[_Result]) -> list[_Result]:
        return [self._adopt(obj) for obj in objects]

    def account(self) -> digitalocean.Account:
        """Return the account: status, email_verified, droplet_limit and the other fields."""
        account = self._adopt(digitalocean.Account())
        self._call("read the account", account.load)
        return account

    def regions(self) -> list[digitalocean.Region]:
        """Return every region, available or not."""
        return self._adopt_all(self._call("list regions", self._manager.get_all_regions))

    def sizes(self) -> list[digitalocean.Size]:
        """Return every Droplet size."""
        return self._adopt_all(self._call("list sizes", self._manager.get_all_sizes))

    def domains(self) -> list[digitalocean.Domain]:
        """Return every domain (DNS zone) of the account."""
        return self._adopt_all(self._call("list domains", self._manager.get_all_domains))

    def records(self, domain: str, *, name: str = "", type: str = "") -> list[digitalocean.Record]:
        """Return the records of a domain, optionally only those with a full `name` and `type`.

        DigitalOcean filters on the fully qualified name (`scim.example.com`), not on the
        relative one the records carry (`scim`).
        """
        zone = self._adopt(digitalocean.Domain(name=domain))
        params = {}
        if name:
            params["name"] = name
        if type:
            params["type"] = type
        step = f"list the records of domain {domain}"
        return self._adopt_all(self._call(step, zone.get_records, params))

    def load_balancers(self) -> list[digitalocean.LoadBalancer]:
        """Return every load balancer, with its name, ip, tag and droplet_ids."""
        step = "list load balancers"
        return self._adopt_all(self._call(step, self._manager.get_all_load_balancers))

    def certificates(self) -> list[digitalocean.Certificate]:
        """Return every certificate."""
        step = "list certificates"
        return self._adopt_all(self._call(step, self._manager.get_all_certificates))

    def volumes(self) -> list[digitalocean.Volume]:
        """Return every block storage volume, with its tags and droplet_ids."""
        return self._adopt_all(self._call("list volumes", self._manager.get_all_volumes))

    def tags(self) -> list[digitalocean.Tag]:
        """Return every tag, with the count of resources carrying it."""
        return self._adopt_all(self._call("list tags", self._manager.get_all_tags))

    def droplet_count(self) -> int:
        """Return how many Droplets the account has, from one short listing's `meta.total`."""
        body = self.get("/v2/droplets", params={"per_page": 1}, step="count droplets")
        try:
            return int(body["meta"]["total"])
        except (KeyError, TypeError, ValueError) as error:
            raise UnexpectedResponse(
                "digitalocean: count droplets failed: the response has no meta.total",
                step="count droplets",
            ) from error

    def _destroy(self, step: str, obj: Any, method: str) -> bool:
        try:
            self._call(step, getattr(self._adopt(obj), method))
        except NotFound:
            logger.info("digitalocean: %s: already gone", step)
            return False
        return True

    def delete_load_balancer(self, load_balancer_id: str) -> bool:
        """Delete a load balancer. Return False when it was already gone."""
        step = f"delete load balancer {load_balancer_id}"
        return self._destroy(step, digitalocean.LoadBalancer(id=load_balancer_id), "destroy")

    def delete_volume(self, volume_id: str) -> bool:
        """Delete a volume. Return False when it was already gone.

        :raises Conflict: when the volume is still attached to a Droplet.
        """
        return self._destroy(
            f"delete volume {volume_id}", digitalocean.Volume(id=volume_id), "destroy"
        )

    def delete_record(self, domain: str, record_id: int) -> bool:
        """Delete one record of a domain. Return False when it was already gone."""
        record = digitalocean.Record(domain_name=domain, id=record_id)
        return self._destroy(f"delete record {record_id} of domain {domain}", record, "destroy")

    def delete_certificate(self, certificate_id: str) -> bool:
        """Delete a certificate. Return False when it was already gone."""
        certificate = digitalocean.Certificate(id=certificate_id)
        return self._destroy(f"delete certificate {certificate_id}", certificate, "destroy")

    def delete_tag(self, name: str) -> bool:
        """Delete a tag (DigitalOcean removes it from every resource). False when already gone."""
        return self._destroy(f"delete tag {name}", digitalocean.Tag(name=name), "delete")

    # What python-digitalocean lacks: Kubernetes and the container registry.

    def kubernetes_options(self) -> dict:
        """Return `options` of /v2/kubernetes/options: `regions`, `versions` and `sizes` lists."""
        step = "read the Kubernetes options"
        body = self.get("/v2/kubernetes/options", step=step)
        options = body.get("options") if isinstance(body, dict) else None
        if not isinstance(options, dict):
            raise UnexpectedResponse(
                f"digitalocean: {step} failed: the response has no options", step=step
            )
        return options

    def clusters(self) -> list[dict]:
        """Return every Kubernetes cluster, with its node pools, tags and status."""
        return self.list(
            "/v2/kubernetes/clusters", "kubernetes_clusters", step="list Kubernetes clusters"
        )

    def cluster(self, cluster_id: str) -> dict:
        """Return one Kubernetes cluster.

        :raises NotFound: when no cluster has this id.
        """
        step = f"read Kubernetes cluster {cluster_id}"
        body = self.get(f"/v2/kubernetes/clusters/{cluster_id}", step=step)
        return body["kubernetes_cluster"]

    def associated_resources(self, cluster_id: str) -> dict:
        """Return what DigitalOcean lists as a cluster's associated resources.

        The result has `load_balancers`, `volumes` and `volume_snapshots`, each a list of
        `{"id", "name"}`, missing lists filled in as empty.
        """
        step = f"list the associated resources of Kubernetes cluster {cluster_id}"
        path = f"/v2/kubernetes/clusters/{cluster_id}/destroy_with_associated_resources"
        body = self.get(path, step=step) or {}
        return {
            kind: list(body.get(kind) or [])
            for kind in ("load_balancers", "volumes", "volume_snapshots")
        }

    def delete_cluster(self, cluster_id: str) -> bool:
        """Delete a Kubernetes cluster (not its associated resources). False when already gone."""
        step = f"delete Kubernetes cluster {cluster_id}"
        return self.delete(f"/v2/kubernetes/clusters/{quote(cluster_id, safe='')}", step=step)

    def registry(self) -> dict | None:
        """Return the account's container registry, or None when it has none."""
        try:
            body = self.get("/v2/registry", step="read the container registry")
        except NotFound:
            return None
        return body["registry"]

    def registries(self) -> list[dict]:
        """Return every container registry of the account (the multi-registry API)."""
        body = self.get("/v2/registries", step="list container registries")
        return list(body.get("registries") or [])

    def repositories(self, registry: str) -> list[dict]:
        """Return the repositories of a registry (`name`, `tag_count`, `manifest_count`, ...)."""
        return self.list(
            f"{_registry_path(registry)}/repositoriesV2",
            "repositories",
            step=f"list the repositories of registry {registry}",
        )

    def repository_tags(self, registry: str, repository: str) -> list[dict]:
        """Return the tags of a repository."""
        return self.list(
            f"{_repository_path(registry, repository)}/tags",
            "tags",
            step=f"list the tags of repository {registry}/{repository}",
        )

    def repository_manifests(self, registry: str, repository: str) -> list[dict]:
        """Return the manifests of a repository, each with its `digest` and `tags`."""
        return self.list(
            f"{_repository_path(registry, repository)}/digests",
            "manifests",
            step=f"list the manifests of repository {registry}/{repository}",
        )

    def delete_repository(self, registry: str, repository: str) -> bool:
        """Delete a repository with its tags and manifests. False when it was already gone."""
        return self.delete(
            _repository_path(registry, repository),
            step=f"delete repository {registry}/{repository}",
        )

    def delete_repository_tag(self, registry: str, repository: str, tag: str) -> bool:
        """Delete one tag of a repository. False when it was already gone."""
        return self.delete(
            f"{_repository_path(registry, repository)}/tags/{quote(tag, safe='')}",
            step=f"delete tag {tag} of repository {registry}/{repository}",
        )

    def delete_repository_manifest(self, registry: str, repository: str, digest: str) -> bool:
        """Delete one manifest of a repository by digest. False when it was already gone."""
        return self.delete(
            f"{_repository_path(registry, repository)}/digests/{quote(digest, safe=':')}",
            step=f"delete manifest {digest} of repository {registry}/{repository}",
        )


def _registry_path(registry: str) -> str:
    return f"/v2/registries/{quote(registry, safe='')}"


def _repository_path(registry: str, repository: str) -> str:
    # A repository name may contain `/`, which the API takes encoded as %2F in one segment.
    return f"{_registry_path(registry)}/repositories/{quote(repository, safe='')}"
