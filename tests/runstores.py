"""Synthetic run stores with known outcomes, summarised by the real scoring code, for gate
and report tests that need exact control over which problem passed."""

from __future__ import annotations

import json
from pathlib import Path

from codeeval.generation import GenerationConfig
from codeeval.provenance import provenance
from codeeval.records import Problem
from codeeval.scoring import summarize_task
from codeeval.tasks import get_task

DATASETS = {"humaneval-pro/humaneval_pro.json": "a" * 64, "humaneval-pro/mbpp_pro.json": "b" * 64}


def outcomes(passing: int, failing: int) -> dict[str, list[str]]:
    """Greedy outcomes: problems 0..passing-1 pass, the next `failing` fail."""
    return {str(i): ["passed" if i < passing else "failed"] for i in range(passing + failing)}


def flip(statuses: dict[str, list[str]], ids, to: str) -> dict[str, list[str]]:
    out = {k: list(v) for k, v in statuses.items()}
    for task_id in ids:
        out[str(task_id)] = [to] * len(out[str(task_id)])
    return out


def result_row(task: str, task_id: str, idx: int, status: str, trace=None) -> dict:
    failed = status != "passed"
    row = {"task": task, "task_id": task_id, "sample_idx": idx, "form": "raw", "status": status,
           "message": f"line 3: AssertionError in {task_id}" if failed else "",
           "tests": [{"name": "line 3", "outcome": "failed" if failed else "passed",
                      "message": "AssertionError: expected 3" if failed else ""}],
           "duration_s": 0.01, "exit_code": 0, "stdout": "", "program_hash": "x",
           "stderr": "Traceback (most recent call last):\nAssertionError" if failed else ""}
    if trace is not None and failed:
        row["trace"] = trace
    return row


def write_store(path: Path, tasks: dict[str, dict[str, list[str]]], *, model: str = "m",
                generation: GenerationConfig = GenerationConfig(), task_options=None,
                datasets: dict | None = None, meta: dict | None = None, trace=None) -> Path:
    """A run store whose results have the given statuses per (task, problem, sample).
    `meta` gives problems breakdown metadata: {task_id: {field: value}}."""
    path.mkdir(parents=True)
    datasets = dict(DATASETS if datasets is None else datasets)
    samples, results, summaries = [], {}, {}
    for name, statuses in tasks.items():
        problems = [Problem(task_id, {}, (meta or {}).get(task_id, {})) for task_id in statuses]
        for task_id, row in statuses.items():
            for idx, status in enumerate(row):
                samples.append({"task": name, "task_id": task_id, "sample_idx": idx,
                                "completion": f"    return {idx}  # {name} {task_id}\n"})
                results[(name, task_id, idx, "raw")] = result_row(name, task_id, idx, status,
                                                                  trace)
        n = max(len(row) for row in statuses.values())
        summaries[name] = summarize_task(get_task(name), problems, results, ["raw"], n)
    config = {"model": model, "tasks": list(tasks), "generation": generation.as_dict(),
              "task_options": task_options or {}, "sanitize": "raw", "datasets": datasets}
    summary = {"run_id": f"{path.name}-run", "model": model, "tasks": summaries, "config": config,
               "provenance": provenance(datasets=datasets,
                                        prompt_versions={t: "1" for t in tasks},
                                        backend={"backend": "test", "model": model},
                                        generation=generation.as_dict(),
                                        sandbox={"kind": "process"})}
    (path / "config.json").write_text(json.dumps({"run_id": summary["run_id"],
                                                  "identity": config}))
    (path / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    (path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results.values()))
    (path / "summary.json").write_text(json.dumps(summary, indent=2))
    return path
