"""Markdown for `codeeval gate --markdown`: a pull-request comment with the verdicts."""

from __future__ import annotations

from codeeval.reports.terminal import gate_outcome

ICONS = {"regression": "❌ regression", "improvement": "✅ improvement", "pass": "pass"}


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def gate_markdown(report) -> str:
    s = report.settings
    lines = [f"### codeeval gate: {'FAIL' if report.regressions else 'pass'}", "",
             f"Baseline `{cell(report.baseline.run_id)}` ({cell(report.baseline.label)}) vs "
             f"current `{cell(report.current.run_id)}` ({cell(report.current.label)}); "
             f"max drop {s.max_drop:g}, alpha {s.alpha:g}, paired test over problems.", "",
             "| task | metric | problems | baseline | current | Δ | p | verdict | why |",
             "|---|---|---:|---:|---:|---:|---:|---|---|"]
    for c in report.comparisons:
        lines.append(
            f"| {cell(c.task)} | {c.metric} | {'-' if c.n_problems is None else c.n_problems} "
            f"| {c.baseline:.3f} | {c.current:.3f} | {c.delta:+.3f} "
            f"| {'-' if c.p_value is None else f'{c.p_value:.2g}'} | {ICONS[c.verdict]} "
            f"| {cell(c.reason)} |")
    changed = [c for c in report.comparisons if c.changed()]
    if changed:
        lines += ["", "Problems that changed:", "",
                  *(f"- {cell(c.task)} {c.metric}: {cell(c.changed())}" for c in changed)]
    if report.drift:
        lines += ["", "Config drift (allowed with `--allow-config-drift`):", "",
                  *(f"- {cell(d)}" for d in report.drift)]
    lines += ["", gate_outcome(report), ""]
    return "\n".join(lines)
