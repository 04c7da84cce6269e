"""The `codeeval` command: run, evaluate, tasks, report, gate."""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import click

from codeeval import __version__
from codeeval.cli_options import (SectionedCommand, chosen_tasks, parse_model_args,
                                  shared_options, task_options)
from codeeval.errors import UserError
from codeeval.generation import GenerationConfig
from codeeval.pipeline import RunConfig, run_pipeline
from codeeval.sandbox import SANDBOX_KINDS
from codeeval.tasks import TASKS, resolve_options
from codeeval.tasks.sources import DataSource


INCOMPLETE_RUN = 3   # exit code of run/evaluate: scored, but some programs never got a verdict


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="codeeval")
def cli() -> None:
    """Evaluate code-generation models on execution benchmarks."""


@cli.command(cls=SectionedCommand)
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
@click.option("--n-samples", type=click.IntRange(min=1), default=1, show_default=True,
              help="Samples per problem (pass@k is reported for every k up to it).")
@click.option("--temperature", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Sampling temperature; 0 is greedy decoding.")
@click.option("--top-p", type=click.FloatRange(min=0, max=1), default=1.0, show_default=True,
              help="Nucleus sampling: keep the smallest set of tokens whose probability "
                   "reaches P (with --temperature > 0).")
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=4096, show_default=True,
              help="Most tokens generated per answer.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Sampling seed: each sample's generator is seeded from it and the sample's "
                   "key, so a sample does not depend on batching or resuming.")
@click.option("--debug-rounds", type=click.IntRange(min=0), default=0, show_default=True,
              help="LDB-style repair rounds: failing samples get a block trace and a fix.")
@click.option("--trace-granularity", type=click.Choice(["line", "block", "function"]),
              default="block", show_default=True, help="Of the traces repair rounds show.")
@task_options
def run(model, model_args, base_url, tasks, out, data_dir, limit, sanitize, sandbox, parallel,
        executor, ray_address, ray_node_wait, hash_seed, sandbox_python, force,
        check_ground_truth, allow_missing_libraries, n_samples, temperature, top_p,
        max_new_tokens, seed, debug_rounds, trace_granularity, judge_model,
        task_option, **aliases) -> None:
    """Generate with MODEL, execute, and score TASKS."""
    task_names = chosen_tasks(tasks, judge_model, aliases, task_option)
    if model != "reference":   # the reference answers are not sampled
        warn_about_sampling(n_samples, temperature, top_p)
    options = parse_model_args(model_args)
    if base_url:
        options["base_url"] = base_url
    config = RunConfig(model=model, tasks=task_names, model_args=options,
                       generation=GenerationConfig(n_samples, temperature, top_p,
                                                   max_new_tokens, seed),
                       sanitize=sanitize, limit=limit, sandbox=sandbox, hash_seed=hash_seed,
                       debug_rounds=debug_rounds, trace_granularity=trace_granularity,
                       task_options=resolve_options(task_names, aliases, task_option),
                       judge_model=judge_model, check_ground_truth=check_ground_truth,
                       executor=executor, ray_address=ray_address, ray_node_wait_s=ray_node_wait)
    _run(config, out, data_dir, force, parallel, sandbox_python, allow_missing_libraries)


@cli.command(cls=SectionedCommand)
@click.option("--samples", "samples_file", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="JSONL with task_id and solution or completion per line.")
@shared_options
@task_options
def evaluate(samples_file, tasks, out, data_dir, limit, sanitize, sandbox, parallel, executor,
             ray_address, ray_node_wait, hash_seed, sandbox_python, force,
             check_ground_truth, allow_missing_libraries, judge_model, task_option,
             **aliases) -> None:
    """Score samples produced elsewhere into a run store."""
    task_names = chosen_tasks(tasks, judge_model, aliases, task_option)
    config = RunConfig(model=f"samples:{Path(samples_file).name}", tasks=task_names,
                       sanitize=sanitize, limit=limit, sandbox=sandbox, hash_seed=hash_seed,
                       samples_file=str(Path(samples_file).resolve()),
                       task_options=resolve_options(task_names, aliases, task_option),
                       judge_model=judge_model,
                       check_ground_truth=check_ground_truth, executor=executor,
                       ray_address=ray_address, ray_node_wait_s=ray_node_wait)
    _run(config, out, data_dir, force, parallel, sandbox_python, allow_missing_libraries)


@cli.command("javabench-testwise")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--data-dir", default=None, help="Benchmark data (default: CODEEVAL_DATA_DIR).")
@click.option("--sandbox", type=click.Choice(SANDBOX_KINDS), default="auto", show_default=True,
              help="Where programs run (the java image's Docker sandbox, or process).")
@click.option("--parallel", type=click.IntRange(min=1), default=None,
              help="Programs run at once (default: number of cores).")
@click.option("--n-samples", type=click.IntRange(min=1), default=None,
              help="Samples per class to use (default: as many as every class has).")
@click.option("--mode", type=click.Choice(["official", "robust"]), default=None,
              help="official (default), or robust: PA21/PA22 tests time out in a separate "
                   "thread (see `codeeval tasks`).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=None,
              help="Per-program wall-clock limit in seconds (default: the task's).")
def javabench_testwise(run_dir, data_dir, sandbox, parallel, n_samples, mode, timeout) -> None:
    """Score a run store's JavaBench samples test-wise (each suite against the k-th samples of
    its classes); results join RUN_DIR's results.jsonl (a rerun resumes) and the report is
    written to RUN_DIR/javabench_testwise.json."""
    from codeeval.sandbox import make_sandbox
    from codeeval.tasks.javabench_testwise import run_testwise
    with make_sandbox(sandbox, parallel=parallel, image="java") as box:
        report = run_testwise(run_dir, data_dir, box, n_samples, mode, timeout)
    for scope, metrics in report["metrics"].items():
        click.echo(f"{scope}: " + ", ".join(f"{k} {v}" for k, v in metrics.items()))


@cli.command("tasks")
def list_tasks() -> None:
    """List the tasks with their prompt variants and options."""
    click.echo("Every task: -T TASK.prompt_variant=... (its variants in brackets, the first "
               "is the default); every executed one: -T TASK.timeout=SECONDS.")
    width = max(map(len, TASKS))
    variants = {name: f"[{', '.join(task.prompt_variants)}]" for name, task in TASKS.items()}
    column = max(map(len, variants.values()))
    for name, task in TASKS.items():
        click.echo(f"{name.ljust(width)}  {variants[name].ljust(column)}  {task.description}")
        for option in task.options:
            choices = f" ({'|'.join(option.choices)})" if option.choices else ""
            click.echo(f"{''.ljust(width)}  -T {name}.{option.name}=...{choices}: {option.help}")


@cli.group()
def images() -> None:
    """Sandbox images, built locally with no registry."""


@images.command("build")
@click.argument("which", type=click.Choice(["base", "python", "classeval", "java", "all"]),
                default="all")
def build_images(which) -> None:
    """Build the base (debootstrap) image and the venv images; unchanged recipes are skipped."""
    from codeeval.sandbox.images import IMAGES, build
    for name in (IMAGES if which == "all" else [which]):
        image = build(name, log=click.echo)
        click.echo(f"{name}: {image.tag}")


@cli.group()
def sandbox() -> None:
    """The Docker engine the sandbox needs."""


@sandbox.command("setup")
def sandbox_setup() -> None:
    """Check the Docker engine and the images; say what is missing and how to fix it."""
    from codeeval.sandbox.engine import docker_client
    from codeeval.sandbox.images import IMAGES, image_exists
    version = docker_client().version()  # one clear line when the daemon is down
    click.echo(f"docker engine {version.get('Version')} (API {version.get('ApiVersion')}): ok")
    missing = []
    for name, image in IMAGES.items():
        present = image_exists(image().tag)
        click.echo(f"image {name}: {image().tag} {'present' if present else 'missing'}")
        missing += [] if present else [name]
    if missing:
        click.echo(f"build the missing images with: codeeval images build {' '.join(missing)}")


@cli.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("leaderboard.html"), show_default=True,
              help="The HTML file to write (one self-contained page).")
@click.option("--max-failing-samples", type=click.IntRange(min=0), default=3, show_default=True,
              help="Failing samples shown per problem and run in the drill-down.")
def report(runs, output, max_failing_samples) -> None:
    """Render an HTML leaderboard from RUNS (run stores, or folders of them)."""
    from codeeval.reports.leaderboard import write_leaderboard
    path, seconds = write_leaderboard(runs, output, max_failing_samples=max_failing_samples)
    click.echo(f"leaderboard: {path} ({path.stat().st_size / 1e6:.1f} MB, {seconds:.1f}s)")


@cli.command("runs")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def list_runs(paths) -> None:
    """List the runs in PATHS (run stores or folders of them; default: runs/): folder,
    model, each task's headline metric and problems, time spent."""
    from codeeval.runview import run_lines
    for line in run_lines(list(paths) or [Path("runs")]):
        click.echo(line)


@cli.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("task_id")
@click.option("--task", default=None, help="The task of TASK_ID (needed when the run has several).")
@click.option("--sample", "sample_idx", type=click.IntRange(min=0), default=0, show_default=True,
              help="Which sample of the problem.")
@click.option("--data-dir", default=None,
              help="The benchmark data the run used (also CODEEVAL_DATA_DIR), to rebuild the "
                   "prompt and program.")
def show(run_dir, task_id, task, sample_idx, data_dir) -> None:
    """Show one problem of a run end to end: prompt, model answer, extracted sample, each
    form's verdict with its failing test and trace, the program, and the repair rounds."""
    from codeeval.runview import show_problem
    click.echo(show_problem(run_dir, task, task_id, sample_idx, data_dir))


@cli.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="results.csv, results.parquet (needs pyarrow) or results.jsonl.")
def export(run_dir, output) -> None:
    """Export every score row of RUN_DIR with its sample's texts, one row per sample and form
    (in Python: codeeval.runview.results_frame(RUN_DIR), a pandas DataFrame)."""
    from codeeval.runview import export as write
    click.echo(f"{output}: {write(run_dir, output)} rows")


@cli.command()
@click.argument("current", type=click.Path(exists=True, path_type=Path))
@click.option("--baseline", required=True, type=click.Path(exists=True, path_type=Path),
              help="Run store or summary.json to compare against.")
@click.option("--max-drop", type=click.FloatRange(min=0), default=0.02, show_default=True,
              help="Largest drop of a metric that still passes.")
@click.option("--alpha", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
              default=0.05, show_default=True, help="Significance level of the paired test.")
@click.option("--allow-config-drift", is_flag=True,
              help="Compare runs whose datasets, task options, prompts, sampling or problems "
                   "differ.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write JUnit XML, one test case per task and metric.")
@click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a Markdown summary (for a pull-request comment).")
def gate(current, baseline, max_drop, alpha, allow_config_drift, junit, markdown) -> None:
    """Fail (exit 1) when CURRENT regressed against --baseline beyond noise."""
    from codeeval.gate import GateSettings, run_gate
    from codeeval.reports.terminal import gate_table
    from codeeval.rundata import Run
    result = run_gate(Run(current), Run(baseline),
                      GateSettings(max_drop, alpha, allow_config_drift))
    click.echo(gate_table(result))
    if junit:
        from codeeval.reports.junit import gate_junit
        _write(junit, lambda p: gate_junit(result).write(p, encoding="utf-8",
                                                         xml_declaration=True))
    if markdown:
        from codeeval.reports.markdown import gate_markdown
        _write(markdown, lambda p: p.write_text(gate_markdown(result), encoding="utf-8"))
    sys.exit(result.exit_code)


def _write(path: Path, write) -> None:
    try:
        write(path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None


def warn_about_sampling(n_samples: int, temperature: float, top_p: float) -> None:
    if temperature == 0 and n_samples > 1:
        warnings.warn(f"--n-samples {n_samples} at --temperature 0: greedy decoding gives the "
                      "same answer every time, so pass@k equals pass@1; set --temperature")
    if temperature == 0 and top_p < 1:
        warnings.warn("--top-p has no effect at --temperature 0 (greedy decoding)")


def _run(config: RunConfig, out, data_dir, force, parallel, sandbox_python,
         allow_missing_libraries) -> None:
    from codeeval.reports.terminal import results_table
    if out is None:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{config.model}__{'+'.join(config.tasks)}")
        out = Path("runs") / slug
    summary = run_pipeline(config, out, source=DataSource.from_option(data_dir), force=force,
                           parallel=parallel, sandbox_python=sandbox_python,
                           allow_missing_libraries=allow_missing_libraries)
    click.echo(results_table(summary))
    click.echo(f"run store: {out}")
    for name, task in summary["tasks"].items():   # the environment's failures, said as such
        if task.get("missing_modules"):
            counts = ", ".join(f"{module} ({len(ids)})"
                               for module, ids in task["missing_modules"].items())
            click.echo(f"warning: {name}: problems failed only because the sandbox lacks "
                       f"{counts}: the environment's failures, not the model's (see "
                       "summary.json missing_modules)", err=True)
    for name, task in summary["tasks"].items():
        capped = (task.get("answers") or {}).get("finish_reasons", {}).get("length")
        if capped:
            click.echo(f"warning: {name}: {capped} of {task['answers']['samples']} answers "
                       f"stopped at the token cap (--max-new-tokens "
                       f"{config.generation.max_new_tokens}); a cut answer rarely runs",
                       err=True)
        again = task.get("judged_again") or {}
        if again.get("programs"):
            click.echo(f"note: {name}: {again['programs']} failures the machine's load may "
                       f"have caused (they waited for a CPU or hit a time limit) ran again "
                       f"alone; {again['changed']} verdicts changed (results.jsonl: first_run)",
                       err=True)
        if task.get("tampered"):
            click.echo(f"warning: {name}: {task['tampered']} programs tampered with the test "
                       "harness; they count as failures (results.jsonl status \"tampered\" "
                       "names what each did)", err=True)
    broken = {name: t["infra_errors"] for name, t in summary["tasks"].items()
              if t["infra_errors"]}
    if broken:
        counts = ", ".join(f"{name} {count}" for name, count in broken.items())
        click.echo(f"error: programs hit sandbox infrastructure errors twice ({counts}); they "
                   "count as failures above; rerun the same command to retry them", err=True)
        sys.exit(INCOMPLETE_RUN)



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
