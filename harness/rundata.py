"""Finished runs as reports and gates read them: the summary, per-problem pass counts and,
for a run-store folder, the stored results and samples.

A run is a run-store folder or a summary.json file on its own (a baseline committed to a
repository). Per-problem pass counts come from the summary's `per_problem` section, which
`codeeval run` writes, else from results.jsonl beside the summary. Nothing here writes:
a report may read a store that a run is still appending to.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from pathlib import Path

from codeeval.errors import UserError
from codeeval.passk import pass_at_k
from codeeval.records import NOT_COUNTED, read_jsonl, results_by_key
from codeeval.scoring import sample_value
from codeeval.store import DEBUG, RESULTS, SAMPLES

PASS_AT = re.compile(r"pass@(\d+)")
SUMMARY = "summary.json"


def problem_order(task_id: str) -> tuple:
    """Sort key that puts `BigCodeBench/9` before `BigCodeBench/10`."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", task_id) if part)


def current_config(config: dict) -> dict:
    """A run's stored config in today's form, its task options as `resolve_options` records
    them (so that equal settings compare equal). Runs stored before the prompt variant and
    the per-program timeout became task options kept them as `prompt_variant` and
    `timeout_s`: they read as the task options the same flags set today."""
    from codeeval.tasks import TASKS, canonical
    config = dict(config)
    variant, timeout = config.pop("prompt_variant", None), config.pop("timeout_s", None)
    options = dict(config.get("task_options") or {})
    for name in config.get("tasks") or ():
        if variant is not None:
            options.setdefault(f"{name}.prompt_variant", variant)
        if timeout is not None and name in TASKS and "timeout" in TASKS[name].option_names():
            options.setdefault(f"{name}.timeout", str(timeout))
    recorded = {}
    for key, value in sorted(options.items()):
        task, _, option = key.partition(".")
        try:
            value = canonical(task, option, value)
        except (KeyError, UserError):
            pass   # no such option (any more), or a value no longer valid: kept as stored
        if value is not None:
            recorded[key] = value
    if "task_options" in config or recorded:
        config["task_options"] = recorded
    return config


class Run:
    """One finished run, read from a run-store folder or a summary.json file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        summary_path = self.path / SUMMARY if self.path.is_dir() else self.path
        if not summary_path.is_file():
            raise UserError(f"{self.path}: no {SUMMARY} (not a finished run store)")
        try:
            self.summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError(f"{summary_path}: not valid JSON ({exc})") from None
        if not isinstance(self.summary, dict) or not isinstance(self.summary.get("tasks"), dict):
            raise UserError(f"{summary_path}: not a codeeval summary (it has no `tasks`)")
        folder = summary_path.parent
        self.folder = folder if (folder / RESULTS).is_file() else None
        self.label = self.model

    @property
    def model(self) -> str:
        return str(self.summary.get("model", "?"))

    @property
    def run_id(self) -> str:
        return str(self.summary.get("run_id", self.path.name))

    @property
    def tasks(self) -> dict[str, dict]:
        return self.summary["tasks"]

    @property
    def config(self) -> dict:
        return current_config(self.summary.get("config") or {})

    @property
    def provenance(self) -> dict:
        return self.summary.get("provenance") or {}

    def headline(self, task: str) -> str | None:
        """The metric a leaderboard shows first: the task's own `headline`, else pass@1."""
        summary = self.tasks[task]
        metrics = summary.get("metrics") or {}
        if summary.get("headline") in metrics:
            return summary["headline"]
        return "pass@1" if "pass@1" in metrics else next(iter(metrics), None)

    def metric_form(self, task: str, metric: str) -> str:
        """Which scored form (raw or sanitized) gave `metric`."""
        forms = self.tasks[task].get("metric_forms") or {}
        return forms.get(metric) or forms.get("pass@1") or "raw"

    def value_score(self, task: str) -> str | None:
        """The per-sample score whose mean is the task's headline; None for pass@k tasks."""
        headline = self.headline(task)
        return None if headline is None or PASS_AT.fullmatch(headline) else headline

    def counts(self, task: str, form: str) -> dict[str, tuple[int, float]] | None:
        """(samples scored, samples passed or sum of the headline score) per problem id;
        None without per-problem data."""
        stored = (self.tasks[task].get("per_problem") or {}).get(form)
        if stored is not None:
            return {task_id: (int(n), c) for task_id, (n, c) in stored.items()}
        if self.folder is None:
            return None
        return self._counts_from_results.get((task, form), {})

    def per_problem(self, task: str, metric: str) -> dict[str, float] | None:
        """Each problem's value of a metric: a pass@k from its (n, c), or the mean of a
        value-scored task's headline score (c / n). None for other metrics or without
        per-problem data. Problems with fewer than k scored samples are left out, as the
        summary's own pass@k leaves them out."""
        match = PASS_AT.fullmatch(metric)
        if not match and metric != self.headline(task):
            return None
        counts = self.counts(task, self.metric_form(task, metric))
        if counts is None:
            return None
        if not match:
            return {task_id: c / n for task_id, (n, c) in counts.items() if n}
        k = int(match.group(1))
        return {task_id: pass_at_k(n, c, k) for task_id, (n, c) in counts.items() if n >= k}

    @cached_property
    def results(self) -> dict[tuple, dict]:
        """(task, task_id, sample_idx, form) -> result row; a later row (a retry) wins."""
        if self.folder is None:
            return {}
        return results_by_key(read_jsonl(self.folder / RESULTS))

    @cached_property
    def samples(self) -> dict[tuple, dict]:
        """(task, task_id, sample_idx) -> sample row."""
        if self.folder is None:
            return {}
        return {(s["task"], s["task_id"], s["sample_idx"]): s
                for s in read_jsonl(self.folder / SAMPLES)}

    @cached_property
    def debug_rows(self) -> list[dict]:
        """The LDB repair rounds (debug.jsonl): trace shown, reply, fixed code."""
        return [] if self.folder is None else read_jsonl(self.folder / DEBUG)

    @cached_property
    def _counts_from_results(self) -> dict[tuple, dict[str, tuple[int, int]]]:
        out: dict[tuple, dict[str, tuple[int, float]]] = {}
        for (task, task_id, _, form), row in self.results.items():
            if task not in self.tasks:
                continue
            per_task = out.setdefault((task, form), {})
            n, c = per_task.get(task_id, (0, 0))
            if row["status"] not in NOT_COUNTED:   # an excluded row is not a sample
                n, c = n + 1, c + sample_value(row, self.value_score(task))
            per_task[task_id] = (n, c)
        return out


def find_runs(paths: list[Path]) -> list[Run]:
    """Runs named on the command line: a run store, a summary.json, or a folder of run
    stores (`runs/`). Labels are the model names, with the run id where a model repeats."""
    runs: list[Run] = []
    for path in map(Path, paths):
        if path.is_file() or (path / SUMMARY).is_file():
            runs.append(Run(path))
            continue
        found = sorted(p.parent for p in path.glob(f"*/{SUMMARY}")) if path.is_dir() else []
        if not found:
            raise UserError(f"{path}: no run store here ({SUMMARY} not found in it or in its "
                            "subfolders)")
        runs.extend(Run(p) for p in found)
    models = [run.model for run in runs]
    for run in runs:
        if models.count(run.model) > 1:
            run.label = f"{run.model} ({run.run_id})"
    return runs
