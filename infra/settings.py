"""Typed, validated settings of the deploy, read from the stack's Pulumi config.

Every key lives in the `scim-bridge` namespace and is declared, with its type and default,
in Pulumi.yaml. `load_settings` checks every key before any resource is registered and
reports all invalid keys in one `InvalidSettings` error. Messages show the bad value of a
plain key, never the value of a secret one.
"""

import difflib
import enum
import hashlib
import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import idna
import pulumi

from infra import naming
from infra.dnsinput import MAX_WAIT_TIMEOUT
from infra.errors import InvalidInput
from infra.scimsession import InvalidScimSession, parse_scimsession

NAMESPACE = "scim-bridge"

PROJECT_DIR = Path(__file__).resolve().parent.parent
BRIDGE_DOCKERFILE = PROJECT_DIR / "bridge_image" / "Dockerfile"
# The digest bridge_image/Dockerfile carries until `pin_digest.py` writes the real one.
PLACEHOLDER_DIGEST = "@sha256:" + "0" * 64

# Defaults of the plain keys. Pulumi.yaml declares the same values, and a test compares them.
DEFAULTS: dict[str, object] = {
    "hostname": "scim",
    "region": "nyc3",
    "kubernetesVersion": "",
    # 2 vCPUs and 4 GB: DOKS reserves about a gigabyte of each node for the system, and the
    # largest tier requests 1000m and 1024M for the bridge plus room for Redis and add-ons.
    "nodeSize": "s-2vcpu-4gb",
    # Two nodes so that losing one reschedules the bridge instead of taking it down until
    # DigitalOcean replaces the droplet.
    "nodeCount": 2,
    "ha": False,
    "tlsMode": "letsencrypt",
    "dnsTtl": 60,
    "propagationTimeout": 900,
    "imageSource": "upstream",
    "resourceTier": "default",
    "tags": [],
    "protectCluster": True,
}

SECRET_KEYS = ("scimsession", "workspaceCredentials", "workspaceSettings")

# Every key of the namespace, as Pulumi.yaml declares them; a test compares the two.
KEYS = frozenset(
    {*DEFAULTS, *SECRET_KEYS, "domain", "letsencryptEmail", "resolvers", "bridgeImage"}
)

MIN_DNS_TTL = 30  # DigitalOcean DNS rejects a lower TTL.
# A day. Resolvers keep the address this long after the load balancer is replaced.
MAX_DNS_TTL = 86400
# A guard against typing errors, far above what one bridge needs (two or three nodes);
# preflight checks the account's own Droplet limit.
MAX_NODE_COUNT = 100
# The gate's wait is bounded like `scim-bridge dns wait --timeout`, and checked here so that
# a too long timeout fails before any resource is created.
MAX_PROPAGATION_TIMEOUT = int(MAX_WAIT_TIMEOUT)

_REGION = re.compile(r"[a-z]{3}[0-9]")
_SIZE_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")
_KUBERNETES_VERSION = re.compile(r"[0-9]+\.[0-9]+(?:\.[0-9]+(?:-do\.[0-9]+)?)?")
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_EMAIL = re.compile(r"[^@\s]+@([^@\s]+)")
_DIGEST_REFERENCE = re.compile(r"[a-z0-9][a-z0-9._/:-]*(?::[\w][\w.-]{0,127})?@sha256:[0-9a-f]{64}")
_FROM_LINE = re.compile(r"^FROM\s+(\S+)", re.MULTILINE)
# DigitalOcean tags: letters, digits, colons, dashes and underscores, up to 255 characters.
_TAG = re.compile(r"[A-Za-z0-9:_-]{1,255}")


class TlsMode(enum.StrEnum):
    """The place where TLS ends: the bridge (Let's Encrypt) or the load balancer."""

    LETSENCRYPT = "letsencrypt"
    LOADBALANCER = "loadbalancer"


class ImageSource(enum.StrEnum):
    """The origin of the bridge image: the vendor's registry, or one the stack creates."""

    UPSTREAM = "upstream"
    REGISTRY = "registry"


class ResourceTier(enum.StrEnum):
    """The bridge vendor's sizing: under 1,000 users, up to 5,000, and more."""

    DEFAULT = "default"
    HIGH = "high"
    VERY_HIGH = "very-high"


# CPU and memory per tier, from the bridge vendor's deployment examples.
TIER_RESOURCES: dict[ResourceTier, tuple[str, str]] = {
    ResourceTier.DEFAULT: ("125m", "512M"),
    ResourceTier.HIGH: ("500m", "1024M"),
    ResourceTier.VERY_HIGH: ("1000m", "1024M"),
}


@dataclass(frozen=True)
class Problem:
    """One invalid key: its full name and what is wrong with it, including what is accepted."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class InvalidSettings(InvalidInput, pulumi.RunError):
    """One or more settings are invalid; `problems` lists every one of them.

    Also a `pulumi.RunError`, so `pulumi up` prints the message without a traceback.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = tuple(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        count = len(self.problems)
        noun = "setting" if count == 1 else "settings"
        super().__init__(f"settings: {count} invalid {noun}:\n{lines}")


@dataclass(frozen=True)
class Settings:
    """The validated settings. Names are ASCII (IDNA 2008), lower case, without a trailing dot.

    `hostname` is "@" when the bridge is served at the zone's apex. The secret files are
    Pulumi secrets (None when not set), and `secret_digest` is a SHA-256 over all of them
    that changes whenever one does.
    """

    stack: str
    domain: str
    hostname: str
    region: str
    kubernetes_version: str
    node_size: str
    node_count: int
    ha: bool
    tls_mode: TlsMode
    letsencrypt_email: str | None
    dns_ttl: int
    propagation_timeout: int
    resolvers: tuple[str, ...]
    bridge_image: str
    image_source: ImageSource
    resource_tier: ResourceTier
    tags: tuple[str, ...]
    protect_cluster: bool
    scimsession: pulumi.Output[str] | None
    workspace_credentials: pulumi.Output[str] | None
    workspace_settings: pulumi.Output[str] | None
    secret_digest: str

    @property
    def fqdn(self) -> str:
        """The bridge's full DNS name, such as `scim.example.com`."""
        return self.domain if self.hostname == "@" else f"{self.hostname}.{self.domain}"

    @property
    def record_name(self) -> str:
        """The A record's name relative to the zone: the label, or "@" for the apex."""
        return self.hostname

    @property
    def resource_name(self) -> str:
        """The prefix of every DigitalOcean resource name: `scim-bridge-<stack>`, sanitized."""
        return naming.resource_name(self.stack)

    @property
    def node_tag(self) -> str:
        """The tag that the node pool carries and the load balancer targets."""
        return f"{self.resource_name}-nodes"

    @property
    def stack_tag(self) -> str:
        """The tag that marks a DigitalOcean resource as this stack's."""
        return naming.stack_tag(self.stack)

    @property
    def all_tags(self) -> list[str]:
        """Tags for every taggable DigitalOcean resource: ownership, stack, then extra tags."""
        return ["scim-bridge", self.stack_tag, *self.tags]


def _unknown_keys() -> list[str]:
    """Return the keys set in this namespace that are not settings, such as a misspelled one."""
    from pulumi.runtime import config as runtime_config

    # Values set in-process (tests, plan) and values the Pulumi CLI passes in the environment.
    configured = {*runtime_config.CONFIG.get(), *runtime_config.get_config_env()}
    prefix = f"{NAMESPACE}:"
    names = {key.removeprefix(prefix) for key in configured if key.startswith(prefix)}
    return sorted(names - KEYS)


def has_placeholder_digest(image: str) -> bool:
    """Return whether `image` is pinned by the all-zero digest that stands in for a real one."""
    return image.endswith(PLACEHOLDER_DIGEST)


def default_bridge_image(dockerfile: Path = BRIDGE_DOCKERFILE) -> str:
    """Return the image reference on the FROM line of bridge_image/Dockerfile.

    The default deploy and the Dockerfile name the same pinned release because this is
    the only place the program reads the default from.
    """
    match = _FROM_LINE.search(dockerfile.read_text(encoding="utf-8"))
    if match is None:
        raise InvalidInput(f"settings: {dockerfile} has no FROM line to take bridgeImage from")
    return match.group(1)


def load_settings(config: pulumi.Config | None = None, *, stack: str | None = None) -> Settings:
    """Read and validate every `scim-bridge:*` key of the current stack.

    :param config: the config bag; by default `pulumi.Config("scim-bridge")`.
    :param stack: the stack name; by default `pulumi.get_stack()`.
    :raises InvalidSettings: listing every invalid key, with the value of each plain one
        and what is accepted.
    :returns: the settings, with secret files wrapped in `pulumi.Output.secret`.
    """
    reader = _Reader(config or pulumi.Config(NAMESPACE))
    for key in _unknown_keys():
        close = difflib.get_close_matches(key, KEYS, n=1)
        hint = f"did you mean {NAMESPACE}:{close[0]}? " if close else ""
        reader.problem(
            key,
            f"is not a setting of this project, so its value would be ignored; {hint}"
            f"accepted keys: {', '.join(sorted(KEYS))}",
        )

    domain = reader.text("domain", _parse_domain, required=True)
    hostname = reader.text("hostname", _parse_hostname)
    region = reader.text("region", _pattern(_REGION, "a DigitalOcean region slug such as nyc3"))
    kubernetes_version = reader.text(
        "kubernetesVersion",
        _pattern(
            _KUBERNETES_VERSION,
            "a DOKS version prefix such as 1.33 or 1.33.1, or empty for the newest",
            allow_empty=True,
        ),
    )
    node_size = reader.text(
        "nodeSize", _pattern(_SIZE_SLUG, "a droplet size slug such as s-2vcpu-4gb")
    )
    node_count = reader.integer(
        "nodeCount",
        minimum=1,
        maximum=MAX_NODE_COUNT,
        accepted=f"an integer from 1 to {MAX_NODE_COUNT}",
    )
    ha = reader.boolean("ha")
    tls_mode = reader.text("tlsMode", _choice(TlsMode))
    letsencrypt_email = reader.text("letsencryptEmail", _parse_email, optional=True)
    dns_ttl = reader.integer(
        "dnsTtl",
        minimum=MIN_DNS_TTL,
        maximum=MAX_DNS_TTL,
        accepted=f"an integer number of seconds from {MIN_DNS_TTL} (DigitalOcean's minimum) "
        f"to {MAX_DNS_TTL}",
    )
    propagation_timeout = reader.integer(
        "propagationTimeout",
        minimum=1,
        maximum=MAX_PROPAGATION_TIMEOUT,
        accepted=f"a positive integer number of seconds, at most {MAX_PROPAGATION_TIMEOUT}",
    )
    resolvers = reader.string_list("resolvers", _parse_resolver, default=_default_resolvers)
    bridge_image = reader.text("bridgeImage", _parse_image, default=default_bridge_image)
    image_source = reader.text("imageSource", _choice(ImageSource))
    resource_tier = reader.text("resourceTier", _choice(ResourceTier))
    tags = reader.string_list("tags", _parse_tag)
    protect_cluster = reader.boolean("protectCluster")

    session = reader.secret("scimsession", _parse_session)
    credentials = reader.secret("workspaceCredentials", _json_object_parser("workspaceCredentials"))
    workspace = reader.secret("workspaceSettings", _json_object_parser("workspaceSettings"))

    if session is not None and session.domain and domain and hostname:
        fqdn = domain if hostname == "@" else f"{hostname}.{domain}"
        session_host = _session_host(session.domain)
        if session_host != fqdn:
            reader.problem(
                "scimsession",
                f"the session was made for {session_host!r}, not for {fqdn!r}; the bridge would "
                "ask Let's Encrypt for the wrong name. Accepted: a scimsession made for this "
                "bridge, or set domain and hostname to match the session",
            )

    if image_source == ImageSource.REGISTRY and bridge_image is not None:
        built = default_bridge_image()
        if bridge_image != built:
            reader.problem(
                "bridgeImage",
                f"{bridge_image!r} differs from {built!r}, the FROM line of "
                "bridge_image/Dockerfile, which is what imageSource registry builds; "
                "accepted: leave bridgeImage unset, or change the Dockerfile",
            )

    if (credentials is None) != (workspace is None):
        reader.problem(
            "workspaceCredentials",
            "Google Workspace needs both workspaceCredentials and workspaceSettings; "
            "accepted: both set, or neither",
        )

    reader.raise_problems()

    if has_placeholder_digest(bridge_image):
        pulumi.log.warn(
            f"settings: bridgeImage {bridge_image} has an all-zero placeholder digest, so the "
            "image pull will fail; run `python bridge_image/pin_digest.py TAG` or set "
            "scim-bridge:bridgeImage to a reference pinned by its real digest"
        )

    session_text = session.text if session is not None else None
    return Settings(
        stack=stack or pulumi.get_stack(),
        domain=domain,
        hostname=hostname,
        region=region,
        kubernetes_version=kubernetes_version,
        node_size=node_size,
        node_count=node_count,
        ha=ha,
        tls_mode=TlsMode(tls_mode),
        letsencrypt_email=letsencrypt_email,
        dns_ttl=dns_ttl,
        propagation_timeout=propagation_timeout,
        resolvers=tuple(resolvers),
        bridge_image=bridge_image,
        image_source=ImageSource(image_source),
        resource_tier=ResourceTier(resource_tier),
        tags=tuple(tags),
        protect_cluster=protect_cluster,
        scimsession=_secret_or_none(session_text),
        workspace_credentials=_secret_or_none(credentials),
        workspace_settings=_secret_or_none(workspace),
        secret_digest=_digest(session_text, credentials, workspace),
    )


class _Reader:
    """Read keys with typed getters, collecting a Problem per invalid key instead of raising."""

    def __init__(self, config: pulumi.Config):
        self.config = config
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(f"{NAMESPACE}:{key}", message))

    def raise_problems(self) -> None:
        if self.problems:
            raise InvalidSettings(self.problems)

    def _default(self, key: str, default: Callable[[], object] | None):
        if default is not None:
            return default()
        return DEFAULTS.get(key)

    def text(self, key, parse, *, required=False, optional=False, default=None):
        raw = self.config.get(key)
        if raw is None:
            if required:
                self.problem(
                    key,
                    f"missing; set it with `pulumi config set {NAMESPACE}:{key} VALUE`",
                )
                return None
            if optional:
                return None
            raw = self._default(key, default)
        try:
            return parse(raw)
        except ValueError as error:
            self.problem(key, f"{raw!r} {error}")
            return None

    def integer(
        self, key: str, *, minimum: int, accepted: str, maximum: int | None = None
    ) -> int | None:
        raw = self.config.get(key)
        # int() also reads '1_000' and digits of other scripts, which are not what is meant.
        if raw is not None and not re.fullmatch(r"\s*-?[0-9]+\s*", raw):
            self.problem(key, f"{raw!r} is not an integer; accepted: {accepted}")
            return None
        try:
            value = self.config.get_int(key)
        except pulumi.ConfigTypeError:
            self.problem(key, f"{raw!r} is not an integer; accepted: {accepted}")
            return None
        if value is None:
            value = DEFAULTS[key]
        if value < minimum:
            self.problem(key, f"{value} is less than {minimum}; accepted: {accepted}")
            return None
        if maximum is not None and value > maximum:
            self.problem(key, f"{value} is greater than {maximum}; accepted: {accepted}")
            return None
        return value

    def boolean(self, key: str) -> bool | None:
        try:
            value = self.config.get_bool(key)
        except pulumi.ConfigTypeError:
            self.problem(key, f"{self.config.get(key)!r} is not a boolean; accepted: true or false")
            return None
        return DEFAULTS[key] if value is None else value

    def string_list(self, key, parse, *, default=None) -> list[str]:
        try:
            values = self.config.get_object(key)
        except pulumi.ConfigTypeError:
            values = self.config.get(key)
        if values is None:
            values = self._default(key, default)
        if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
            self.problem(key, f"{values!r} is not a list of strings; accepted: a YAML or JSON list")
            return []
        parsed = []
        for item in values:
            try:
                parsed.append(parse(item))
            except ValueError as error:
                self.problem(key, f"{item!r} {error}")
        # A repeated tag or resolver adds nothing; keep the first of each.
        return list(dict.fromkeys(parsed))

    def secret(self, key, parse):
        # Read as plain text and parse here: Pulumi's typed getters put the value into
        # ConfigTypeError's message, and this value is a secret.
        raw = self.config.get(key)
        if raw is None:
            return None
        try:
            return parse(raw)
        except ValueError as error:
            # The parsers never include the value; the message is safe to show.
            self.problem(key, str(error))
            return None


def _pattern(pattern: re.Pattern, accepted: str, *, allow_empty: bool = False):
    def parse(raw: object) -> str:
        text = str(raw).strip()
        if allow_empty and not text:
            return ""
        if not pattern.fullmatch(text):
            raise ValueError(f"is not valid; accepted: {accepted}")
        return text

    return parse


def _choice(kind: type[enum.Enum]):
    accepted = ", ".join(member.value for member in kind)

    def parse(raw: object) -> str:
        text = str(raw).strip().lower()
        if text not in {member.value for member in kind}:
            raise ValueError(f"is not one of the choices; accepted: {accepted}")
        return text

    return parse


def to_ascii_name(raw: str) -> str:
    """Return a DNS name in lower-case ASCII form (IDNA 2008 with UTS #46 mapping).

    A trailing dot is dropped. `idna` keeps `ß` as its own letter where Python's built-in
    codec, which follows IDNA 2003, would turn it into `ss`.

    :raises ValueError: when a label is empty, too long or not allowed by IDNA 2008.
    """
    name = raw.strip()
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise ValueError("is empty")
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise ValueError(f"is not a valid DNS name ({error})") from None
    for label in ascii_name.split("."):
        if not _LDH_LABEL.fullmatch(label):
            raise ValueError(f"has an invalid label {label!r}")
    if len(ascii_name) > 253:
        raise ValueError("is longer than 253 characters")
    return ascii_name


def _parse_domain(raw: object) -> str:
    text = str(raw).strip()
    accepted = "accepted: a DNS zone such as example.com, without scheme, path or port"
    if "://" in text or "/" in text or ":" in text or "@" in text or any(c.isspace() for c in text):
        raise ValueError(f"is not a bare DNS name; {accepted}")
    try:
        name = to_ascii_name(text)
    except ValueError as error:
        raise ValueError(f"{error}; {accepted}") from None
    if "." not in name:
        raise ValueError(f"has a single label; {accepted}")
    if name.rsplit(".", 1)[-1].isdigit():
        raise ValueError(f"ends in a numeric label, as an IP address does; {accepted}")
    return name


def _parse_hostname(raw: object) -> str:
    text = str(raw).strip()
    accepted = "accepted: one DNS label such as scim, or @ for the zone's apex"
    if text == "@":
        return "@"
    if "." in text.rstrip("."):
        raise ValueError(f"is more than one DNS label; {accepted} (the zone goes in domain)")
    if "://" in text or "/" in text or ":" in text or any(c.isspace() for c in text):
        raise ValueError(f"is not a DNS label; {accepted}")
    try:
        return to_ascii_name(text)
    except ValueError as error:
        raise ValueError(f"{error}; {accepted}") from None


def _parse_email(raw: object) -> str:
    text = str(raw).strip()
    accepted = "accepted: one email address such as admin@example.com"
    match = _EMAIL.fullmatch(text)
    if match is None:
        raise ValueError(f"is not an email address; {accepted}")
    try:
        to_ascii_name(match.group(1))
    except ValueError:
        raise ValueError(f"has an invalid domain; {accepted}") from None
    if "." not in match.group(1):
        raise ValueError(f"has no dot in its domain; {accepted}")
    if len(text.split("@", 1)[0]) > 64:
        raise ValueError(f"has a local part longer than 64 characters; {accepted}")
    return text


def _parse_image(raw: object) -> str:
    text = str(raw).strip()
    if not _DIGEST_REFERENCE.fullmatch(text):
        raise ValueError(
            "is not pinned by digest; accepted: an image reference with @sha256: and 64 hex "
            "digits, such as 1password/scim:v2.9.13@sha256:<digest>"
        )
    return text


def _parse_tag(raw: str) -> str:
    if not _TAG.fullmatch(raw):
        raise ValueError(
            "is not a DigitalOcean tag; accepted: letters, digits, ':', '-' and '_', "
            "up to 255 characters"
        )
    # Teardown proves ownership with these tags, so an extra tag must not imitate them.
    if raw == "scim-bridge" or raw.startswith((naming.STACK_TAG_PREFIX, "k8s:")):
        raise ValueError(
            "is reserved: the stack adds scim-bridge and its own scim-bridge-stack: tag, and "
            "DOKS adds k8s: tags; accepted: any other DigitalOcean tag"
        )
    return raw


def _parse_resolver(raw: str) -> str:
    # The DNS checker owns the server syntax, so it is imported here rather than copied.
    from infra import dnscheck

    try:
        host, port = dnscheck.parse_server(raw)
    except InvalidInput as error:
        raise ValueError(f"is not a resolver address ({error})") from None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return raw.strip()
    if (
        address.is_unspecified
        or address.is_multicast
        or address.is_link_local
        or address == ipaddress.IPv4Address("255.255.255.255")
    ):
        raise ValueError(
            "is not a unicast resolver address (unspecified, multicast, broadcast and "
            "link-local addresses, such as a cloud metadata address, are not accepted)"
        )
    return raw.strip()


def _default_resolvers() -> list[str]:
    from infra import dnscheck

    return list(dnscheck.DEFAULT_RESOLVERS)


def _parse_session(raw: str):
    source = f"{NAMESPACE}:scimsession"
    try:
        return parse_scimsession(raw, source=source)
    except InvalidScimSession as error:
        # The parser's message starts with the source, which Problem adds again.
        raise ValueError(str(error).removeprefix(f"{source}: ")) from None


def _session_host(domain: str) -> str:
    host = domain.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    try:
        return to_ascii_name(host)
    except ValueError:
        return host


def _json_object_parser(key: str):
    def parse(raw: str) -> str:
        text = raw.removeprefix("\ufeff").replace("\r\n", "\n").strip()
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"the value is not valid JSON ({error.msg} at line {error.lineno}); "
                f"accepted: the {key} JSON file from the Google Workspace setup"
            ) from None
        if not isinstance(document, dict):
            raise ValueError(f"the value is JSON but not an object; accepted: the {key} JSON file")
        return text

    return parse


def _secret_or_none(text: str | None) -> pulumi.Output[str] | None:
    return None if text is None else pulumi.Output.secret(text)


def _digest(*texts: str | None) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(b"\x00" if text is None else b"\x01" + text.encode("utf-8"))
    return digest.hexdigest()
