"""Plain-text tables: the results of `codeeval run`/`evaluate`, and the verdicts of
`codeeval gate`."""

from __future__ import annotations

import io
import shutil
import sys

from rich import box
from rich.console import Console
from rich.table import Table


def format_table(header: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,),
                 wrap: tuple[int, ...] = ()) -> list[str]:
    """Header, rule and rows as plain text lines (rich), the `left` columns left-aligned, the
    others (numbers) right-aligned. Only the `wrap` columns (long prose) wrap to a narrow
    terminal; names, headers and numbers never break (the line runs long instead)."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="")
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index in left else "right",
                         no_wrap=index not in wrap, overflow="fold")
    for row in rows:
        table.add_row(*row)
    # plain text: no colours or markup (cells hold brackets); never wrapped when the output
    # goes to a file or a pipe (logs keep one row per line)
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 100_000
    console = Console(file=io.StringIO(), width=width, color_system=None, markup=False,
                      highlight=False, emoji=False)
    # at least as wide as the columns that do not wrap (3: the gap between columns)
    fixed = sum(max(len(r[i]) for r in [header, *rows]) + 3 for i in range(len(header))
                if i not in wrap)
    console.width = max(width, fixed + 20 * len(wrap))
    console.print(table)
    return [line.rstrip() for line in console.file.getvalue().splitlines() if line.strip()]


def results_table(summary: dict) -> str:
    """Per task: counts, the headline metric (the number leaderboards and gates lead with),
    pass@k, failures; then each task's own metrics on one line."""
    tasks = summary["tasks"]
    metric_names = sorted({m for t in tasks.values() for m in t["metrics"] if m.startswith("pass@")},
                          key=lambda m: int(m.split("@")[1]))
    # how answers ended, where the backend said (a model's run; not the reference answers)
    answers = any(t.get("answers") for t in tasks.values())
    header = ["task", "problems", "samples", "headline", *metric_names, "failing",
              "infra errors", *(["tokens/answer", "cut at cap"] if answers else [])]
    rows = []
    for name, t in tasks.items():
        headline = t.get("headline")
        ended = t.get("answers") or {}
        rows.append([name, str(t["n_problems"]), str(t["n_samples"]),
                     f"{headline} {t['metrics'][headline]:.3f}" if headline in t["metrics"]
                     else "-",
                     *(f"{t['metrics'][m]:.3f}" if m in t["metrics"] else "-"
                       for m in metric_names),
                     str(len(t["failures"])), str(t["infra_errors"]),
                     *([f"{ended['mean_tokens']:.0f}" if ended.get("mean_tokens") is not None
                        else "-", str(ended.get("finish_reasons", {}).get("length", "-"))]
                       if answers else [])])
    # The benchmarks' own metrics (ClassEval's class/fun success, ...), one line per task.
    own = [f"{name}: " + ", ".join(f"{m} {v:.3f}" for m, v in t["metrics"].items()
                                   if not m.startswith("pass@"))
           for name, t in tasks.items() if any(not m.startswith("pass@") for m in t["metrics"])]
    return "\n".join([f"model: {summary['model']}   run: {summary['run_id']}",
                      *format_table(header, rows), *own, *time_line(summary.get("timing"))])


PHASES = {"load_model_s": "load model", "ground_truth_s": "ground truth",
          "generate_s": "generate", "execute_s": "execute", "debug_s": "debug rounds"}


def time_line(timing: dict | None) -> list[str]:
    """Where this invocation's time went, e.g. "time: generate 120.3 s (4512 tokens, 37.5
    tokens/s) · execute 40.2 s" (a resumed run counts only what it did)."""
    parts = []
    for key, name in PHASES.items():
        if (timing or {}).get(key) is not None:
            part = f"{name} {timing[key]:.1f} s"
            tokens = timing.get("tokens_generated" if key == "generate_s"
                                else "debug_tokens_generated" if key == "debug_s" else "")
            if tokens and timing[key] > 0:
                part += f" ({tokens} tokens, {tokens / timing[key]:.1f} tokens/s)"
            parts.append(part)
    return ["time: " + " · ".join(parts)] if parts else []


def gate_table(report) -> str:
    """The gate's verdict per (task, metric), then what differs and the overall outcome."""
    header = ["task", "metric", "problems", "baseline", "current", "delta", "p", "verdict",
              "why"]
    rows = [[c.task, c.metric, "-" if c.n_problems is None else str(c.n_problems),
             f"{c.baseline:.3f}", f"{c.current:.3f}", f"{c.delta:+.3f}",
             "-" if c.p_value is None else f"{c.p_value:.2g}", c.verdict, c.reason]
            for c in report.comparisons]
    s = report.settings
    lines = [f"baseline: {report.baseline.label} ({report.baseline.run_id})   "
             f"current: {report.current.label} ({report.current.run_id})",
             f"max drop {s.max_drop:g}, alpha {s.alpha:g}",
             *format_table(header, rows, left=(0, 1, 7, 8), wrap=(8,))]
    lines += [f"{c.task} {c.metric}: {c.changed()}" for c in report.comparisons if c.changed()]
    lines += [f"config drift (allowed): {d}" for d in report.drift]
    lines.append(gate_outcome(report))
    return "\n".join(lines)


def gate_outcome(report) -> str:
    if report.regressions:
        names = ", ".join(f"{c.task} {c.metric} ({c.reason})" for c in report.regressions)
        return f"gate: FAIL, {len(report.regressions)} regression(s): {names}"
    improved = sum(c.verdict == "improvement" for c in report.comparisons)
    return f"gate: pass ({len(report.comparisons)} compared, {improved} improved)"
