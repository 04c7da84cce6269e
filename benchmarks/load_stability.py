"""Do verdicts depend on machine load? Every benchmark's ground truth, idle and under a CPU hog.

Runs `codeeval run --model reference --tasks TASKS --check-ground-truth` (through
all_tasks.run) `--idle-runs` times on an otherwise idle machine and `--loaded-runs` times with
one busy-looping process per core running beside it (the hogs start before the run and stop
after it), then prints every program whose verdict is not the same in all runs, with the
verdict of each run. Each run's verdicts are written to `--out` as JSON, so that a later run of
this script (other code, other load) can be compared with `--compare FILE ...`.

    python benchmarks/load_stability.py --data-dir ../shared/benchmarks --out /tmp/stability \
        [--tasks all] [--idle-runs 1] [--loaded-runs 3] [--hogs N] [--parallel N] [-T option]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from all_tasks import run


def busy_loop() -> None:
    while True:
        pass


@contextmanager
def hogs(count: int):
    """`count` processes that keep a core each busy, at the same priority as the run."""
    workers = [multiprocessing.Process(target=busy_loop, daemon=True) for _ in range(count)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        for worker in workers:
            worker.kill()
            worker.join()


def unstable(runs: dict[str, dict]) -> dict[str, dict[str, str]]:
    """{program key: {run name: verdict}} for every key whose verdict differs between runs."""
    keys = set().union(*(verdicts for verdicts in runs.values()))
    differ = {}
    for key in sorted(keys):
        seen = {name: verdicts.get(key, "-") for name, verdicts in runs.items()}
        if len(set(seen.values())) > 1:
            differ[key] = seen
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", required=True, help="folder for each run's verdicts (JSON)")
    parser.add_argument("--tasks", default="all")
    parser.add_argument("--idle-runs", type=int, default=1)
    parser.add_argument("--loaded-runs", type=int, default=3)
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--parallel", type=int, help="codeeval's --parallel (unset: its default)")
    parser.add_argument("--compare", nargs="*", default=[], help="verdict files of earlier runs")
    parser.add_argument("-T", dest="options", action="append", default=[])
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs = {Path(f).stem: json.loads(Path(f).read_text()) for f in args.compare}
    plan = [("idle", 0)] * args.idle_runs + [("loaded", args.hogs)] * args.loaded_runs
    for i, (kind, count) in enumerate(plan):
        name = f"{kind}-{time.strftime('%H%M%S')}-{i}"
        with tempfile.TemporaryDirectory() as root, hogs(count):
            wall, summary, verdicts = run(
                args.tasks, Path(root) / "run", args.data_dir, args.options,
                *(["--parallel", str(args.parallel)] if args.parallel else []))
            rows = [json.loads(line) for line in
                    (Path(root) / "run" / "results.jsonl").read_text().splitlines()]
        again = [row for row in rows if row.get("first_run")]
        turned = [row for row in again if row["first_run"]["status"] != row["status"]]
        print(f"{name}: {len(again)} failure(s) that waited for a CPU judged again alone, "
              f"{len(turned)} of them with another verdict: "
              + ", ".join(f"{r['task_id']} {r['first_run']['status']} -> {r['status']}"
                          for r in turned[:20]), flush=True)
        flat = {"/".join(map(str, key)): status for key, status in verdicts.items()}
        (out / f"{name}.json").write_text(json.dumps(flat, indent=0, sort_keys=True))
        failed = sum(status != "passed" for status in flat.values())
        print(f"{name}: {wall:.0f} s, {len(flat)} verdicts, {failed} not passed, "
              f"{count} hog(s)", flush=True)
        runs[name] = flat
    differ = unstable(runs)
    print(f"\n{len(differ)} program(s) with a verdict that is not the same in all "
          f"{len(runs)} runs")
    for key, seen in differ.items():
        print(f"  {key}: " + ", ".join(f"{name} {verdict}" for name, verdict in seen.items()))


if __name__ == "__main__":
    main()
