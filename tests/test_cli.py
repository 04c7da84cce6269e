"""The `codeeval` command end to end on the real data, through a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from codeeval.errors import UserError
from codeeval.records import read_jsonl
from conftest import codeeval_cmd


def cli(*args, data_dir=None, check=True):
    env_args = ["--data-dir", str(data_dir)] if data_dir else []
    proc = subprocess.run(codeeval_cmd(*args, *env_args), capture_output=True, text=True,
                          timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_reference_scores_one_on_humaneval_pro_and_mbpp_pro(benchmarks, tmp_path):
    out = tmp_path / "run"
    proc = cli("run", "--model", "reference", "--tasks", "humaneval-pro,mbpp-pro",
               "--out", str(out), data_dir=benchmarks)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tasks"]["humaneval-pro"]["metrics"] == {"pass@1": 1.0}
    assert summary["tasks"]["mbpp-pro"]["metrics"] == {"pass@1": 1.0}
    assert summary["tasks"]["humaneval-pro"]["n_problems"] == 164
    assert summary["tasks"]["mbpp-pro"]["n_samples"] == 378
    assert "humaneval-pro" in proc.stdout and "1.000" in proc.stdout
    results = read_jsonl(out / "results.jsonl")
    assert len(results) == 164 + 378
    assert all(r["status"] == "passed" for r in results)
    assert {"task_id", "sample_idx", "status", "form"} <= set(results[0])


def test_summary_schema_and_provenance(benchmarks, tmp_path):
    out = tmp_path / "run"
    cli("run", "--tasks", "bigcodebench-lite-pro", "--limit", "6", "--out", str(out),
        data_dir=benchmarks)
    summary = json.loads((out / "summary.json").read_text())
    assert {"run_id", "model", "tasks", "provenance"} <= set(summary)
    task = summary["tasks"]["bigcodebench-lite-pro"]
    assert {"n_problems", "n_samples", "metrics", "breakdowns", "failures"} <= set(task)
    # failing ground truth is reported with its reason, never hidden
    for failure in task["failures"]:
        assert failure["status"] != "passed" and failure["message"]
    prov = summary["provenance"]
    assert {"codeeval_version", "git_commit", "datasets", "prompt_template_versions", "backend",
            "generation", "seed", "python", "libraries", "sandbox"} <= set(prov)
    assert prov["datasets"]["humaneval-pro/bigcodebench_lite_pro.json"]
    assert prov["sandbox"]["python"]["kind"] in ("process", "docker")
    assert (out / "config.json").exists() and (out / "samples.jsonl").exists()


def test_rerun_resumes_without_duplicates_and_refuses_a_new_config(benchmarks, tmp_path):
    out = tmp_path / "run"
    cli("run", "--tasks", "humaneval-pro", "--limit", "5", "--out", str(out), data_dir=benchmarks)
    cli("run", "--tasks", "humaneval-pro", "--limit", "5", "--out", str(out), data_dir=benchmarks)
    assert len(read_jsonl(out / "samples.jsonl")) == 5
    assert len(read_jsonl(out / "results.jsonl")) == 5
    proc = cli("run", "--tasks", "humaneval-pro", "--limit", "5", "--temperature", "0.8",
               "--out", str(out), data_dir=benchmarks, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--force" in proc.stderr
    assert "generation.temperature: 0.0 (stored) vs 0.8" in proc.stderr   # what differs
    # a smaller --limit is the same run: the summary covers 3 problems, the store keeps 5
    cli("run", "--tasks", "humaneval-pro", "--limit", "3", "--out", str(out),
        data_dir=benchmarks)
    assert len(read_jsonl(out / "results.jsonl")) == 5
    assert json.loads((out / "summary.json").read_text())["tasks"]["humaneval-pro"][
        "n_problems"] == 3
    cli("run", "--tasks", "humaneval-pro", "--limit", "3", "--temperature", "0.8", "--out",
        str(out), "--force", data_dir=benchmarks)   # a new config, forced: a fresh store
    assert len(read_jsonl(out / "results.jsonl")) == 3


def test_sanitize_both_scores_both_forms(benchmarks, tmp_path):
    out = tmp_path / "run"
    cli("run", "--tasks", "mbpp-pro", "--limit", "4", "--sanitize", "both", "--out", str(out),
        data_dir=benchmarks)
    summary = json.loads((out / "summary.json").read_text())["tasks"]["mbpp-pro"]
    assert set(summary["metrics_by_form"]) == {"raw", "sanitized"}
    assert summary["metric_forms"]["pass@1"] in ("raw", "sanitized")
    assert {r["form"] for r in read_jsonl(out / "results.jsonl")} == {"raw", "sanitized"}


def test_evaluate_external_samples(benchmarks, tmp_path):
    problems = json.loads((benchmarks / "humaneval-pro" / "humaneval_pro.json").read_text())
    p0, p1 = problems[0], problems[1]
    good_completion = p0["raw_solution"] + p0["new_problem"] + p0["new_solution"]
    good_solution = p1["raw_problem"] + p1["raw_solution"] + p1["new_problem"] + p1["new_solution"]
    lines = [
        {"task_id": 0, "completion": good_completion},
        {"task_id": 1, "solution": "def nothing():\n    pass\n"},
        {"task_id": 0, "completion": "    return None\n"},
        {"task_id": 1, "solution": good_solution},
        {"task_id": 0, "completion": good_completion},    # problem 1 has no third sample
    ]
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps(l) + "\n" for l in lines))
    out = tmp_path / "eval"
    proc = cli("evaluate", "--tasks", "humaneval-pro", "--samples", str(samples), "--out",
               str(out), data_dir=benchmarks)
    rows = {(r["task_id"], r["sample_idx"]): r["status"] for r in read_jsonl(out / "results.jsonl")}
    assert rows == {("0", 0): "passed", ("1", 0): "failed", ("0", 1): "failed", ("1", 1): "passed",
                    ("0", 2): "passed"}
    summary = json.loads((out / "summary.json").read_text())["tasks"]["humaneval-pro"]
    assert summary["n_problems"] == 2
    # the missing sample is a failure: n stays 3 for both problems
    assert summary["per_problem"]["raw"] == {"0": [3, 2], "1": [3, 1]}
    assert summary["metrics"]["pass@1"] == pytest.approx(0.5)
    assert "warning: humaneval-pro: 1 of 2 problems have fewer than 3 samples (1 missing)" \
        in proc.stderr


def test_line_separators_inside_completions_keep_records_whole(benchmarks, tmp_path):
    """JSON leaves U+0085, U+2028 and U+2029 unescaped in strings and str.splitlines breaks at
    them: a model's completion holding one must not tear its record (CI met one from a tiny
    random model)."""
    problem = json.loads((benchmarks / "humaneval-pro" / "humaneval_pro.json").read_text())[0]
    odd = "    # odd separators: \x85 \u2028 \u2029\n"
    completion = odd + problem["raw_solution"] + problem["new_problem"] + problem["new_solution"]
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": 0, "completion": completion}, ensure_ascii=False)
                       + "\n", encoding="utf-8")
    assert len(samples.read_text(encoding="utf-8").splitlines()) == 4   # what used to happen
    out = tmp_path / "eval"
    args = ("evaluate", "--tasks", "humaneval-pro", "--samples", str(samples), "--out", str(out))
    cli(*args, data_dir=benchmarks)
    stored = read_jsonl(out / "samples.jsonl")
    assert [s["completion"] for s in stored] == [completion]
    assert [r["status"] for r in read_jsonl(out / "results.jsonl")] == ["passed"]
    cli(*args, data_dir=benchmarks)                                     # resumes from the store
    assert len(read_jsonl(out / "results.jsonl")) == 1
    cli("report", str(out), "-o", str(tmp_path / "board.html"))
    assert "humaneval-pro" in (tmp_path / "board.html").read_text(encoding="utf-8")


def test_a_lone_surrogate_in_external_samples_is_replaced_not_a_crash(benchmarks, tmp_path):
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": 0, "completion": "    return 1  # \ud800\n"}) + "\n")
    out = tmp_path / "eval"
    cli("evaluate", "--tasks", "humaneval-pro", "--samples", str(samples), "--out", str(out),
        data_dir=benchmarks)
    assert [s["completion"] for s in read_jsonl(out / "samples.jsonl")] == \
        ["    return 1  # \ufffd\n"]
    assert [r["status"] for r in read_jsonl(out / "results.jsonl")] == ["failed"]


def test_evaluate_rejects_an_unknown_problem(benchmarks, tmp_path):
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": 9999, "solution": "x = 1"}) + "\n")
    proc = cli("evaluate", "--tasks", "humaneval-pro", "--samples", str(samples),
               "--out", str(tmp_path / "o"), data_dir=benchmarks, check=False)
    assert proc.returncode == 2 and "no problem '9999'" in proc.stderr


def test_unknown_task_is_one_line_and_exit_2(tmp_path):
    proc = cli("run", "--tasks", "humaneval-pr", "--out", str(tmp_path / "o"), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: unknown task 'humaneval-pr'; known tasks: "
                                   "humaneval-pro, mbpp-pro, bigcodebench-lite-pro, bigcodebench, "
                                   "classeval, multicodebench, codeif, javabench, codereval (see "
                                   "`codeeval "
                                   "tasks`)")


def test_unknown_task_option_value_is_one_line_naming_the_choices(tmp_path):
    proc = cli("run", "--tasks", "javabench", "--context", "everything",
               "--out", str(tmp_path / "o"), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: javabench has no context 'everything'; choose one "
                                   "of: selective, minimum, maximum")


@pytest.mark.parametrize("args,error", [
    (("-T", "javabench.contex=dep"), "-T javabench.contex: javabench has no option 'contex'; "
                                     "its options: prompt_variant, timeout, context, mode"),
    (("-T", "javabench.timeout=soon"), "the timeout of javabench must be a number of seconds, "
                                       "at least 0.1, got 'soon'"),
    (("--prompt-variant", "cot"), "javabench has no prompt_variant 'cot'; choose one of: "
                                  "holistic, independent, incremental"),
    (("-T", "codeif.subset=hard"), "-T codeif.subset: 'codeif' is not among --tasks"),
    (("-T", "javabench.mode"), "-T expects TASK.OPTION=VALUE, got 'javabench.mode'"),
    (("-T", "javabench.mode=fast"), "javabench has no mode 'fast'; choose one of: official, "
                                    "robust"),
    (("--language", "java"), "--language applies to codereval only, which --tasks does not "
                             "name")])
def test_task_options_that_do_not_apply_are_one_line_errors(args, error, tmp_path):
    proc = cli("run", "--tasks", "javabench", *args, "--out", str(tmp_path / "o"), check=False)
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: {error}"
    assert not (tmp_path / "o").exists()


def test_task_options_travel_as_data_into_the_summary(benchmarks, tmp_path):
    """-T and the old flag set the same option; it is recorded per task."""
    summaries = []
    for args in (("-T", "multicodebench.context=dep", "--domain", "Game"),
                 ("--context", "dep", "-T", "multicodebench.domain=Game")):
        out = tmp_path / args[0].strip("-")
        cli("run", "--tasks", "multicodebench", *args, "--limit", "2", "--out", str(out),
            data_dir=benchmarks)
        summaries.append(json.loads((out / "summary.json").read_text()))
    for summary in summaries:
        assert summary["tasks"]["multicodebench"]["options"] == {
            "prompt_variant": "default", "context": "dep", "domains": ["Game"]}
        assert summary["config"]["task_options"] == {"multicodebench.context": "dep",
                                                     "multicodebench.domain": "Game"}


def test_the_prompt_variant_and_the_timeout_are_task_options(benchmarks, tmp_path):
    """--prompt-variant and --timeout are aliases of -T TASK.prompt_variant / TASK.timeout: the
    same store either way, and a store that recorded them as the old top-level config keys
    resumes with nothing run again."""
    out = tmp_path / "run"
    cli("run", "--tasks", "humaneval-pro", "-T", "humaneval-pro.prompt_variant=cot", "-T",
        "humaneval-pro.timeout=20", "--limit", "2", "--out", str(out), data_dir=benchmarks)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["task_options"] == {"humaneval-pro.prompt_variant": "cot",
                                                 "humaneval-pro.timeout": "20.0"}
    assert summary["tasks"]["humaneval-pro"]["options"] == {"prompt_variant": "cot",
                                                            "timeout_s": 20.0}
    assert {row["program_hash"] for row in read_jsonl(out / "results.jsonl")}
    config = json.loads((out / "config.json").read_text())
    identity = config["identity"]
    del identity["task_options"]
    config["identity"] = {**identity, "prompt_variant": "cot", "timeout_s": 20.0,
                          "task_options": {}}
    (out / "config.json").write_text(json.dumps(config))
    results = (out / "results.jsonl").read_text()
    proc = cli("run", "--tasks", "humaneval-pro", "--prompt-variant", "cot", "--timeout",
               "20.00", "--limit", "2", "--out", str(out), data_dir=benchmarks)
    assert "resuming" in proc.stderr and (out / "results.jsonl").read_text() == results
    refused = cli("run", "--tasks", "humaneval-pro", "--timeout", "30", "--limit", "2",
                  "--out", str(out), data_dir=benchmarks, check=False)
    assert refused.returncode == 2 and "task_options" in refused.stderr
    only_similarity = cli("run", "--tasks", "multicodebench", "--timeout", "5", "--out",
                          str(tmp_path / "o"), data_dir=benchmarks, check=False)
    assert only_similarity.returncode == 2
    assert only_similarity.stderr.startswith("error: --timeout applies to humaneval-pro, ")


def test_task_options_are_recorded_in_one_form_and_defaults_not_at_all():
    """Equal settings compare equal however they were written: a run store, the gate and the
    leaderboard see `--timeout 5` and `-T t.timeout=5.0` as one setting, and a variant or
    choice that is the default (by name, or as `default`) as no setting."""
    from codeeval.rundata import current_config
    from codeeval.tasks import resolve_options
    names = ("classeval", "javabench", "humaneval-pro")
    assert resolve_options(names, {"prompt_variant": "default", "timeout": "5"},
                           ("javabench.context=selective", "humaneval-pro.timeout=5.0",
                            "classeval.prompt_variant=holistic")) == (
        ("classeval", "timeout", "5.0"), ("humaneval-pro", "timeout", "5.0"),
        ("javabench", "timeout", "5.0"))
    old = {"tasks": ["classeval", "javabench"], "prompt_variant": "default", "timeout_s": 5,
           "task_options": {"javabench.context": "selective", "javabench.mode": "robust"}}
    assert current_config(old)["task_options"] == {
        "classeval.timeout": "5.0", "javabench.mode": "robust", "javabench.timeout": "5.0"}
    with pytest.raises(UserError, match="the timeout of classeval must be a number of "
                                        "seconds, at least 0.1, got 'inf'"):
        resolve_options(names, {"timeout": "inf"}, ())


def test_missing_data_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "humaneval-pro").mkdir()
    proc = cli("run", "--out", str(tmp_path / "o"), data_dir=tmp_path, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "humaneval_pro.json not found" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_model_is_one_line(benchmarks, tmp_path):
    proc = cli("run", "--model", "gpt-17", "--limit", "1", "--out", str(tmp_path / "o"),
               data_dir=benchmarks, check=False)
    assert proc.returncode == 2 and "unknown model 'gpt-17'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_tasks_lists_every_task_with_variants():
    out = cli("tasks").stdout
    assert "humaneval-pro" in out and "[default, cot, 1shot]" in out
    assert "bigcodebench-lite-pro" in out and "mbpp-pro" in out
    descriptions = [line.index(" HumanEval Pro:" if "humaneval-pro " in line else " ClassEval:")
                    for line in out.splitlines()
                    if line.startswith(("humaneval-pro ", "classeval "))]
    assert len(set(descriptions)) == 1   # the description column is aligned


@pytest.mark.parametrize("content,message", [
    (b"\xff\xfe{}\n", "is not UTF-8 text (byte 0: b'\\xff')"),
    (b"", "holds no samples"),
    (b"\n  \n", "holds no samples"),
])
def test_unreadable_or_empty_samples_files_are_one_line_errors(benchmarks, tmp_path, content,
                                                                message):
    samples = tmp_path / "samples.jsonl"
    samples.write_bytes(content)
    proc = cli("evaluate", "--tasks", "humaneval-pro", "--samples", str(samples),
               "--out", str(tmp_path / "o"), data_dir=benchmarks, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and message in proc.stderr


def test_a_run_store_evaluates_again_and_partial_coverage_is_said(benchmarks, tmp_path):
    """codeeval's own samples.jsonl (one of solution/completion null) is a samples file; one
    covering 2 of 164 problems is scored on those two, with a warning."""
    first = tmp_path / "first"
    cli("run", "--tasks", "humaneval-pro", "--limit", "2", "--out", str(first),
        data_dir=benchmarks)
    assert any(s["solution"] is None for s in read_jsonl(first / "samples.jsonl"))
    proc = cli("evaluate", "--tasks", "humaneval-pro", "--samples", str(first / "samples.jsonl"),
               "--out", str(tmp_path / "again"), data_dir=benchmarks)
    assert "warning: humaneval-pro: the samples cover 2 of 164 problems" in proc.stderr
    summary = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert summary["tasks"]["humaneval-pro"]["metrics"]["pass@1"] == 1.0


def test_a_failed_start_leaves_the_out_folder_reusable(benchmarks, tmp_path):
    out = tmp_path / "run"
    proc = cli("run", "--model-args", "colour=blue", "--limit", "1", "--out", str(out),
               data_dir=benchmarks, check=False)
    assert proc.returncode == 2 and "takes no --model-args" in proc.stderr
    assert not (out / "config.json").exists()
    cli("run", "--limit", "1", "--out", str(out), data_dir=benchmarks)   # no --force needed


def test_a_missing_model_folder_is_named_as_such(benchmarks, tmp_path):
    proc = cli("run", "--model", f"hf:{tmp_path / 'nothing'}", "--limit", "1",
               "--out", str(tmp_path / "o"), data_dir=benchmarks, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: cannot load model '{tmp_path / 'nothing'}': no folder {tmp_path / 'nothing'} "
        "(name a model folder, a .gguf file, or a hub id such as "
        "Qwen/Qwen2.5-Coder-0.5B-Instruct)")


def test_help_is_h_and_every_flag_says_what_it_does():
    from codeeval.cli import cli as group
    for args in (["-h"], ["run", "-h"], ["evaluate", "-h"]):
        proc = subprocess.run(codeeval_cmd(*args), capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and proc.stdout.startswith("Usage: ")
        if args[0] in group.commands:   # grouped by purpose, no flag lost
            assert "Where programs run:" in proc.stdout and "Run store:" in proc.stdout
            for param in group.commands[args[0]].params:
                if isinstance(param, click.Option):
                    assert max(param.opts, key=len) in proc.stdout, param.name
    for name, command in group.commands.items():
        for sub in getattr(command, "commands", {name: command}).values():
            undocumented = [p.name for p in sub.params
                            if isinstance(p, click.Option) and not p.help]
            assert undocumented == [], (name, sub.name)


def test_several_greedy_samples_are_warned_about(benchmarks, tmp_path):
    said = "warning: --n-samples 2 at --temperature 0: greedy decoding gives the same answer"
    # said before the model loads (this one does not exist: the run then stops)
    proc = cli("run", "--model", f"hf:{tmp_path / 'no-model'}", "--n-samples", "2", "--limit",
               "1", "--out", str(tmp_path / "o"), data_dir=benchmarks, check=False)
    assert said in proc.stderr and proc.returncode == 2
    # the reference answers are not sampled: nothing to warn about
    proc = cli("run", "--n-samples", "2", "--limit", "1", "--out", str(tmp_path / "r"),
               data_dir=benchmarks)
    assert said not in proc.stderr


def test_tasks_all_runs_what_can_run_here_and_names_the_rest(benchmarks, tmp_path):
    out = tmp_path / "all"
    proc = cli("run", "--tasks", "all", "--limit", "1", "--out", str(out), data_dir=benchmarks)
    assert "skipped codeif: it is scored by a judge model: name one with --judge-model" \
        in proc.stderr
    assert "skipped codereval: codereval runs its programs in the authors' evaluation image" \
        in proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["tasks"]) == sorted(
        ["humaneval-pro", "mbpp-pro", "bigcodebench-lite-pro", "bigcodebench", "classeval",
         "multicodebench", "javabench"])


def test_the_libraries_checked_are_those_the_benchmarks_programs_import(benchmarks):
    """Read from each benchmark's own solutions and tests, so that ClassEval's PIL or
    BigCodeBench's tensorflow are checked before generation, not found missing after it."""
    from codeeval.tasks import get_task
    from codeeval.tasks.base import imported_modules
    from codeeval.tasks.sources import DataSource
    assert imported_modules("import os.path, numpy as np\nfrom PIL import Image\n"
                            "def f():\n    from . import x\n    import scipy.stats\n") == \
        {"os", "numpy", "PIL", "scipy"}
    assert imported_modules("def (:") == set()
    source = DataSource(benchmarks)
    required = {name: get_task(name, {}).required_modules(get_task(name, {}).load(source))
                for name in ("humaneval-pro", "classeval", "bigcodebench", "codereval")}
    assert required["humaneval-pro"] == []                   # the standard library only
    assert {"PIL", "nltk", "gensim", "docx", "numpy", "pandas"} <= set(required["classeval"])
    assert {"tensorflow", "cv2", "librosa", "sklearn"} <= set(required["bigcodebench"])
    assert not {"os", "unittest", "json"} & set(required["bigcodebench"])
    assert required["codereval"] == []      # its projects' modules: the image check covers them


# ClassEval's programs made to need a library no interpreter has, so the check must stop it.
NEEDS_A_MISSING_LIBRARY = (
    "from codeeval.cli import main\nfrom codeeval.tasks.classeval import ClassEval\n"
    "ClassEval.preload = ClassEval.preload + ('codeeval_no_such_library',)\nmain()\n")


def test_missing_libraries_stop_the_run_before_anything_is_generated(benchmarks, tmp_path):
    out = tmp_path / "run"
    args = ["run", "--tasks", "classeval", "--limit", "2", "--sandbox", "process", "--out",
            str(out), "--data-dir", str(benchmarks)]
    proc = subprocess.run([sys.executable, "-c", NEEDS_A_MISSING_LIBRARY, *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    error = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
    assert error == [proc.stderr.strip().splitlines()[-1]]
    assert error[0].startswith("error: classeval's programs import codeeval_no_such_library")
    assert "codeeval images build classeval" in error[0] and "--allow-missing-libraries" in error[0]
    assert not (out / "config.json").exists()        # nothing stored: --out stays reusable
    proc = subprocess.run([sys.executable, "-c", NEEDS_A_MISSING_LIBRARY, *args,
                           "--allow-missing-libraries"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "warning: classeval's programs import codeeval_no_such_library" in proc.stderr
