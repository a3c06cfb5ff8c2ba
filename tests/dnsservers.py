"""Real and fake DNS servers on loopback for the DNS tests and the benchmark.

- `KnotServer` runs knotd as an authoritative server for zones written from `Zone` objects,
  and reloads them on demand.
- `UnboundServer` runs unbound as a caching resolver that reaches the knot servers through a
  stub zone. Every other name is forwarded to a closed loopback port, so nothing it does
  leaves 127.0.0.0/8.
- `FakeResponder` is an in-process UDP server for faults a real server does not produce:
  SERVFAIL, REFUSED, silence, slowness, and answers that change from one query to the next.

Every server listens on its own random 127.53.x.y address, so parallel test runs and other
programs on the machine are unlikely to hold the same address and port. Readiness is checked
by querying the server, never by sleeping.
"""

from __future__ import annotations

import itertools
import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset

STARTUP_TIMEOUT = 10.0
_used_addresses: set[str] = set()
_address_lock = threading.Lock()


def loopback_address() -> str:
    """Return an unused random address in 127.53.0.0/16 (never .0 or .255 in the last byte)."""
    with _address_lock:
        while True:
            address = f"127.53.{random.randint(0, 255)}.{random.randint(1, 254)}"  # noqa: S311
            if address not in _used_addresses:
                _used_addresses.add(address)
                return address


def free_endpoint(port: int | None = None) -> tuple[str, int]:
    """Return a loopback address and a port that are free for both UDP and TCP right now.

    With `port` given, only the address is chosen: servers that a test finds through NS
    records must share one port, as they share port 53 in production.
    """
    for _ in range(50):
        address = loopback_address()
        candidate = port or random.randint(20000, 60000)  # noqa: S311
        if _is_free(address, candidate):
            return address, candidate
    raise RuntimeError("no free loopback address and port found in 50 tries")


def _is_free(address: str, port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind((address, port))
            except OSError:
                return False
    return True


def find_binary(name: str) -> str:
    """Return the path of a server binary, looking in sbin directories too."""
    path = shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin:/usr/bin:/usr/local/bin")
    if path is None:
        raise FileNotFoundError(
            f"{name} is not installed; install the Debian package (knot, unbound) as .ci/run does"
        )
    return path


@dataclass
class Zone:
    """A zone's contents, rendered as a zone file. Record names are relative to the origin."""

    origin: str
    serial: int = 1
    records: list[tuple[str, int, str, str]] = field(default_factory=list)
    """(owner, TTL, type, data) tuples, such as ("bridge", 60, "A", "192.0.2.10")."""
    soa_ttl: int = 3600
    negative_ttl: int = 3600
    """The SOA MINIMUM field: how long resolvers cache NXDOMAIN and NODATA (RFC 2308)."""
    nameservers: tuple[str, ...] = ("ns1",)

    def add(self, owner: str, rdtype: str, data: str, ttl: int = 300) -> Zone:
        """Add one record and return the zone, so calls can be chained."""
        self.records.append((owner, ttl, rdtype, data))
        return self

    def render(self) -> str:
        """Return the zone file text."""
        lines = [
            f"$ORIGIN {self.origin}.",
            f"@ {self.soa_ttl} IN SOA ns1 hostmaster {self.serial} 3600 600 86400 "
            f"{self.negative_ttl}",
        ]
        lines += [f"@ {self.soa_ttl} IN NS {nameserver}" for nameserver in self.nameservers]
        owners = {owner for owner, _, rdtype, _ in self.records if rdtype in ("A", "AAAA")}
        # Knot warns about in-zone nameservers without an address. The placeholder is on
        # loopback, so even a resolver that follows these NS records sends nothing outside.
        lines += [
            f"{nameserver} {self.soa_ttl} IN A 127.0.0.1"
            for nameserver in self.nameservers
            if "." not in nameserver and nameserver not in owners
        ]
        lines += [f"{owner} {ttl} IN {rdtype} {data}" for owner, ttl, rdtype, data in self.records]
        return "\n".join(lines) + "\n"


def query(
    address: str,
    port: int,
    name: str,
    rdtype: str = "A",
    *,
    recursion: bool = True,
    timeout: float = 1.0,
) -> dns.message.Message:
    """Send one query and return the response (raises dns.exception.Timeout)."""
    message = dns.message.make_query(name, rdtype)
    if not recursion:
        message.flags &= ~dns.flags.RD
    return dns.query.udp(message, address, timeout=timeout, port=port)


def wait_until_answers(
    address: str,
    port: int,
    name: str,
    rdtype: str,
    process: subprocess.Popen | None,
    ready: Callable[[dns.message.Message], bool] = lambda response: True,
    *,
    recursion: bool = False,
) -> None:
    """Query until the server gives a response that `ready` accepts, or fail after a timeout."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on {address}:{port} exited with {process.returncode}")
        try:
            response = query(address, port, name, rdtype, recursion=recursion, timeout=0.2)
        except (dns.exception.Timeout, OSError):
            continue
        if ready(response):
            return
        time.sleep(0.02)
    raise RuntimeError(f"the server on {address}:{port} did not answer {name} {rdtype} in time")


class _Process:
    """A server process with its working directory and log, stopped by `stop`."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.address, self.port = free_endpoint(port)
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / "server.log"

    @property
    def endpoint(self) -> str:
        """The server as `ADDRESS:PORT`, the form `--nameserver` and `--resolver` accept."""
        return f"{self.address}:{self.port}"

    def _spawn(self, command: list[str]) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # the command is built here from fixed paths
                command, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
            )

    def log_tail(self) -> str:
        """Return the end of the server's log, for failure messages."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL if it is still running after 5 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class KnotServer(_Process):
    """knotd serving the given zones on its own loopback address and port."""

    def __init__(self, workdir: Path, zones: Iterable[Zone], port: int | None = None) -> None:
        super().__init__(workdir, port)
        self.zones = {zone.origin: zone for zone in zones}
        self.binary = find_binary("knotd")
        self.control = find_binary("knotc")
        self.config_path = workdir / "knot.conf"
        self.socket_path = workdir / "knot.sock"

    def start(self) -> KnotServer:
        """Write the configuration and zones, start knotd and wait until it serves every zone."""
        for zone in self.zones.values():
            self._write_zone(zone)
        (self.workdir / "db").mkdir(exist_ok=True)
        self.config_path.write_text(self._config())
        self._spawn([self.binary, "--config", str(self.config_path)])
        try:
            for zone in self.zones.values():
                self._wait_for_serial(zone)
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}\n{self.log_tail()}") from error
        return self

    def update(self, zone: Zone) -> None:
        """Replace a zone's contents, reload it and wait until knotd serves the new serial."""
        self.zones[zone.origin] = zone
        self._write_zone(zone)
        subprocess.run(  # fixed arguments; the zone name comes from the test
            [self.control, "--socket", str(self.socket_path), "--blocking", "zone-reload",
             zone.origin],
            check=True,
            capture_output=True,
            timeout=STARTUP_TIMEOUT,
        )  # fmt: skip
        self._wait_for_serial(zone)

    def _write_zone(self, zone: Zone) -> None:
        (self.workdir / f"{zone.origin}.zone").write_text(zone.render())

    def _wait_for_serial(self, zone: Zone) -> None:
        def serves_serial(response: dns.message.Message) -> bool:
            return any(
                rrset.rdtype == dns.rdatatype.SOA and rrset[0].serial == zone.serial
                for rrset in response.answer
            )

        wait_until_answers(self.address, self.port, zone.origin, "SOA", self.process, serves_serial)

    def _config(self) -> str:
        zones = "\n".join(
            f'  - domain: "{origin}"\n    file: "{self.workdir}/{origin}.zone"'
            for origin in self.zones
        )
        return f"""server:
    rundir: "{self.workdir}"
    listen: {self.address}@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1

control:
    listen: "{self.socket_path}"

database:
    storage: "{self.workdir}/db"

log:
  - target: stderr
    any: warning

template:
  - id: default
    storage: "{self.workdir}"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off

zone:
{zones}
"""


class UnboundServer(_Process):
    """unbound as a caching resolver whose stub zones point at the given servers.

    `stubs` maps a zone name to the `ADDRESS:PORT` endpoints of its authoritative servers.
    """

    def __init__(self, workdir: Path, stubs: dict[str, list[str]]) -> None:
        super().__init__(workdir)
        self.stubs = stubs
        self.binary = find_binary("unbound")
        self.config_path = workdir / "unbound.conf"

    def start(self) -> UnboundServer:
        """Write the configuration, start unbound in the foreground and wait until it answers."""
        self.config_path.write_text(self._config())
        self._spawn([self.binary, "-d", "-c", str(self.config_path)])
        try:
            wait_until_answers(
                self.address, self.port, "localhost", "A", self.process, recursion=True
            )
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}\n{self.log_tail()}") from error
        return self

    def _config(self) -> str:
        stubs = "".join(
            f'stub-zone:\n    name: "{zone}"\n'
            + "".join(f"    stub-addr: {endpoint.replace(':', '@')}\n" for endpoint in endpoints)
            for zone, endpoints in self.stubs.items()
        )
        return f"""server:
    interface: {self.address}@{self.port}
    port: {self.port}
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{self.workdir}"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 0
    num-threads: 1
    so-reuseport: no
    outgoing-range: 32
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    qname-minimisation: no
    prefetch: no
    minimal-responses: yes
    local-zone: "test." transparent
{stubs}
# Names outside the stub zones go to a closed loopback port and fail, instead of the root
# servers: the tests send nothing outside 127.0.0.0/8.
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@9
"""


Reply = dns.message.Message | bytes
Behaviour = Callable[[dns.message.Message], Reply | list[Reply] | None]
"""What a FakeResponder does with a query: the response to send, several datagrams to send
in order (a message, or raw bytes for a malformed one), or None to stay silent."""


class FakeResponder:
    """An in-process UDP DNS server whose behaviour the test chooses.

    Each query is handled in its own thread, so a slow behaviour delays every query by the
    same amount instead of queuing them. `queries` counts the queries received.
    """

    def __init__(self, behaviour: Behaviour, delay: float = 0.0, ipv6: bool = False) -> None:
        self.behaviour = behaviour
        self.delay = delay
        self.queries = 0
        self._lock = threading.Lock()
        if ipv6:
            self._socket = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            self._socket.bind(("::1", 0))
            self.address, self.port = self._socket.getsockname()[:2]
        else:
            self.address, self.port = free_endpoint()
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._socket.bind((self.address, self.port))
        self._socket.settimeout(0.1)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-dns", daemon=True)

    @property
    def endpoint(self) -> str:
        """The responder as `ADDRESS:PORT`, or `[ADDRESS]:PORT` on IPv6."""
        if ":" in self.address:
            return f"[{self.address}]:{self.port}"
        return f"{self.address}:{self.port}"

    def start(self) -> FakeResponder:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._stopping.set()
        self._thread.join(timeout=5)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                wire, peer = self._socket.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.queries += 1
            threading.Thread(target=self._respond, args=(wire, peer), daemon=True).start()

    def _respond(self, wire: bytes, peer: tuple[str, int]) -> None:
        try:
            request = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return
        replies = self.behaviour(request)
        if replies is None:
            return
        if not isinstance(replies, list):
            replies = [replies]
        if self.delay:
            time.sleep(self.delay)
        for reply in replies:
            wire = reply if isinstance(reply, bytes) else reply.to_wire()
            try:
                self._socket.sendto(wire, peer)
            except OSError:
                return  # the socket was closed by stop() while this query was delayed


def stray_replies_behaviour(behaviour: Behaviour) -> Behaviour:
    """Return a behaviour that sends three stray datagrams before the response of `behaviour`.

    The strays are a copy of the response with another id, one with another question, and
    bytes that are not a DNS message, like late replies or forgeries a client can receive.
    """

    def respond(request: dns.message.Message) -> list[Reply] | None:
        response = behaviour(request)
        if not isinstance(response, dns.message.Message):
            return response
        other_id = dns.message.from_wire(response.to_wire())
        other_id.id = (request.id + 1) % 65536
        other_question = dns.message.make_query("other.example.test", request.question[0].rdtype)
        other_question = dns.message.make_response(other_question)
        other_question.id = request.id
        return [other_id, other_question, b"\x00\x01not a DNS message", response]

    return respond


def rcode_behaviour(rcode: dns.rcode.Rcode) -> Behaviour:
    """Return a behaviour that answers every query with `rcode` and nothing else."""

    def respond(request: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(request)
        response.set_rcode(rcode)
        return response

    return respond


def silent_behaviour(request: dns.message.Message) -> None:
    """Never answer."""
    return None


def addresses_behaviour(*answer_sets: Iterable[str], ttl: int = 60) -> Behaviour:
    """Return a behaviour that answers authoritatively with each address set in turn.

    The last set repeats once the others are used up, so `addresses_behaviour(["a"], ["b"])`
    answers a, then b forever. Addresses with a colon become AAAA records, others A.
    """
    sets = [list(answer_set) for answer_set in answer_sets]
    counters: dict[int, itertools.count] = {}
    lock = threading.Lock()

    def respond(request: dns.message.Message) -> dns.message.Message:
        question = request.question[0]
        # Each record type steps through the sets on its own, so AAAA probes between the A
        # queries do not move the A answers along.
        with lock:
            counter = counters.setdefault(question.rdtype, itertools.count())
            index = min(next(counter), len(sets) - 1)
        response = dns.message.make_response(request)
        response.flags |= dns.flags.AA
        addresses = [
            address
            for address in sets[index]
            if (":" in address) == (question.rdtype == dns.rdatatype.AAAA)
        ]
        if addresses:
            rdtype = dns.rdatatype.to_text(question.rdtype)
            response.answer.append(
                dns.rrset.from_text_list(question.name, ttl, "IN", rdtype, addresses)
            )
        return response

    return respond
