"""The results table printed at the end of `codeeval run` and `codeeval evaluate`."""

from __future__ import annotations


def results_table(summary: dict) -> str:
    tasks = summary["tasks"]
    metric_names = sorted({m for t in tasks.values() for m in t["metrics"] if m.startswith("pass@")},
                          key=lambda m: int(m.split("@")[1]))
    header = ["task", "problems", "samples", *metric_names, "failing", "infra errors"]
    rows = []
    for name, t in tasks.items():
        rows.append([name, str(t["n_problems"]), str(t["n_samples"]),
                     *(f"{t['metrics'][m]:.3f}" if m in t["metrics"] else "-"
                       for m in metric_names),
                     str(len(t["failures"])), str(t["infra_errors"])])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "  ".join("-" * w for w in widths)
    # The benchmarks' own metrics (ClassEval's class/fun success, ...), one line per task.
    own = [f"{name}: " + ", ".join(f"{m} {v:.3f}" for m, v in t["metrics"].items()
                                   if not m.startswith("pass@"))
           for name, t in tasks.items() if any(not m.startswith("pass@") for m in t["metrics"])]
    return "\n".join([f"model: {summary['model']}   run: {summary['run_id']}", line(header),
                      rule, *map(line, rows), *own])
