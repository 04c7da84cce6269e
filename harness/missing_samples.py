"""Samples missing from a problem: failures, so that every problem keeps its task's n.

A samples file may hold fewer samples for some problems than for the others: CoderEval's
official result files have 9 for one task, whose tenth the authors' runner dropped after a
timeout, and the authors still divide by 10. pass@k needs one n for every k (a problem with
n = 9 would drop pass@10), so each missing sample counts as a failed one, as the authors count
it, and one warning line says how many were missing.
"""

from __future__ import annotations

import sys

from codeeval.execution import result_row
from codeeval.records import Execution

MESSAGE = "missing sample: counted as a failure"


def count_missing_as_failures(results: dict[tuple, dict], tasks, problems: dict,
                              samples: dict[tuple, dict], forms: list[str]) -> None:
    """Add a failed result to `results` for each missing sample of each task's problems, n
    being the task's largest number of samples for one problem."""
    for task in tasks:
        n = 1 + max((i for name, _, i in samples if name == task.name), default=-1)
        missing = [(problem.task_id, i) for problem in problems[task.name] for i in range(n)
                   if (task.name, problem.task_id, i) not in samples]
        for task_id, i in missing:
            for form in forms:
                key = (task.name, task_id, i, form)
                results[key] = result_row(key, "", Execution("", "failed", MESSAGE))
        if missing:
            short = len({task_id for task_id, _ in missing})
            print(f"warning: {task.name}: {short} of {len(problems[task.name])} problems have "
                  f"fewer than {n} samples ({len(missing)} missing); each missing sample "
                  "counts as a failure", file=sys.stderr)
