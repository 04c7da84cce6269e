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

from tqdm import tqdm

from codeeval.errors import UserError
from codeeval.records import Program, results_by_key, stored_samples
from codeeval.sandbox import make_sandbox
from codeeval.store import RESULTS, RunStore
from codeeval.tasks.base import Task


EXECUTORS = ("local", "ray")


class LocalExecutor:
    """Sandboxes on this machine."""

    def open(self, **sandbox_args):
        return make_sandbox(**sandbox_args)

    def close(self) -> None:
        pass


def make_executor(kind: str, ray_address: str | None = None, ray_node_wait_s: float = 300.0):
    if kind == "local":
        return LocalExecutor()
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
                                      config.ray_node_wait_s)
        self.opened: dict = {}
        self.described: dict = {}   # image -> the sandbox's description, for provenance

    def get(self, image: str):
        if image not in self.opened:
            users = [t for t in self.tasks if t.image == image]
            preload = tuple(sorted({m for t in users for m in t.preload}))
            self.opened[image] = self.executor.open(
                kind=self.config.sandbox, parallel=self.parallel, python=self.sandbox_python,
                preload=preload, image=image, hash_seed=self.config.hash_seed,
                memory_mb=max([t.memory_mb for t in users] or [Task.memory_mb]),
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
        """Every program's Execution, each program run in the sandbox of its image."""
        for image in sorted({p.image for p in programs}):
            yield from self.get(image).run([p for p in programs if p.image == image])

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
    sample_idx, form) naming the score row the program yields. The service applies `--timeout`
    (except to tasks that derive their limits from it themselves), runs each distinct program
    once, appends one row per key to results.jsonl as programs finish, and reuses a stored row
    that ran the same program (resume; infra errors run again). A key run again (an infra
    error, a changed program) has its old row dropped from results.jsonl at the end, so the
    store keeps one row per key."""

    def __init__(self, store: RunStore, runner, timeout_s: float | None = None,
                 own_limits: frozenset[str] = frozenset()):
        self.store, self.runner = store, runner   # runner.run(programs) yields Executions
        self.timeout_s, self.own_limits = timeout_s, own_limits

    def limited(self, task: str, program):
        if self.timeout_s is None or task in self.own_limits:
            return program
        return dataclasses.replace(program, timeout_s=self.timeout_s)

    def run(self, jobs, *, desc: str = "execute", extra: dict | None = None) -> dict[tuple, dict]:
        """The row of every job's key; `extra` adds fields to the new rows of some keys."""
        stored = stored_results(self.store)
        rows, programs, targets = {}, {}, defaultdict(list)
        for key, program in jobs:
            program = self.limited(key[0], program)
            digest = program.content_hash
            row = stored.get(key)
            if row and row["status"] != "infra_error" and row.get("program_hash") == digest:
                rows[key] = row
                continue
            targets[digest].append(key)
            programs.setdefault(digest, dataclasses.replace(program, key="/".join(map(str, key))))
        hash_of = {p.key: digest for digest, p in programs.items()}
        with self.store.appender(RESULTS) as out, tqdm(total=len(programs), desc=desc,
                                                       unit="program", disable=not programs) as bar:
            for execution in self.runner.run(list(programs.values())):
                digest = hash_of[execution.key]
                for key in targets[digest]:
                    rows[key] = {**result_row(key, digest, execution), **(extra or {}).get(key, {})}
                    out.append(rows[key])
                bar.update()
        if any(key in stored for keys in targets.values() for key in keys):
            self.store.rewrite(RESULTS, stored_results(self.store).values())
        return rows


def execute(service: ExecutionService, tasks, problems, samples: dict, forms: list[str]) -> None:
    """Run each stored sample's program once per form."""
    service.run([((task.name, problem.task_id, sample.sample_idx, form),
                  task.program(problem, sample, sanitized=form == "sanitized"))
                 for task, problem, sample in stored_samples(tasks, problems, samples)
                 for form in forms])
