"""Executing programs for a run: assemble each stored sample's program, run it in the sandbox
of the image it names, and store one result row per (task, task_id, sample_idx, form).

A run opens one sandbox per image when a program first needs it and keeps it until the run
ends, so workers start (and preload their libraries) once per run, whether the programs come
from the ground-truth check, the samples or the debugging rounds.

Where the sandboxes run is the executor's choice: `local` opens them on this machine; `ray`
(codeeval.ray_executor) opens them on the nodes of a Ray cluster and streams the executions
back, so everything above `Sandboxes.run` (the store, resume, retries, scoring) is the same.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from tqdm import tqdm

from codeeval.errors import UserError
from codeeval.records import Problem, Sample, results_by_key, stored_samples
from codeeval.sandbox import make_sandbox
from codeeval.store import RESULTS, RunStore


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

    def __init__(self, tasks, config, parallel: int | None, sandbox_python: str | None):
        self.tasks, self.config = tasks, config
        self.parallel, self.sandbox_python = parallel, sandbox_python
        self.executor = make_executor(config.executor, config.ray_address,
                                      config.ray_node_wait_s)
        self.opened: dict = {}
        self.described: dict = {}   # image -> the sandbox's description, for provenance

    def get(self, image: str):
        if image not in self.opened:
            preload = tuple(sorted({m for t in self.tasks if t.image == image
                                    for m in t.preload}))
            self.opened[image] = self.executor.open(
                kind=self.config.sandbox, parallel=self.parallel, python=self.sandbox_python,
                preload=preload, image=image, hash_seed=self.config.hash_seed)
            self.described[image] = self.opened[image].describe()
        return self.opened[image]

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


def result_row(task: str, task_id: str, sample_idx: int, form: str, program_hash: str,
               execution) -> dict:
    return {"task": task, "task_id": task_id, "sample_idx": sample_idx, "form": form,
            "program_hash": program_hash,
            **{k: v for k, v in dataclasses.asdict(execution).items() if k != "key"}}


def store_executions(store: RunStore, programs: dict, targets: dict, sandboxes: Sandboxes,
                     *, desc: str = "execute") -> None:
    """Run `programs` ({hash: Program}) and store a result row for each key in
    `targets[hash]`, one row as each program finishes."""
    hash_of = {p.key: h for h, p in programs.items()}
    with store.appender(RESULTS) as out, tqdm(total=len(programs), desc=desc,
                                              unit="program", disable=not programs) as bar:
        for execution in sandboxes.run(list(programs.values())):
            program_hash = hash_of[execution.key]
            for name, task_id, idx, form in targets[program_hash]:
                out.append(result_row(name, task_id, idx, form, program_hash, execution))
            bar.update()


def execute(store: RunStore, tasks, problems, samples: dict, forms: list[str], config,
            sandboxes: Sandboxes) -> None:
    """Run each stored sample's program once per form; identical programs run once."""
    done = {key for key, row in stored_results(store).items() if row["status"] != "infra_error"}
    targets: dict[str, list[tuple]] = defaultdict(list)   # program hash -> result keys
    programs = {}
    for task, problem, sample in stored_samples(tasks, problems, samples):
        for form in forms:
            key = (task.name, problem.task_id, sample.sample_idx, form)
            if key in done:
                continue
            program = assemble(task, problem, sample, form, config)
            targets[program.content_hash].append(key)
            programs.setdefault(program.content_hash, program)
    store_executions(store, programs, targets, sandboxes)


def assemble(task, problem: Problem, sample: Sample, form: str, config):
    program = task.program(problem, sample, sanitized=form == "sanitized")
    # The program key is unique per (sample, form), since equal programs share one run.
    program = dataclasses.replace(program, key=f"{sample.key}/{form}")
    if config.timeout_s is not None and "timeout_s" not in task.option_names:
        program = dataclasses.replace(program, timeout_s=config.timeout_s)
    return program
