"""DigitalOcean API access for the command-line tool: one client and one HTTP session.

Every request goes through `DigitalOceanClient._request`. Each attempt has one deadline for
connecting, the headers and the body, and the body's size is capped. 429, 5xx and network
failures are retried within a bounded wait, and HTTP errors become the `DigitalOceanError`
leaves of `scripts.doerrors`.
Listings follow next-page links only on the base URL, with a cap on the number of pages.

The typed helpers validate the fields they return and hand them out as python-digitalocean
objects (accounts, regions, sizes, domains, records, load balancers, certificates, volumes and
tags), so callers keep the library's attribute access. The library itself sends no request,
because its paging follows next-page links without end and to any host.

Import this module inside a command function: it imports requests and python-digitalocean.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import digitalocean
import requests
import urllib3
from requests.adapters import HTTPAdapter

from scripts.doerrors import (
    TOKENS_PAGE_URL,
    ApiResponse,
    ApiUnavailable,
    DigitalOceanError,
    ForeignHost,
    InvalidEndpoint,
    NotFound,
    TokenMissing,
    UnexpectedResponse,
    error_from_response,
    retry_after_seconds,
)
from scripts.servertext import escape_controls
from scripts.tokens import token_problem

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.digitalocean.com"
BASE_URL_ENVVAR = "DIGITALOCEAN_END_POINT"
# DIGITALOCEAN_ACCESS_TOKEN is the name python-digitalocean and doctl read, so accept it too.
TOKEN_ENVVARS = ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 0.5
# A Retry-After longer than this is not waited out: the call fails at once, saying when to retry.
DEFAULT_MAX_RETRY_AFTER = 30.0
# The maximum total wait, in seconds, between the attempts of one request.
DEFAULT_MAX_RETRY_WAIT = 60.0
# A timed-out attempt is retried at most this often, so a silent server costs two timeouts.
MAX_TIMEOUT_RETRIES = 1
PAGE_SIZE = 200  # the maximum `per_page` the API accepts
# 100 pages of 200 items: far more than an account of this tool's size lists.
DEFAULT_MAX_PAGES = 100
# The largest response body read. A page of 200 Droplets, the largest objects listed, is
# well under 2 MB.
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
_CHUNK_BYTES = 64 * 1024

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def resolve_token(token: str | None = None) -> str:
    """Return the DigitalOcean token from `token` or the environment, stripped of whitespace.

    Looks at `token`, then DIGITALOCEAN_TOKEN, then DIGITALOCEAN_ACCESS_TOKEN.

    :raises TokenMissing: when none is set, or the value is empty, has whitespace inside or
        has characters other than printable ASCII. The message names where the value came from
        and never shows it.
    """
    source = _token_source(token)
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
    problem = token_problem(token)
    if problem == "is empty":
        raise TokenMissing(f"digitalocean: the API token in {source} is empty")
    if problem is not None:
        raise TokenMissing(
            f"digitalocean: the API token in {source} {problem}, so it cannot be a "
            f"DigitalOcean token; copy it again from {TOKENS_PAGE_URL}, alone on one line"
        )
    return token


def _token_source(token: str | None) -> str:
    # A command's --token option falls back to the environment, so a value equal to one of the
    # variables most likely came from it.
    for name in TOKEN_ENVVARS:
        if token is not None and os.environ.get(name) == token:
            return name
    return "--token"


def resolve_base_url(base_url: str | None = None) -> str:
    """Return the API root URL (no `/v2`) from `base_url`, DIGITALOCEAN_END_POINT or the default.

    python-digitalocean reads DIGITALOCEAN_END_POINT as `https://host/v2/`, so a trailing `/v2`
    is accepted and dropped.

    :raises InvalidEndpoint: when the value is not an http or https URL with a host, or has a
        user name or password in it. The message shows the URL without them.
    """
    source = "base_url"
    if base_url is None:
        base_url = os.environ.get(BASE_URL_ENVVAR) or DEFAULT_BASE_URL
        source = BASE_URL_ENVVAR

    try:
        parts = urlsplit(base_url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        parts, host = None, None
    shown = _without_userinfo(base_url)
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise InvalidEndpoint(
            f"digitalocean: {source} {shown!r} is not a valid URL; "
            f"expected an http(s) URL such as {DEFAULT_BASE_URL}"
        )
    if "@" in parts.netloc:
        # requests would turn the user name and password into a Basic Authorization header
        # that replaces the token.
        raise InvalidEndpoint(
            f"digitalocean: {source} {shown!r} has a user name or password in it; "
            "give the URL without them, such as http://127.0.0.1:8080"
        )

    path = parts.path.rstrip("/")
    if path.endswith("/v2"):
        path = path[: -len("/v2")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def _without_userinfo(url: str) -> str:
    """Return `url` with any `user:password@` removed, and control characters escaped."""
    scheme, separator, rest = url.strip().partition("://")
    if separator:
        authority, slash, path = rest.partition("/")
        url = f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"
    return escape_controls(url)


class _ForeignHostAdapter(HTTPAdapter):
    """An adapter for every URL outside the base URL, so the token never leaves the API host."""

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        raise ForeignHost(
            f"digitalocean: rejected a request to {parts.scheme}://{parts.netloc}: "
            "it is not the API base URL, so it must not receive the API token"
        )


_Result = TypeVar("_Result")


class DigitalOceanClient:
    """A DigitalOcean API client for preflight and teardown.

    Generic methods take a path under the API root (`/v2/...`) and return decoded JSON.
    Typed helpers return python-digitalocean objects where the library has them, and dicts in
    the API's own shape otherwise, after checking the fields they document. Every method raises
    a `DigitalOceanError` leaf, wrapped with the step that failed; delete methods return False
    instead of raising NotFound.

    :param token: the API token, already resolved (see `resolve_token`).
    :param base_url: the API root; None reads DIGITALOCEAN_END_POINT, then the public API.
    :param connect_timeout: seconds to wait for a connection, per attempt.
    :param read_timeout: seconds one attempt may take in all: connecting, the headers and the
        whole body. It also bounds each wait for data.
    :param retries: extra attempts after a 429, a 5xx or a network failure. A timed-out
        attempt is retried at most once.
    :param backoff: seconds before the first retry; each later wait doubles.
    :param max_retry_after: the longest Retry-After, in seconds, that the client waits out.
    :param max_retry_wait: the longest total wait, in seconds, between the attempts of one
        request.
    :param max_pages: the most pages one listing may have.
    :param max_body_bytes: the largest response body the client reads.
    :param sleep: the function that waits between attempts (tests pass a recorder).
    :param clock: the monotonic clock that deadlines are measured on (tests pass a fake).
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
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._token = resolve_token(token)
        self.base_url = resolve_base_url(base_url)
        self.timeout = (min(connect_timeout, read_timeout), read_timeout)
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.max_retry_wait = max_retry_wait
        self.max_pages = max_pages
        self.max_body_bytes = max_body_bytes
        self._sleep = sleep
        self._clock = clock

        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self._token}"
        self.session.headers["Accept"] = "application/json"
        # Longest prefix wins, so only the base URL gets a working adapter.
        self.session.mount("http://", _ForeignHostAdapter())
        self.session.mount("https://", _ForeignHostAdapter())
        self.session.mount(self.base_url + "/", HTTPAdapter())

    def __repr__(self) -> str:
        return f"DigitalOceanClient(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def __enter__(self) -> DigitalOceanClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Requests: deadlines, size cap, retries and errors.

    def url(self, path: str) -> str:
        """Return the absolute URL of an API path such as `/v2/account`."""
        return self.base_url + "/" + path.lstrip("/")

    def _request(
        self,
        step: str,
        method: str,
        url: str,
        *,
        params: dict | None = None,
        body: dict | None = None,
    ) -> ApiResponse:
        """Send one request, retrying as the class describes; return the successful response.

        A 429 is retried for every method, because DigitalOcean rejected the request before
        acting on it. A 5xx, a timeout or a refused connection is retried only for idempotent
        methods, so a POST is never sent twice. Waits double from `backoff` seconds, or follow
        a Retry-After of at most `max_retry_after`, and stop when they would pass
        `max_retry_wait` in all.

        :raises DigitalOceanError: the leaf for the last failure.
        """
        idempotent = method in _IDEMPOTENT_METHODS
        waited = 0.0
        timeouts = 0
        attempt = 0
        while True:
            attempt += 1
            delay = self.backoff * 2 ** (attempt - 1)
            failure: DigitalOceanError | None = None
            try:
                response = self._attempt(step, method, url, params, body)
            except requests.Timeout as error:
                timeouts += 1
                failure = ApiUnavailable(
                    f"digitalocean: {step} failed: no response within {self.timeout[1]:g} s",
                    step=step,
                )
                failure.__cause__ = error
                retryable = idempotent and timeouts <= MAX_TIMEOUT_RETRIES
                reason = "timed out"
            except requests.ConnectionError as error:
                failure = ApiUnavailable(
                    f"digitalocean: {step} failed: cannot connect to {self.base_url}", step=step
                )
                failure.__cause__ = error
                retryable = idempotent
                reason = "cannot connect"
            else:
                if response.status < 400:
                    return response
                failure = error_from_response(step, response, token=self._token)
                status = response.status
                retryable = status == 429 or (status >= 500 and idempotent)
                reason = f"HTTP {status}"
                retry_after = retry_after_seconds(response.headers)
                if retry_after is not None:
                    retryable = retryable and retry_after <= self.max_retry_after
                    delay = retry_after

            if not retryable or attempt > self.retries or waited + delay > self.max_retry_wait:
                raise failure
            logger.warning(
                "digitalocean: %s: %s %s, retry %d of %d in %.1f s",
                step,
                method,
                reason,
                attempt,
                self.retries,
                delay,
            )
            self._sleep(delay)
            waited += delay

    def _attempt(
        self, step: str, method: str, url: str, params: dict | None, body: dict | None
    ) -> ApiResponse:
        """Send the request once and read the whole body before the attempt's deadline."""
        deadline = self._clock() + self.timeout[1]
        response = self._send_with_deadline(
            step,
            method,
            url,
            params=params,
            json=body,
            timeout=self.timeout,
            stream=True,
            allow_redirects=False,
        )
        with response:
            content = self._read_body(step, response, deadline)
        return ApiResponse(
            method=method,
            url=response.url,
            status=response.status_code,
            reason=response.reason or "",
            headers=response.headers,
            content=content,
        )

    def _send_with_deadline(self, step: str, method: str, url: str, **options) -> requests.Response:
        """Send the request and return once the headers are in, or raise requests.Timeout.

        The read timeout applies to each socket read, so a server that sends one header line
        at a time, each just inside it, would hold the request for minutes. The request runs
        in a daemon thread, and a request whose headers miss the connect and read timeouts
        together is abandoned: its thread ends with its socket, at the latest when the
        process exits.
        """
        outcome: dict[str, object] = {}
        done = threading.Event()

        def send() -> None:
            try:
                outcome["response"] = self.session.request(method, url, **options)
            except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
                outcome["error"] = error
            finally:
                done.set()

        threading.Thread(target=send, name=f"digitalocean: {step}", daemon=True).start()
        if not done.wait(timeout=self.timeout[0] + self.timeout[1]):
            raise requests.Timeout(f"{step}: the response headers did not arrive in time")
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["response"]  # type: ignore[return-value]

    def _read_body(self, step: str, response: requests.Response, deadline: float) -> bytes:
        """Read the body in chunks, failing when the deadline passes or the size cap is reached.

        NOTE: the deadline is checked between chunks, so a server that stalls in the middle of
        one can add up to one read timeout.
        """
        limit = self.max_body_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(step)

        chunks = []
        size = 0
        try:
            for chunk in self._chunks(step, response, deadline):
                size += len(chunk)
                if size > limit:
                    raise self._too_large(step)
                chunks.append(chunk)
        except urllib3.exceptions.HTTPError as error:
            # A stall longer than the read timeout, or a connection closed before the end.
            raise requests.Timeout(f"the body did not arrive in full: {error}") from error
        return b"".join(chunks)

    def _chunks(self, step: str, response: requests.Response, deadline: float) -> Iterator[bytes]:
        # read1 returns what one read of the socket brings, so a body that trickles in still
        # comes back to the deadline check after every piece.
        while True:
            if self._clock() > deadline:
                raise self._too_slow(step)
            chunk = response.raw.read1(_CHUNK_BYTES, decode_content=True)
            if not chunk:
                return
            yield chunk

    def _too_slow(self, step: str) -> ApiUnavailable:
        return ApiUnavailable(
            f"digitalocean: {step} did not complete within {self.timeout[1]:g} s", step=step
        )

    def _too_large(self, step: str) -> UnexpectedResponse:
        return UnexpectedResponse(
            f"digitalocean: {step} failed: the response is larger than "
            f"{self.max_body_bytes / 1024 / 1024:g} MB",
            step=step,
        )

    def _json(self, step: str, response: ApiResponse) -> Any:
        try:
            return response.json()
        except RecursionError:
            raise UnexpectedResponse(
                f"digitalocean: {step} failed: HTTP {response.status} with JSON nested too "
                "deeply to read",
                step=step,
                status=response.status,
            ) from None
        except ValueError as error:
            raise UnexpectedResponse(
                f"digitalocean: {step} failed: HTTP {response.status} without a JSON body",
                step=step,
                status=response.status,
            ) from error

    def _unexpected(self, step: str, problem: str) -> UnexpectedResponse:
        return UnexpectedResponse(
            f"digitalocean: {step} failed: unexpected response: {problem}", step=step
        )

    # Generic access, for any path of the API.

    def get(self, path: str, *, params: dict | None = None, step: str = "") -> Any:
        """GET an API path and return its decoded JSON body."""
        step = step or f"GET {path}"
        return self._json(step, self._request(step, "GET", self.url(path), params=params))

    def get_object(
        self, path: str, key: str, *, params: dict | None = None, step: str = ""
    ) -> dict:
        """GET an API path and return the object under `key` of its body.

        :raises UnexpectedResponse: when the body is not an object with an object under `key`.
        """
        step = step or f"GET {path}"
        body = self.get(path, params=params, step=step)
        value = body.get(key) if isinstance(body, dict) else None
        if not isinstance(value, dict):
            raise self._unexpected(step, f"{key!r} is missing or not an object")
        return value

    def iter_pages(
        self, path: str, key: str, *, params: dict | None = None, step: str = ""
    ) -> Iterator[dict]:
        """Yield the items under `key` of a listing, page by page, following `links.pages.next`.

        The next link's path and query are joined to the base URL, so a listing served through
        DIGITALOCEAN_END_POINT stays on that host. A `links` that is not an object, or a next
        link that is not text, ends the listing.

        :raises UnexpectedResponse: when a page has no list under `key`, an item is not an
            object, a next link returns to a page already read, or there are more than
            `max_pages` pages.
        """
        step = step or f"list {path}"
        url = self.url(path)
        query = {"per_page": PAGE_SIZE, **(params or {})}
        visited: set[str] = set()
        while url:
            if len(visited) >= self.max_pages:
                raise self._unexpected(
                    step, f"the listing has more than {self.max_pages} pages, so it was cut off"
                )
            response = self._request(step, "GET", url, params=query)
            visited.add(_page_key(response.url))
            body = self._json(step, response)
            if not isinstance(body, dict) or not isinstance(body.get(key), list):
                raise self._unexpected(step, f"the response has no {key!r} list")
            for index, item in enumerate(body[key]):
                if not isinstance(item, dict):
                    raise self._unexpected(step, f"{key}[{index}] is not an object")
                yield item

            next_link = _next_link(body)
            if not next_link:
                return
            parts = urlsplit(next_link)
            url = self.url(parts.path) + (f"?{parts.query}" if parts.query else "")
            query = None
            if _page_key(url) in visited:
                raise self._unexpected(
                    step, "the next-page link points back to a page already read"
                )

    def list(self, path: str, key: str, *, params: dict | None = None, step: str = "") -> list:
        """Return every item under `key` of a paginated listing (see `iter_pages`)."""
        return list(self.iter_pages(path, key, params=params, step=step))

    def post(self, path: str, body: dict, *, step: str = "") -> Any:
        """POST a JSON body to an API path and return the decoded response (None when empty)."""
        step = step or f"POST {path}"

        response = self._request(step, "POST", self.url(path), body=body)
        if response.status == 204 or not response.content:
            return None
        return self._json(step, response)

    def delete(self, path: str, *, params: dict | None = None, step: str = "") -> bool:
        """DELETE an API path. Return True when deleted, False when it was already gone (404)."""
        step = step or f"DELETE {path}"
        try:
            self._request(step, "DELETE", self.url(path), params=params)
        except NotFound:
            logger.info("digitalocean: %s: already gone", step)
            return False
        return True

    # python-digitalocean objects, built from checked listings.

    def _adopt(self, obj: _Result) -> _Result:
        # python-digitalocean gives every object a session of its own and reads the base URL
        # from the environment, so point each object at this client's session and base URL.
        obj.token = self._token
        obj.end_point = self.base_url + "/v2/"
        obj._session = self.session
        return obj

    def _objects(
        self, step: str, path: str, key: str, kind: type[_Result], *, params: dict | None = None
    ) -> list[_Result]:
        items = self.list(path, key, params=params, step=step)
        for index, item in enumerate(items):
            problem = _shape_problem(item, _LISTED_FIELDS[key])
            if problem:
                raise self._unexpected(step, f"{key}[{index}].{problem}")
        return [self._adopt(kind(**_library_fields(item))) for item in items]

    def account(self) -> digitalocean.Account:
        """Return the account: status, email_verified, droplet_limit and the other fields."""
        step = "read the account"
        fields = self.get_object("/v2/account", "account", step=step)
        problem = _shape_problem(fields, _ACCOUNT_FIELDS)
        if problem:
            raise self._unexpected(step, f"account.{problem}")
        return self._adopt(digitalocean.Account(**_library_fields(fields)))

    def regions(self) -> list[digitalocean.Region]:
        """Return every region, available or not."""
        return self._objects("list regions", "/v2/regions", "regions", digitalocean.Region)

    def sizes(self) -> list[digitalocean.Size]:
        """Return every Droplet size."""
        return self._objects("list sizes", "/v2/sizes", "sizes", digitalocean.Size)

    def domains(self) -> list[digitalocean.Domain]:
        """Return every domain (DNS zone) of the account."""
        return self._objects("list domains", "/v2/domains", "domains", digitalocean.Domain)

    def records(self, domain: str, *, name: str = "", type: str = "") -> list[digitalocean.Record]:
        """Return the records of a domain, optionally only those with a full `name` and `type`.

        DigitalOcean filters on the fully qualified name (`scim.example.com`), not on the
        relative one the records carry (`scim`).
        """
        params = {}
        if name:
            params["name"] = name
        if type:
            params["type"] = type
        records = self._objects(
            f"list the records of domain {domain}",
            f"/v2/domains/{quote(domain, safe='')}/records",
            "domain_records",
            digitalocean.Record,
            params=params,
        )
        for record in records:
            record.domain = domain
        return records

    def load_balancers(self) -> list[digitalocean.LoadBalancer]:
        """Return every load balancer, with its name, ip, tag, droplet_ids and forwarding rules.

        `forwarding_rules` contains `digitalocean.ForwardingRule` objects; `health_check` and
        `sticky_sessions` stay dicts.
        """
        load_balancers = self._objects(
            "list load balancers", "/v2/load_balancers", "load_balancers", digitalocean.LoadBalancer
        )
        for lb in load_balancers:
            lb.forwarding_rules = [
                digitalocean.ForwardingRule(
                    entry_protocol=rule.get("entry_protocol"),
                    entry_port=rule.get("entry_port"),
                    target_protocol=rule.get("target_protocol"),
                    target_port=rule.get("target_port"),
                    certificate_id=rule.get("certificate_id") or "",
                    tls_passthrough=bool(rule.get("tls_passthrough")),
                )
                for rule in lb.forwarding_rules or []
            ]
        return load_balancers

    def certificates(self) -> list[digitalocean.Certificate]:
        """Return every certificate."""
        return self._objects(
            "list certificates", "/v2/certificates", "certificates", digitalocean.Certificate
        )

    def volumes(self) -> list[digitalocean.Volume]:
        """Return every block storage volume, with its tags and droplet_ids."""
        return self._objects("list volumes", "/v2/volumes", "volumes", digitalocean.Volume)

    def tags(self) -> list[digitalocean.Tag]:
        """Return every tag, with the count of resources carrying it."""
        return self._objects("list tags", "/v2/tags", "tags", digitalocean.Tag)

    def droplet_count(self) -> int:
        """Return how many Droplets the account has, from one short listing's `meta.total`."""
        step = "count droplets"
        meta = self.get_object("/v2/droplets", "meta", params={"per_page": 1}, step=step)
        total = meta.get("total")
        if not _is_integer(total):
            raise self._unexpected(step, "meta.total is not an integer")
        return total

    def delete_load_balancer(self, load_balancer_id: str) -> bool:
        """Delete a load balancer. Return False when it was already gone."""
        return self.delete(
            f"/v2/load_balancers/{quote(str(load_balancer_id), safe='')}",
            step=f"delete load balancer {load_balancer_id}",
        )

    def delete_volume(self, volume_id: str) -> bool:
        """Delete a volume. Return False when it was already gone.

        :raises Conflict: when the volume is still attached to a Droplet.
        """
        return self.delete(
            f"/v2/volumes/{quote(str(volume_id), safe='')}", step=f"delete volume {volume_id}"
        )

    def delete_record(self, domain: str, record_id: int) -> bool:
        """Delete one record of a domain. Return False when it was already gone."""
        return self.delete(
            f"/v2/domains/{quote(domain, safe='')}/records/{quote(str(record_id), safe='')}",
            step=f"delete record {record_id} of domain {domain}",
        )

    def delete_certificate(self, certificate_id: str) -> bool:
        """Delete a certificate. Return False when it was already gone."""
        return self.delete(
            f"/v2/certificates/{quote(str(certificate_id), safe='')}",
            step=f"delete certificate {certificate_id}",
        )

    def delete_tag(self, name: str) -> bool:
        """Delete a tag (DigitalOcean removes it from every resource). False when already gone."""
        return self.delete(f"/v2/tags/{quote(name, safe=':')}", step=f"delete tag {name}")

    # What python-digitalocean lacks: Kubernetes and the container registry.

    def kubernetes_options(self) -> dict:
        """Return `options` of /v2/kubernetes/options: `regions`, `versions` and `sizes` lists.

        A list that is missing or null is returned empty. Every item is an object with a text
        `slug`.
        """
        step = "read the Kubernetes options"
        options = self.get_object("/v2/kubernetes/options", "options", step=step)
        checked = dict(options)
        for kind in ("regions", "versions", "sizes"):
            items = options.get(kind)
            if items is None:
                items = []
            if not isinstance(items, list):
                raise self._unexpected(step, f"options.{kind} is not a list")
            for index, item in enumerate(items):
                problem = _shape_problem(item, {"slug": _TEXT})
                if problem:
                    raise self._unexpected(step, f"options.{kind}[{index}].{problem}")
            checked[kind] = items
        return checked

    def clusters(self) -> list[dict]:
        """Return every Kubernetes cluster, with its node pools, tags and status.

        Every cluster has a text `id` and `name`, and `tags` is a list when present.
        """
        step = "list Kubernetes clusters"
        clusters = self.list("/v2/kubernetes/clusters", "kubernetes_clusters", step=step)
        for index, cluster in enumerate(clusters):
            problem = _shape_problem(cluster, _LISTED_FIELDS["kubernetes_clusters"])
            if problem:
                raise self._unexpected(step, f"kubernetes_clusters[{index}].{problem}")
        return clusters

    def cluster(self, cluster_id: str) -> dict:
        """Return one Kubernetes cluster.

        :raises NotFound: when no cluster has this id.
        """
        step = f"read Kubernetes cluster {cluster_id}"
        path = f"/v2/kubernetes/clusters/{quote(cluster_id, safe='')}"
        return self.get_object(path, "kubernetes_cluster", step=step)

    def associated_resources(self, cluster_id: str) -> dict:
        """Return what DigitalOcean lists as a cluster's associated resources.

        The result has `load_balancers`, `volumes` and `volume_snapshots`, each a list of
        `{"id", "name"}`, missing lists filled in as empty.
        """
        step = f"list the associated resources of Kubernetes cluster {cluster_id}"
        path = f"/v2/kubernetes/clusters/{cluster_id}/destroy_with_associated_resources"
        body = self.get(path, step=step) or {}
        if not isinstance(body, dict):
            raise self._unexpected(step, "the response is not an object")
        resources = {}
        for kind in ("load_balancers", "volumes", "volume_snapshots"):
            items = body.get(kind) or []
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                raise self._unexpected(step, f"{kind} is not a list of objects")
            resources[kind] = list(items)
        return resources

    def delete_cluster(self, cluster_id: str) -> bool:
        """Delete a Kubernetes cluster (not its associated resources). False when already gone."""
        step = f"delete Kubernetes cluster {cluster_id}"
        return self.delete(f"/v2/kubernetes/clusters/{quote(cluster_id, safe='')}", step=step)

    def registry(self) -> dict | None:
        """Return the account's container registry, or None when it has none."""
        try:
            return self.get_object("/v2/registry", "registry", step="read the container registry")
        except NotFound:
            return None

    def registries(self) -> list[dict]:
        """Return every container registry of the account (the multi-registry API)."""
        step = "list container registries"
        body = self.get("/v2/registries", step=step)
        registries = body.get("registries") if isinstance(body, dict) else None
        if registries is None:
            return []
        if not isinstance(registries, list) or not all(isinstance(r, dict) for r in registries):
            raise self._unexpected(step, "registries is not a list of objects")
        return list(registries)

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


def _next_link(body: dict) -> str:
    """Return `links.pages.next` of a page, or "" when any part is missing or of another type."""
    links = body.get("links")
    pages = links.get("pages") if isinstance(links, dict) else None
    next_link = pages.get("next") if isinstance(pages, dict) else None
    return next_link if isinstance(next_link, str) else ""


def _page_key(url: str) -> str:
    """Return what identifies a page of a listing: its path and sorted query."""
    parts = urlsplit(url)
    query = "&".join(sorted(parts.query.split("&")))
    return f"{parts.path.rstrip('/')}?{query}"


# The fields each typed helper reads, with the types it accepts. A field whose types include
# None may also be missing.
_TEXT = (str,)
_OPTIONAL_TEXT = (str, type(None))
_LISTED_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "regions": {"slug": _TEXT, "available": (bool,)},
    "sizes": {"slug": _TEXT, "regions": (list, type(None))},
    "domains": {"name": _TEXT},
    "domain_records": {"id": (int,), "type": _TEXT, "name": _TEXT, "data": _TEXT},
    "load_balancers": {
        "id": _TEXT,
        "name": _TEXT,
        "ip": _OPTIONAL_TEXT,
        "tag": _OPTIONAL_TEXT,
        "forwarding_rules": (list, type(None)),
    },
    "certificates": {"id": _TEXT, "name": _TEXT},
    "volumes": {"id": _TEXT, "name": _TEXT},
    "tags": {"name": _TEXT},
    "kubernetes_clusters": {"id": _TEXT, "name": _TEXT, "tags": (list, type(None))},
}
_ACCOUNT_FIELDS: dict[str, tuple[type, ...]] = {
    "status": _TEXT,
    "status_message": _OPTIONAL_TEXT,
    "email": _TEXT,
    "email_verified": (bool,),
    "droplet_limit": (int,),
}
_TYPE_NAMES = {str: "text", bool: "true or false", int: "an integer", list: "a list"}


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shape_problem(item: object, fields: dict[str, tuple[type, ...]]) -> str:
    """Return what is wrong with the fields of an API object, such as `name is missing`, or ""."""
    if not isinstance(item, dict):
        return "is not an object"
    for name, types in fields.items():
        value = item.get(name)
        optional = type(None) in types
        if value is None:
            if optional:
                continue
            return f"{name} is missing" if name not in item else f"{name} is null"
        # bool is an int in Python, but not in JSON.
        if isinstance(value, bool) and bool not in types:
            matches = False
        else:
            matches = isinstance(value, types)
        if not matches:
            expected = " or ".join(_TYPE_NAMES[kind] for kind in types if kind in _TYPE_NAMES)
            return f"{name} is not {expected}"
        if list in types and name in ("regions", "tags"):
            if not all(isinstance(element, str) for element in value):
                return f"{name} is not a list of text"
        if list in types and name == "forwarding_rules":
            if not all(isinstance(element, dict) for element in value):
                return f"{name} is not a list of objects"
    return ""


def _library_fields(item: dict) -> dict:
    """Return the fields of an API object that may become attributes of a library object.

    python-digitalocean sets every keyword as an attribute, so names it uses itself (the token,
    the base URL, private state) are left out.
    """
    reserved = {"token", "tokens", "end_point", "domain_name"}
    return {
        name: value
        for name, value in item.items()
        if name.isidentifier() and not name.startswith("_") and name not in reserved
    }
