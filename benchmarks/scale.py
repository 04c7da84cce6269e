"""Executor overhead: programs per second through `--executor ray` against the local executor,
on the same programs (a task's ground truth; MBPP Pro by default, 378 programs).

Every configuration has the same number of sandbox slots (`--slots`, default 2, this machine's
cores), so the comparison shows what Ray costs, not what more machines give:
  - local: one sandbox on this machine with `--slots` slots (what `--executor local` opens),
  - ray, 1 worker: a loopback Ray cluster, a head with no CPUs for tasks and one worker node
    with `--slots` CPUs,
  - ray, 2 workers: the head and two worker nodes with half the CPUs each.
Each runs the programs twice through the executor's sandbox: the cold pass includes starting
the sandbox workers (and Ray's worker processes), the warm pass does not. Overhead is the
local executor's programs/s over the configuration's, minus one, on the warm pass. Every
configuration must give the same status per program as the local executor.

    python benchmarks/scale.py --data-dir ../shared/benchmarks [--task mbpp-pro] [--sandbox docker]
"""

from __future__ import annotations

import argparse
import os
import time

from codeeval.execution import make_executor
from codeeval.ray_local import LoopbackCluster
from codeeval.tasks import get_task
from sandbox import ground_truth_programs   # benchmarks/sandbox.py


def timed_passes(executor, sandbox_args: dict, programs) -> tuple[list[float], dict]:
    """Seconds of a cold and a warm pass over `programs`, and the statuses by program key."""
    seconds, statuses = [], {}
    sandbox = executor.open(**sandbox_args)
    try:
        for _ in range(2):
            start = time.perf_counter()
            statuses = {e.key: e.status for e in sandbox.run(programs)}
            seconds.append(time.perf_counter() - start)
    finally:
        sandbox.close()
        executor.close()
    return seconds, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("CODEEVAL_DATA_DIR"))
    parser.add_argument("--task", default="mbpp-pro")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--sandbox", default="process", choices=["process", "docker"])
    parser.add_argument("--slots", type=int, default=2, help="even: two workers split them")
    args = parser.parse_args()

    task = get_task(args.task)
    programs = ground_truth_programs(args.task, args.data_dir, args.limit)
    sandbox_args = dict(kind=args.sandbox, python=None, preload=tuple(task.preload),
                        image=task.image, hash_seed=0)
    rows = []
    seconds, expected = timed_passes(make_executor("local"), {**sandbox_args,
                                                                "parallel": args.slots}, programs)
    rows.append(("local", seconds))
    for workers in (1, 2):
        with LoopbackCluster(head_cpus=0, worker_cpus=[args.slots // workers] * workers) as cluster:
            seconds, statuses = timed_passes(make_executor("ray", cluster.address),
                                             {**sandbox_args, "parallel": None}, programs)
        assert statuses == expected, f"ray with {workers} workers: statuses differ from local"
        rows.append((f"ray, {workers} worker{'s' * (workers > 1)}", seconds))

    passed = sum(status == "passed" for status in expected.values())
    print(f"{args.task}: {len(programs)} programs ({passed} pass), {args.sandbox} sandbox, "
          f"{args.slots} slots in every configuration, {os.cpu_count()} cores")
    print(f"{'executor':<16}{'cold s':>8}{'cold prog/s':>13}{'warm s':>8}{'warm prog/s':>13}"
          f"{'overhead':>10}")
    local_rate = len(programs) / rows[0][1][1]
    for name, (cold, warm) in rows:
        rate = len(programs) / warm
        print(f"{name:<16}{cold:>8.2f}{len(programs) / cold:>13.1f}{warm:>8.2f}{rate:>13.1f}"
              f"{local_rate / rate - 1:>+10.1%}")


if __name__ == "__main__":
    main()
