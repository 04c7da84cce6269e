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
import dataclasses
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


def forked_executor(programs, parallel: int) -> tuple[list[str], float]:
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

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        statuses = list(pool.map(one, programs))
    return statuses, time.perf_counter() - start


def fresh_interpreter(programs, parallel: int) -> tuple[list[str], float]:
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

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        statuses = list(pool.map(one, enumerate(programs)))
    return statuses, time.perf_counter() - start


def codeeval_sandbox(kind: str, preload: tuple[str, ...]):
    """A long-lived sandbox: started and warmed up (one program per worker) before timing,
    since its start-up is paid once per run, not per program."""
    def run(programs, parallel: int) -> tuple[list[str], float]:
        start = time.perf_counter()
        with make_sandbox(kind, parallel=parallel, image=programs[0].image,
                          preload=preload) as box:
            warmup = [dataclasses.replace(p, key=f"warmup-{i}")
                      for i, p in enumerate(programs[:parallel])]
            list(box.run(warmup))
            print(f"  ({kind}: {time.perf_counter() - start:.2f} s to start and warm "
                  f"{parallel} workers, not counted)")
            started = time.perf_counter()
            by_key = {e.key: e.status for e in box.run(programs)}
            elapsed = time.perf_counter() - started
        return [by_key[p.key] for p in programs], elapsed
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("CODEEVAL_DATA_DIR"))
    parser.add_argument("--task", default="mbpp-pro")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--parallel", type=int, default=os.cpu_count())
    parser.add_argument("--sandboxes", default="process,docker",
                        help="comma-separated codeeval sandboxes to measure")
    args = parser.parse_args()

    programs = ground_truth_programs(args.task, args.data_dir, args.limit)
    runners = {"forked executor (baseline)": forked_executor,
               "fresh interpreter": fresh_interpreter}
    for kind in args.sandboxes.split(","):
        runners[f"codeeval {kind}"] = codeeval_sandbox(kind, get_task(args.task).preload)

    print(f"{args.task}: {len(programs)} ground-truth programs, parallel={args.parallel}, "
          f"{os.cpu_count()} cores")
    rates = {}
    for name, runner in runners.items():
        statuses, elapsed = runner(programs, args.parallel)
        rates[name] = len(programs) / elapsed
        passed = statuses.count("passed")
        print(f"{name:28s} {rates[name]:7.1f} programs/s  ({elapsed:6.1f} s, "
              f"{passed}/{len(programs)} passed)", flush=True)
    baseline = rates["forked executor (baseline)"]
    for name, rate in rates.items():
        print(f"{name:28s} {rate / baseline:5.2f}x the forked executor")


if __name__ == "__main__":
    main()
