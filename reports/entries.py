"""Leaderboard rows: one per model and configuration, however many runs it took.

A model is often run more than once: one benchmark at a time, a `--limit` trial before the
full run, a rerun after a fix. Runs of the same model under the same configuration (what the
model saw and how it was sampled: not the seed, the sample count or where programs ran) form
one `ModelEntry`. Each benchmark's figures come from the entry's run that covers it best
(most problems, then most samples, then the latest); the others are listed, not averaged in.
Two entries of one model (say greedy and T=0.8) are labelled by what differs between them.
"""

from __future__ import annotations

from functools import cached_property

from codeeval.rundata import Run

# the config that makes two runs one experiment (seed and n_samples aside: a new draw)
GENERATION_KEYS = ("temperature", "top_p", "max_new_tokens")
CONFIG_KEYS = ("sanitize", "model_args", "task_options", "debug_rounds")


def experiment(run: Run) -> dict:
    config = run.config
    generation = run.provenance.get("generation") or config.get("generation") or {}
    return {"model": run.model,
            **{key: generation.get(key) for key in GENERATION_KEYS},
            **{key: config.get(key) for key in CONFIG_KEYS}}


def coverage(run: Run, task: str) -> tuple:
    summary = run.tasks[task]
    return (summary.get("n_problems") or 0, summary.get("n_samples") or 0,
            str(run.provenance.get("finished") or ""))


def partial(run: Run) -> str | None:
    """Why a run does not cover its benchmarks whole (`--limit N`), else None."""
    limit = run.config.get("limit")
    return f"first {limit} problems (--limit {limit})" if limit else None


class ModelEntry:
    """The runs of one model under one configuration, read as one run: per benchmark, the
    figures and stored results of the run that covers it best."""

    def __init__(self, runs: list[Run]):
        self.runs = runs
        self.model = runs[0].model
        self.label = self.model
        names = dict.fromkeys(t for run in runs for t in run.tasks)
        self.by_task = {t: max((r for r in runs if t in r.tasks), key=lambda r: coverage(r, t))
                        for t in names}

    @property
    def run_id(self) -> str:
        return " + ".join(dict.fromkeys(run.run_id for run in self.by_task.values()))

    @property
    def latest(self) -> Run:
        return max(self.runs, key=lambda r: str(r.provenance.get("finished") or ""))

    @property
    def tasks(self) -> dict[str, dict]:
        return {task: run.tasks[task] for task, run in self.by_task.items()}

    def run_for(self, task: str) -> Run:
        return self.by_task[task]

    def partial(self, task: str) -> str | None:
        return partial(self.by_task[task])

    def others(self, task: str) -> list[Run]:
        """The entry's other runs of `task`, not shown."""
        return [r for r in self.runs if task in r.tasks and r is not self.by_task[task]]

    def headline(self, task: str) -> str | None:
        return self.by_task[task].headline(task)

    def metric_form(self, task: str, metric: str) -> str:
        return self.by_task[task].metric_form(task, metric)

    def value_score(self, task: str) -> str | None:
        return self.by_task[task].value_score(task)

    def counts(self, task: str, form: str):
        return self.by_task[task].counts(task, form)

    def per_problem(self, task: str, metric: str):
        return self.by_task[task].per_problem(task, metric)

    @cached_property
    def results(self) -> dict[tuple, dict]:
        return {key: row for task, run in self.by_task.items()
                for key, row in run.results.items() if key[0] == task}

    @cached_property
    def samples(self) -> dict[tuple, dict]:
        return {key: row for task, run in self.by_task.items()
                for key, row in run.samples.items() if key[0] == task}

    @cached_property
    def repairs(self) -> dict[tuple, list[dict]]:
        """(task, task_id, sample_idx) -> its debugging rounds, in order."""
        out: dict[tuple, list[dict]] = {}
        for task, run in self.by_task.items():
            for row in run.debug_rows:
                if row.get("task") == task:
                    out.setdefault((task, row["task_id"], row["sample_idx"]), []).append(row)
        for rows in out.values():
            rows.sort(key=lambda r: r.get("round", 0))
        return out


def model_entries(runs: list[Run]) -> list[ModelEntry]:
    """Group runs into entries (first-seen order) and label them: the model, plus what
    differs from its other entries, if any."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(repr(sorted(experiment(run).items())), []).append(run)
    entries = [ModelEntry(group) for group in groups.values()]
    for entry in entries:
        same_model = [e for e in entries if e.model == entry.model]
        if len(same_model) > 1:
            mine = experiment(entry.runs[0])
            differing = [k for k in mine if k != "model"
                         and any(experiment(e.runs[0]).get(k) != mine[k] for e in same_model)]
            entry.label = f"{entry.model} ({', '.join(f'{k}={mine[k]}' for k in differing)})"
    return entries
