"""The options of the `codeeval` commands that execute programs, and how their values are read:
what the commands share, the task options (`-T TASK.OPTION=VALUE` and its per-task aliases),
the tasks `--tasks` chooses, `--model-args`, and the sections `--help` lists them under."""

from __future__ import annotations

from pathlib import Path

import click

from codeeval.errors import UserError
from codeeval.execution import EXECUTORS
from codeeval.pipeline import FORMS
from codeeval.sandbox import SANDBOX_KINDS
from codeeval.tasks import TASKS, get_task, parse_task_list, resolve_options


# `run --help` and `evaluate --help` list their ~40 flags under these headings, in this order.
SECTIONS = {
    "Model and generation": ("model", "model_args", "base_url", "n_samples", "temperature",
                             "top_p", "max_new_tokens", "seed"),
    "Tasks and data": ("samples_file", "tasks", "data_dir", "limit", "task_option",
                       "judge_model", "sanitize", "check_ground_truth"),
    "Where programs run": ("sandbox", "parallel", "hash_seed", "sandbox_python",
                           "allow_missing_libraries", "executor", "ray_address",
                           "ray_node_wait"),
    "Repair rounds (LDB)": ("debug_rounds", "trace_granularity"),
    "Run store": ("out", "force"),
}


class SectionedCommand(click.Command):
    """A command whose --help groups its options under SECTIONS (the rest: "Other")."""

    def format_options(self, ctx, formatter) -> None:
        records = {p.name: p.get_help_record(ctx) for p in self.get_params(ctx)}
        placed = {name for names in SECTIONS.values() for name in names}
        aliases = [n for n in records if n in ALIASES]
        groups = [(title, [*names, *(aliases if title == "Tasks and data" else [])])
                  for title, names in SECTIONS.items()]
        groups.append(("Other", [n for n in records if n not in placed and n not in aliases]))
        for title, names in groups:
            rows = [records[n] for n in names if records.get(n)]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def with_options(f, options: list):
    """`f` with click options, listed in the order `--help` shows them."""
    for option in reversed(options):
        f = option(f)
    return f


def shared_options(f):
    """Options of every command that executes programs."""
    options = [
        click.option("--tasks", "tasks", default="humaneval-pro", show_default=True,
                     help="Comma-separated task names (see `codeeval tasks`), or `all`: every "
                          "task that can run here (the others are named, with why)."),
        click.option("--out", type=click.Path(path_type=Path), default=None,
                     help="Run store folder (default: runs/<model>__<tasks>). Rerunning resumes."),
        click.option("--data-dir", default=None,
                     help="Local benchmark data laid out like shared/benchmarks/ (also "
                          "CODEEVAL_DATA_DIR); default: the hub datasets."),
        click.option("--limit", type=click.IntRange(min=1), default=None,
                     help="Only the first N problems of each task."),
        click.option("--sanitize", type=click.Choice(list(FORMS)), default="raw",
                     show_default=True,
                     help="Score raw and/or sanitized code; `both` reports the better of the two."),
        click.option("--sandbox", type=click.Choice(SANDBOX_KINDS), default="auto",
                     show_default=True,
                     help="Where programs run: auto = docker when a daemon answers and the "
                          "image is built, else process."),
        click.option("--parallel", type=click.IntRange(min=1), default=None,
                     help="Programs run at once (default: one per core, and up to twice "
                          "that while a core is idle: programs that wait leave cores free)."),
        click.option("--executor", type=click.Choice(EXECUTORS), default="local",
                     show_default=True,
                     help="Where sandboxes run: this machine, or the nodes of a Ray cluster "
                          "(needs the ray extra; each node runs as many programs at once as "
                          "its Ray CPUs)."),
        click.option("--ray-address", default=None,
                     help="The Ray cluster's head, e.g. 10.0.0.1:6379 (default: RAY_ADDRESS)."),
        click.option("--ray-node-wait", type=click.FloatRange(min=0), default=300.0,
                     show_default=True,
                     help="Seconds to wait for a Ray node with CPUs when none is left (an "
                          "autoscaler may bring nodes back) before the run stops; rerun to "
                          "resume."),
        click.option("--hash-seed", type=int, default=0, show_default=True,
                     help="PYTHONHASHSEED of the programs (set order in some tests depends on it)."),
        click.option("--sandbox-python", default=None,
                     help="Interpreter for programs in the process sandbox."),
        click.option("--force", is_flag=True,
                     help="Start the run store afresh when it holds a different config."),
        click.option("--check-ground-truth", is_flag=True,
                     help="Run the canonical solutions first; report the ground-truth pass "
                          "rate and each failing problem with its cause."),
        click.option("--allow-missing-libraries", is_flag=True,
                     help="Run even when a task's sandbox lacks libraries its programs import "
                          "(their failures are reported as the environment's, not hidden)."),
    ]
    return with_options(f, options)


def task_options(f):
    """Task options: `-T TASK.OPTION=VALUE` (see `codeeval tasks`), the old per-task flags as
    aliases of it, and the judge of judge-scored tasks."""
    options = [
        click.option("-T", "--task-option", "task_option", multiple=True,
                     metavar="TASK.OPTION=VALUE",
                     help="A task's option, e.g. -T multicodebench.context=dep (repeatable; "
                          "`codeeval tasks` lists each task's options). An option that no "
                          "task of --tasks has is an error."),
        *(click.option(f"--{option.replace('_', '-')}", option, default=None,
                       help=alias_help(option, owners))
          for option, owners in ALIASES.items()),
        click.option("--judge-model", default=None,
                     help="Judge of judge-scored tasks (codeif), e.g. openai:gpt-4o-2024-11-20 "
                          "(OPENAI_BASE_URL / OPENAI_API_KEY name the server)."),
    ]
    return with_options(f, options)


# The per-task flags of earlier versions, kept as aliases of -T: option -> the tasks having it.
ALIASES = {option: [name for name, task in TASKS.items() if option in task.option_names()]
           for option in ("prompt_variant", "timeout", "domain", "context", "mode", "subset",
                          "split", "dataset_version", "language", "codereval_image")}


def alias_help(option: str, owners: list[str]) -> str:
    if len(owners) <= 3:
        return f"Alias of -T {', '.join(f'{t}.{option}' for t in owners)}."
    described = TASKS[owners[0]].declared(option)
    which = "" if len(owners) == len(TASKS) else " that runs programs"
    return f"Alias of -T TASK.{option} for every task of --tasks{which}: {described.help}."


def chosen_tasks(spec: str, judge_model: str | None, aliases: dict,
                 task_option: tuple[str, ...]) -> tuple[str, ...]:
    """The task names --tasks gives; for `all`, every task that can run here, each of the
    others named on stderr with why (a judge-scored task without --judge-model, a task whose
    environment is missing)."""
    if spec.strip() != "all":
        return tuple(t.name for t in parse_task_list(spec))
    names, chosen = [], resolve_options(tuple(TASKS), aliases, task_option)
    for name in TASKS:
        task = get_task(name, {option: value for owner, option, value in chosen
                               if owner == name})
        try:
            if task.scoring == "judge" and not judge_model:
                raise UserError("it is scored by a judge model: name one with --judge-model")
            if task.scoring == "execution":
                task.check_environment()
        except UserError as exc:
            click.echo(f"skipped {name}: {exc}", err=True)
            continue
        names.append(name)
    return tuple(names)


def parse_model_args(text: str) -> dict:
    options = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--model-args expects key=value pairs separated by commas, got "
                            f"{item!r}")
        options[key.strip()] = value.strip()
    return options
