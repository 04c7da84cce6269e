"""The ground-truth check (`--check-ground-truth`): run every problem's canonical solution,
as the benchmark's own check runs it, before any sample is scored.

BigCodeBench's evaluator does this first: it reports the ground-truth pass rate and the failing
tasks, and the passing runtimes raise the per-task time limits. Here the results are stored in
the run store (form `ground_truth`, so a resumed run does not repeat them), each passing
runtime goes with its problem (`Problem.ground_truth_s`) to the tasks that assemble programs,
and they are summarised per task with the cause of each failure; the summary marks the problems
whose ground truth failed.
"""

from __future__ import annotations

import dataclasses

from codeeval.failures import failure_reason
from codeeval.records import Problem

FORM = "ground_truth"


def check_ground_truth(tasks, problems: dict[str, list[Problem]], service,
                       samples_of=lambda unchecked: []) -> dict:
    """Run (through the ExecutionService) the ground truths the run store lacks. Returns
    {task: {task_id: result row}}. The samples of the tasks without a ground truth
    (`samples_of(those tasks)`: jobs) run in the same queue: they fill the cores that the
    check's long programs leave idle; the other tasks' samples wait for its runtimes."""
    jobs = [((task.name, problem.task_id, 0, FORM), program)
            for task in tasks for problem in problems[task.name]
            if (program := task.ground_truth_program(problem)) is not None]
    checked = {key[0] for key, _ in jobs}
    alongside = samples_of([t for t in tasks if t.name not in checked])
    results = service.run(jobs + alongside, desc="ground truth" + (
        " and the other tasks' samples" if alongside else ""))
    rows = {}
    for task in tasks:
        rows[task.name] = {p.task_id: results[(task.name, p.task_id, 0, FORM)]
                           for p in problems[task.name]
                           if (task.name, p.task_id, 0, FORM) in results}
    return rows


def timed(problems: dict[str, list[Problem]], rows: dict) -> dict[str, list[Problem]]:
    """The problems, each with the runtime of its ground truth where that passed."""
    def with_runtime(task: str, problem: Problem) -> Problem:
        row = rows.get(task, {}).get(problem.task_id)
        if row is None or row["status"] != "passed":
            return problem
        return dataclasses.replace(problem, ground_truth_s=row["duration_s"])
    return {task: [with_runtime(task, p) for p in chosen] for task, chosen in problems.items()}


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
