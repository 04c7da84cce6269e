"""From score rows to a task's summary: the one summarizer of every task.

A score row is a `results.jsonl` row: a status (`records.STATUSES`) and, for tasks that score
each sample with a value rather than a verdict (similarity, judge), its `scores`. Execution
tasks report pass@k; value tasks (`Task.scores`) the mean of each score over their samples.
Either way `per_problem` keeps each problem's (n, c) per form, c the passes or the sum of the
headline score, so that a summary.json alone is enough for confidence intervals and a paired
comparison of two runs (`codeeval gate` against a committed baseline). Excluded samples (a
judge reply that cannot be read) are not in n; infra errors are, as failures (records.py). With
`--sanitize both`, each metric is the higher of the raw and the sanitized value, as the
CodeEval-Pro paper reports; `metric_forms` says which form gave each.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from codeeval.failures import MISSING_MODULE, failure_reason
from codeeval.passk import mean_pass_at_k
from codeeval.records import NOT_COUNTED, Problem


def scored_rows(task, problems: list[Problem], results: dict[tuple, dict], form: str,
                n_samples: int) -> dict[str, list[dict]]:
    """Each problem's score rows of `form` that count (exclusions left out)."""
    out = {}
    for problem in problems:
        rows = [results.get((task.name, problem.task_id, i, form)) for i in range(n_samples)]
        out[problem.task_id] = [r for r in rows
                                if r is not None and r["status"] not in NOT_COUNTED]
    return out


def sample_value(row: dict, score: str | None) -> float:
    """What one score row adds to its problem's c: a pass (1 or 0), or its `score`."""
    return float(row["scores"][score]) if score else int(row["status"] == "passed")


def problem_counts(task, rows: dict[str, list[dict]]) -> dict[str, tuple[int, float]]:
    """(n, c) per problem id: c the passes, or the sum of the headline score."""
    score = task.headline if task.scores else None
    return {task_id: (len(r), sum(sample_value(x, score) for x in r))
            for task_id, r in rows.items()}


def metrics_for(task, groups: list[list[dict]], ks: tuple[int, ...]) -> dict[str, float]:
    """The task's metrics over problems given as lists of score rows: the mean of each score
    over the samples, or pass@k over the problems (for every k no problem has fewer than)."""
    if task.scores:
        rows = [r for group in groups for r in group]
        return {name: round(sum(r["scores"][name] for r in rows) / len(rows), 6)
                for name in task.scores} if rows else {}
    counts = [(len(g), sum(r["status"] == "passed" for r in g)) for g in groups if g]
    if not counts:
        return {}
    smallest_n = min(n for n, _ in counts)
    return {f"pass@{k}": round(mean_pass_at_k(counts, k), 6) for k in ks if k <= smallest_n}


def summarize_task(task, problems: list[Problem], results: dict[tuple, dict],
                   forms: list[str], n_samples: int) -> dict:
    rows = {f: scored_rows(task, problems, results, f, n_samples) for f in forms}
    by_form = {f: metrics_for(task, list(rows[f].values()), task.ks) for f in forms}
    metrics, metric_forms = {}, {}
    for name in by_form[forms[0]]:
        best = max(forms, key=lambda f: (by_form[f].get(name, -1.0), -forms.index(f)))
        metrics[name], metric_forms[name] = by_form[best][name], best
    headline_form = metric_forms.get(task.headline, forms[0])

    # the rows of this scope only: a store grown by a larger --limit or --n-samples keeps more
    ids = {p.task_id for p in problems}
    stored = {key: r for key, r in results.items()   # key: (task, task_id, sample_idx, form)
              if key[0] == task.name and key[1] in ids and key[2] < n_samples}
    statuses = {f: dict(Counter(r["status"] for key, r in stored.items() if key[3] == f))
                for f in forms}
    failed = [] if task.scores else failures(problems, results, task, headline_form, n_samples)
    summary = {
        "n_problems": len(problems),
        "n_samples": n_samples * len(problems),
        "headline": task.headline,
        "metrics": metrics,
        "metric_forms": metric_forms,
        "metrics_by_form": by_form,
        "breakdowns": {"status": statuses, **meta_breakdowns(task, problems, rows[headline_form])},
        "failures": failed,
        "missing_modules": missing_modules(failed),
        "infra_errors": sum(s.get("infra_error", 0) for s in statuses.values()),
        "tampered": sum(s.get("tampered", 0) for s in statuses.values()),
        # failures the load may have caused, run again alone, and how many changed verdict
        "judged_again": {"programs": sum(bool(r.get("first_run")) for r in stored.values()),
                         "changed": sum(r["status"] != r["first_run"]["status"]
                                        for r in stored.values() if r.get("first_run"))},
        "per_problem": {f: {task_id: list(nc)
                                for task_id, nc in problem_counts(task, rows[f]).items()}
                        for f in forms},
    }
    extra_metrics, extra_breakdowns = task.extra_metrics(problems, rows[headline_form])
    clash = set(extra_metrics) & set(metrics)
    if clash:   # a benchmark's own estimator must not pass for pass@k
        raise ValueError(f"{task.name}: extra metrics {sorted(clash)} would replace its own")
    summary["metrics"].update(extra_metrics)
    summary["breakdowns"].update(extra_breakdowns)
    if task.metric_scales:
        summary["metric_scales"] = dict(task.metric_scales)
    options = task.describe()
    if options:
        summary["options"] = options
    return summary


def missing_modules(failed: list[dict]) -> dict[str, list[str]]:
    """Problems that failed only because the sandbox lacks a library: module -> problem ids."""
    out: dict[str, list[str]] = defaultdict(list)
    for failure in failed:
        match = MISSING_MODULE.search(failure["message"])
        if match:
            out[match.group(1).split(".")[0]].append(failure["task_id"])
    return dict(sorted(out.items()))


def meta_breakdowns(task, problems: list[Problem], rows: dict[str, list[dict]]) -> dict:
    """The metrics (pass@k for `Task.breakdown_ks`, or the score means) per value of each
    metadata field the task attaches to its problems. A problem whose value is a tuple counts
    once per entry (BigCodeBench's domains: once per library), so a value is weighted as the
    benchmark's analysis weighs it; n_problems counts each once."""
    groups: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for problem in problems:
        if rows[problem.task_id]:
            for field, value in problem.meta.items():
                for one in (value if isinstance(value, tuple) else (value,)):
                    groups[field][one].append(problem.task_id)
    return {field: {value: {"n_problems": len(set(ids)),
                            **({"n_samples": sum(len(rows[i]) for i in ids)}
                               if task.scores else {}),
                            **metrics_for(task, [rows[i] for i in ids], task.breakdown_ks)}
                    for value, ids in sorted(values.items())}
            for field, values in groups.items()}


def failures(problems, results, task, form, n_samples) -> list[dict]:
    """Problems no sample solved, each with its first failing sample's status, message and
    cause (codeeval.failures; the task's `known_failures` name causes established by hand)."""
    out = []
    for problem in problems:
        rows = [results.get((task.name, problem.task_id, i, form)) for i in range(n_samples)]
        if any(r is not None and r["status"] == "passed" for r in rows):
            continue
        first = next((r for r in rows if r is not None and r["status"] != "passed"), None)
        out.append({"task_id": problem.task_id,
                    "status": first["status"] if first else "missing",
                    "message": (first or {}).get("message", "no result stored"),
                    "reason": (failure_reason(first, task.known_failures) if first
                               else "no result stored")})
    return out
