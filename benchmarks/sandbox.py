"""Sandbox throughput: programs per second on the same programs, in one run.

Runners compared (on a task's ground truth; MBPP Pro by default, 378 programs):
  - codeeval's sandboxes (`process`, `docker`), started and warmed before timing,
  - the executor most harnesses use (openai/human-eval style): a thread pool; per program a
    multiprocessing Manager for the result and one forked Process that execs the program in
    a temporary cwd with output swallowed and a SIGALRM limit, no sandbox at all,
  - a fresh interpreter per program (`python file.py`), unsandboxed, on the host; with
    `--baseline-image`, inside one container of that image instead, so that programs needing
    the benchmark's libraries (BigCodeBench-Lite Pro) find them.
Every runner reports how many programs passed; ratios are against the first baseline.

    python benchmarks/sandbox.py --data-dir ../shared/benchmarks [--task mbpp-pro] [--parallel 2]
    python benchmarks/sandbox.py --task bigcodebench-lite-pro --sandboxes docker --baseline-image python
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from codeeval.sandbox import make_sandbox
from codeeval.tasks import get_task
from codeeval.tasks.sources import DataSource


def ground_truth_programs(task_name: str, data_dir: str, limit: int | None):
    task = get_task(task_name)
    problems = task.load(DataSource.from_option(data_dir))[:limit]
    programs = []
    for problem in problems:
        request = task.request(problem, 0)
        sample = task.sample_from_output(problem, request, request.reference, chat=False)
        programs.append(task.program(problem, sample, sanitized=False))
    return programs


def _exec_child(source: str, timeout_s: float, result) -> None:
    """What the human-eval style executor does in its child: a temporary cwd, output
    swallowed, a SIGALRM time limit, then exec."""
    import contextlib
    import io
    import signal

    def expire(signum, frame):
        raise TimeoutError("timed out")

    with tempfile.TemporaryDirectory() as work:
        os.chdir(work)
        signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
        try:
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                exec(compile(source, "program.py", "exec"), {"__name__": "solution"})
            result.append("passed")
        except TimeoutError:
            result.append("timeout")
        except BaseException as exc:  # noqa: BLE001 - the baseline reports any failure
            result.append(f"failed: {type(exc).__name__}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


def forked_executor(programs, parallel: int, manager: bool = True) -> tuple[list[str], float]:
    """The openai/human-eval executor as most harnesses use it: a thread pool; per program a
    multiprocessing Manager list for the result and one forked Process, no sandbox. With
    `manager=False`, the lean variant: a pipe instead of a Manager process."""
    context = multiprocessing.get_context("fork")

    def one(program):
        if manager:
            with context.Manager() as owner:
                return run_child(owner.list(), program)
        receive, send = context.Pipe(duplex=False)
        status = run_child(PipeList(send), program)
        return receive.recv() if receive.poll() else status

    def run_child(result, program):
        process = context.Process(target=_exec_child,
                                  args=(program.source, program.timeout_s, result))
        process.start()
        process.join(program.timeout_s + 1)
        if process.is_alive():
            process.kill()
        return result[0] if len(result) else "timeout"

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        statuses = list(pool.map(one, programs))
    return statuses, time.perf_counter() - start


class PipeList:
    """The one `append` the executor's child needs, sent through a pipe."""

    def __init__(self, connection):
        self.connection = connection

    def append(self, value):
        self.connection.send(value)

    def __len__(self):
        return 0


def fresh_interpreter(programs, parallel: int) -> tuple[list[str], float]:
    with tempfile.TemporaryDirectory(prefix="codeeval-bench-") as tmp:
        folder = Path(tmp)

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


IN_IMAGE_RUNNER = """
import json, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
programs = json.load(open("/programs/programs.json"))
def one(program):
    with tempfile.TemporaryDirectory() as work:
        path = work + "/program.py"
        open(path, "w").write(program["source"])
        try:
            done = subprocess.run([sys.executable, path], cwd=work, capture_output=True,
                                  timeout=program["timeout_s"])
        except subprocess.TimeoutExpired:
            return "timeout"
        return "passed" if done.returncode == 0 else "failed"
start = time.perf_counter()
with ThreadPoolExecutor(int(sys.argv[1])) as pool:
    statuses = list(pool.map(one, programs))
print(json.dumps({"statuses": statuses, "elapsed": time.perf_counter() - start}))
"""


def fresh_interpreter_in_image(image_name: str):
    """A fresh interpreter per program inside one container of the image (timed inside)."""
    from codeeval.sandbox.images import IMAGES

    def run(programs, parallel: int) -> tuple[list[str], float]:
        image = IMAGES[image_name]()
        with tempfile.TemporaryDirectory() as folder:
            Path(folder, "programs.json").write_text(json.dumps(
                [{"source": p.source, "timeout_s": p.timeout_s} for p in programs]))
            os.chmod(folder, 0o755)
            done = subprocess.run(
                ["docker", "run", "--rm", "--network", "none", "--cpus", str(parallel),
                 "--tmpfs", "/tmp:rw,exec,size=512m", "--env", "TZ=" + programs[0].timezone,
                 "--env", "OMP_NUM_THREADS=1", "--env", "MPLBACKEND=Agg",
                 "-v", f"{folder}:/programs:ro", image.tag, image.python, "-c",
                 IN_IMAGE_RUNNER, str(parallel)], capture_output=True, text=True, check=True)
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        return answer["statuses"], answer["elapsed"]
    return run


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
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per runner; the fastest counts (less noise on a busy machine)")
    parser.add_argument("--baseline-image", default=None,
                        help="run the fresh-interpreter baseline inside this sandbox image")
    args = parser.parse_args()

    programs = ground_truth_programs(args.task, args.data_dir, args.limit)
    if args.baseline_image:
        runners = {f"fresh interpreter in {args.baseline_image} image (baseline)":
                   fresh_interpreter_in_image(args.baseline_image)}
    else:
        runners = {"forked process, no Manager (baseline)":
                   lambda programs, parallel: forked_executor(programs, parallel, manager=False),
                   "human-eval executor (Manager per program)": forked_executor,
                   "fresh interpreter": fresh_interpreter}
    preload = get_task(args.task).preload
    for kind in args.sandboxes.split(","):
        runners[f"codeeval {kind}"] = codeeval_sandbox(kind, preload)
        if preload:
            runners[f"codeeval {kind}, no preload"] = codeeval_sandbox(kind, ())

    print(f"{args.task}: {len(programs)} ground-truth programs, parallel={args.parallel}, "
          f"{os.cpu_count()} cores")
    rates = {}
    for name, runner in runners.items():
        runs = [runner(programs, args.parallel) for _ in range(args.repeats)]
        statuses, elapsed = min(runs, key=lambda run: run[1])
        rates[name] = len(programs) / elapsed
        passed = statuses.count("passed")
        print(f"{name:40s} {rates[name]:7.1f} programs/s  ({elapsed:6.1f} s, "
              f"{passed}/{len(programs)} passed)", flush=True)
    baseline_name = next(iter(rates))
    for name, rate in rates.items():
        print(f"{name:40s} {rate / rates[baseline_name]:5.2f}x {baseline_name}")


if __name__ == "__main__":
    main()
