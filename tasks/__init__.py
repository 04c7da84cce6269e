"""Benchmark adapters and their explicit registry."""

from __future__ import annotations

from codeeval.errors import UserError
from codeeval.tasks.base import Task
from codeeval.tasks.classeval import ClassEval
from codeeval.tasks.codeeval_pro import BigCodeBenchLitePro, HumanEvalPro, MBPPPro

TASKS: dict[str, type[Task]] = {
    task.name: task for task in (HumanEvalPro, MBPPPro, BigCodeBenchLitePro, ClassEval)
}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]()
    except KeyError:
        raise UserError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)} "
                        "(see `codeeval tasks`)") from None


def parse_task_list(spec: str) -> list[Task]:
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise UserError("--tasks is empty; name at least one task (see `codeeval tasks`)")
    if len(set(names)) != len(names):
        raise UserError(f"--tasks names a task twice: {spec}")
    return [get_task(n) for n in names]
