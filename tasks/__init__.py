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
    """The task `name` with its `options` (each one it declares, `Task.all_options`)."""
    try:
        task = TASKS[name]
    except KeyError:
        raise UserError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)} "
                        "(see `codeeval tasks`)") from None
    unknown = sorted(set(options or {}) - set(task.option_names()))
    if unknown:
        raise UserError(f"{name} has no option {unknown[0]!r}; its options: "
                        f"{', '.join(task.option_names()) or 'none'}")
    return task(**(options or {}))


def resolve_options(names: tuple[str, ...], aliases: dict[str, str | None],
                    specs: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    """(task, option, value) for every option set to other than its default, the value
    checked and in its one recorded form (`canonical`): `specs` are `-T TASK.OPTION=VALUE`;
    `aliases` the old flags (`--domain X`: every task of `names` that has the option). An
    option no chosen task has is a UserError."""
    chosen = {}
    for option, value in aliases.items():
        if value is None:
            continue
        owners = [n for n in names if option in TASKS[n].option_names()]
        if not owners:
            others = [n for n, task in TASKS.items() if option in task.option_names()]
            raise UserError(f"--{option.replace('_', '-')} applies to {', '.join(others)} "
                            "only, which --tasks does not name")
        chosen.update({(n, option): value for n in owners})
    for spec in specs:
        target, equals, value = spec.partition("=")
        task, dot, option = target.partition(".")
        if not (equals and dot):
            raise UserError(f"-T expects TASK.OPTION=VALUE, got {spec!r}")
        if task not in names:
            raise UserError(f"-T {target}: {task!r} is not among --tasks")
        if option not in TASKS[task].option_names():
            raise UserError(f"-T {target}: {task} has no option {option!r}; its options: "
                            f"{', '.join(TASKS[task].option_names()) or 'none'}")
        chosen[(task, option)] = value
    resolved = [(task, option, canonical(task, option, value))
                for (task, option), value in sorted(chosen.items())]
    return tuple(item for item in resolved if item[2] is not None)


def canonical(task: str, option: str, value: str) -> str | None:
    """How a run store records `value` of `task`'s `option`: checked, in one form, None for
    the default (`Option.canonical`)."""
    return TASKS[task].declared(option).canonical(task, value)


def task_of_run(name: str, config: dict) -> Task:
    """The task `name` as a run's stored `config` (`rundata.current_config`) set it up."""
    prefix = f"{name}."
    return get_task(name, {key[len(prefix):]: value
                           for key, value in (config.get("task_options") or {}).items()
                           if key.startswith(prefix)})


def parse_task_list(spec: str) -> list[Task]:
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise UserError("--tasks is empty; name at least one task (see `codeeval tasks`)")
    if len(set(names)) != len(names):
        raise UserError(f"--tasks names a task twice: {spec}")
    return [get_task(n) for n in names]
