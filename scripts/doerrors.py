"""The DigitalOcean API's error model: one exception per kind of failure, built from responses.

`DigitalOceanClient` raises these. Callers catch the leaf they can act on and report the rest:
`NotFound` on a delete counts as already gone, and `TokenRejected` stops every later call.
Every message names the step that failed and never contains the token.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from infra.errors import InvalidInput, ScimBridgeError
from scripts.servertext import server_text

TOKENS_PAGE_URL = "https://cloud.digitalocean.com/account/api/tokens"

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


@dataclass(frozen=True)
class ApiResponse:
    """One HTTP response of the API, with its body read in full (at most the size cap)."""

    method: str
    url: str
    status: int
    reason: str
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """Return the decoded JSON body; raise ValueError when it is not JSON."""
        return json.loads(self.content)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Return the delay a Retry-After header requests, in seconds, or None when absent."""
    value = headers.get("Retry-After")
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


def _error_body(response: ApiResponse) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    api_id, api_message = body.get("id"), body.get("message")
    return (
        api_id if isinstance(api_id, str) else "",
        api_message if isinstance(api_message, str) else "",
    )


def _scope_for(method: str, path: str) -> str:
    parts = [part for part in path.split("/") if part]
    resource = _SCOPE_RESOURCES.get(parts[1] if len(parts) > 1 else "", "")
    action = _SCOPE_ACTIONS.get(method.upper(), "")
    return f"{resource}:{action}" if resource and action else ""


def error_from_response(
    step: str, response: ApiResponse, *, token: str | None = None
) -> DigitalOceanError:
    """Build the DigitalOceanError leaf for a failed response, with the step and DO's error text.

    The server's text is shown with control characters escaped, cut to a readable length and
    with `token` redacted, so that it cannot forge output lines or echo the token.
    """
    status = response.status
    api_id, api_message = _error_body(response)
    shown = server_text(api_message, token=token) if api_message else ""
    detail = f": {shown}" if shown else " (no message in the response)"
    base = f"digitalocean: {step} failed: HTTP {status}{detail}"
    fields = {"step": step, "status": status, "api_id": api_id, "api_message": api_message}
    retry_after = retry_after_seconds(response.headers)
    wait = f"; retry after {retry_after:.0f} s" if retry_after is not None else ""

    if status == 401:
        hint = (
            "check the DigitalOcean token (DIGITALOCEAN_TOKEN or --token): it is unknown, expired "
            f"or revoked; create a new one with the scopes this command needs at {TOKENS_PAGE_URL}"
        )
        return TokenRejected(f"{base}; {hint}", **fields)
    if status == 403:
        scope = _scope_for(response.method, urlsplit(response.url).path)
        hint = f"add the {scope} scope to the token" if scope else "add the scope to the token"
        return ScopeMissing(f"{base}; {hint} at {TOKENS_PAGE_URL}", **fields)
    if status == 404:
        return NotFound(base, **fields)
    if status == 429:
        return RateLimited(f"{base} (rate limit reached){wait}", **fields)
    if status in (409, 412):
        return Conflict(base, **fields)
    if status >= 500:
        return ApiUnavailable(f"{base}; DigitalOcean is failing, try again later{wait}", **fields)
    return RequestRejected(base, **fields)
