"""Time the teardown planner on a large account. Run by hand from the repository root:
`python -m bench.bench_sweep [--count N]`.

The planner runs once per teardown over every load balancer, volume, certificate and record
of the account, so its cost grows with the account, not with the stack. This builds an
account of N resources of each kind (a few owned, the rest decoys) and reports the time of
`plan_sweep` and the peak memory it allocates.
"""

import argparse
import statistics
import time
import tracemalloc

from scripts.sweep import Inventory, StackRecord, plan_sweep

CLUSTER_ID = "0f5e7c1a-6d0b-4c55-9d7e-5a3b2c1d0e9f"


def build(count: int) -> tuple[StackRecord, Inventory]:
    record = StackRecord.from_outputs(
        "prod",
        {
            "clusterId": CLUSTER_ID,
            "hostname": "scim.example.com",
            "loadBalancerIp": "198.51.100.7",
            "loadBalancerId": "lb-owned",
            "certificateId": "cert-owned",
            "stackTag": "scim-bridge-stack:scim-bridge-prod",
        },
    )
    load_balancers = [
        {"id": f"lb-{index}", "name": f"scim-prod-lb-{index}", "ip": "203.0.113.9", "tags": []}
        for index in range(count)
    ]
    load_balancers.append(
        {"id": "lb-owned", "name": "scim-prod-lb", "ip": "198.51.100.7", "tags": []}
    )
    volumes = [
        {"id": f"vol-{index}", "name": f"pvc-{index}", "tags": ["k8s:other"], "droplet_ids": []}
        for index in range(count)
    ]
    volumes.append(
        {"id": "vol-owned", "name": "pvc-x", "tags": [f"k8s:{CLUSTER_ID}"], "droplet_ids": []}
    )
    records = [
        {"id": index, "type": "A", "name": f"host{index}", "data": "198.51.100.7"}
        for index in range(count)
    ]
    records.append({"id": -1, "type": "A", "name": "scim", "data": "198.51.100.7"})
    certificates = [
        {"id": f"cert-{index}", "name": f"cert-{index}", "dns_names": ["scim.example.com"]}
        for index in range(count)
    ]
    certificates.append({"id": "cert-owned", "name": "scim-prod", "dns_names": []})
    inventory = Inventory(
        load_balancers=load_balancers,
        volumes=volumes,
        zone="example.com",
        records=records,
        certificates=certificates,
        tag_counts={"scim-bridge-stack:scim-bridge-prod": 0, f"k8s:{CLUSTER_ID}": 1},
    )
    return record, inventory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="resources of each kind")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs")
    arguments = parser.parse_args()

    record, inventory = build(arguments.count)
    timings = []
    for _ in range(arguments.repeat):
        start = time.perf_counter()
        plan = plan_sweep(record, inventory)
        timings.append(time.perf_counter() - start)

    tracemalloc.start()
    plan_sweep(record, inventory)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"resources of each kind: {arguments.count} (4 kinds)")
    print(f"planned deletions: {len(plan.deletions)}")
    print(f"plan_sweep median: {statistics.median(timings) * 1000:.1f} ms over {arguments.repeat}")
    print(f"plan_sweep peak allocation: {peak / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
