"""The stack's own container registry and the bridge image built from bridge_image/.

Used only with `imageSource: registry`. The image build needs pulumi-docker-build and a
Docker engine with buildx where `pulumi up` runs.
"""

import base64
import json
import re

import pulumi
import pulumi_digitalocean as digitalocean

from infra.settings import PROJECT_DIR, Settings

BRIDGE_IMAGE_DIR = PROJECT_DIR / "bridge_image"
REPOSITORY = "scim-bridge"


def registry_name(settings: Settings) -> str:
    """Return the registry's name: `scim-bridge-` plus the zone, as DigitalOcean accepts it.

    Registry names are unique across DigitalOcean, so the zone (which this account owns)
    goes into it. DigitalOcean allows lower-case letters, digits and dashes, 63 at most.
    """
    cleaned = re.sub(r"[^a-z0-9-]+", "-", f"scim-bridge-{settings.domain}")
    return cleaned[:63].strip("-")


def _docker_login(docker_config: str) -> tuple[str, str]:
    """Return (username, password) from a Docker config JSON for registry.digitalocean.com."""
    auths = json.loads(docker_config)["auths"]
    encoded = next(iter(auths.values()))["auth"]
    username, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    return username, password


class Registry(pulumi.ComponentResource):
    """A DigitalOcean Container Registry, and the bridge image built and pushed to it.

    `image` is the pushed image's reference with its digest, so the Deployment always
    runs exactly what was built. DigitalOcean allows one registry per account, so this
    fails on an account that already has one.
    """

    image: pulumi.Output[str]
    registry: digitalocean.ContainerRegistry

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("scimbridge:registry:Registry", name, None, opts)
        # Imported here so that an `upstream` deploy does not load the build provider's SDK.
        import pulumi_docker_build as docker_build

        self.registry = digitalocean.ContainerRegistry(
            f"{name}-registry",
            name=registry_name(settings),
            subscription_tier_slug="basic",
            opts=pulumi.ResourceOptions(parent=self),
        )
        credentials = digitalocean.ContainerRegistryDockerCredentials(
            f"{name}-push-credentials",
            registry_name=self.registry.name,
            write=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        login = credentials.docker_credentials.apply(_docker_login)

        repository = pulumi.Output.concat(self.registry.endpoint, "/", REPOSITORY)
        tag = settings.bridge_image.split("@", 1)[0].rsplit(":", 1)[-1]
        built = docker_build.Image(
            f"{name}-image",
            context=docker_build.BuildContextArgs(location=str(BRIDGE_IMAGE_DIR)),
            platforms=[docker_build.Platform.LINUX_AMD64],
            tags=[pulumi.Output.concat(repository, ":", tag)],
            push=True,
            registries=[
                docker_build.RegistryArgs(
                    address=self.registry.server_url,
                    username=login.apply(lambda pair: pair[0]),
                    password=pulumi.Output.secret(login.apply(lambda pair: pair[1])),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.image = pulumi.Output.concat(repository, "@", built.digest)
        self.register_outputs({"image": self.image})
