"""From stored results to a task's summary: pass@k, breakdowns, failures.

Infra errors (the sandbox broke, not the program) are excluded from n. `per_problem` keeps
each problem's (n, c) per form, so that a summary.json alone is enough for a paired
comparison of two runs (`codeeval gate` against a committed baseline). With
`--sanitize both`, each metric is the higher of the raw and the sanitized value, as the
CodeEval-Pro paper reports; `metric_forms` says which form gave each.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from codeeval.failures import MISSING_MODULE, failure_reason
from codeeval.passk import mean_pass_at_k
from codeeval.records import Problem


def count_passes(problems: list[Problem], results: dict[tuple, dict], task: str,
                 form: str, n_samples: int) -> dict[str, tuple[int, int]]:
    """(n, c) per problem id, infra errors left out of n."""
    counts = {}
    for problem in problems:
        rows = [results.get((task, problem.task_id, i, form)) for i in range(n_samples)]
        rows = [r for r in rows if r is not None and r["status"] != "infra_error"]
        counts[problem.task_id] = (len(rows), sum(r["status"] == "passed" for r in rows))
    return counts


def metrics_for(counts: dict[str, tuple[int, int]], ks: tuple[int, ...]) -> dict[str, float]:
    scored = [nc for nc in counts.values() if nc[0] > 0]
    if not scored:
        return {}
    smallest_n = min(n for n, _ in scored)
    return {f"pass@{k}": round(mean_pass_at_k(scored, k), 6) for k in ks if k <= smallest_n}


def summarize_task(task, problems: list[Problem], results: dict[tuple, dict],
                   forms: list[str], n_samples: int) -> dict:
    counts = {f: count_passes(problems, results, task.name, f, n_samples) for f in forms}
    by_form = {f: metrics_for(counts[f], task.ks) for f in forms}
    metrics, metric_forms = {}, {}
    for name in by_form[forms[0]]:
        best = max(forms, key=lambda f: (by_form[f].get(name, -1.0), -forms.index(f)))
        metrics[name], metric_forms[name] = by_form[best][name], best
    headline_form = metric_forms.get("pass@1", forms[0])

    rows = [r for r in results.values() if r["task"] == task.name]
    statuses = {f: dict(Counter(r["status"] for r in rows if r["form"] == f)) for f in forms}
    summary = {
        "n_problems": len(problems),
        "n_samples": n_samples * len(problems),
        "metrics": metrics,
        "metric_forms": metric_forms,
        "metrics_by_form": by_form,
        "breakdowns": {"status": statuses, **meta_breakdowns(problems, counts[headline_form])},
        "failures": failures(problems, results, task, headline_form, n_samples,
                             counts[headline_form]),
        "infra_errors": sum(s.get("infra_error", 0) for s in statuses.values()),
        "per_problem": {f: {task_id: list(nc) for task_id, nc in counts[f].items()}
                        for f in forms},
    }
    summary["missing_modules"] = missing_modules(summary["failures"])
    extra_metrics, extra_breakdowns = task.extra_metrics(problems, results, headline_form,
                                                         n_samples)
    summary["metrics"].update(extra_metrics)
    summary["breakdowns"].update(extra_breakdowns)
    return summary


def missing_modules(failed: list[dict]) -> dict[str, list[str]]:
    """Problems that failed only because the sandbox lacks a library: module -> problem ids."""
    out: dict[str, list[str]] = defaultdict(list)
    for failure in failed:
        match = MISSING_MODULE.search(failure["message"])
        if match:
            out[match.group(1).split(".")[0]].append(failure["task_id"])
    return dict(sorted(out.items()))


def meta_breakdowns(problems: list[Problem], counts: dict[str, tuple[int, int]]) -> dict:
    """pass@1 per value of each metadata field the task attaches to its problems. A problem
    whose value is a tuple counts once per entry (BigCodeBench's domains: once per library),
    so pass@1 is weighted as the benchmark's analysis weighs it; n_problems counts each once."""
    groups: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for problem in problems:
        if counts[problem.task_id][0] > 0:
            for field, value in problem.meta.items():
                for one in (value if isinstance(value, tuple) else (value,)):
                    groups[field][one].append(problem.task_id)
    return {field: {value: {"n_problems": len(set(ids)),
                            "pass@1": round(mean_pass_at_k([counts[i] for i in ids], 1), 6)}
                    for value, ids in sorted(values.items())}
            for field, values in groups.items()}


def failures(problems, results, task, form, n_samples, counts) -> list[dict]:
    """Problems no sample solved, each with its first failing sample's status, message and
    cause (codeeval.failures; the task's `known_failures` name causes established by hand)."""
    out = []
    for problem in problems:
        n, c = counts[problem.task_id]
        if c > 0:
            continue
        rows = [results.get((task.name, problem.task_id, i, form)) for i in range(n_samples)]
        first = next((r for r in rows if r is not None and r["status"] != "passed"), None)
        out.append({"task_id": problem.task_id,
                    "status": first["status"] if first else "missing",
                    "message": (first or {}).get("message", "no result stored"),
                    "reason": (failure_reason(first, task.known_failures) if first
                               else "no result stored")})
    return out


def summary_without_sandbox(problems: list[Problem], n_samples: int, metrics: dict,
                            breakdowns: dict, **extra) -> dict:
    """A task summary in the same schema as `summarize_task`, for tasks scored without a
    sandbox (similarity or judge): one form (raw), no failures, no infra errors."""
    return {
        "n_problems": len(problems),
        "n_samples": n_samples,
        "metrics": metrics,
        "metric_forms": {name: "raw" for name in metrics},
        "metrics_by_form": {"raw": metrics},
        "breakdowns": breakdowns,
        "failures": [],
        "missing_modules": {},
        "infra_errors": 0,
        **extra,
    }
