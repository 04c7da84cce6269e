"""BigCodeBench ground truth: verdicts, wall time and CPU time of the full check, against a
fresh-interpreter baseline, in one run.

Runs the 1140 ground-truth programs (`complete_prompt + canonical_solution` + tests, exactly
what the official `--check_gt_only` runs) through:
  - codeeval: the Docker sandbox, fork-server workers with the task's libraries preloaded;
  - fresh interpreter (baseline): the same sandbox, limits and parallelism, but every program
    starts a new Python interpreter that imports its libraries itself, as a per-process
    harness does.
The programs go in chunks, each chunk through one runner and then the other (the order
alternating), so that both see the same machine load when other jobs share the machine; each
runner's wall time is the sum of its chunks, worker start-up included. CPU time is what the
runner's containers used (cgroup cpuacct), which load from other jobs does not inflate.
Printed: pass counts, every failing task with its cause, wall and CPU per runner, their ratio,
and the ratio to the official evaluator's 848 s wall / 815 s CPU on this machine
(shared/docs/bigcodebench-gt.md: --parallel 2, nearly idle machine).

    python benchmarks/bigcodebench_gt.py --data-dir ../shared/benchmarks [--parallel 4]
        [--runners codeeval,fresh] [--chunks 6] [--ids 0,14,363] [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import time
from pathlib import Path

from tqdm import tqdm

from codeeval.failures import failure_reason
from codeeval.records import Program
from codeeval.sandbox import make_sandbox
from codeeval.tasks import get_task
from codeeval.tasks.sources import DataSource

OFFICIAL_WALL_S = 848.0
OFFICIAL_CPU_S = 815.0
CPUACCT = Path("/sys/fs/cgroup/cpuacct/docker")   # cgroup v1; v2 below

# Runs one program in this (fresh) interpreter as the official harness does: exec the module,
# then its TestCases under the class limit; exit 0 only when every test passed.
FRESH_RUNNER = r'''
import signal, sys, types, unittest
path, test_first_line, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
module = types.ModuleType("solution"); module.__file__ = path; sys.modules["solution"] = module
exec(compile(open(path).read(), path, "exec"), module.__dict__)
def expire(signum, frame):
    raise TimeoutError("test class timed out")
signal.signal(signal.SIGALRM, expire); signal.setitimer(signal.ITIMER_REAL, limit)
result = unittest.TestResult()
unittest.defaultTestLoader.loadTestsFromTestCase(module.TestCases).run(result)
signal.setitimer(signal.ITIMER_REAL, 0)
problems = result.failures + result.errors
print(problems[0][1][-1500:] if problems else "", file=sys.stderr)
sys.exit(0 if result.testsRun and not problems else 1)
'''


def fresh_interpreter_program(program: Program) -> Program:
    """The same program, run by a new interpreter that the sandboxed program starts."""
    launcher = (
        "import subprocess, sys\n"
        f"open('program.py', 'w').write({program.source!r})\n"
        f"done = subprocess.run([sys.executable, '-c', {FRESH_RUNNER!r}, 'program.py', "
        f"'{program.test_first_line}', '{program.class_timeout_s}'], capture_output=True, "
        "text=True)\n"
        "assert done.returncode == 0, done.stderr[-1500:]\n")
    return dataclasses.replace(program, source=launcher, test_first_line=launcher.count("\n"),
                               expected_steps=1, framework="script", test_classes=())


def ground_truth_programs(data_dir: str, version: str | None, ids: set[str] | None):
    task = get_task("bigcodebench", {"dataset_version": version})
    problems = task.load(DataSource.from_option(data_dir))
    if ids:
        problems = [p for p in problems if p.task_id.split("/")[-1] in ids]
    return task, [task.ground_truth_program(p) for p in problems]


def container_cpu_s(name: str) -> float:
    """CPU seconds a running container has used, from its cgroup (0.0 if unreadable)."""
    container_id = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", name],
                                  capture_output=True, text=True).stdout.strip()
    for path, scale in ((CPUACCT / container_id / "cpuacct.usage", 1e-9),
                        (Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cpu.stat"),
                         1e-6)):
        try:
            text = path.read_text()
        except OSError:
            continue
        value = text.split()[1] if text.startswith("usage_usec") else text.split()[0]
        return int(value) * scale
    return 0.0


class Runner:
    """One sandbox kept open over all chunks; wall time summed over chunks."""

    def __init__(self, name: str, parallel: int, preload: tuple[str, ...], wrap=None):
        self.name, self.wrap = name, wrap or (lambda program: program)
        self.box = make_sandbox("docker", parallel=parallel, image="python", preload=preload)
        self.wall_s, self.cpu_s, self.executions = 0.0, 0.0, {}

    def run(self, programs: list[Program], bar) -> None:
        start = time.perf_counter()
        for execution in self.box.run([self.wrap(p) for p in programs]):
            self.executions[execution.key] = execution
            bar.update()
        self.wall_s += time.perf_counter() - start

    def close(self) -> None:
        self.cpu_s = sum(container_cpu_s(n) for n in self.box._container_of.values())
        self.box.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("CODEEVAL_DATA_DIR"))
    parser.add_argument("--dataset-version", default=None)
    parser.add_argument("--parallel", type=int, default=os.cpu_count())
    parser.add_argument("--runners", default="codeeval,fresh")
    parser.add_argument("--chunks", type=int, default=6,
                        help="alternate the runners over this many chunks of programs")
    parser.add_argument("--ids", default=None, help="comma-separated task numbers only")
    parser.add_argument("--json", default=None, help="write every verdict to this file")
    args = parser.parse_args()

    ids = set(args.ids.split(",")) if args.ids else None
    task, programs = ground_truth_programs(args.data_dir, args.dataset_version, ids)
    makers = {"codeeval": lambda: Runner("codeeval", args.parallel, task.preload),
              "fresh": lambda: Runner("fresh", args.parallel, (), fresh_interpreter_program)}
    runners = [makers[name]() for name in args.runners.split(",")]
    print(f"bigcodebench {task.version}: {len(programs)} ground-truth programs, "
          f"parallel={args.parallel}, {args.chunks} chunks, {os.cpu_count()} cores, "
          f"load {os.getloadavg()}", flush=True)
    size = -(-len(programs) // args.chunks)
    chunks = [programs[i:i + size] for i in range(0, len(programs), size)]
    try:
        with tqdm(total=len(programs) * len(runners), unit="program") as bar:
            for index, chunk in enumerate(chunks):
                for runner in (runners if index % 2 == 0 else runners[::-1]):
                    bar.set_description(runner.name)
                    runner.run(chunk, bar)
    finally:
        for runner in runners:
            runner.close()

    verdicts = {}
    for runner in runners:
        verdicts[runner.name] = {key.split("/")[-2]: dataclasses.asdict(e)
                                 for key, e in runner.executions.items()}
        passed = sum(e.status == "passed" for e in runner.executions.values())
        print(f"{runner.name:9s} wall {runner.wall_s:7.1f} s ({runner.wall_s / OFFICIAL_WALL_S:.2f}x "
              f"the official {OFFICIAL_WALL_S:.0f} s)  CPU {runner.cpu_s:7.1f} s "
              f"({runner.cpu_s / OFFICIAL_CPU_S:.2f}x the official {OFFICIAL_CPU_S:.0f} s)  "
              f"{passed}/{len(programs)} passed", flush=True)
        for task_id, row in sorted(verdicts[runner.name].items(), key=lambda kv: int(kv[0])):
            if row["status"] != "passed":
                row["task_id"] = f"BigCodeBench/{task_id}"
                reason = failure_reason(row, task.known_failures)
                print(f"  {runner.name} failed BigCodeBench/{task_id}: {reason}", flush=True)
    print(f"load at the end {os.getloadavg()}")
    walls = {r.name: r.wall_s for r in runners}
    cpus = {r.name: r.cpu_s for r in runners}
    if {"codeeval", "fresh"} <= set(walls):
        print(f"codeeval / fresh interpreter: wall {walls['codeeval'] / walls['fresh']:.2f}x, "
              f"CPU {cpus['codeeval'] / max(cpus['fresh'], 1e-9):.2f}x")
        differ = sorted(t for t in verdicts["codeeval"]
                        if (verdicts["codeeval"][t]["status"] == "passed")
                        != (verdicts["fresh"][t]["status"] == "passed"))
        print(f"verdicts differ on {len(differ)} tasks: {', '.join(differ) or 'none'}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"walls": walls, "cpus": cpus, "verdicts": verdicts,
                       "parallel": args.parallel}, f)


if __name__ == "__main__":
    main()
