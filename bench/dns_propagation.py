"""Benchmark the DNS checker against local knot, unbound and slow fake servers.

Run by hand from the repository root:

    /work/venv/bin/python bench/dns_propagation.py [--trials 7]

It needs knotd and unbound (Debian packages knot, unbound) and sends nothing outside
127.0.0.0/8. It prints three sets of figures:

1. Propagation latency: three authoritative knot servers and one unbound start without the
   record. After a random 3 to 13 s, the record is published on each server in turn (a
   10 s spread, so the publication falls anywhere in the loop's 10 s cycle). Measured
   from the moment the last server serves it to the moment `wait_for_propagation` returns,
   beside a loop that calls `check` every 10 s (run at the same time against the same
   servers) and beside a fixed 60 s sleep started with the wait (computed, not slept).
2. `check` against four fake authoritative servers that each answer after 300 ms, and
   against two of them as nameservers plus two as resolvers.
3. How far past its timeout `wait_for_propagation` returns when a server never answers.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dnsservers import (  # noqa: E402
    FakeResponder,
    KnotServer,
    UnboundServer,
    Zone,
    addresses_behaviour,
    silent_behaviour,
)

from infra.dnscheck import PropagationTimeout, check, wait_for_propagation  # noqa: E402

ZONE = "example.test"
NAME = "bridge.example.test"
ADDRESS = "192.0.2.20"
LOOP_INTERVAL = 10.0
FIXED_SLEEP = 60.0


def propagation_trial(workdir: Path, trial: int) -> dict[str, float]:
    """Run one wait, one 10 s loop and one fixed sleep against a record published mid-run."""
    empty = Zone(ZONE, serial=1, negative_ttl=300)
    servers = [KnotServer(workdir / f"t{trial}-knot{index}", [empty]) for index in range(3)]
    for server in servers:
        server.start()
    unbound = UnboundServer(
        workdir / f"t{trial}-unbound", {ZONE: [server.endpoint for server in servers]}
    ).start()
    options = {
        "nameservers": [server.endpoint for server in servers],
        "resolvers": [unbound.endpoint],
    }
    outcome: dict[str, float] = {}
    try:
        started = time.monotonic()
        publish_at = started + random.uniform(3.0, 13.0)  # noqa: S311
        threads = [
            threading.Thread(target=run_wait, args=(options, outcome)),
            threading.Thread(target=run_loop, args=(options, outcome)),
        ]
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, publish_at - time.monotonic()))
        for server in servers:
            server.update(Zone(ZONE, serial=2, negative_ttl=300).add("bridge", "A", ADDRESS))
        last_served = time.monotonic()
        for thread in threads:
            thread.join()
        outcome["wait_latency"] = outcome["wait_done"] - last_served
        outcome["loop_latency"] = outcome["loop_done"] - last_served
        outcome["sleep_latency"] = started + FIXED_SLEEP - last_served
    finally:
        unbound.stop()
        for server in servers:
            server.stop()
    return outcome


def run_wait(options: dict, outcome: dict[str, float]) -> None:
    report = wait_for_propagation(NAME, [ADDRESS], timeout=60, **options)
    outcome["wait_done"] = time.monotonic()
    outcome["wait_queries"] = report.queries


def run_loop(options: dict, outcome: dict[str, float]) -> None:
    queries = 0
    while True:
        round_started = time.monotonic()
        report = check(NAME, [ADDRESS], **options)
        queries += report.queries
        if report.propagated:
            outcome["loop_done"] = time.monotonic()
            outcome["loop_queries"] = queries
            return
        time.sleep(max(0.0, round_started + LOOP_INTERVAL - time.monotonic()))


def concurrent_check_figures(repeats: int) -> tuple[list[float], list[float]]:
    """Time `check` against four servers that answer after 300 ms each."""
    responders = [FakeResponder(addresses_behaviour([ADDRESS]), delay=0.3) for _ in range(4)]
    for responder in responders:
        responder.start()
    endpoints = [responder.endpoint for responder in responders]
    try:
        all_authoritative = []
        mixed = []
        for _ in range(repeats):
            started = time.monotonic()
            assert check(NAME, [ADDRESS], nameservers=endpoints, resolvers=[]).propagated
            all_authoritative.append(time.monotonic() - started)
            started = time.monotonic()
            report = check(NAME, [ADDRESS], nameservers=endpoints[:2], resolvers=endpoints[2:])
            assert report.propagated
            mixed.append(time.monotonic() - started)
    finally:
        for responder in responders:
            responder.stop()
    return all_authoritative, mixed


def timeout_overrun(timeout: float, query_timeout: float) -> float:
    """Return how many seconds past `timeout` a wait on a silent server raises."""
    silent = FakeResponder(silent_behaviour).start()
    try:
        started = time.monotonic()
        try:
            wait_for_propagation(
                NAME,
                [ADDRESS],
                nameservers=[silent.endpoint],
                resolvers=[],
                timeout=timeout,
                query_timeout=query_timeout,
            )
        except PropagationTimeout:
            return time.monotonic() - started - timeout
        raise AssertionError("a silent server cannot propagate")
    finally:
        silent.stop()


def describe(values: list[float], unit: str = "s") -> str:
    return (
        f"median {statistics.median(values):.2f} {unit}, min {min(values):.2f}, "
        f"max {max(values):.2f} (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=7, help="propagation trials to run")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dns-bench-") as directory:
        outcomes = []
        for trial in range(arguments.trials):
            outcome = propagation_trial(Path(directory), trial)
            outcomes.append(outcome)
            print(
                f"trial {trial + 1}: wait {outcome['wait_latency']:.2f} s "
                f"({outcome['wait_queries']:.0f} queries), "
                f"10 s loop {outcome['loop_latency']:.2f} s "
                f"({outcome['loop_queries']:.0f} queries), "
                f"60 s sleep {outcome['sleep_latency']:.2f} s",
                flush=True,
            )

    print("\nlatency from the last authoritative server serving the record to success:")
    print("  dns wait:       " + describe([outcome["wait_latency"] for outcome in outcomes]))
    print("  10 s check loop:" + describe([outcome["loop_latency"] for outcome in outcomes]))
    print("  60 s sleep:     " + describe([outcome["sleep_latency"] for outcome in outcomes]))
    print("queries sent per run (3 authoritative servers + 1 resolver):")
    print("  dns wait:       " + describe([o["wait_queries"] for o in outcomes], "queries"))
    print("  10 s check loop:" + describe([o["loop_queries"] for o in outcomes], "queries"))

    all_authoritative, mixed = concurrent_check_figures(repeats=10)
    print("\ndns check against servers that each answer after 300 ms:")
    print("  4 nameservers:                 " + describe(all_authoritative))
    print("  2 nameservers + 2 resolvers:   " + describe(mixed))

    overruns = [timeout_overrun(timeout, 2.0) for timeout in (3.0, 4.5, 5.2)]
    print("\ndns wait past its timeout with a silent server (query timeout 2 s):")
    print("  overrun:                       " + describe(overruns))


if __name__ == "__main__":
    main()
