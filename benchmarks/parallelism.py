"""How many programs at once: a fixed --parallel against the default (one slot per core, more
while a core is idle), on one task's reference run, in one invocation, back to back.

Each setting runs the same `codeeval run --model reference` into a fresh run store; the script
prints the execute phase's seconds, the ratio to the first setting, the peak load average, and
whether the verdicts are the same as the first setting's (they must be).

    python benchmarks/parallelism.py --task bigcodebench --settings 2,4,auto \
        --data-dir ../shared/benchmarks [-T bigcodebench.dataset_version=v0.1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def run(task: str, setting: str, out: Path, data_dir: str, options: list[str]) -> dict:
    command = [str(Path(sys.executable).with_name("codeeval")), "run", "--model", "reference", "--tasks",
               task, "--sandbox", "docker", "--out", str(out), "--data-dir", data_dir,
               *[arg for option in options for arg in ("-T", option)]]
    if setting != "auto":
        command += ["--parallel", setting]
    loads, done = [], threading.Event()

    def watch():
        while not done.wait(5.0):
            loads.append(os.getloadavg()[0])

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    done.set()
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{setting}: exit {proc.returncode}: {proc.stderr[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return {"setting": setting, "wall_s": wall, "execute_s": summary["timing"]["execute_s"],
            "peak_load": max(loads, default=0.0),
            "parallel": next(iter(summary["provenance"]["sandbox"].values()))["parallel"],
            "judged_again": [(r["task_id"], r["first_run"]["status"], r["status"])
                             for r in rows if r.get("first_run")],
            "verdicts": {(r["task_id"], r["sample_idx"]): r["status"] for r in rows}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="bigcodebench")
    parser.add_argument("--settings", default="2,4,auto")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("-T", dest="options", action="append", default=[])
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as root:
        for setting in args.settings.split(","):
            results.append(run(args.task, setting, Path(root) / setting, args.data_dir,
                               args.options))
            r = results[-1]
            failing = sum(status != "passed" for status in r["verdicts"].values())
            print(f"{setting:>5}: execute {r['execute_s']:7.1f} s  wall {r['wall_s']:7.1f} s  "
                  f"x{results[0]['execute_s'] / r['execute_s']:.2f} vs {args.settings.split(',')[0]}"
                  f"  peak load {r['peak_load']:.1f}  not passed {failing}  "
                  f"same verdicts: {r['verdicts'] == results[0]['verdicts']}  "
                  f"({r['parallel']})", flush=True)
            turned = [f"{t} {first} -> {final}" for t, first, final in r["judged_again"]
                      if first != final]
            print(f"       {len(r['judged_again'])} failure(s) judged again alone after waiting "
                  f"for a CPU; verdict changed: {', '.join(turned) or 'none'}", flush=True)
    print(f"{os.cpu_count()} cores; task {args.task}")


if __name__ == "__main__":
    main()
