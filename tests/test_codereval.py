"""CoderEval: prompts from Input4Models, samples, and pass@k per level from recorded verdicts.

The official ChatGPT result files carry each sample's verdict from the authors' image; scored
through the task's scoring path they must give what the authors' formula gives directly. The
protocol itself runs in tests/test_codereval_protocol.py (a mini image with the same layout).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from codeeval.missing_samples import count_missing_as_failures
from codeeval.sandbox.engine import daemon_available
from codeeval.scoring import summarize_task
from codeeval.tasks import get_task
from codeeval.tasks.codereval import CANONICAL, LEVELS, close_java_method
from codeeval.tasks.sources import DataSource
from conftest import codeeval_cmd, with_variant

N = 10   # samples per task in the official results


def load(benchmarks, language):
    task = get_task("codereval", {"language": language})
    return task, task.load(DataSource(Path(benchmarks)))


def official(benchmarks, language, variant):
    path = Path(benchmarks) / "codereval/reference_results" / language / \
        f"ChatGPT_{variant}_Input_out.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def authors_pass_at_k(n, c, k):
    """The authors' per-task term: 1 - prod(1 - k / arange(n - c + 1, n + 1)), 1 if n - c < k."""
    if n - c < k:
        return 1.0
    value = 1.0
    for i in range(n - c + 1, n + 1):
        value *= 1.0 - k / i
    return 1.0 - value


@pytest.mark.parametrize("language", ["python", "java"])
def test_prompts_are_the_official_inputs_for_both_variants(benchmarks, language):
    task, problems = load(benchmarks, language)
    assert len(problems) == 230
    assert {p.meta["level"] for p in problems} == set(LEVELS)
    stem = "Python" if language == "python" else "Java"
    for variant, name in (("raw", "Raw"), ("human-label", "HumanLabel")):
        path = Path(benchmarks) / f"codereval/Input4Models/CE{stem}{name}.jsonl"
        inputs = {row["question_id"]: row["input"]
                  for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
        for problem in problems:
            assert with_variant(task, variant).request(problem, 0).prompt == inputs[problem.task_id]
    first = problems[0]
    assert task.request(first, 0).prompt == first.data["prompts"]["raw"]
    assert first.data["prompts"]["raw"] != first.data["prompts"]["human-label"]
    if language == "python":
        assert first.data["prompts"]["raw"].startswith("def hydrate_time(nanoseconds, tz=None):")
    else:
        assert first.data["prompts"]["raw"].startswith("/**")


def test_samples_become_whole_functions(benchmarks):
    raw, problems = load(benchmarks, "python")
    problem, task = problems[0], with_variant(raw, "human-label")
    human = task.request(problem, 0)
    sample = task.sample_from_output(problem, human, "return Time(nanoseconds)\n", chat=False)
    assert task.function(problem, sample) == human.prompt + "return Time(nanoseconds)\n"
    # the prompt a completion continues is the run's variant's (-T codereval.prompt_variant)
    assert raw.function(problem, sample) == raw.request(problem, 0).prompt + sample.completion
    chat = task.sample_from_output(problem, human, "Sure:\n```python\ndef hydrate_time(n):\n    pass\n```",
                                   chat=True)
    assert task.function(problem, chat) == "def hydrate_time(n):\n    pass\n"
    reference = task.sample_from_output(problem, human, human.reference, chat=False)
    assert reference.solution == CANONICAL and task.function(problem, reference) is None
    assert close_java_method("int f(){", "\n  if (x) { return 1; }\n  return 2;\n}\nint g(){}") \
        == "int f(){\n  if (x) { return 1; }\n  return 2;\n}"
    assert close_java_method("int f(){", " return 1;") == "int f(){ return 1;\n}"


@pytest.mark.parametrize("language", ["python", "java"])
def test_official_result_files_are_samples_for_evaluate(benchmarks, tmp_path, language):
    """`codeeval evaluate --samples <official result file>`: each row's `generate_results`
    become that task's samples, in order, each a whole function that replaces the original."""
    from codeeval.pipeline import store_external_samples
    from codeeval.store import SAMPLES, RunStore
    task, problems = load(benchmarks, language)
    rows = official(benchmarks, language, "Raw")
    store = RunStore(tmp_path / "run")
    store.open({}, "run", force=False)
    chosen = {task.name: problems}
    path = Path(benchmarks) / "codereval/reference_results" / language / \
        "ChatGPT_Raw_Input_out.jsonl"
    store_external_samples(store, [task], chosen, path)
    samples = store.read(SAMPLES)
    assert len(samples) == sum(len(row["generate_results"]) for row in rows)
    first = rows[0]
    mine = [s for s in samples if s["task_id"] == first["_id"]]
    assert [s["solution"] for s in sorted(mine, key=lambda s: s["sample_idx"])] == \
        [result["generate_code"] for result in first["generate_results"]]
    assert len(chosen[task.name]) == len(rows)


# pass@1/5/10 (%) of the official ChatGPT result files, as published (n = 10)
PUBLISHED = {("python", "Raw"): (21.04, 27.31, 30.00),
             ("python", "HumanLabel"): (26.61, 31.31, 32.61),
             ("java", "Raw"): (35.39, 42.77, 46.09), ("java", "HumanLabel"): (26.96, 34.85, 37.39)}


@pytest.mark.parametrize("language", ["python", "java"])
@pytest.mark.parametrize("variant", ["Raw", "HumanLabel"])
def test_pass_at_k_per_level_of_the_official_chatgpt_results(benchmarks, language, variant,
                                                              capsys):
    """Each recorded verdict as a stored result, scored as `evaluate` scores them: the
    authors' runner drops a sample whose validation timed out and still divides by 10, and
    so does codeeval, counting a missing sample as a failed one."""
    task, problems = load(benchmarks, language)
    rows = official(benchmarks, language, variant)
    results, samples, direct = {}, {}, {}
    for row in rows:
        verdicts = [r["is_pass"] for r in row["generate_results"]]
        for i, passed in enumerate(verdicts):
            samples[("codereval", row["_id"], i)] = {}
            results[("codereval", row["_id"], i, "raw")] = {
                "task": "codereval", "task_id": row["_id"], "sample_idx": i, "form": "raw",
                "status": "passed" if passed else "failed", "message": "", "tests": []}
        level = row.get("level") or row.get("code_level")
        direct.setdefault(level, []).append(sum(verdicts))
    short = [row["_id"] for row in rows if len(row["generate_results"]) < N]
    count_missing_as_failures(results, [task], {task.name: problems}, samples, ["raw"])
    warning = capsys.readouterr().err.strip().splitlines()
    if short:   # Python: 6306292352e177c0ba469f1d has 9 samples in both files
        assert short == ["6306292352e177c0ba469f1d"] and language == "python"
        assert warning == ["warning: codereval: 1 of 230 problems have fewer than 10 samples "
                           "(1 missing); each missing sample counts as a failure"]
    else:
        assert warning == []
    summary = summarize_task(task, problems, results, ["raw"], N)
    everything = [c for counts in direct.values() for c in counts]
    for k, published in zip((1, 5, 10), PUBLISHED[(language, variant)]):
        expected = sum(authors_pass_at_k(N, c, k) for c in everything) / len(everything)
        assert summary["metrics"][f"pass@{k}"] == pytest.approx(expected, abs=1e-6)
        assert round(100 * summary["metrics"][f"pass@{k}"], 2) == published
        for level, counts in direct.items():
            expected = sum(authors_pass_at_k(N, c, k) for c in counts) / len(counts)
            assert summary["breakdowns"]["level"][level][f"pass@{k}"] == \
                pytest.approx(expected, abs=1e-6)
    assert {level: v["n_problems"] for level, v in summary["breakdowns"]["level"].items()} == \
        {level: len(counts) for level, counts in direct.items()}
    assert all(n == N for n, _ in summary["per_problem"]["raw"].values())


def test_without_the_image_run_says_what_to_load(tmp_path, benchmarks):
    for extra in ([], ["--codereval-image", "codeeval-test/absent:0"],
                  ["--codereval-image", "Not A Name"]):
        proc = subprocess.run(codeeval_cmd("run", "--tasks", "codereval", "--limit", "1",
                                           "--out", str(tmp_path / "o"), "--data-dir",
                                           str(benchmarks), *extra),
                              capture_output=True, text=True)
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ")
        if not extra or daemon_available():   # (with no daemon, the line says to start one)
            assert "docker load" in lines[0] and "--codereval-image" in lines[0]
        assert not (tmp_path / "o" / "samples.jsonl").exists()


def test_unknown_language_and_a_process_sandbox_are_user_errors():
    from codeeval.errors import UserError
    from codeeval.sandbox import make_sandbox
    with pytest.raises(UserError, match="python, java"):
        get_task("codereval", {"language": "go"})
    image = get_task("codereval", {"codereval_image": "codereval:latest"}).image
    with pytest.raises(UserError, match="use --sandbox docker"):
        make_sandbox("process", image=image)

