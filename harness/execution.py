"""Executing programs for a run: assemble each stored sample's program, run it in the sandbox
of the image it names, and store one result row per (task, task_id, sample_idx, form).

A run opens one sandbox per image when a program first needs it and keeps it until the run
ends, so workers start (and preload their libraries) once per run, whether the programs come
from the ground-truth check, the samples or the debugging rounds.

Where the sandboxes run is the executor's choice: `local` opens them on this machine; `ray`
(codeeval.ray_executor) opens them on the nodes of a Ray cluster and streams the executions
back, so everything above `Sandboxes.run` (the ExecutionService: the store, resume, limits,
de-duplication) is the same.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator

from tqdm import tqdm

from codeeval.errors import UserError
from codeeval.records import Program, results_by_key, stored_samples
from codeeval.sandbox import make_sandbox
from codeeval.sandbox.admission import Admission, slot_counts
from codeeval.sandbox.pool import run_all
from codeeval.store import RESULTS, RunStore
from codeeval.tasks.base import ExecutedTask


EXECUTORS = ("local", "ray")


class LocalExecutor:
    """Sandboxes on this machine, all under one admission (sandbox.admission): the programs of
    every image go through one queue, so the cores that one image's programs leave idle (a
    BigCodeBench test that sleeps for minutes) run the next ones, whatever their image."""

    def __init__(self, parallel: int | None):
        self.admission = Admission(*slot_counts(parallel))

    def open(self, **sandbox_args):
        return make_sandbox(**sandbox_args, admission=self.admission)

    def run(self, programs: list, sandbox_of) -> Iterator:
        yield from run_all(programs, lambda p: sandbox_of(p.image).run_one(p),
                           self.admission.slots)

    def close(self) -> None:
        pass


def make_executor(kind: str, ray_address: str | None = None, ray_node_wait_s: float = 300.0,
                  *, parallel: int | None = None):
    if kind == "local":
        return LocalExecutor(parallel)
    if kind == "ray":
        from codeeval.ray_executor import RayExecutor
        return RayExecutor(ray_address, ray_node_wait_s)
    raise UserError(f"unknown executor {kind!r}; choose one of: {', '.join(EXECUTORS)}")


class Sandboxes:
    """The run's sandboxes, one per image, opened on first use and closed with the run."""

    def __init__(self, tasks, config, parallel: int | None, sandbox_python: str | None,
                 hidden: tuple[str, ...] = ()):
        self.tasks, self.config, self.hidden = tasks, config, hidden
        self.parallel, self.sandbox_python = parallel, sandbox_python
        self.executor = make_executor(config.executor, config.ray_address,
                                      config.ray_node_wait_s, parallel=parallel)
        self.opened: dict = {}
        self.described: dict = {}   # image -> the sandbox's description, for provenance

    def get(self, image: str):
        if image not in self.opened:
            users = [t for t in self.tasks if t.image == image]
            preload = tuple(sorted({m for t in users for m in t.preload}))
            self.opened[image] = self.executor.open(
                kind=self.config.sandbox, parallel=self.parallel, python=self.sandbox_python,
                preload=preload, image=image, hash_seed=self.config.hash_seed,
                memory_mb=max([t.memory_mb for t in users] or [ExecutedTask.memory_mb]),
                hidden=self.hidden)
            self.described[image] = self.opened[image].describe()
        return self.opened[image]

    def missing_libraries(self, task, modules: list[str]) -> list[str]:
        """Which of `modules` (top-level names) the task's sandbox cannot import, found by
        running a probe program in that sandbox (so with the interpreter and uid its programs
        get)."""
        if not modules:
            return []
        probe = Program.joined(
            f"{task.name}/library-probe",
            "import importlib.util\n"
            f"print(' '.join(m for m in {modules!r} if importlib.util.find_spec(m) is None))\n",
            "assert True\n", expected_steps=1, image=task.image)
        [execution] = list(self.run([probe]))
        if execution.status != "passed":
            raise UserError(f"the {task.image} sandbox cannot run a probe program "
                            f"({execution.status}: {execution.message})")
        return execution.stdout.split()

    def run(self, programs: list):
        """Every program's Execution, each program run in the sandbox of its image, started in
        the order given."""
        for image in sorted({p.image for p in programs}):
            self.get(image)   # opened here, not by the executor's threads
        yield from self.executor.run(programs, self.opened.__getitem__)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        for sandbox in self.opened.values():
            sandbox.close()
        self.executor.close()


def stored_results(store: RunStore) -> dict[tuple, dict]:
    return results_by_key(store.read(RESULTS))


def result_row(key: tuple, program_hash: str, execution) -> dict:
    task, task_id, sample_idx, form = key
    return {"task": task, "task_id": task_id, "sample_idx": sample_idx, "form": form,
            "program_hash": program_hash,
            **{k: v for k, v in dataclasses.asdict(execution).items() if k != "key"}}


class ExecutionService:
    """The one way programs run: ground truth, samples, debugging rounds and JavaBench's
    test-wise suites all submit jobs, (result key, Program), the key (task, task_id,
    sample_idx, form) naming the score row the program yields. The service runs each distinct
    program once (with the limits its task gave it), appends one row per key to results.jsonl
    as programs finish, and reuses a stored row that ran the same program (resume; infra
    errors run again). A key run again (an infra
    error, a changed program) has its old row dropped from results.jsonl at the end, so the
    store keeps one row per key."""

    def __init__(self, store: RunStore, runner):
        self.store, self.runner = store, runner   # runner.run(programs) yields Executions

    def run(self, jobs, *, desc: str = "execute", extra: dict | None = None) -> dict[tuple, dict]:
        """The row of every job's key; `extra` adds fields to the new rows of some keys."""
        stored = stored_results(self.store)
        rows, programs, targets = {}, {}, defaultdict(list)
        for key, program in jobs:
            digest = program.content_hash
            row = stored.get(key)
            if row and row["status"] != "infra_error" and row.get("program_hash") == digest:
                rows[key] = row
                continue
            targets[digest].append(key)
            programs.setdefault(digest, dataclasses.replace(program, key="/".join(map(str, key))))
        hash_of = {p.key: digest for digest, p in programs.items()}
        # the longest known first: one started last would run on alone while the cores idle
        ordered = sorted(programs.values(), key=lambda p: -(p.expected_s or 0.0))
        with self.store.appender(RESULTS) as out, tqdm(total=len(programs), desc=desc,
                                                       unit="program", disable=not programs) as bar:
            for execution in self.runner.run(ordered):
                digest = hash_of[execution.key]
                for key in targets[digest]:
                    rows[key] = {**result_row(key, digest, execution), **(extra or {}).get(key, {})}
                    out.append(rows[key])
                bar.update()
        if any(key in stored for keys in targets.values() for key in keys):
            self.store.rewrite(RESULTS, stored_results(self.store).values())
        return rows


def sample_jobs(tasks, problems, samples: dict, forms: list[str]) -> list[tuple]:
    """One job per stored sample and form: its result key and its program, which is expected
    to run about as long as its problem's ground truth did."""
    return [((task.name, problem.task_id, sample.sample_idx, form),
             dataclasses.replace(task.program(problem, sample, sanitized=form == "sanitized"),
                                 expected_s=problem.ground_truth_s))
            for task, problem, sample in stored_samples(tasks, problems, samples)
            for form in forms]


def execute(service: ExecutionService, tasks, problems, samples: dict, forms: list[str]) -> None:
    """Run each stored sample's program once per form."""
    service.run(sample_jobs(tasks, problems, samples, forms))
