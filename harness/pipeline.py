"""The run pipeline: load -> generate -> assemble -> execute -> score, over a run store.

Tasks whose scoring needs no sandbox (`Task.scoring` "similarity" or "judge") skip
assembling and executing: they are scored, or judged then scored, by `sandboxless`; a run
without execution tasks starts no sandbox at all.

Every stage skips what the store already holds, so an interrupted run resumes where it
stopped. `evaluate` enters the same pipeline with samples read from a file instead of
generated.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from codeeval import ground_truth
from codeeval.debug import debug_rounds, pass_at_1_by_round
from codeeval.errors import UserError
from codeeval.execution import (ExecutionService, Sandboxes, execute, sample_jobs,
                                stored_results)
from codeeval.generation import GenerationConfig, make_backend
from codeeval.missing_samples import count_missing_as_failures
from codeeval.provenance import provenance
from codeeval.records import Generation, Problem, Sample, utf8_text
from codeeval.rundata import current_config
from codeeval.sandboxless import score_by_judge, score_similarity
from codeeval.scoring import summarize_task
from codeeval.store import ROUNDS, SAMPLES, RunStore
from codeeval.tasks import get_task

FORMS = {"raw": ["raw"], "sanitized": ["sanitized"], "both": ["raw", "sanitized"]}


@dataclass(frozen=True)
class RunConfig:
    model: str
    tasks: tuple[str, ...]
    model_args: dict = field(default_factory=dict)   # backend options (--model-args, --base-url)
    generation: GenerationConfig = GenerationConfig()
    sanitize: str = "raw"
    limit: int | None = None
    sandbox: str = "auto"
    hash_seed: int = 0                   # PYTHONHASHSEED of the programs
    debug_rounds: int = 0                # LDB-style repair rounds after generation
    trace_granularity: str = "block"     # of the traces the repair rounds show
    samples_file: str | None = None      # set by `evaluate`: samples come from this file
    task_options: tuple[tuple[str, str, str], ...] = ()   # (task, option, value)
    judge_model: str | None = None       # the judge backend of judge-scored tasks
    check_ground_truth: bool = False     # run the canonical solutions first
    executor: str = "local"              # where sandboxes run: local, or ray (a Ray cluster)
    ray_address: str | None = None       # the Ray cluster's head (default: RAY_ADDRESS)
    ray_node_wait_s: float = 300.0       # how long a Ray run waits when no node has CPUs

    def identity(self, datasets: dict) -> dict:
        """Everything a stored result depends on; a resumed run must match it exactly.
        Where programs ran is not: a run started here may be resumed on a Ray cluster."""
        data = dataclasses.asdict(self)
        del data["executor"], data["ray_address"], data["ray_node_wait_s"]
        data["generation"] = self.generation.as_dict()
        data["tasks"] = list(self.tasks)
        data["task_options"] = {f"{task}.{option}": value
                                for task, option, value in self.task_options}
        if self.samples_file:
            data["samples_file"] = hashlib.sha256(Path(self.samples_file).read_bytes()).hexdigest()
        data["datasets"] = datasets
        return data


def without_scope(identity: dict) -> dict:
    """A run's identity (in today's form) less what a rerun may change and keep its records:
    how many problems (--limit) and samples per problem (--n-samples; each sample's seed is
    its own)."""
    rest = {k: v for k, v in current_config(identity).items() if k != "limit"}
    rest["generation"] = {k: v for k, v in (identity.get("generation") or {}).items()
                          if k != "n_samples"}
    return rest


def run_pipeline(config: RunConfig, out: Path, *, source, force: bool = False,
                 parallel: int | None = None, sandbox_python: str | None = None,
                 allow_missing_libraries: bool = False) -> dict:
    tasks = [get_task(name, {o: v for t, o, v in config.task_options if t == name})
             for name in config.tasks]
    judged = [t for t in tasks if t.scoring == "judge"]
    if judged and not config.judge_model:
        raise UserError(f"{judged[0].name} is scored by a judge model: name one with "
                        "--judge-model (e.g. openai:gpt-4o-2024-11-20)")
    for task in tasks:
        if task.scoring == "execution":
            task.check_environment()
    if config.sanitize not in FORMS:
        raise UserError(f"--sanitize must be one of {', '.join(FORMS)}")
    problems = {t.name: t.load(source)[: config.limit] for t in tasks}
    scope = {name: {p.task_id for p in chosen} for name, chosen in problems.items()}
    store = RunStore(out)
    store.lock()
    identity = config.identity(source.loaded)
    if not force:   # refused before the model loads, not after
        store.check(identity, same=without_scope)
    timing = {}   # seconds per phase of this invocation, and the tokens it generated
    backend = None
    if not config.samples_file:   # before the config is written: a failed start leaves none
        started = time.perf_counter()
        backend = make_backend(config.model, config.generation, config.model_args)
        timing["load_model_s"] = time.perf_counter() - started
    executed = [t for t in tasks if t.scoring == "execution"]
    # Programs never read the benchmark data or the run store (other samples' failure
    # messages hold expected values).
    hidden = ((str(source.data_dir),) if source.data_dir else ()) + (str(Path(out).resolve()),)
    with Sandboxes(executed, config, parallel, sandbox_python, hidden) as sandboxes:
        for task in executed:
            check_libraries(sandboxes, task, problems[task.name], allow_missing_libraries)
        run_id = store.open(identity, default_run_id(config, out), force=force,
                            same=without_scope)
        stored = store.read(SAMPLES)
        if stored:
            in_scope = len(stored) if config.samples_file else sum(
                s["sample_idx"] < config.generation.n_samples
                and s["task_id"] in scope.get(s["task"], ()) for s in stored)
            print(f"resuming {out}: {len(stored)} samples stored, {in_scope} of them in this "
                  "run's scope; only what is missing is generated and run", file=sys.stderr)
        service = ExecutionService(store, sandboxes)
        started = time.perf_counter()
        if config.samples_file:
            backend_info = {"backend": "external samples", "file": config.samples_file}
            store_external_samples(store, tasks, problems, Path(config.samples_file))
        else:
            backend_info = backend.describe()
            generate(store, backend, tasks, problems, config)
            timing["generate_s"] = time.perf_counter() - started
            timing["tokens_generated"] = backend.tokens_generated

        samples = {(s["task"], s["task_id"], s["sample_idx"]): s for s in store.read(SAMPLES)}
        if config.samples_file:   # a file's samples per problem
            n_samples = max([s[2] + 1 for s in samples] or [config.generation.n_samples])
        else:   # a store grown by an earlier, larger --n-samples keeps its extra samples
            n_samples = config.generation.n_samples
            samples = {key: s for key, s in samples.items() if key[2] < n_samples}
        truths = {}
        if config.check_ground_truth:   # before each checked task's samples, with the others'
            started = time.perf_counter()
            truths = ground_truth.check_ground_truth(
                executed, problems, service,
                lambda unchecked: sample_jobs(unchecked, problems, samples,
                                              FORMS[config.sanitize]))
            problems = ground_truth.timed(problems, truths)
            timing["ground_truth_s"] = time.perf_counter() - started
        started = time.perf_counter()
        execute(service, executed, problems, samples, FORMS[config.sanitize])
        timing["execute_s"] = time.perf_counter() - started
        if config.debug_rounds and not config.samples_file:
            started, before = time.perf_counter(), backend.tokens_generated
            debug_rounds(store, backend, executed, problems, samples, config, service)
            timing["debug_s"] = time.perf_counter() - started
            timing["debug_tokens_generated"] = backend.tokens_generated - before
    score_similarity(store, [t for t in tasks if t.scoring == "similarity"], problems, samples)
    judges = {}
    for task in judged:
        backend = make_backend(config.judge_model, task.judge_generation)
        judges[task.name] = {**backend.describe(), "model": config.judge_model}
        score_by_judge(store, backend, [task], problems, samples, config.judge_model)

    results = stored_results(store)
    count_missing_as_failures(results, executed, problems, samples, FORMS[config.sanitize])
    summary = {
        "run_id": run_id,
        "model": config.model,
        "tasks": {t.name: summary_of(t, problems[t.name], results, FORMS[config.sanitize],
                                    n_samples, truths.get(t.name)) for t in tasks},
        "config": config.identity(source.loaded),
        "timing": {k: round(v, 3) if isinstance(v, float) else v for k, v in timing.items()},
        "provenance": provenance(
            datasets=source.loaded,
            prompt_versions={t.name: t.prompt_version for t in tasks},
            backend=backend_info, generation=config.generation.as_dict(),
            sandbox=sandboxes.described),
    }
    for task in tasks:
        answers = answer_summary(task, problems[task.name], samples)
        if answers:
            summary["tasks"][task.name]["answers"] = answers
    if source.data_dir:   # where `codeeval show` finds the data again
        summary["provenance"]["data_dir"] = str(source.data_dir)
    if judges:
        summary["provenance"]["judges"] = judges
    if config.debug_rounds:
        base = FORMS[config.sanitize][0]
        for task in executed:
            summary["tasks"][task.name]["debug"] = {
                "rounds": config.debug_rounds, "trace_granularity": config.trace_granularity,
                "pass@1_by_round": pass_at_1_by_round(task, problems[task.name], results,
                                                      config.debug_rounds, n_samples, base)}
    store.write_summary(summary)
    return summary


# import name -> pip package, where they differ (for the one-line fix)
PIP_NAMES = {"PIL": "pillow", "sklearn": "scikit-learn", "cv2": "opencv-python",
             "bs4": "beautifulsoup4", "yaml": "pyyaml", "dateutil": "python-dateutil",
             "docx": "python-docx", "skimage": "scikit-image", "Crypto": "pycryptodome",
             "Levenshtein": "python-Levenshtein", "mpl_toolkits": "matplotlib"}


def check_libraries(sandboxes, task, problems: list[Problem], allowed: bool) -> None:
    """Stop before anything is generated when the task's sandbox lacks libraries its programs
    import (`Task.required_modules` of the problems run): their problems would fail for the
    environment, not the model. Allowed on request (those failures are then reported as the
    environment's at the end of the run)."""
    missing = sandboxes.missing_libraries(task, task.required_modules(problems))
    if not missing:
        return
    named = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
    used = sandboxes.described.get(task.image, {}).get("python")   # a process sandbox's
    message = (f"{task.name}'s programs import {named}, which its sandbox"
               f"{f' ({used})' if used else ''} lacks: build the image and run in Docker "
               f"(`codeeval images build {task.image}`), or give the process sandbox an "
               "interpreter that has them (`--sandbox-python PYTHON`, e.g. a venv readable by "
               f"all users, after `PYTHON -m pip install "
               f"{' '.join(PIP_NAMES.get(m, m) for m in missing)}`)")
    if not allowed:
        raise UserError(message + "; --allow-missing-libraries runs anyway")
    warnings.warn(message)


def summary_of(task, problems: list[Problem], results: dict, forms: list[str],
              n_samples: int, truth_rows: dict | None) -> dict:
    """The task's summary, with its ground-truth check if one ran."""
    if task.scoring != "execution":
        forms = ["raw"]   # similarity and judge score the sample as given
    summary = summarize_task(task, problems, results, forms, n_samples)
    checked = ground_truth.ground_truth_summary(task, truth_rows or {})
    if checked is not None:
        summary["ground_truth"] = checked
        ground_truth.mark_failures(summary, checked)
    return summary


def answer_summary(task, problems: list[Problem], samples: dict) -> dict | None:
    """How the task's answers ended: tokens generated and finish reasons ("length": cut at
    --max-new-tokens), over the samples whose backend reported them; None if none did."""
    ids = {p.task_id for p in problems}
    rows = [row for key, row in samples.items() if key[0] == task.name and key[1] in ids]
    counted = [row["tokens"] for row in rows if row.get("tokens") is not None]
    reasons = Counter(row["finish_reason"] for row in rows if row.get("finish_reason"))
    if not counted and not reasons:
        return None
    return {"samples": len(rows), "tokens": sum(counted), "samples_with_tokens": len(counted),
            "mean_tokens": round(sum(counted) / len(counted), 1) if counted else None,
            "finish_reasons": {"stop": 0, "length": 0, **dict(sorted(reasons.items()))}}


def default_run_id(config: RunConfig, out: Path) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{Path(out).name}-{stamp}"


def generate(store: RunStore, backend, tasks, problems, config: RunConfig) -> None:
    """Generate every missing sample, driving each sample's prompting strategy
    (`Task.prompting`). Multi-round strategies run in rounds, each round one batch across all
    problems; each round's text is stored (rounds.jsonl) as it arrives, so a resumed run
    replays the stored texts and continues from the last finished round."""
    done = {(s["task"], s["task_id"], s["sample_idx"]) for s in store.read(SAMPLES)}
    earlier: dict[tuple, list[dict]] = defaultdict(list)   # rounds stored before a resume
    for row in store.read(ROUNDS):
        earlier[(row["task"], row["task_id"], row["sample_idx"])].append(row)
    with store.appender(SAMPLES) as samples_out, store.appender(ROUNDS) as rounds_out:
        tokens: dict[tuple, int | None] = {}   # per sample, over its rounds

        def advance(key, strategy, request, answer: Generation):
            """The strategy's next request, or None once it stored its sample."""
            spent = tokens.get(key, 0)
            tokens[key] = None if spent is None or answer.tokens is None \
                else spent + answer.tokens
            try:
                return strategy.send((answer.text, backend.uses_chat(request)))
            except StopIteration as finished:
                samples_out.append(dataclasses.replace(
                    finished.value, tokens=tokens[key], finish_reason=answer.finish_reason))
                return None

        waiting = []   # (strategy, its next request)
        for task in tasks:
            for problem in problems[task.name]:
                for i in range(config.generation.n_samples):
                    key = (task.name, problem.task_id, i)
                    if key in done:
                        continue
                    strategy = task.prompting(problem, i)
                    request = next(strategy)
                    for row in earlier[key]:
                        request = advance(key, strategy, request, Generation(
                            row["text"], row.get("tokens"), row.get("finish_reason")))
                        if request is None:
                            break
                    if request is not None:
                        waiting.append((strategy, request))
        with tqdm(total=0, desc="generate", unit="request", disable=not waiting) as bar:
            while waiting:
                bar.total += len(waiting)
                strategies = {request.key: strategy for strategy, request in waiting}
                batch, waiting = [request for _, request in waiting], []
                for request, answer in backend.generate(batch):
                    key = (request.task, request.task_id, request.sample_idx)
                    following = advance(key, strategies[request.key], request, answer)
                    if following is not None:
                        rounds_out.append({"task": request.task, "task_id": request.task_id,
                                           "sample_idx": request.sample_idx,
                                           "round": request.round, "text": answer.text,
                                           "tokens": answer.tokens,
                                           "finish_reason": answer.finish_reason})
                        waiting.append((strategies[request.key], following))
                    bar.update()


def external_rows(path: Path):
    """(where, row) for each sample of a samples file: JSON lines, or a JSON array of rows.
    A row may hold several samples, as official outputs do (`samples_of`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not UTF-8 text (byte {exc.start}: "
                        f"{exc.object[exc.start:exc.start + 1]!r}); samples files are UTF-8 "
                        "JSON lines or a JSON array") from None
    if text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except ValueError:
            raise UserError(f"{path}: not valid JSON (a JSON array of samples was expected)") from None
        for index, row in enumerate(rows):
            for sample in samples_of(row):
                yield f"{path}[{index}]", sample
        return
    for line_no, line in enumerate(text.split("\n"), 1):  # as records.parse_jsonl
        if line.strip():
            try:
                row = json.loads(line)
            except ValueError:
                raise UserError(f"{path}:{line_no}: not valid JSON") from None
            for sample in samples_of(row):
                yield f"{path}:{line_no}", sample


def samples_of(row) -> list:
    """The samples one row holds: ClassEval's official outputs list completions in `predict`,
    CoderEval's list whole functions in `generate_results` (`generate_code`) under the task's
    `_id`; other rows are one sample each."""
    if isinstance(row, dict) and isinstance(row.get("predict"), list):
        return [{"task_id": row.get("task_id"), "completion": p} for p in row["predict"]]
    if isinstance(row, dict) and "_id" in row and isinstance(row.get("generate_results"), list):
        return [{"task_id": row["_id"], "solution": result.get("generate_code")}
                for result in row["generate_results"]]
    return [row]


def store_external_samples(store: RunStore, tasks, problems, path: Path) -> None:
    """Samples from another tool (evalplus/bigcodebench style JSONL, a JSON array with
    ClassEval's `predict` lists, or CoderEval's result files with `_id` and `generate_results`):
    `task_id` plus `solution` (a whole program) or `completion`;
    `task` is needed when several tasks are evaluated at once. A sample's index is its order
    among its problem's samples in the file."""
    if not path.is_file():
        raise UserError(f"samples file {path} not found")
    known = {t.name: {p.task_id for p in problems[t.name]} for t in tasks}
    seen: dict[tuple, int] = defaultdict(int)
    done = {(s["task"], s["task_id"], s["sample_idx"]) for s in store.read(SAMPLES)}
    with store.appender(SAMPLES) as out:
        for where, row in external_rows(path):
            if not isinstance(row, dict) or row.get("task_id") is None:
                raise UserError(f"{where}: expected a JSON object with task_id and solution "
                                "or completion")
            task = row.get("task") or (tasks[0].name if len(tasks) == 1 else None)
            task_id = str(row["task_id"])
            if task is None:
                raise UserError(f"{where}: no `task` field, and several tasks were given; add "
                                "`task` to each sample or evaluate one task at a time")
            if task not in known:
                raise UserError(f"{where}: task {task!r} is not among --tasks")
            if task_id not in known[task]:
                raise UserError(f"{where}: {task} has no problem {task_id!r}")
            # codeeval's own samples.jsonl has both fields, one of them null
            if not isinstance(row.get("solution") or row.get("completion"), str):
                raise UserError(f"{where}: needs a `solution` or `completion` string")
            index = seen[(task, task_id)]
            seen[(task, task_id)] += 1
            if (task, task_id, index) not in done:
                out.append(Sample(task, task_id, index, completion=utf8_text(row.get("completion")),
                                  solution=utf8_text(row.get("solution"))))
    if not seen:
        raise UserError(f"samples file {path} holds no samples")
    for task in tasks:  # score only the problems the file covers, and say so
        covered = [p for p in problems[task.name] if (task.name, p.task_id) in seen]
        if len(covered) < len(problems[task.name]):
            print(f"warning: {task.name}: the samples cover {len(covered)} of "
                  f"{len(problems[task.name])} problems; only those are scored, so the figures "
                  "are not comparable with a full run", file=sys.stderr)
        problems[task.name] = covered
