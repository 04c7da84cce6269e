"""Sandbox throughput: programs per second on the same programs, in one run.

Runners compared (all on the MBPP Pro ground truth by default, 378 programs):
  - codeeval's sandboxes (`--sandbox process`, and `docker` where a daemon answers),
  - the executor most harnesses use (openai/human-eval style): a thread pool, one forked
    multiprocessing.Process per program executing it in-process, no sandbox at all,
  - a fresh interpreter per program (`python file.py`), also unsandboxed.
Every runner must agree that all ground-truth programs pass; ratios are against the forked
executor measured in the same run.

    python benchmarks/sandbox.py --data-dir ../shared/benchmarks [--task mbpp-pro] [--parallel 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from codeeval.records import Sample
from codeeval.sandbox import make_sandbox
from codeeval.tasks import get_task
from codeeval.tasks.sources import DataSource


def ground_truth_programs(task_name: str, data_dir: str, limit: int | None):
    task = get_task(task_name)
    problems = task.load(DataSource.from_option(data_dir))[:limit]
    programs = []
    for problem in problems:
        request = task.request(problem, 0, "default")
        sample = task.sample_from_output(request, request.reference, chat=False)
        programs.append(task.program(problem, sample, sanitized=False))
    return programs


def _exec_child(source: str, conn) -> None:
    try:
        exec(compile(source, "program.py", "exec"), {"__name__": "solution"})
        conn.send("passed")
    except BaseException as exc:  # noqa: BLE001 - the baseline reports any failure
        conn.send(f"failed: {type(exc).__name__}")


def forked_executor(programs, parallel: int) -> list[str]:
    context = multiprocessing.get_context("fork")

    def one(program):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_exec_child, args=(program.source, send))
        process.start()
        process.join(program.timeout_s)
        if process.is_alive():
            process.kill()
            process.join()
            return "timeout"
        return receive.recv() if receive.poll() else "failed"

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(one, programs))


def fresh_interpreter(programs, parallel: int) -> list[str]:
    folder = Path(tempfile.mkdtemp(prefix="codeeval-bench-"))

    def one(indexed):
        index, program = indexed
        path = folder / f"p{index}.py"
        path.write_text(program.source)
        try:
            done = subprocess.run([sys.executable, str(path)], capture_output=True,
                                  timeout=program.timeout_s)
        except subprocess.TimeoutExpired:
            return "timeout"
        return "passed" if done.returncode == 0 else "failed"

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(one, enumerate(programs)))


def codeeval_sandbox(kind: str):
    def run(programs, parallel: int) -> list[str]:
        with make_sandbox(kind, parallel=parallel) as box:
            by_key = {e.key: e.status for e in box.run(programs)}
        return [by_key[p.key] for p in programs]
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("CODEEVAL_DATA_DIR"))
    parser.add_argument("--task", default="mbpp-pro")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--parallel", type=int, default=os.cpu_count())
    parser.add_argument("--sandboxes", default="process",
                        help="comma-separated codeeval sandboxes to measure")
    args = parser.parse_args()

    programs = ground_truth_programs(args.task, args.data_dir, args.limit)
    runners = {"forked executor (baseline)": forked_executor,
               "fresh interpreter": fresh_interpreter}
    for kind in args.sandboxes.split(","):
        runners[f"codeeval {kind}"] = codeeval_sandbox(kind)

    print(f"{args.task}: {len(programs)} ground-truth programs, parallel={args.parallel}, "
          f"{os.cpu_count()} cores")
    rates = {}
    for name, runner in runners.items():
        start = time.perf_counter()
        statuses = runner(programs, args.parallel)
        elapsed = time.perf_counter() - start
        rates[name] = len(programs) / elapsed
        passed = statuses.count("passed")
        print(f"{name:28s} {rates[name]:7.1f} programs/s  ({elapsed:6.1f} s, "
              f"{passed}/{len(programs)} passed)", flush=True)
    baseline = rates["forked executor (baseline)"]
    for name, rate in rates.items():
        print(f"{name:28s} {rate / baseline:5.2f}x the forked executor")


if __name__ == "__main__":
    main()
