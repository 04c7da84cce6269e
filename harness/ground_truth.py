"""The ground-truth check (`--check-ground-truth`): run every problem's canonical solution,
as the benchmark's own check runs it, before any sample is scored.

BigCodeBench's evaluator does this first: it reports the ground-truth pass rate and the failing
tasks, and the passing runtimes raise the per-task time limits. Here the results are stored in
the run store (form `ground_truth`, so a resumed run does not repeat them), handed to each task
(`Task.use_ground_truth`), and summarised per task with the cause of each failure; the summary
marks the problems whose ground truth failed.
"""

from __future__ import annotations

from codeeval.failures import failure_reason
from codeeval.records import Problem

FORM = "ground_truth"


def check_ground_truth(tasks, problems: dict[str, list[Problem]], service) -> dict:
    """Run (through the ExecutionService) the ground truths the run store lacks, then give
    each task its runtimes. Returns {task: {task_id: result row}}."""
    jobs = [((task.name, problem.task_id, 0, FORM), program)
            for task in tasks for problem in problems[task.name]
            if (program := task.ground_truth_program(problem)) is not None]
    results = service.run(jobs, desc="ground truth")
    rows = {}
    for task in tasks:
        rows[task.name] = {p.task_id: results[(task.name, p.task_id, 0, FORM)]
                           for p in problems[task.name]
                           if (task.name, p.task_id, 0, FORM) in results}
        task.use_ground_truth({task_id: row["duration_s"] if row["status"] == "passed" else None
                               for task_id, row in rows[task.name].items()})
    return rows


def ground_truth_summary(task, rows: dict[str, dict]) -> dict | None:
    """Pass rate and the failing problems, each with its cause; None without a check."""
    if not rows:
        return None
    failed = [{"task_id": task_id, "status": row["status"],
               "reason": failure_reason(row, task.known_failures),
               "message": row.get("message", "")}
              for task_id, row in rows.items() if row["status"] != "passed"]
    passed = len(rows) - len(failed)
    return {"n_problems": len(rows), "n_passed": passed,
            "pass_rate": round(passed / len(rows), 6), "failures": failed}


def mark_failures(task_summary: dict, ground_truth: dict) -> None:
    """Flag each failed problem whose ground truth failed too."""
    broken = {f["task_id"] for f in ground_truth["failures"]}
    for failure in task_summary["failures"]:
        failure["ground_truth_failed"] = failure["task_id"] in broken
