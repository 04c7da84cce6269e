"""Executor overhead: programs per second through `--executor ray` against the local executor,
on the same programs (a task's ground truth; MBPP Pro by default, 378 programs).

Every configuration has the same number of sandbox slots (`--slots`, default 2, this machine's
cores), so the comparison shows what Ray costs, not what more machines give:
  - local: one sandbox on this machine with `--slots` slots (what `--executor local` opens),
  - ray, 1 worker: a loopback Ray cluster, a head with no CPUs for tasks and one worker node
    with `--slots` CPUs,
  - ray, 2 workers: the head and two worker nodes with half the CPUs each.
The local sandbox stays open throughout. Each Ray configuration runs a cold pass (its sandboxes
and Ray worker processes start), then `--rounds` warm passes, each right after a warm pass of
the local executor: on a machine shared with other jobs, only such neighbouring passes are
comparable. Overhead is the median over rounds of the Ray pass's seconds over the local
pass's, minus one. Every pass must give the same status per program as the local executor.

    python benchmarks/scale.py --data-dir ../shared/benchmarks [--task mbpp-pro] [--sandbox docker]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from codeeval.execution import make_executor
from codeeval.ray_local import LoopbackCluster
from codeeval.tasks import get_task
from sandbox import ground_truth_programs   # benchmarks/sandbox.py


def timed(sandbox, programs) -> tuple[float, dict]:
    """Seconds of one pass over `programs`, and the statuses by program key."""
    start = time.perf_counter()
    statuses = {e.key: e.status for e in sandbox.run(programs)}
    return time.perf_counter() - start, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("CODEEVAL_DATA_DIR"))
    parser.add_argument("--task", default="mbpp-pro")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--sandbox", default="process", choices=["process", "docker"])
    parser.add_argument("--slots", type=int, default=2, help="even: two workers split them")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    task = get_task(args.task)
    programs = ground_truth_programs(args.task, args.data_dir, args.limit)
    sandbox_args = dict(kind=args.sandbox, python=None, preload=tuple(task.preload),
                        image=task.image, hash_seed=0)
    local_executor = make_executor("local", parallel=args.slots)
    local = local_executor.open(**sandbox_args, parallel=args.slots)
    local_cold, expected = timed(local, programs)
    rows = []
    for workers in (1, 2):
        with LoopbackCluster(head_cpus=0, worker_cpus=[args.slots // workers] * workers) as cluster:
            executor = make_executor("ray", cluster.address)
            ray = executor.open(**sandbox_args, parallel=None)
            cold, statuses = timed(ray, programs)
            passes = [statuses]
            local_s, ray_s = [], []
            for _ in range(args.rounds):
                seconds, _ = timed(local, programs)
                local_s.append(seconds)
                seconds, statuses = timed(ray, programs)
                ray_s.append(seconds)
                passes.append(statuses)
            executor.close()
        assert all(p == expected for p in passes), f"ray, {workers} workers: statuses differ"
        rows.append((f"ray, {workers} worker{'s' * (workers > 1)}", cold, local_s, ray_s))
    local.close()

    passed = sum(status == "passed" for status in expected.values())
    print(f"{args.task}: {len(programs)} programs ({passed} pass), {args.sandbox} sandbox, "
          f"{args.slots} slots in every configuration, {os.cpu_count()} cores, "
          f"{args.rounds} warm rounds (medians)")
    print(f"{'executor':<16}{'cold s':>8}{'cold prog/s':>13}{'warm s':>8}{'warm prog/s':>13}"
          f"{'local warm s':>14}{'overhead':>10}")
    print(f"{'local':<16}{local_cold:>8.2f}{len(programs) / local_cold:>13.1f}")
    for name, cold, local_s, ray_s in rows:
        warm = statistics.median(ray_s)
        overhead = statistics.median(r / l for r, l in zip(ray_s, local_s)) - 1
        print(f"{name:<16}{cold:>8.2f}{len(programs) / cold:>13.1f}{warm:>8.2f}"
              f"{len(programs) / warm:>13.1f}{statistics.median(local_s):>14.2f}"
              f"{overhead:>+10.1%}")


if __name__ == "__main__":
    main()
