"""Every benchmark's ground truth in one command, timed next to the official harnesses.

Runs `codeeval run --model reference --tasks all --check-ground-truth` (Docker sandbox) into a
fresh run store and prints its wall time, each task's headline, and the ratio to the official
harnesses run back to back on this machine (shared/docs: BigCodeBench 848 s, JavaBench
class-wise about 120 s, ClassEval about 18 s, HumanEval Pro and MBPP Pro about 11 s together).
With `--alone`, each task then runs by itself too, and every verdict must be the same.

    python benchmarks/all_tasks.py --data-dir ../shared/benchmarks [--alone] \
        [-T bigcodebench.dataset_version=v0.1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codeeval.sandbox.admission import cpu_ticks

# seconds the official evaluations of the ground truth take here, run back to back
OFFICIAL_S = {"bigcodebench": 848.0, "javabench": 120.0, "classeval": 18.0,
              "humaneval-pro + mbpp-pro": 11.0}


def codeeval(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("codeeval")), *args],
                          capture_output=True, text=True)


def busy_cpu_s() -> float:
    """Seconds of CPU the whole host has spent busy (not idle or waiting for I/O) since boot:
    read before and after a run on an otherwise idle machine, the difference is the run's."""
    idle, total = cpu_ticks()
    return (total - idle) / os.sysconf("SC_CLK_TCK")


def run(tasks: str, out: Path, data_dir: str, options: list[str],
        *flags: str) -> tuple[float, dict, dict]:
    """(wall seconds, summary, verdicts by (task, task_id, sample_idx, form)); `flags` go to
    `codeeval run` as they are."""
    started = time.perf_counter()
    proc = codeeval("run", "--model", "reference", "--tasks", tasks, "--check-ground-truth",
                    "--sandbox", "docker", "--out", str(out), "--data-dir", data_dir,
                    *[arg for option in options for arg in ("-T", option)], *flags)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{tasks}: exit {proc.returncode}: {proc.stderr[-2000:]}")
    for line in proc.stderr.splitlines():
        if "skip" in line:   # what `--tasks all` cannot run here, and why
            print(line)
    summary = json.loads((out / "summary.json").read_text())
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return wall, summary, {(r["task"], r["task_id"], r["sample_idx"], r["form"]): r["status"]
                           for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--alone", action="store_true", help="also run each task alone")
    parser.add_argument("-T", dest="options", action="append", default=[])
    args = parser.parse_args()
    official = sum(OFFICIAL_S.values())
    with tempfile.TemporaryDirectory() as root:
        busy = busy_cpu_s()
        wall, summary, verdicts = run("all", Path(root) / "all", args.data_dir, args.options)
        busy = busy_cpu_s() - busy
        print(f"\nall tasks in one command: {wall:.0f} s wall ({summary['timing']}); "
              f"{busy:.0f} s of CPU busy: {busy / wall:.2f} of {os.cpu_count()} cores")
        for name, task in summary["tasks"].items():
            headline = task.get("headline")
            print(f"  {name:24} {headline} {task['metrics'].get(headline, float('nan')):.3f}"
                  f"  ({task['n_problems']} problems)")
        print(f"official harnesses back to back: {official:.0f} s -> {official / wall:.2f}x")
        if args.alone:
            for name in summary["tasks"]:
                alone_wall, _, alone = run(name, Path(root) / name, args.data_dir,
                                           [o for o in args.options if o.startswith(name + ".")])
                mine = {k: v for k, v in verdicts.items() if k[0] == name}
                differ = [f"{k[1]} {k[3]}: {mine[k]} in all, {alone.get(k)} alone"
                          for k in sorted(mine) if alone.get(k) != mine[k]]
                print(f"  alone {name}: {alone_wall:.0f} s, verdicts "
                      f"{'the same' if not differ else f'DIFFER on {len(differ)}: {differ[:5]}'}")


if __name__ == "__main__":
    main()
