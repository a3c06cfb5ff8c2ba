"""Resolve the digest of a 1Password SCIM Bridge tag and pin it in bridge_image/Dockerfile.

Usage: python bridge_image/pin_digest.py TAG [--registry URL] [--dockerfile PATH]

It asks the registry for the tag's manifest (the multi-architecture index when there is
one) with the Docker Registry HTTP API v2, following the registry's Bearer token
challenge, and rewrites the Dockerfile's FROM line to `1password/scim:TAG@sha256:...`.
The program's default `bridgeImage` is read from that line.
"""

import argparse
import re
import sys
from pathlib import Path

import requests

REPOSITORY = "1password/scim"
DEFAULT_REGISTRY = "https://registry-1.docker.io"
DOCKERFILE = Path(__file__).resolve().parent / "Dockerfile"

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)

_TAG = re.compile(r"v\d+\.\d+\.\d+")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_FROM_LINE = re.compile(rf"^FROM {re.escape(REPOSITORY)}:\S+$", re.MULTILINE)
_CHALLENGE_PARAMETER = re.compile(r'(\w+)="([^"]*)"')


class PinError(Exception):
    """The digest could not be resolved or written."""


def resolve_digest(tag: str, *, registry: str = DEFAULT_REGISTRY, timeout: float = 10.0) -> str:
    """Return the `sha256:...` digest of `REPOSITORY:tag` in `registry`.

    :raises PinError: when the registry rejects the request or returns no digest.
    """
    url = f"{registry.rstrip('/')}/v2/{REPOSITORY}/manifests/{tag}"
    headers = {"Accept": MANIFEST_TYPES}
    response = requests.head(url, headers=headers, timeout=timeout)

    if response.status_code == 401:
        headers["Authorization"] = f"Bearer {_fetch_token(response, timeout)}"
        response = requests.head(url, headers=headers, timeout=timeout)

    if response.status_code != 200:
        raise PinError(
            f"image: {REPOSITORY}:{tag} not found at {registry} (HTTP {response.status_code})"
        )

    digest = response.headers.get("Docker-Content-Digest", "")
    if not _DIGEST.fullmatch(digest):
        raise PinError(f"image: {registry} returned no sha256 digest for {REPOSITORY}:{tag}")
    return digest


def pin(dockerfile: Path, tag: str, digest: str) -> str:
    """Rewrite the FROM line of `dockerfile` to `REPOSITORY:tag@digest`; return that reference.

    :raises PinError: when the file has no FROM line for REPOSITORY.
    """
    reference = f"{REPOSITORY}:{tag}@{digest}"
    text = dockerfile.read_text()
    new_text, count = _FROM_LINE.subn(f"FROM {reference}", text, count=1)
    if count == 0:
        raise PinError(f"image: {dockerfile} has no 'FROM {REPOSITORY}:...' line to rewrite")
    dockerfile.write_text(new_text)
    return reference


def _fetch_token(challenge: requests.Response, timeout: float) -> str:
    header = challenge.headers.get("WWW-Authenticate", "")
    scheme, _, parameters = header.partition(" ")
    fields = dict(_CHALLENGE_PARAMETER.findall(parameters))
    if scheme.lower() != "bearer" or "realm" not in fields:
        raise PinError(f"image: the registry asked for unsupported authentication {scheme!r}")

    query = {key: fields[key] for key in ("service", "scope") if key in fields}
    response = requests.get(fields["realm"], params=query, timeout=timeout)
    if response.status_code != 200:
        raise PinError(f"image: the registry's token service returned HTTP {response.status_code}")

    body = response.json()
    token = body.get("token") or body.get("access_token")
    if not token:
        raise PinError("image: the registry's token service returned no token")
    return token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tag", help="a release tag such as v2.9.13")
    parser.add_argument("--registry", default=DEFAULT_REGISTRY, help="registry base URL")
    parser.add_argument("--dockerfile", type=Path, default=DOCKERFILE, help="file to rewrite")
    arguments = parser.parse_args(argv)

    if not _TAG.fullmatch(arguments.tag):
        parser.error(f"tag: {arguments.tag!r} is not a release tag; accepted: vMAJOR.MINOR.PATCH")

    try:
        digest = resolve_digest(arguments.tag, registry=arguments.registry)
        reference = pin(arguments.dockerfile, arguments.tag, digest)
    except PinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except requests.ConnectionError:
        print(
            f"error: cannot connect to {arguments.registry}; run this where the registry is "
            "reachable, then commit the rewritten Dockerfile",
            file=sys.stderr,
        )
        return 1
    except requests.RequestException as error:
        print(f"error: the request to {arguments.registry} failed: {error}", file=sys.stderr)
        return 1

    print(reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
