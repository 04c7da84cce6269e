"""`codeeval run --model hf:DIR` end to end on a tiny model saved by the test."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from codeeval.records import read_jsonl
from conftest import codeeval_cmd
from tinymodels import save_tiny_model


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {"chat": save_tiny_model(root / "chat", "llama"),
            "base": save_tiny_model(root / "base", "qwen2", chat_template=False)}


def run(*args, timeout=600):
    return subprocess.run(codeeval_cmd("run", *args), capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def samples(out):
    return read_jsonl(out / "samples.jsonl")


def test_hf_run_end_to_end_then_resume_sends_nothing_twice(model_dirs, benchmarks, tmp_path):
    out = tmp_path / "run"
    args = ("--model", f"hf:{model_dirs['base']}", "--tasks", "humaneval-pro", "--limit", "5",
            "--max-new-tokens", "24", "--n-samples", "2", "--temperature", "0.8", "--seed", "3",
            "--model-args", "share_min_tokens=8,max_batch_tokens=4000", "--out", str(out),
            "--data-dir", str(benchmarks))
    proc = run(*args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    first = samples(out)
    assert sorted((s["task_id"], s["sample_idx"]) for s in first) == \
        sorted((str(i), j) for i in range(5) for j in range(2))
    assert all(s["completion"] is not None and s["solution"] is None for s in first)  # no template
    summary = json.loads((out / "summary.json").read_text())
    task = summary["tasks"]["humaneval-pro"]
    assert task["n_samples"] == 10 and 0.0 <= task["metrics"]["pass@1"] <= 1.0
    assert summary["config"]["model_args"] == {"share_min_tokens": "8",
                                               "max_batch_tokens": "4000"}
    assert len(read_jsonl(out / "results.jsonl")) == 10
    # each sample says how its answer ended; the summary and the table count them
    assert all(s["finish_reason"] in ("stop", "length") and 1 <= s["tokens"] <= 24
               for s in first)
    answers = task["answers"]
    assert answers["samples"] == 10 and answers["tokens"] == sum(s["tokens"] for s in first)
    assert sum(answers["finish_reasons"].values()) == 10
    assert "tokens/answer" in proc.stdout and "cut at cap" in proc.stdout
    assert f"({summary['timing']['tokens_generated']} tokens, " in proc.stdout   # time per phase
    capped = answers["finish_reasons"].get("length", 0)
    assert (f"{capped} of 10 answers stopped at the token cap" in proc.stderr) == bool(capped)
    # `show` finds the run's data where the run read it (no --data-dir, no environment)
    shown = subprocess.run(codeeval_cmd("show", str(out), "3", "--sample", "1"),
                           capture_output=True, text=True, timeout=120,
                           env={k: v for k, v in os.environ.items() if k != "CODEEVAL_DATA_DIR"})
    ended = next(s for s in first if (s["task_id"], s["sample_idx"]) == ("3", 1))
    assert f"-- answer ended: {ended['finish_reason']} after {ended['tokens']} tokens" in \
        shown.stdout, shown.stderr
    # a resumed run regenerates nothing, and says it resumes
    (out / "summary.json").unlink()
    proc = run(*args)
    assert proc.returncode == 0 and "resuming" in proc.stderr
    assert samples(out) == first
    # more problems and samples: only the new ones are generated, the old ones kept as they are
    grown = [a for a in args if a not in ("5", "2")]
    grown[grown.index("--limit") + 1:grown.index("--limit") + 1] = ["7"]
    grown[grown.index("--n-samples") + 1:grown.index("--n-samples") + 1] = ["3"]
    proc = run(*grown)
    assert proc.returncode == 0, proc.stderr[-2000:]
    now = samples(out)
    assert now[:10] == first and len(now) == 21
    assert json.loads((out / "summary.json").read_text())["tasks"]["humaneval-pro"][
        "n_samples"] == 21
    assert len(read_jsonl(out / "results.jsonl")) == 21
    # and back to the first scope: nothing runs, the summary covers that scope only
    proc = run(*args)
    assert proc.returncode == 0 and samples(out) == now
    assert "21 samples stored, 10 of them in this run's scope" in proc.stderr
    task = json.loads((out / "summary.json").read_text())["tasks"]["humaneval-pro"]
    assert task["n_samples"] == 10 and task["answers"]["samples"] == 10
    assert sum(task["breakdowns"]["status"]["raw"].values()) == 10


def test_chat_template_is_used_when_the_tokenizer_has_one(model_dirs, benchmarks, tmp_path):
    out = tmp_path / "chat"
    proc = run("--model", str(model_dirs["chat"]), "--tasks", "humaneval-pro", "--limit", "2",
               "--max-new-tokens", "8", "--out", str(out), "--data-dir", str(benchmarks))
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = samples(out)
    assert len(rows) == 2 and all(s["solution"] is not None for s in rows)   # chat form
    summary = json.loads((out / "summary.json").read_text())
    assert summary["provenance"]["backend"]["chat"] is True


@pytest.mark.parametrize("args,message", [
    (("--model-args", "colour=blue"), "unknown --model-args for hf: colour"),
    (("--model-args", "dtype"), "expects key=value"),
    (("--model-args", "max_batch_tokens=x"), "max_batch_tokens must be an integer"),
])
def test_bad_model_args_are_one_line_errors(model_dirs, benchmarks, tmp_path, args, message):
    proc = run("--model", f"hf:{model_dirs['base']}", *args, "--limit", "1",
               "--out", str(tmp_path / "x"), "--data-dir", str(benchmarks))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_model_is_a_one_line_error(benchmarks, tmp_path):
    proc = run("--model", f"hf:{tmp_path / 'nothing'}", "--limit", "1",
               "--out", str(tmp_path / "x"), "--data-dir", str(benchmarks))
    assert proc.returncode == 2 and "cannot load model" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_debug_rounds_with_a_tiny_hf_model(model_dirs, benchmarks, tmp_path):
    """The LDB loop end to end on the hf backend: the tiny model fixes nothing, but every
    failing sample is traced, asked about, re-run, and pass@1 is reported per round."""
    out = tmp_path / "debug"
    proc = run("--model", f"hf:{model_dirs['base']}", "--tasks", "humaneval-pro", "--limit", "3",
               "--max-new-tokens", "16", "--debug-rounds", "1", "--out", str(out),
               "--data-dir", str(benchmarks))
    assert proc.returncode == 0, proc.stderr[-2000:]
    task = json.loads((out / "summary.json").read_text())["tasks"]["humaneval-pro"]
    assert len(task["debug"]["pass@1_by_round"]) == 2
    debug = read_jsonl(out / "debug.jsonl")
    failing = [r for r in read_jsonl(out / "results.jsonl")
               if r["form"] == "raw" and r["status"] != "passed"]
    assert len(debug) == len(failing) > 0
    assert all(r["round"] == 1 and "reply" in r for r in debug)
    forms = {r["form"] for r in read_jsonl(out / "results.jsonl")}
    assert forms == {"raw", "trace1", "debug1"}   # the traced visible tests are stored too
    # the leaderboard's drill-down shows each failing sample's repair round
    from codeeval.reports.leaderboard import render
    from codeeval.rundata import find_runs
    html = render(find_runs([out]), max_failing_samples=1)
    assert html.count('<details class="repair"><summary>repair round 1:') == len(failing)
    traced = sum(bool(r.get("trace")) for r in debug)
    assert html.count("trace shown to the model") == traced
    assert html.count("No trace: the program did not reach") == len(debug) - traced
    assert "answer ended: " in html and html.count("reply ended: ") == len(debug)


def test_chat_answers_are_cut_at_the_chat_stop_strings_not_the_completion_ones(tmp_path):
    """A chat request is cut at its `chat_stop` strings, never at its completion `stop` strings.
    The stops are built from the model's own uncut answer, so the check does not depend on what
    a random-weight model happens to write."""
    import torch

    from codeeval.generation import GenerationConfig, make_backend
    from codeeval.records import Request
    from tinymodels import byte_tokenizer, tiny_model

    model = tiny_model("llama")
    with torch.no_grad():   # EOS never wins the greedy choice: the answer has all 24 tokens
        model.lm_head.weight[model.config.eos_token_id] = 0.0
    model.save_pretrained(tmp_path)
    byte_tokenizer().save_pretrained(tmp_path)
    backend = make_backend(f"hf:{tmp_path}", GenerationConfig(max_new_tokens=24))
    messages = ({"role": "user", "content": "Write add(a, b)."},)

    def generation(**stops):
        request = Request("t", "0", 0, prompt="x", messages=messages, **stops)
        return next(iter(backend.generate([request])))[1]

    def answer(**stops) -> str:
        return generation(**stops).text

    whole = answer()
    assert whole
    every_char = tuple(set(whole))
    assert answer(stop=every_char, chat_stop=()) == whole
    assert answer(stop=(), chat_stop=every_char) == ""
    assert answer(stop=every_char) == ""    # no chat_stop: the completion stops apply
    # what the run stores per sample: tokens generated and why the answer ended
    capped, stopped = generation(), generation(chat_stop=every_char)
    assert (capped.tokens, capped.finish_reason) == (24, "length")
    assert stopped.finish_reason == "stop" and 1 <= stopped.tokens < 24
