"""The leaderboard's per-problem drill-down: each model's verdict on each problem, how many
models solve it, and, for failing samples, what a person needs to see why: the code, the
failing tests, the output tails, how the answer ended, the cause the summary names, and the
debugging rounds (trace shown, reply, fixed program, its verdict) where the run has them.

Long texts are cut so that a report over thousands of samples stays a file a browser opens
quickly: code keeps its head (the bug is rarely past the first screens), outputs keep their
tail (where the traceback ends).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from codeeval.records import ending
from codeeval.rundata import problem_order

CODE_CHARS = 8000
OUTPUT_CHARS = 2000
MESSAGE_CHARS = 1500
TRACE_CHARS = 8000
TESTS_SHOWN = 5


def head(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}\n… [{len(text) - limit} more chars]"


def tail(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"[{len(text) - limit} chars before] …\n{text[-limit:]}"


@dataclass(frozen=True)
class Verdict:
    passed: float     # passes, or the sum of the headline score of a value-scored task
    scored: int
    statuses: str     # e.g. "failed ×2, timeout ×1", for the hover text
    mean: float | None = None   # the headline score's mean over the samples (value tasks)

    @property
    def kind(self) -> str:
        if self.scored == 0:
            return "none"
        if self.mean is not None:
            return "score"
        return "pass" if self.passed == self.scored else "fail" if self.passed == 0 else "partial"


@dataclass(frozen=True)
class FailingSample:
    sample_idx: int
    status: str
    message: str
    tests: list[dict]
    code: str
    code_kind: str        # completion (continues the prompt) or solution (whole program)
    stdout: str
    stderr: str
    trace: str
    duration_s: float | None
    exit_code: int | None
    ended: str = ""       # how the model's answer ended (records.ending)
    repairs: list[dict] = field(default_factory=list)   # debugging rounds, in order


@dataclass
class RunFailures:
    label: str
    color: str
    samples: list[FailingSample]
    hidden: int           # failing samples beyond the cap
    reason: str = ""      # the summary's cause of the problem's failure (a known one, say)


@dataclass
class ProblemView:
    task_id: str
    verdicts: list[Verdict | None]          # one per run, None where the run lacks it
    failures: list[RunFailures] = field(default_factory=list)

    @property
    def failing(self) -> bool:
        return any(v is not None and v.kind in ("fail", "partial") for v in self.verdicts)

    @property
    def solve_rate(self) -> float | None:
        """The mean over the models that ran it of the share of their samples that passed
        (None for value-scored tasks): how hard the problem is across models."""
        rates = [v.passed / v.scored for v in self.verdicts
                 if v is not None and v.scored and v.mean is None]
        return sum(rates) / len(rates) if rates else None

    @property
    def solved_by(self) -> str:
        """e.g. "2 of 3": the models with a passing sample, of those that ran the problem."""
        ran = [v for v in self.verdicts if v is not None and v.scored and v.mean is None]
        return f"{sum(v.passed > 0 for v in ran)} of {len(ran)}" if ran else ""


def problem_views(task: str, runs: list, colors: list[str], max_failing: int
                  ) -> list[ProblemView]:
    per_run = [RunTaskRows(run, task) if task in run.tasks else None for run in runs]
    ids = sorted({i for rows in per_run if rows for i in rows.problem_ids}, key=problem_order)
    views = []
    reasons = [failure_reasons(run, task) if task in run.tasks else {} for run in runs]
    for task_id in ids:
        view = ProblemView(task_id, [rows.verdict(task_id) if rows else None for rows in per_run])
        for run, rows, colour, why in zip(runs, per_run, colors, reasons):
            failing = rows.failing(task_id) if rows else []
            if failing:
                shown = [failing_sample(run, row) for row in failing[:max_failing]]
                view.failures.append(RunFailures(run.label, colour, shown,
                                                 len(failing) - len(shown), why.get(task_id, "")))
        views.append(view)
    return views


def failure_reasons(run, task: str) -> dict[str, str]:
    """task_id -> the run summary's cause of its failure, where the summary names one."""
    out = {}
    for failure in run.tasks[task].get("failures") or []:
        reason = str(failure.get("reason") or "")
        if failure.get("ground_truth_failed"):
            reason = f"{reason}; the canonical solution fails too" if reason else \
                "the canonical solution fails too"
        if reason:
            out[str(failure.get("task_id"))] = reason
    return out


class RunTaskRows:
    """One run's stored results for one task, in the form that gave its headline metric."""

    def __init__(self, run, task: str):
        form = run.metric_form(task, run.headline(task) or "pass@1")
        self.counts = run.counts(task, form) or {}
        self.value_scored = run.value_score(task) is not None
        self.rows: dict[str, list[dict]] = defaultdict(list)
        for (row_task, task_id, _, row_form), row in run.results.items():
            if row_task == task and row_form == form:
                self.rows[task_id].append(row)
        for rows in self.rows.values():
            rows.sort(key=lambda r: r["sample_idx"])

    @property
    def problem_ids(self) -> set[str]:
        return set(self.counts) | set(self.rows)

    def verdict(self, task_id: str) -> Verdict | None:
        if task_id not in self.counts:
            return None
        n, c = self.counts[task_id]
        statuses = Counter(r["status"] for r in self.rows.get(task_id, []))
        text = ", ".join(f"{s} ×{k}" for s, k in sorted(statuses.items()))
        mean = c / n if self.value_scored and n else None
        return Verdict(c, n, text or f"{c} of {n} passed", mean)

    def failing(self, task_id: str) -> list[dict]:
        return [r for r in self.rows.get(task_id, []) if r["status"] not in ("passed", "scored")]


def failing_sample(run, row: dict) -> FailingSample:
    key = (row["task"], row["task_id"], row["sample_idx"])
    sample = run.samples.get(key, {})
    kind = "solution" if sample.get("solution") is not None else "completion"
    tests = [{"name": str(t.get("name", "")), "outcome": str(t.get("outcome", "")),
              "message": head(str(t.get("message") or ""), MESSAGE_CHARS)}
             for t in row.get("tests") or [] if t.get("outcome") != "passed"][:TESTS_SHOWN]
    return FailingSample(
        sample_idx=row["sample_idx"], status=row["status"],
        message=head(str(row.get("message") or ""), MESSAGE_CHARS), tests=tests,
        code=head(sample.get(kind) or "", CODE_CHARS), code_kind=kind,
        stdout=tail(str(row.get("stdout") or ""), OUTPUT_CHARS),
        stderr=tail(str(row.get("stderr") or ""), OUTPUT_CHARS),
        trace=head(trace_text(row.get("trace")), TRACE_CHARS),
        duration_s=row.get("duration_s"), exit_code=row.get("exit_code"),
        ended=ending(sample),
        repairs=[repair_view(run, key, r) for r in run.repairs.get(key, [])])


def repair_view(run, key: tuple, repair: dict) -> dict:
    """One debugging round of a sample: the trace the model was shown, its reply, the fixed
    program and that program's verdict."""
    verdict = run.results.get((*key, f"debug{repair.get('round')}")) or {}
    return {"round": repair.get("round"), "status": verdict.get("status", "not run"),
            "ended": ending(repair),
            "message": head(str(verdict.get("message") or ""), MESSAGE_CHARS),
            "trace": head(trace_text(repair.get("trace")), TRACE_CHARS),
            "reply": head(str(repair.get("reply") or ""), CODE_CHARS),
            "code": head(str(repair.get("code") or ""), CODE_CHARS)}


def trace_text(trace) -> str:
    """A stored debugging trace as text: as is when it is text, else indented JSON."""
    if trace is None:
        return ""
    return trace if isinstance(trace, str) else json.dumps(trace, indent=1, ensure_ascii=False)
