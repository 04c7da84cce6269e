"""How long `codeeval report` takes, against the time to merely read the same run stores.

    python benchmarks/report_render.py RUN [RUN ...] [--repeat 3]

Reading (summary, results, samples) is the floor any report pays; the ratio says what the
statistics (bootstrap intervals, pass@k curves) and templating add on top. Best of --repeat.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from codeeval.reports.leaderboard import render, write_leaderboard
from codeeval.rundata import find_runs


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def read_only(paths: list[Path]) -> None:
    for run in find_runs(paths):
        run.results, run.samples      # noqa: B018 (loading is the point)
        for task in run.tasks:
            run.counts(task, run.metric_form(task, "pass@1"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = find_runs(args.runs)
    results = sum(len(run.results) for run in runs)
    problems = sum(len(run.counts(t, run.metric_form(t, "pass@1")) or {})
                   for run in runs for t in run.tasks)
    load = best_of(args.repeat, lambda: read_only(args.runs))
    template = best_of(args.repeat, lambda: render(find_runs(args.runs)))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "leaderboard.html"
        total = best_of(args.repeat, lambda: write_leaderboard(args.runs, out))
        size = out.stat().st_size
    print(f"{len(runs)} runs, {problems} (run, problem) pairs, {results} results")
    print(f"read stores   {load:7.3f} s")
    print(f"render        {template:7.3f} s")
    print(f"render+write  {total:7.3f} s   ({total / load:.1f}x reading; {size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
