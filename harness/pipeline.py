"""The run pipeline: load -> generate -> assemble -> execute -> score, over a run store.

Every stage skips what the store already holds, so an interrupted run resumes where it
stopped. `evaluate` enters the same pipeline with samples read from a file instead of
generated.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from codeeval.errors import UserError
from codeeval.generation import GenerationConfig, make_backend
from codeeval.provenance import provenance
from codeeval.records import Problem, Sample
from codeeval.sandbox import make_sandbox
from codeeval.scoring import summarize_task
from codeeval.store import RESULTS, SAMPLES, RunStore
from codeeval.tasks import get_task

FORMS = {"raw": ["raw"], "sanitized": ["sanitized"], "both": ["raw", "sanitized"]}


@dataclass(frozen=True)
class RunConfig:
    model: str
    tasks: tuple[str, ...]
    model_args: dict = field(default_factory=dict)   # backend options (--model-args, --base-url)
    generation: GenerationConfig = GenerationConfig()
    prompt_variant: str = "default"
    sanitize: str = "raw"
    limit: int | None = None
    sandbox: str = "process"
    timeout_s: float | None = None       # overrides each task's per-program timeout
    samples_file: str | None = None      # set by `evaluate`: samples come from this file

    def identity(self, datasets: dict) -> dict:
        """Everything a stored result depends on; a resumed run must match it exactly."""
        data = dataclasses.asdict(self)
        data["generation"] = self.generation.as_dict()
        data["tasks"] = list(self.tasks)
        if self.samples_file:
            data["samples_file"] = hashlib.sha256(Path(self.samples_file).read_bytes()).hexdigest()
        data["datasets"] = datasets
        return data


def run_pipeline(config: RunConfig, out: Path, *, source, force: bool = False,
                 parallel: int | None = None, sandbox_python: str | None = None) -> dict:
    tasks = [get_task(name) for name in config.tasks]
    if config.sanitize not in FORMS:
        raise UserError(f"--sanitize must be one of {', '.join(FORMS)}")
    if not config.samples_file:
        for task in tasks:
            task.check_variant(config.prompt_variant)
    problems = {t.name: t.load(source)[: config.limit] for t in tasks}
    store = RunStore(out)
    run_id = store.open(config.identity(source.loaded), default_run_id(config, out), force=force)

    if config.samples_file:
        backend_info = {"backend": "external samples", "file": config.samples_file}
        store_external_samples(store, tasks, problems, Path(config.samples_file))
    else:
        backend = make_backend(config.model, config.generation, config.model_args)
        backend_info = backend.describe()
        generate(store, backend, tasks, problems, config)

    samples = {(s["task"], s["task_id"], s["sample_idx"]): s for s in store.read(SAMPLES)}
    n_samples = max([s[2] + 1 for s in samples] or [config.generation.n_samples])
    with make_sandbox(config.sandbox, parallel=parallel, python=sandbox_python) as sandbox:
        execute(store, sandbox, tasks, problems, samples, FORMS[config.sanitize], config)
        sandbox_info = sandbox.describe()

    results = {(r["task"], r["task_id"], r["sample_idx"], r["form"]): r
               for r in store.read(RESULTS)}  # later rows (retried infra errors) win
    summary = {
        "run_id": run_id,
        "model": config.model,
        "tasks": {t.name: summarize_task(t, problems[t.name], results, FORMS[config.sanitize],
                                         n_samples) for t in tasks},
        "config": config.identity(source.loaded),
        "provenance": provenance(
            datasets=source.loaded,
            prompt_versions={t.name: t.prompt_version for t in tasks},
            backend=backend_info, generation=config.generation.as_dict(),
            sandbox=sandbox_info),
    }
    store.write_summary(summary)
    for name, task_summary in summary["tasks"].items():
        if task_summary["infra_errors"]:
            print(f"warning: {name}: {task_summary['infra_errors']} programs hit sandbox "
                  "infrastructure errors twice; they are excluded from pass@k", file=sys.stderr)
    return summary


def default_run_id(config: RunConfig, out: Path) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{Path(out).name}-{stamp}"


def generate(store: RunStore, backend, tasks, problems, config: RunConfig) -> None:
    done = {(s["task"], s["task_id"], s["sample_idx"]) for s in store.read(SAMPLES)}
    pending = [task.request(problem, i, config.prompt_variant)
               for task in tasks for problem in problems[task.name]
               for i in range(config.generation.n_samples)
               if (task.name, problem.task_id, i) not in done]
    by_name = {t.name: t for t in tasks}
    with store.appender(SAMPLES) as out, tqdm(total=len(pending), desc="generate",
                                              unit="sample", disable=not pending) as bar:
        for request, text in backend.generate(pending):
            task = by_name[request.task]
            out.append(task.sample_from_output(request, text, chat=backend.uses_chat(request)))
            bar.update()


def store_external_samples(store: RunStore, tasks, problems, path: Path) -> None:
    """Samples from another tool (evalplus/bigcodebench style JSONL): `task_id` plus
    `solution` (a whole program) or `completion`; `task` is needed when several tasks are
    evaluated at once. A sample's index is its order among its problem's lines."""
    if not path.is_file():
        raise UserError(f"samples file {path} not found")
    known = {t.name: {p.task_id for p in problems[t.name]} for t in tasks}
    seen: dict[tuple, int] = defaultdict(int)
    done = {(s["task"], s["task_id"], s["sample_idx"]) for s in store.read(SAMPLES)}
    with store.appender(SAMPLES) as out, open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                task = row.get("task") or (tasks[0].name if len(tasks) == 1 else None)
                task_id = str(row["task_id"])
            except (ValueError, KeyError, AttributeError):
                raise UserError(f"{path}:{line_no}: expected a JSON object with task_id and "
                                "solution or completion") from None
            if task is None:
                raise UserError(f"{path}:{line_no}: no `task` field, and several tasks were "
                                "given; add `task` to each line or evaluate one task at a time")
            if task not in known:
                raise UserError(f"{path}:{line_no}: task {task!r} is not among --tasks")
            if task_id not in known[task]:
                raise UserError(f"{path}:{line_no}: {task} has no problem {task_id!r}")
            if not isinstance(row.get("solution", row.get("completion")), str):
                raise UserError(f"{path}:{line_no}: needs a `solution` or `completion` string")
            index = seen[(task, task_id)]
            seen[(task, task_id)] += 1
            if (task, task_id, index) not in done:
                out.append(Sample(task, task_id, index, completion=row.get("completion"),
                                  solution=row.get("solution")))
    for task in tasks:  # score only the problems the file covers
        problems[task.name] = [p for p in problems[task.name] if (task.name, p.task_id) in seen]


def execute(store: RunStore, sandbox, tasks, problems, samples: dict, forms: list[str],
            config: RunConfig) -> None:
    """Run each stored sample's program once per form; identical programs run once."""
    done = {(r["task"], r["task_id"], r["sample_idx"], r["form"])
            for r in store.read(RESULTS) if r["status"] != "infra_error"}
    by_problem: dict[tuple, list[dict]] = defaultdict(list)
    for row in samples.values():
        by_problem[(row["task"], row["task_id"])].append(row)
    targets: dict[str, list[tuple]] = defaultdict(list)   # program hash -> result keys
    programs = {}
    for task in tasks:
        for problem in problems[task.name]:
            for row in by_problem[(task.name, problem.task_id)]:
                sample = Sample(**{k: row.get(k) for k in
                                   ("task", "task_id", "sample_idx", "completion", "solution",
                                    "raw", "prompt_hash")})
                for form in forms:
                    key = (task.name, problem.task_id, sample.sample_idx, form)
                    if key in done:
                        continue
                    program = assemble(task, problem, sample, form, config)
                    targets[program.content_hash].append(key)
                    programs.setdefault(program.content_hash, program)
    unique = list(programs.values())
    hash_of = {p.key: h for h, p in programs.items()}
    with store.appender(RESULTS) as out, tqdm(total=len(unique), desc="execute",
                                              unit="program", disable=not unique) as bar:
        for execution in sandbox.run(unique):
            program_hash = hash_of[execution.key]
            for name, task_id, idx, form in targets[program_hash]:
                out.append({"task": name, "task_id": task_id, "sample_idx": idx, "form": form,
                            "program_hash": program_hash,
                            **{k: v for k, v in dataclasses.asdict(execution).items()
                               if k != "key"}})
            bar.update()


def assemble(task, problem: Problem, sample: Sample, form: str, config: RunConfig):
    program = task.program(problem, sample, sanitized=form == "sanitized")
    # The program key is unique per (sample, form), since equal programs share one run.
    program = dataclasses.replace(program, key=f"{sample.key}/{form}")
    if config.timeout_s is not None:
        program = dataclasses.replace(program, timeout_s=config.timeout_s)
    return program
