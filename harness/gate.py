"""`codeeval gate`: is the current run worse than a baseline, beyond noise?

For each task both runs scored and each metric both report, the runs are paired problem by
problem (each problem's pass@k from its own n and c) and the mean difference is tested with
a paired sign-flip permutation test (exact McNemar for greedy pass@1). The verdict is a
regression when the drop exceeds `max_drop` AND the test rejects at `alpha`; an improvement
likewise; a pass otherwise. A metric without per-problem values (neither a pass@k nor a
value-scored task's headline) cannot be tested, so only the tolerance judges it.

Runs are compared only when they measured the same thing: the same dataset files, prompt
variant and template versions, sampling (seed aside: a new seed is a new draw of the same
experiment), scored form and problems. Otherwise the gate refuses unless drift is allowed,
and then says what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codeeval.errors import UserError
from codeeval.rundata import PASS_AT, Run, problem_order
from codeeval.stats import paired_permutation_test

SAMPLING_KEYS = ("n_samples", "temperature", "top_p", "max_new_tokens")
EPS = 1e-12


@dataclass(frozen=True)
class GateSettings:
    max_drop: float = 0.02
    alpha: float = 0.05
    allow_config_drift: bool = False


@dataclass(frozen=True)
class Comparison:
    task: str
    metric: str
    baseline: float
    current: float
    n_problems: int | None     # problems paired; None when the metric has no per-problem data
    p_value: float | None
    verdict: str               # pass | regression | improvement
    reason: str
    worse: tuple[str, ...] = ()    # problems whose value dropped (for greedy pass@1: pass -> fail)
    better: tuple[str, ...] = ()   # and rose

    @property
    def delta(self) -> float:
        return self.current - self.baseline

    def changed(self, shown: int = 10) -> str:
        """The problems that changed, e.g. "worse on 2: 12, 40; better on 1: 5" ("" if none)."""
        parts = []
        for name, ids in (("worse", self.worse), ("better", self.better)):
            if ids:
                more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
                parts.append(f"{name} on {len(ids)}: {', '.join(ids[:shown])}{more}")
        return "; ".join(parts)


@dataclass
class GateReport:
    current: Run
    baseline: Run
    settings: GateSettings
    comparisons: list[Comparison]
    drift: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.verdict == "regression"]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0


def run_gate(current: Run, baseline: Run, settings: GateSettings) -> GateReport:
    drift = config_drift(current, baseline)
    if drift and not settings.allow_config_drift:
        raise UserError("the runs are not comparable: " + "; ".join(drift)
                        + " (use --allow-config-drift to compare them anyway)")
    comparisons = []
    for task in [t for t in baseline.tasks if t in current.tasks]:
        current_metrics = current.tasks[task].get("metrics") or {}
        for metric in baseline.tasks[task].get("metrics") or {}:
            if metric in current_metrics:
                comparisons.append(compare_metric(current, baseline, task, metric, settings))
    if not comparisons:
        raise UserError(f"{current.path} and {baseline.path} share no (task, metric) to compare")
    return GateReport(current, baseline, settings, comparisons, drift)


def compare_metric(current: Run, baseline: Run, task: str, metric: str,
                   settings: GateSettings) -> Comparison:
    base_values = per_problem_or_fail(baseline, task, metric)
    cur_values = per_problem_or_fail(current, task, metric)
    if base_values is None or cur_values is None:
        base = float(baseline.tasks[task]["metrics"][metric])
        cur = float(current.tasks[task]["metrics"][metric])
        verdict, reason = decide(cur - base, None, settings, scale(baseline, task, metric))
        return Comparison(task, metric, base, cur, None, None, verdict, reason)
    paired = sorted(set(base_values) & set(cur_values), key=problem_order)
    if not paired:
        raise UserError(f"{task}: the two runs share no scored problem for {metric}")
    base = [base_values[p] for p in paired]
    cur = [cur_values[p] for p in paired]
    p_value = paired_permutation_test(base, cur)
    base_mean, cur_mean = sum(base) / len(base), sum(cur) / len(cur)
    verdict, reason = decide(cur_mean - base_mean, p_value, settings,
                             scale(baseline, task, metric))
    worse = tuple(p for p, b, c in zip(paired, base, cur) if c < b - EPS)
    better = tuple(p for p, b, c in zip(paired, base, cur) if c > b + EPS)
    return Comparison(task, metric, base_mean, cur_mean, len(paired), p_value, verdict, reason,
                      worse, better)


def per_problem_or_fail(run: Run, task: str, metric: str) -> dict[str, float] | None:
    """The metric's per-problem values (None: it has none, e.g. a benchmark's own metric)."""
    values = run.per_problem(task, metric)
    if values is None and PASS_AT.fullmatch(metric):
        raise UserError(f"{run.path}: {task} has no per-problem pass counts (a summary.json "
                        "from before `per_problem` was recorded); give the run-store folder")
    return values


def scale(run: Run, task: str, metric: str) -> float:
    """The metric's full scale (1 for fractions; a task's `metric_scales` otherwise)."""
    return float((run.tasks[task].get("metric_scales") or {}).get(metric, 1.0))


def decide(delta: float, p_value: float | None, s: GateSettings,
           scale: float = 1.0) -> tuple[str, str]:
    """Verdict and its reason. The tolerance is `max_drop` of the metric's scale. Without a
    p-value (no per-problem data) only the tolerance decides, the cautious choice for a gate."""
    tolerance = s.max_drop * scale
    significant = p_value is None or p_value < s.alpha
    evidence = ("no per-problem values: tolerance only" if p_value is None
                else f"p={p_value:.2g} {'<' if significant else '>='} {s.alpha:g}")
    if delta < -tolerance - EPS * scale:
        if significant:
            return "regression", f"dropped {-delta:.3f} > {tolerance:g}, {evidence}"
        return "pass", f"dropped {-delta:.3f} but within noise, {evidence}"
    if delta > tolerance + EPS * scale:
        if significant:
            return "improvement", f"rose {delta:.3f} > {tolerance:g}, {evidence}"
        return "pass", f"rose {delta:.3f} but within noise, {evidence}"
    return "pass", f"change {delta:+.3f} within the tolerance of {tolerance:g}"


def config_drift(current: Run, baseline: Run) -> list[str]:
    """What differs between the runs' configs, one phrase each; empty when comparable."""
    drift = []
    only_base = sorted(set(baseline.tasks) - set(current.tasks))
    only_cur = sorted(set(current.tasks) - set(baseline.tasks))
    if only_base:
        drift.append(f"tasks only in the baseline: {', '.join(only_base)}")
    if only_cur:
        drift.append(f"tasks only in the current run: {', '.join(only_cur)}")
    base_data, cur_data = datasets(baseline), datasets(current)
    for name in sorted(set(base_data) & set(cur_data)):
        if base_data[name] != cur_data[name]:
            drift.append(f"dataset {name}: {base_data[name][:12]} (baseline) vs "
                         f"{cur_data[name][:12]} (current)")
    pairs = [("sanitize", baseline.config.get("sanitize"), current.config.get("sanitize"))]
    base_gen = baseline.provenance.get("generation") or {}
    cur_gen = current.provenance.get("generation") or {}
    pairs += [(key, base_gen.get(key), cur_gen.get(key)) for key in SAMPLING_KEYS]
    base_prompts = baseline.provenance.get("prompt_template_versions") or {}
    cur_prompts = current.provenance.get("prompt_template_versions") or {}
    common = [t for t in baseline.tasks if t in current.tasks]
    pairs += [(f"{t} prompt template version", base_prompts.get(t), cur_prompts.get(t))
              for t in common]
    drift += [f"{name}: {base!r} (baseline) vs {cur!r} (current)"
              for name, base, cur in pairs if base is not None and cur is not None and base != cur]
    base_options = baseline.config.get("task_options") or {}
    cur_options = current.config.get("task_options") or {}
    drift += [f"-T {key}: {base_options.get(key, 'the default')!r} (baseline) vs "
              f"{cur_options.get(key, 'the default')!r} (current)"
              for key in sorted(set(base_options) | set(cur_options))
              if key.split(".")[0] in common and base_options.get(key) != cur_options.get(key)]
    for task in common:
        base_ids, cur_ids = problem_ids(baseline, task), problem_ids(current, task)
        if base_ids is not None and cur_ids is not None and base_ids != cur_ids:
            drift.append(f"{task} problems: {len(base_ids - cur_ids)} only in the baseline, "
                         f"{len(cur_ids - base_ids)} only in the current run")
    return drift


def datasets(run: Run) -> dict[str, str]:
    return run.provenance.get("datasets") or run.config.get("datasets") or {}


def problem_ids(run: Run, task: str) -> set[str] | None:
    headline = run.headline(task) or "pass@1"
    counts = run.counts(task, run.metric_form(task, headline))
    return None if counts is None else set(counts)
