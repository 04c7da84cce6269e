"""`codeeval report`: one self-contained HTML leaderboard from run stores.

The page needs no network: styles and the little script that sorts tables and filters
problems are inlined, charts are inline SVG. Sections: the models x benchmarks table
(headline metric, 95% bootstrap interval over problems, sample counts, provenance on hover
and in a details list), then per benchmark its metrics, pass@k curves, the breakdowns its
summaries carry, and the per-problem drill-down. A benchmark a run lacks is an empty cell.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import jinja2

from codeeval import __version__
from codeeval.errors import UserError
from codeeval.passk import mean_pass_at_k
from codeeval.reports.charts import color, curve_ks, passk_chart
from codeeval.reports.drilldown import problem_views
from codeeval.reports.entries import ModelEntry, model_entries
from codeeval.rundata import PASS_AT, Run, find_runs
from codeeval.stats import bootstrap_ci

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Cell:
    metric: str
    value: float
    ci: tuple[float, float] | None
    n_samples: int | None
    n_problems: int | None
    partial: str | None = None     # the run behind it covers part of the benchmark


def write_leaderboard(paths: list[Path], output: Path, *, max_failing_samples: int = 3
                      ) -> tuple[Path, float]:
    """Render RUNS into `output`; returns the path and the seconds it took."""
    start = time.perf_counter()
    html = render(find_runs(paths), max_failing_samples=max_failing_samples)
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}") from None
    return output, time.perf_counter() - start


def render(runs: list[Run], *, max_failing_samples: int = 3) -> str:
    """The page over RUNS, one row per model and configuration (`entries`)."""
    entries = model_entries(runs)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["num"] = number
    env.filters["short"] = short_label
    colors = [color(i) for i in range(len(entries))]
    tasks = list(dict.fromkeys(t for entry in entries for t in entry.tasks))
    views = [task_view(task, entries, colors, max_failing_samples) for task in tasks]
    table = headline_table(entries, views)
    return env.get_template("leaderboard.html.j2").render(
        generated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        version=__version__, n_runs=len(runs),
        runs=[run_view(entry, c) for entry, c in zip(entries, colors)],
        tasks=views, table_json=json.dumps(table, indent=1), table_csv=table_csv(table))


def headline_table(entries: list[ModelEntry], views: list[dict]) -> list[dict]:
    """The main table as data, one row per (entry, task) it scored, from the task views'
    cells (their intervals are bootstrapped once): for the page's downloads."""
    rows = []
    for index, entry in enumerate(entries):
        for view in views:
            cell = view["cells"][index]
            if cell is not None:
                rows.append({"model": entry.label,
                             "run_id": entry.run_for(view["name"]).run_id, "task": view["name"],
                             "metric": cell.metric, "value": cell.value,
                             "ci_low": cell.ci[0] if cell.ci else None,
                             "ci_high": cell.ci[1] if cell.ci else None,
                             "n_problems": cell.n_problems, "n_samples": cell.n_samples,
                             "partial": cell.partial})
    return rows


def table_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["model"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def number(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def short_label(label: str, limit: int) -> str:
    """A label cut to `limit` characters keeping its end, where labels of one model differ:
    "hf:smollm2-135m-instruct (temperature=0.8)" -> "hf:smoll…(temperature=0.8)"."""
    if len(label) <= limit:
        return label
    tail = label[label.rfind(" ("):] if " (" in label else label[-(limit // 2):]
    tail = tail.strip()[-(limit - 4):]
    return label[:limit - len(tail) - 1] + "…" + tail


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def run_view(entry: ModelEntry, colour: str) -> dict:
    """An entry's row header and provenance (that of its latest run, and the list of runs)."""
    run = entry.latest
    prov, config = run.provenance, run.config
    gen = prov.get("generation") or config.get("generation") or {}
    datasets = prov.get("datasets") or config.get("datasets") or {}
    prompts = prov.get("prompt_template_versions") or {}
    backend = prov.get("backend") or {}
    rows = [
        ("run id", run.run_id),
        ("model", run.model),
        ("backend", ", ".join(f"{k}={v}" for k, v in backend.items()) or "?"),
        ("datasets", "; ".join(f"{name} sha256 {sha[:12]}" for name, sha in datasets.items())
         or "?"),
        ("task options", (", ".join(f"{k}={v}" for k, v in
                                    (config.get("task_options") or {}).items()) or "defaults")
                          + " (prompt template versions: "
                          + (", ".join(f"{t} v{v}" for t, v in prompts.items()) or "?") + ")"),
        ("sampling", ", ".join(f"{k}={v}" for k, v in gen.items()) or "?"),
        ("scored form", str(config.get("sanitize", "?"))),
        ("date", str(prov.get("finished", "?"))),
        ("codeeval", f"{prov.get('codeeval_version', '?')} (commit "
                     f"{str(prov.get('git_commit') or '?')[:12]})"),
        ("sandbox", ", ".join(f"{k}={v}" for k, v in (prov.get("sandbox") or {}).items())
         or "?"),
        ("source", str(run.path)),
    ]
    if len(entry.runs) > 1:   # which run each benchmark's figures come from
        shown = {r.run_id: [t for t in r.tasks if entry.run_for(t) is r] for r in entry.runs}
        rows.append(("runs", "; ".join(f"{run_id}: {', '.join(tasks) or 'nothing shown'}"
                                       for run_id, tasks in shown.items())))
    return {"label": entry.label, "run_id": entry.run_id, "color": colour, "provenance": rows,
            "tooltip": "\n".join(f"{k}: {v}" for k, v in rows if k != "source")}


def headline_cell(entry: ModelEntry, task: str) -> Cell | None:
    if task not in entry.tasks:
        return None
    summary = entry.tasks[task]
    metric = entry.headline(task)
    if metric is None:
        return None
    values = entry.per_problem(task, metric)
    ci = bootstrap_ci(list(values.values())) if values else None
    return Cell(metric, float(summary["metrics"][metric]), ci, summary.get("n_samples"),
                summary.get("n_problems"), entry.partial(task))


def task_view(task: str, runs: list[ModelEntry], colors: list[str], max_failing: int) -> dict:
    having = [(run, c) for run, c in zip(runs, colors) if task in run.tasks]
    metrics = sorted({m for run, _ in having for m in run.tasks[task].get("metrics") or {}},
                     key=metric_order)
    headlines = [run.headline(task) for run, _ in having]
    return {
        "name": task,
        "id": slug(task),
        "headline": max(dict.fromkeys(headlines), key=headlines.count) if headlines else None,
        "cells": [headline_cell(run, task) for run in runs],
        "metrics": metrics,
        "metric_rows": [(run.label, c, run.tasks[task].get("metrics") or {})
                        for run, c in having],
        "chart": passk_chart([(run.label, c, curve(run, task)) for run, c in having]),
        "breakdowns": breakdown_tables(task, having),
        "notes": task_notes(task, having),
        "problems": (problems := problem_views(task, [r for r, _ in having],
                                               [c for _, c in having], max_failing)),
        "hardness": hardness(problems, len(having)),
        "runs": [run.label for run, _ in having],
        "colors": [c for _, c in having],
    }


def hardness(problems, models: int) -> str:
    """One line on how the problems split across the models that ran the task (two or
    more; pass@k tasks)."""
    rated = [p for p in problems if p.solve_rate is not None]
    if models < 2 or not rated:
        return ""
    counts = [tuple(map(int, p.solved_by.split(" of "))) for p in rated]   # (solved, ran)
    nobody = sum(solved == 0 for solved, _ in counts)
    everybody = sum(solved == ran == models for solved, ran in counts)
    some = sum(ran < models for _, ran in counts)
    return (f"Across the {models} models that ran it: {nobody} of {len(rated)} problems solved "
            f"by none, {everybody} by all {models}"
            + (f"; {some} problems were run by only some of them" if some else "")
            + ". \"Solved by\" counts the models with a passing sample, of those that ran it.")


def metric_order(metric: str) -> tuple:
    match = PASS_AT.fullmatch(metric)
    return (0, int(match.group(1)), "") if match else (1, 0, metric)


def curve(run: ModelEntry, task: str) -> list[tuple[int, float]]:
    """Mean pass@k over problems for k = 1..n, n the fewest samples any problem has."""
    if run.value_score(task) is not None:
        return []   # no pass@k to draw
    counts = run.counts(task, run.metric_form(task, "pass@1"))
    scored = [nc for nc in (counts or {}).values() if nc[0] > 0]
    if not scored:
        return []
    return [(k, mean_pass_at_k(scored, k)) for k in curve_ks(min(n for n, _ in scored))]


def breakdown_tables(task: str, having: list[tuple[ModelEntry, str]]) -> list[dict]:
    """One table per breakdown any run has: rows (breakdown value, run), columns the leaf
    keys, whatever the nesting (status counts per form, pass@1 per level, ...)."""
    sources = []
    for run, colour in having:
        summary = run.tasks[task]
        breakdowns = dict(summary.get("breakdowns") or {})
        if summary.get("missing_modules"):
            breakdowns["missing modules"] = {module: {"problems": len(ids)} for module, ids
                                             in summary["missing_modules"].items()}
        sources.append((run.label, colour, breakdowns))
    names = list(dict.fromkeys(name for _, _, b in sources for name in b))
    tables = []
    for name in names:
        flat = [(label, colour, flatten(b[name])) for label, colour, b in sources if name in b]
        columns = list(dict.fromkeys(col for _, _, rows in flat for cols in rows.values()
                                     for col in cols))
        groups = []
        for row in dict.fromkeys(r for _, _, rows in flat for r in rows):
            groups.append((row, [(label, colour, [rows[row].get(col, "") for col in columns])
                                 for label, colour, rows in flat if row in rows]))
        tables.append({"name": name, "columns": columns, "groups": groups})
    return tables


def flatten(value, path: tuple[str, ...] = ()) -> dict[str, dict[str, object]]:
    """Nested dicts -> {row label: {column: leaf}}; a row is a dict of leaves, its label
    the keys above it. Lists count their items."""
    if not isinstance(value, dict):
        return {" / ".join(path) or "value": {"value": leaf(value)}}
    rows: dict[str, dict[str, object]] = {}
    leaves = {str(k): leaf(v) for k, v in value.items() if not isinstance(v, dict)}
    if leaves:
        rows[" / ".join(path) or "all"] = leaves
    for key, sub in value.items():
        if isinstance(sub, dict):
            rows.update(flatten(sub, (*path, str(key))))
    return rows


def leaf(value):
    return len(value) if isinstance(value, (list, tuple)) else value


def task_notes(task: str, having: list[tuple[ModelEntry, str]]) -> list[str]:
    notes = []
    for run, _ in having:
        summary = run.tasks[task]
        others = run.others(task)
        if others:
            notes.append(f"{run.label}: shown from run {run.run_for(task).run_id} (the most "
                         f"problems and samples, then the latest); also run in "
                         f"{', '.join(r.run_id for r in others)}")
        if summary.get("infra_errors"):
            notes.append(f"{run.label}: {summary['infra_errors']} programs hit sandbox "
                         "infrastructure errors; they count as failures (a lower bound)")
        if summary.get("tampered"):
            notes.append(f"{run.label}: {summary['tampered']} programs tampered with the test "
                         "harness; they count as failures")
        if run.run_for(task).folder is None:
            notes.append(f"{run.label}: summary only (no results.jsonl), so no failing "
                         "samples to show")
    return notes
