"""Java runner throughput: JavaBench class-wise steps (one class written, the project compiled
main + tests, the whole suite run) per minute, on the canonical classes or on the official
GPT-4o samples (`--samples official`: the replay of holistic-selective, 225 classes over the
four projects, many of which do not compile), in one run.

Runners compared on the same programs, both in codeeval's Docker sandbox (warm fork-server
containers, started before timing), back to back:
  - baseline: the previous runner, one JVM per program (javac in process for main and tests,
    then the JUnit Platform launcher), as the driver and runner of commit PREVIOUS built it,
    read from this repository's git history;
  - codeeval: javac in the slot's warm compile server (tasks/javabench_server.java, started
    once per slot), the tests in a fresh JVM per program (tasks/JavaBenchTests.java).
Both report how many classes compiled and passed every test; the ratio is against the baseline.

    python benchmarks/javabench_runner.py --data-dir ../shared/benchmarks [--projects PA22]
        [--samples reference|official] [--parallel 2] [--no-baseline]
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import re
import subprocess
import time
import zlib
from pathlib import Path

from codeeval.records import Sample
from codeeval.sandbox.container import DockerSandbox
from codeeval.tasks.base import driver_head
from codeeval.tasks.javabench import JavaBench
from codeeval.tasks.sources import DataSource

OFFICIAL = "javabench/reference_results/holistic-selective/{}/gpt-4o-2024-05-13/samples.jsonl"
PREVIOUS = "c9d539d"   # the last commit whose JavaBench programs started a JVM each
SPEC = re.compile(r"^SPEC = load_spec\('([^']*)'\)$", re.M)


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


def previous_runner(programs):
    """The same programs as the previous runner built them: its driver as the head, its
    runner's source in the spec, no service."""
    repository = Path(__file__).resolve().parent.parent
    driver, runner = (subprocess.run(["git", "show", f"{PREVIOUS}:tasks/{name}"], check=True,
                                     capture_output=True, text=True, cwd=repository).stdout
                      for name in ("javabench_driver.py", "javabench_runner.java"))
    rebuilt = []
    for program in programs:
        tests = program.source.splitlines(keepends=True)[program.test_first_line - 1:]
        spec = json.loads(zlib.decompress(base64.b64decode(SPEC.search(program.source)[1])))
        # the fields its driver read: the runner's source, and whether to add Mockito's jars
        source = driver_head(driver, {**spec, "runner": runner,
                                      "mockito": bool(spec["runner_jars"])})
        rebuilt.append(dataclasses.replace(program, source=source + "".join(tests),
                                           test_first_line=source.count("\n") + 1, service=""))
    return rebuilt


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

    base = None
    with DockerSandbox(parallel=args.parallel, image="java") as box:
        if not args.no_baseline:
            previous = previous_runner(programs)
            list(box.run(previous[:args.parallel]))   # start the workers
            base = timed(f"one JVM per program ({PREVIOUS})",
                         lambda: sum(e.status == "passed" for e in box.run(previous)),
                         len(programs), None)
        list(box.run(programs[:args.parallel]))   # start the workers' JVMs

        def sandbox_run():
            return sum(e.status == "passed" for e in box.run(programs))

        timed("codeeval, warm javac, fresh test JVM", sandbox_run, len(programs), base)


if __name__ == "__main__":
    main()
