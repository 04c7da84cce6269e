"""Benchmark adapters and their explicit registry."""

from __future__ import annotations

from codeeval.errors import UserError
from codeeval.tasks.base import Task
from codeeval.tasks.bigcodebench import BigCodeBench
from codeeval.tasks.classeval import ClassEval
from codeeval.tasks.codeeval_pro import BigCodeBenchLitePro, HumanEvalPro, MBPPPro
from codeeval.tasks.codeif import CodeIF
from codeeval.tasks.codereval import CoderEval
from codeeval.tasks.javabench import JavaBench
from codeeval.tasks.multicodebench import MultiCodeBench

TASKS: dict[str, type[Task]] = {
    task.name: task
    for task in (HumanEvalPro, MBPPPro, BigCodeBenchLitePro, BigCodeBench, ClassEval,
                 MultiCodeBench, CodeIF, JavaBench, CoderEval)
}


def get_task(name: str, options: dict[str, str] | None = None) -> Task:
    """The task `name`, given the task options (e.g. `domain`) it takes among `options`."""
    try:
        task = TASKS[name]
    except KeyError:
        raise UserError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)} "
                        "(see `codeeval tasks`)") from None
    return task(**{k: v for k, v in (options or {}).items() if k in task.option_names})


def check_options(tasks: list[Task], options: dict[str, str]) -> None:
    """Every task option given must belong to some task of the run."""
    for option in options:
        owners = [name for name, task in TASKS.items() if option in task.option_names]
        if not any(option in task.option_names for task in tasks):
            raise UserError(f"--{option} applies to {', '.join(owners)} only, which --tasks "
                            "does not name")


def parse_task_list(spec: str) -> list[Task]:
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise UserError("--tasks is empty; name at least one task (see `codeeval tasks`)")
    if len(set(names)) != len(names):
        raise UserError(f"--tasks names a task twice: {spec}")
    return [get_task(n) for n in names]
