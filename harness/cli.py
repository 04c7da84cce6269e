"""The `codeeval` command: run, evaluate, tasks."""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import click

from codeeval import __version__
from codeeval.errors import UserError
from codeeval.generation import GenerationConfig
from codeeval.pipeline import FORMS, RunConfig, run_pipeline
from codeeval.sandbox import SANDBOX_KINDS
from codeeval.tasks import TASKS, parse_task_list
from codeeval.tasks.sources import DataSource


def shared_options(f):
    """Options of every command that executes programs."""
    options = [
        click.option("--tasks", "tasks", default="humaneval-pro", show_default=True,
                     help="Comma-separated task names (see `codeeval tasks`)."),
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
        click.option("--sandbox", type=click.Choice(SANDBOX_KINDS), default="process",
                     show_default=True, help="Where programs run."),
        click.option("--parallel", type=click.IntRange(min=1), default=None,
                     help="Programs run at once (default: number of cores)."),
        click.option("--timeout", type=click.FloatRange(min=0.1), default=None,
                     help="Per-program wall-clock limit in seconds (default: the task's)."),
        click.option("--sandbox-python", default=None,
                     help="Interpreter for programs in the process sandbox."),
        click.option("--force", is_flag=True,
                     help="Start the run store afresh when it holds a different config."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@click.group()
@click.version_option(__version__, prog_name="codeeval")
def cli() -> None:
    """Evaluate code-generation models on execution benchmarks."""


@cli.command()
@click.option("--model", default="reference", show_default=True,
              help="Model to evaluate: `reference` (the canonical solutions), `hf:PATH_OR_HUB_ID` "
                   "(or a plain path / hub id: a transformers causal LM), `openai:MODEL` (an "
                   "OpenAI-compatible server, with --base-url).")
@click.option("--model-args", default="",
              help="Backend options as key=value,key=value, e.g. dtype=bfloat16,device=cuda,"
                   "max_batch_tokens=200000 (hf) or concurrency=16,endpoint=completions "
                   "(openai).")
@click.option("--base-url", default=None,
              help="Server URL for openai:MODEL, e.g. http://127.0.0.1:8000/v1 (default: "
                   "OPENAI_BASE_URL, else the OpenAI API).")
@shared_options
@click.option("--n-samples", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--temperature", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option("--top-p", type=click.FloatRange(min=0, max=1), default=1.0, show_default=True)
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=4096, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--prompt-variant", default="default", show_default=True,
              help="The task's prompt variant, e.g. cot or 1shot for HumanEval Pro.")
def run(model, model_args, base_url, tasks, out, data_dir, limit, sanitize, sandbox, parallel, timeout,
        sandbox_python, force, n_samples, temperature, top_p, max_new_tokens, seed,
        prompt_variant) -> None:
    """Generate with MODEL, execute, and score TASKS."""
    task_names = tuple(t.name for t in parse_task_list(tasks))
    options = parse_model_args(model_args)
    if base_url:
        options["base_url"] = base_url
    config = RunConfig(model=model, tasks=task_names, model_args=options,
                       generation=GenerationConfig(n_samples, temperature, top_p,
                                                   max_new_tokens, seed),
                       prompt_variant=prompt_variant, sanitize=sanitize, limit=limit,
                       sandbox=sandbox, timeout_s=timeout)
    _run(config, out, data_dir, force, parallel, sandbox_python)


@cli.command()
@click.option("--samples", "samples_file", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="JSONL with task_id and solution or completion per line.")
@shared_options
def evaluate(samples_file, tasks, out, data_dir, limit, sanitize, sandbox, parallel, timeout,
             sandbox_python, force) -> None:
    """Score samples produced elsewhere into a run store."""
    task_names = tuple(t.name for t in parse_task_list(tasks))
    config = RunConfig(model=f"samples:{Path(samples_file).name}", tasks=task_names,
                       sanitize=sanitize, limit=limit, sandbox=sandbox, timeout_s=timeout,
                       samples_file=str(Path(samples_file).resolve()))
    _run(config, out, data_dir, force, parallel, sandbox_python)


@cli.command("tasks")
def list_tasks() -> None:
    """List the tasks with their prompt variants."""
    width = max(map(len, TASKS))
    for name, task in TASKS.items():
        click.echo(f"{name.ljust(width)}  [{', '.join(task.prompt_variants)}]  {task.description}")


def parse_model_args(text: str) -> dict:
    options = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--model-args expects key=value pairs separated by commas, got "
                            f"{item!r}")
        options[key.strip()] = value.strip()
    return options


def _run(config: RunConfig, out, data_dir, force, parallel, sandbox_python) -> None:
    from codeeval.reports.terminal import results_table
    if out is None:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{config.model}__{'+'.join(config.tasks)}")
        out = Path("runs") / slug
    summary = run_pipeline(config, out, source=DataSource.from_option(data_dir), force=force,
                           parallel=parallel, sandbox_python=sandbox_python)
    click.echo(results_table(summary))
    click.echo(f"run store: {out}")


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> str:
    return f"warning: {message}\n"


def main() -> None:
    warnings.formatwarning = _one_line_warning
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted: rerun the same command to resume", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("interrupted: rerun the same command to resume", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
