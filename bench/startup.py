"""Measure `scim-bridge --help` and `scim-bridge plan` against importing the provider SDKs.

Run by hand from the repository root: `python bench/startup.py [--runs N]`. Each command
runs N times in a fresh interpreter, and the median wall time of each is compared with
the median of `python -c "import pulumi_digitalocean, pulumi_kubernetes"`. The goals:
`--help` under a third of that baseline, and a full `plan` under three times it.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

COMMANDS = {
    "import SDKs (baseline)": [
        sys.executable,
        "-c",
        "import pulumi_digitalocean, pulumi_kubernetes",
    ],
    "scim-bridge --help": [sys.executable, "-m", "scripts", "--help"],
    "scim-bridge plan": [sys.executable, "-m", "scripts", "plan"],
}
GOALS = {"scim-bridge --help": 1 / 3, "scim-bridge plan": 3.0}


def median_seconds(command: list[str], runs: int) -> float:
    """Run `command` `runs` times from the repository root; return the median wall time."""
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=PROJECT_DIR, env=environment, check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (default 7)")
    arguments = parser.parse_args()

    # One untimed run of each warms the file cache and writes the bytecode.
    for command in COMMANDS.values():
        median_seconds(command, 1)
    medians = {name: median_seconds(command, arguments.runs) for name, command in COMMANDS.items()}

    baseline = medians["import SDKs (baseline)"]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {arguments.runs} runs each")
    failed = False
    for name, seconds in medians.items():
        ratio = seconds / baseline
        line = f"{name:<24} {seconds * 1000:8.0f} ms  {ratio:5.2f}x baseline"
        goal = GOALS.get(name)
        if goal is not None:
            met = ratio < goal
            failed |= not met
            line += f"  (goal < {goal:.2f}x: {'met' if met else 'MISSED'})"
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
