"""Looking into finished runs: `codeeval runs` (list them), `codeeval show` (one problem end to
end) and `codeeval export` / `results_frame` (every score row as a pandas DataFrame).

The run store keeps what the model wrote and what ran (samples.jsonl, rounds.jsonl,
results.jsonl, debug.jsonl); the prompt and the assembled program are rebuilt from the task
and the benchmark data, exactly as the run built them (the same code path), so they are never
stored twice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from codeeval.errors import UserError
from codeeval.records import Sample, cpu_wait_reason, ending, read_jsonl
from codeeval.rundata import Run, find_runs, problem_order
from codeeval.store import DEBUG, ROUNDS

SAMPLE_COLUMNS = ("prompt_hash", "raw", "completion", "solution", "tokens", "finish_reason")


def results_frame(path):
    """Every score row of a run store as a pandas DataFrame, one row per (task, task_id,
    sample_idx, form), joined with its sample's texts; a value-scored task's scores become
    `score_<name>` columns. The one documented way to take results into pandas."""
    import pandas as pd
    run = Run(Path(path))
    if run.folder is None:
        raise UserError(f"{path}: a summary.json alone has no per-sample results; give the "
                        "run-store folder")
    rows = []
    for (task, task_id, index, form), row in run.results.items():
        sample = run.samples.get((task, task_id, index), {})
        flat = {"task": task, "task_id": task_id, "sample_idx": index, "form": form,
                **{k: v for k, v in row.items()
                   if k not in ("task", "task_id", "sample_idx", "form", "scores", "tests",
                                "trace", "first_run")},
                **{f"score_{k}": v for k, v in (row.get("scores") or {}).items()},
                **{k: sample.get(k) for k in SAMPLE_COLUMNS},
                "tests_passed": sum(t.get("outcome") == "passed" for t in row.get("tests") or []),
                "tests_run": len(row.get("tests") or []),
                # a failure judged again alone: what its first run, under contention, gave
                "first_run_status": (row.get("first_run") or {}).get("status")}
        rows.append(flat)
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values(
            ["task", "task_id", "sample_idx", "form"],
            key=lambda col: col.map(problem_order) if col.name == "task_id" else col)
    return frame.reset_index(drop=True)


def export(path: Path, output: Path) -> int:
    """Write results_frame(path) as CSV, Parquet or JSON lines (by the suffix); row count."""
    frame = results_frame(path)
    suffix = output.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(output, index=False)
    elif suffix == ".parquet":
        try:
            frame.to_parquet(output, index=False)
        except ImportError:
            raise UserError("writing Parquet needs pyarrow: `pip install pyarrow`, or export "
                            "to .csv or .jsonl") from None
    elif suffix == ".jsonl":
        frame.to_json(output, orient="records", lines=True, force_ascii=False)
    else:
        raise UserError(f"{output}: export to .csv, .parquet or .jsonl")
    return len(frame)


def run_lines(paths: list[Path]) -> list[str]:
    """One line per run: folder, model, and each task's headline value and problem count."""
    lines = []
    for run in find_runs(paths):
        tasks = []
        for name, summary in run.tasks.items():
            headline = run.headline(name)
            value = (summary.get("metrics") or {}).get(headline)
            shown = f"{headline} {value:.3f}" if isinstance(value, (int, float)) else "-"
            tasks.append(f"{name} {shown} ({summary.get('n_problems', '?')} problems)")
        timing = run.summary.get("timing") or {}
        spent = sum(v for k, v in timing.items() if k.endswith("_s"))
        lines.append(f"{run.folder or run.path}  {run.model}  {'; '.join(tasks)}"
                     + (f"  [{spent:.0f} s]" if spent else ""))
    return lines


def show_problem(path: Path, task_name: str | None, task_id: str, sample_idx: int,
                 data_dir: str | None) -> str:
    """One problem of a run end to end: prompt, the model's answer, the extracted sample, the
    assembled program, and each form's verdict (failing test, trace, repair rounds)."""
    from codeeval.tasks import task_of_run
    from codeeval.tasks.sources import DATA_DIR_ENV, DataSource
    run = Run(Path(path))
    if run.folder is None:
        raise UserError(f"{path}: give the run-store folder, not a summary.json")
    task_name = task_name or (next(iter(run.tasks)) if len(run.tasks) == 1 else None)
    if task_name not in run.tasks:
        raise UserError(f"name the task with --task: this run has {', '.join(run.tasks)}")
    sample_row = run.samples.get((task_name, task_id, sample_idx))
    if sample_row is None:
        raise UserError(f"{task_name} has no sample {sample_idx} of problem {task_id!r} in "
                        f"{path}")
    task = task_of_run(task_name, run.config)
    stored_dir = run.provenance.get("data_dir")   # the run's own data, where it still is
    if data_dir is None and not os.environ.get(DATA_DIR_ENV) and stored_dir \
            and Path(stored_dir).is_dir():
        data_dir = stored_dir
    problems = {p.task_id: p for p in task.load(DataSource.from_option(data_dir))}
    if task_id not in problems:
        raise UserError(f"{task_name} has no problem {task_id!r} in this data")
    problem, sample = problems[task_id], Sample.from_row(sample_row)
    out = [f"== {task_name} {task_id}, sample {sample_idx} ({run.model})"]
    rounds = [r for r in read_jsonl(run.folder / ROUNDS)
              if (r.get("task"), r.get("task_id"), r.get("sample_idx"))
              == (task_name, task_id, sample_idx)]
    if rounds:
        out += [section(f"round {r.get('round')} answer", r.get("text")) for r in rounds]
    else:
        request = task.request(problem, sample_idx)
        shown = request.prompt if not request.messages else "\n\n".join(
            f"[{m['role']}]\n{m['content']}" for m in request.messages)
        out.append(section("prompt", shown))
        out.append(section("model answer", sample.raw))
    if ended := ending(sample_row):
        out.append(f"-- answer ended: {ended}")
    out.append(section("sample", sample.solution if sample.solution is not None
                       else sample.completion))
    forms = {k[3] for k in run.results if k[:3] == (task_name, task_id, sample_idx)}
    for form in sorted(forms, key=form_order):
        row = run.results[(task_name, task_id, sample_idx, form)]
        out.append(f"-- verdict ({form}): {row['status']}"
                   + (f": {row['message']}" if row.get("message") else ""))
        if first := row.get("first_run"):
            out.append(f"-- judged again alone: its first run, beside other programs, was "
                       f"{first['status']}; "
                       f"{first.get('reason') or cpu_wait_reason(first.get('cpu_wait_s'))}")
        failing = [t for t in row.get("tests") or [] if t.get("outcome") != "passed"]
        if failing:
            out.append(section(f"first failing test ({failing[0].get('name')})",
                               failing[0].get("message")))
        if row.get("trace"):
            out.append(section("trace", json.dumps(row["trace"], indent=1)[:4000]))
    if task.scoring == "execution":
        program = task.program(problem, sample, sanitized=False)
        out.append(section("program (raw form)", program.source))
    for repair in read_jsonl(run.folder / DEBUG):
        if (repair.get("task"), repair.get("task_id"), repair.get("sample_idx")) == \
                (task_name, task_id, sample_idx):
            out.append(section(f"repair round {repair.get('round')} reply ("
                               f"{ending(repair) or 'ending not recorded'})",
                               repair.get("reply")))
    return "\n".join(out)


def form_order(form: str) -> tuple:
    """raw, sanitized, then each repair round's traced run and fixed program: trace1, debug1,
    trace2, ..."""
    head = form.rstrip("0123456789")
    number = int(form[len(head):] or 0)
    return (number, {"raw": 0, "sanitized": 1, "ground_truth": 2, "trace": 3, "debug": 4}
            .get(head, 5), form)


def section(title: str, text: str | None) -> str:
    return f"-- {title}\n{text if text is not None else '(none)'}"

