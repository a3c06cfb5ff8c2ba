"""Time `check_bridge` against the local stand-in bridge: the whole run, every check included.

Run by hand from the repository root: `PYTHONPATH=. python bench/bench_verify.py [RUNS]`.
It starts the stand-in on 127.0.0.1 with a trustme certificate, runs the checks RUNS times
(default 50) and prints the median and the slowest run. Nothing leaves 127.0.0.1.
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

import trustme

from scripts.bridgecheck import check_bridge, make_tls_context, parse_bridge_url
from scripts.checks import exit_code
from tests.bridge_standin import BridgeStandIn, write_server_pem

TOKEN = "bench-token-not-secret"


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    ca = trustme.CA()
    with tempfile.TemporaryDirectory() as directory:
        ca_file = Path(directory) / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        certificate = ca.create_child_ca().issue_cert("127.0.0.1")
        pem = write_server_pem(Path(directory) / "server.pem", certificate)

        with BridgeStandIn(pem, token=TOKEN) as bridge:
            target = parse_bridge_url(bridge.url())
            context = make_tls_context(ca_file)
            durations = []
            for _ in range(runs):
                started = time.perf_counter()
                verification = check_bridge(target, TOKEN, context=context, timeout=5)
                durations.append(time.perf_counter() - started)
                assert exit_code(verification.results) == 0, verification.results

    print(f"{runs} runs of check_bridge against the stand-in on 127.0.0.1")
    median_ms = statistics.median(durations) * 1000
    print(f"median {median_ms:.1f} ms, max {max(durations) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
