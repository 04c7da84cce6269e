"""Java runner throughput: JavaBench class-wise steps (one class written, the project compiled
main + tests, the whole suite run) per minute, on the canonical classes or on the official
GPT-4o samples (`--samples official`: the replay of holistic-selective, 225 classes over the
four projects, many of which do not compile), in one run.

Runners compared on the same programs (the task's driver: javac for main and for tests and
the JUnit Platform launcher, in one JVM per class):
  - baseline: a fresh `docker run` of the java image per program (the naive way), with
    `--parallel` programs at a time;
  - codeeval's Docker sandbox (`--sandbox docker`): warm fork-server containers, started and
    warmed before timing.
Both report how many classes compiled and passed every test; the ratio is against the baseline.

    python benchmarks/javabench_runner.py --data-dir ../shared/benchmarks [--projects PA22]
        [--samples reference|official] [--parallel 2] [--no-baseline]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from codeeval.records import Sample
from codeeval.sandbox.container import DockerSandbox
from codeeval.sandbox.images import IMAGES
from codeeval.tasks.javabench import JavaBench, sample_outcome
from codeeval.tasks.sources import DataSource

OFFICIAL = "javabench/reference_results/holistic-selective/{}/gpt-4o-2024-05-13/samples.jsonl"

# Outside the worker, steps are printed as JSON lines instead of reported.
PRINT_STEPS = ("import json\n"
               "def report_step(name, outcome, **details):\n"
               "    print('STEP ' + json.dumps({'name': name, 'outcome': outcome, **details}))\n")


def reference_programs(data_dir: str, projects: list[str]):
    task = JavaBench()
    programs = []
    for problem in task.load(DataSource.from_option(data_dir)):
        if problem.data["project"] in projects:
            request = task.request(problem, 0)
            sample = task.sample_from_output(problem, request, request.reference, chat=True)
            programs.append(task.program(problem, sample, sanitized=False))
    return programs


def official_programs(data_dir: str, projects: list[str]):
    """The official GPT-4o samples (five per class), assembled as `codeeval evaluate` does."""
    task = JavaBench()
    by_id = {p.task_id: p for p in task.load(DataSource.from_option(data_dir))}
    programs, index = [], {}
    for project in projects:
        for line in (Path(data_dir) / OFFICIAL.format(project)).open():
            row = json.loads(line)
            i = index[row["task_id"]] = index.get(row["task_id"], -1) + 1
            sample = Sample("javabench", row["task_id"], i, completion=row["completion"])
            programs.append(task.program(by_id[row["task_id"]], sample, sanitized=False))
    return programs


def fresh_container(program) -> bool:
    done = subprocess.run(
        ["docker", "run", "-i", "--rm", "--network", "none", "-w", "/tmp",
         "--label", "codeeval.sandbox=1", IMAGES["java"]().tag, "python3", "-"],
        input=PRINT_STEPS + program.source, capture_output=True, text=True,
        timeout=program.timeout_s)
    steps = [json.loads(line[5:]) for line in done.stdout.splitlines() if line.startswith("STEP ")]
    return bool(steps) and all(s["outcome"] == "passed" for s in steps) and \
        sample_outcome(steps)["test_result"][0] > 0


def timed(label: str, run, count: int, baseline: float | None) -> float:
    start = time.monotonic()
    passed = run()
    seconds = time.monotonic() - start
    rate = count / seconds * 60
    ratio = f"  x{rate / baseline:.2f}" if baseline else ""
    print(f"{label:<34} {seconds:7.1f} s  {rate:6.1f} classes/min  passed {passed}/{count}{ratio}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--projects", default="PA22", help="comma-separated, e.g. PA19,PA22")
    parser.add_argument("--samples", choices=("reference", "official"), default="reference")
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--no-baseline", action="store_true",
                        help="time codeeval's sandbox only (the baseline is slow on a replay)")
    args = parser.parse_args()
    build = reference_programs if args.samples == "reference" else official_programs
    programs = build(args.data_dir, args.projects.split(","))
    print(f"{len(programs)} {args.samples} classes of {args.projects}, parallel {args.parallel}")

    def baseline_run():
        with ThreadPoolExecutor(args.parallel) as pool:
            return sum(pool.map(fresh_container, programs))

    base = None if args.no_baseline else \
        timed("fresh container per program", baseline_run, len(programs), None)
    with DockerSandbox(parallel=args.parallel, image="java") as box:
        list(box.run(programs[:args.parallel]))   # start and warm the workers

        def sandbox_run():
            return sum(e.status == "passed" for e in box.run(programs))

        timed("codeeval docker sandbox (warm)", sandbox_run, len(programs), base)


if __name__ == "__main__":
    main()
