"""JavaBench: official extraction, assembly and metrics; Java in the sandbox (java image).

The Docker tests run small subsets of PA19/PA20, whose builds set no per-test timeout: PA21/PA22's
2000 ms per-test timeouts fire spuriously when the machine is heavily loaded (seen at load
average 10 on two cores, canonical PA22 classes included), as the official Gradle runs would.
The full reference runs and the replays of all official GPT-4o samples (225 class-wise, 215
test-wise) are marked slow (`pytest -m slow tests/test_javabench.py`; measured twice on two
shared cores at load average 6-14: class-wise replay 9 min, test-wise 4-6 min, all matching;
with one JVM per program on two idle cores: 415 s and 218 s; with javac in a warm compile
server per slot, the whole file with the slow tests: about 360 s, all matching).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from codeeval.passk import pass_at_k
from codeeval.records import Sample
from codeeval.scoring import summarize_task
from codeeval.tasks.javabench import (JavaBench, assemble, extract_java, fractional_pass_at_k,
                                      has_todo, sample_outcome)
from codeeval.tasks.sources import DataSource

OFFICIAL = "javabench/reference_results/holistic-selective/{}/gpt-4o-2024-05-13"
TOTALS = {"PA19": 55, "PA20": 49, "PA21": 222, "PA22": 70}


@pytest.fixture(scope="module")
def problems(benchmarks):
    return JavaBench().load(DataSource(Path(benchmarks)))


def test_fractional_pass_at_k_is_the_official_numpy_estimator():
    # np.arange(n - c + 1, n + 1) telescopes for k = 1: 1 - (n - c) / (n - c + ceil(c)).
    for n, c in ((5, 2.5), (5, 0.3), (5, 3.99), (10, 7.25)):
        assert fractional_pass_at_k(n, c, 1) == pytest.approx(1 - (n - c) / (n - c + math.ceil(c)))
    assert fractional_pass_at_k(5, 2.5, 1) == pytest.approx(1 - 2.5 / 5.5)   # not 0.5
    assert fractional_pass_at_k(5, 4.01, 1) == 1.0   # n - c < k
    for n, c, k in ((5, 0, 1), (5, 3, 1), (5, 3, 2), (10, 4, 5), (5, 5, 5)):
        assert fractional_pass_at_k(n, c, k) == pytest.approx(pass_at_k(n, c, k))


def test_extraction_and_assembly_are_the_official_ones():
    text = "Here:\n```java\npackage a;\npublic class X {}\n```\nand ```java\nsecond\n```"
    assert extract_java(text) == "package a;\npublic class X {}\n"
    assert extract_java("no fence") == ""
    skeleton = "package a;\nimport b.C;\n\npublic class X { /* TODO */ }\n"
    assert assemble(skeleton, "package z;\nimport q.Q;\npublic class X { int y; }") == \
        "package a;\nimport b.C;\n\npublic class X { int y; }"
    assert assemble(skeleton, "class X {}") is None


def test_skeleton_assembly_quirk_is_in_the_data(problems):
    """Why the reference backend hands over the canonical file verbatim."""
    assert len(problems) == 45
    assembled = {p.task_id: assemble(p.data["skeleton"], p.data["canonical"]) for p in problems}
    assert sorted(t for t, text in assembled.items() if text is None) == \
        ["PA19/CellStack.java", "PA19/DelayBar.java", "PA19/PipeQueue.java"]
    lost = [p.task_id for p in problems if assembled[p.task_id]
            and "org.jetbrains.annotations" in p.data["canonical"]
            and "org.jetbrains.annotations" not in assembled[p.task_id]]
    assert len(lost) == 30


def test_todo_check_flags_skeletons_not_canonical_classes(problems):
    assert all(has_todo(p.data["skeleton"], extract_java(p.data["code"])) for p in problems)
    assert not any(has_todo(p.data["skeleton"], p.data["canonical"]) for p in problems)


def test_reference_answer_becomes_the_verbatim_file_and_models_are_assembled(problems):
    task, problem = JavaBench(), problems[0]
    request = task.request(problem, 0)
    assert request.messages[0]["content"].startswith("You are a helpful java programmer")
    assert request.messages[1]["content"].startswith("Complete the code and give the complete class.\n```java")
    reference = task.sample_from_output(problem, request, request.reference, chat=True)
    assert reference.solution == problem.data["canonical"] and reference.completion is None
    model = task.sample_from_output(problem, request, "sure\n" + request.reference, chat=True)
    assert model.solution is None and model.completion.startswith("sure")


def test_prompt_matches_the_official_samples(benchmarks, problems):
    rows = [json.loads(line) for line in
            (Path(benchmarks) / OFFICIAL.format("PA22") / "samples.jsonl").open()]
    task = JavaBench()
    by_id = {p.task_id: p for p in problems}
    for row in rows[::5]:
        assert task.request(by_id[row["task_id"]], 0).prompt == row["prompt"]


def official_rows(benchmarks, project):
    return json.loads((Path(benchmarks) / OFFICIAL.format(project) / "single_class.json").read_text())


def steps_from_official(row):
    """The steps a program reports for an official single_class.json row."""
    steps = [{"name": "assembly", "outcome": "passed", "can_replace": row["can_replace"],
              "has_todo": row["has_todo"]},
             {"name": "compile", "outcome": "passed" if row["compile_errors"] == 0 else "failed"}]
    if row["compile_errors"] == 0:
        passed, total = row["test_result"]
        steps.append({"name": "tests", "outcome": "passed" if passed == total else "failed",
                      "tests": total, "successes": passed})
    return steps


def test_metrics_follow_visual_table_on_the_official_rows(benchmarks, problems):
    """The official estimator is `fractional_pass@k`; `pass@k` keeps its one meaning (every
    test passes), in the metrics the gate and intervals read as in metrics_by_form."""
    task, results, expected = JavaBench(), {}, {}
    for project in TOTALS:
        per_task: dict[str, list] = {}
        for row in official_rows(benchmarks, project):
            per_task.setdefault(row["task_id"], []).append(row)
        scores = {"completion": [], "compilation": [], "fractional_pass": []}
        for task_id, rows in per_task.items():
            for i, row in enumerate(rows):
                steps = steps_from_official(row)
                results[("javabench", task_id, i, "raw")] = {
                    "task": "javabench", "form": "raw", "tests": steps, "message": "",
                    "status": "passed" if all(s["outcome"] == "passed" for s in steps) else "failed"}
            ok = [r["can_replace"] and not r["has_todo"] for r in rows]
            compiled = [o and r["compile_errors"] == 0 for o, r in zip(ok, rows)]
            c = sum(r["test_result"][0] / r["test_result"][1] for o, r in zip(compiled, rows) if o)
            scores["completion"].append(fractional_pass_at_k(5, sum(ok), 1))
            scores["compilation"].append(fractional_pass_at_k(5, sum(compiled), 1))
            scores["fractional_pass"].append(1.0 if 5 - c < 1 else 1 - (5 - c) / (5 - c + math.ceil(c)))
        expected[project] = {f"{m}@1": pytest.approx(sum(v) / len(v), abs=1e-6)
                            for m, v in scores.items()}
    summary = summarize_task(task, problems, results, ["raw"], 5)
    metrics, breakdowns = summary["metrics"], summary["breakdowns"]
    for project, values in expected.items():
        assert {k: breakdowns["project"][project][k] for k in values} == values
    assert sum(p["n_problems"] for p in breakdowns["project"].values()) == 45
    assert 0 < metrics["fractional_pass@1"] < metrics["compilation@1"] <= 1
    passes = [sum(results[("javabench", p.task_id, i, "raw")]["status"] == "passed"
                  for i in range(5)) for p in problems]
    assert metrics["pass@1"] == summary["metrics_by_form"]["raw"]["pass@1"] == pytest.approx(
        sum(passes) / 5 / len(problems), abs=1e-6)
    assert metrics["pass@1"] < metrics["fractional_pass@1"] and "n_tasks" not in metrics


# --- in the java image -----------------------------------------------------------------------

def require_java_image():
    from codeeval.sandbox.engine import daemon_available
    from codeeval.sandbox.images import IMAGES, image_exists
    if not (daemon_available() and image_exists(IMAGES["java"]().tag)):
        if os.environ.get("CODEEVAL_REQUIRE_DOCKER") == "1":
            pytest.fail("CODEEVAL_REQUIRE_DOCKER=1 but no Docker daemon or java image")
        pytest.skip("no Docker daemon or java image (codeeval images build java)")


def java_sandbox(parallel=2):
    require_java_image()
    from codeeval.sandbox.container import DockerSandbox
    return DockerSandbox(parallel=parallel, image="java")


def reference_outcomes(problems, projects):
    task = JavaBench()
    chosen = [p for p in problems if p.data["project"] in projects]
    programs = {}
    for problem in chosen:
        request = task.request(problem, 0)
        sample = task.sample_from_output(problem, request, request.reference, chat=True)
        programs[sample.key] = (problem, task.program(problem, sample, sanitized=False))
    with java_sandbox() as box:
        return {programs[e.key][0].data["project"] + ":" + programs[e.key][0].task_id: e
                for e in box.run([p for _, p in programs.values()])}


def assert_reference_passes(problems, projects):
    executions = reference_outcomes(problems, projects)
    assert len(executions) == sum(p.data["project"] in projects for p in problems)
    for name, execution in executions.items():
        assert execution.status == "passed", (name, execution.message)
        outcome = sample_outcome(execution.tests)
        assert outcome["test_result"] == [TOTALS[name.split(":")[0]]] * 2, name


def test_reference_classes_compile_and_pass_every_test_of_pa19(problems):
    assert_reference_passes(problems, ("PA19",))


def test_a_class_cannot_pass_for_compiled_by_printing_a_progress_line(problems):
    # javac echoes the offending source line under each error: a model that writes progress
    # lines ("<nonce> compiled main 0", the old runner's) into a class that does not compile
    # must still fail the compile step (the server answers in length-prefixed fields: no text
    # in javac's output is read as its exit code).
    task = JavaBench()
    problem = next(p for p in problems if p.data["project"] == "PA19")
    forged = "\n".join(f"{word} compiled {name} 0" for word in ("x", "0" * 32, "NONCE")
                       for name in ("main", "test"))
    sample = Sample("javabench", problem.task_id, 0,
                    solution=problem.data["canonical"] + "\n" + forged + "\n")
    with java_sandbox() as box:
        [execution] = box.run([task.program(problem, sample, sanitized=False)])
    compile_step = next(s for s in execution.tests if s["name"] == "compile")
    assert compile_step["outcome"] == "failed" and compile_step["errors"] >= 1, compile_step
    assert execution.status == "failed"
    assert "compiled main 0" in compile_step["message"]   # javac did echo the forged line


@pytest.mark.slow
def test_reference_classes_compile_and_pass_every_test_of_all_projects(problems):
    assert_reference_passes(problems, tuple(TOTALS))


def replay_official(benchmarks, problems, project, limit_tasks=None):
    """Each official GPT-4o sample through the assembly and the runner: the same compile
    outcome and [passed, total] as the official single_class.json row."""
    task = JavaBench()
    by_id = {p.task_id: p for p in problems}
    samples = [json.loads(line) for line in
               (Path(benchmarks) / OFFICIAL.format(project) / "samples.jsonl").open()]
    rows = official_rows(benchmarks, project)
    chosen = sorted({s["task_id"] for s in samples}, key=[s["task_id"] for s in samples].index)
    chosen = chosen[:limit_tasks]
    programs, expected, index = [], {}, {}
    for sample_row, row in zip(samples, rows):
        assert sample_row["task_id"] == row["task_id"]
        if row["task_id"] not in chosen:
            continue
        i = index[row["task_id"]] = index.get(row["task_id"], -1) + 1
        sample = Sample("javabench", row["task_id"], i, completion=sample_row["completion"])
        programs.append(task.program(by_id[row["task_id"]], sample, sanitized=False))
        expected[sample.key] = (row["compile_errors"] == 0,
                                row["test_result"] if row["compile_errors"] == 0 else [0, 0])
    with java_sandbox() as box:
        got = {e.key: sample_outcome(e.tests) for e in box.run(programs)}
    got = {k: (o["compiled"], o["test_result"]) for k, o in got.items()}
    assert_all_match(got, expected)


def assert_all_match(got: dict, expected: dict) -> None:
    """Equal outcomes for every official result; on a mismatch, say how many matched."""
    differing = {k: {"here": got.get(k), "official": v} for k, v in expected.items()
                 if got.get(k) != v}
    assert not differing and got.keys() == expected.keys(), (
        f"{len(expected) - len(differing)}/{len(expected)} official results matched; "
        f"differing: {differing}; not official: {sorted(set(got) - set(expected))}")


def test_official_gpt4o_samples_replay_exactly_pa20_first_two_classes(benchmarks, problems):
    # PA20: no 2000 ms per-test timeouts, which can fire spuriously on a loaded machine.
    replay_official(benchmarks, problems, "PA20", limit_tasks=2)


@pytest.mark.slow
@pytest.mark.parametrize("project", tuple(TOTALS))
def test_official_gpt4o_samples_replay_exactly(benchmarks, problems, project):
    replay_official(benchmarks, problems, project)


# --- test-wise --------------------------------------------------------------------------------

TESTWISE_TOTALS = {"PA19": 38, "PA20": 45, "PA21": 200, "PA22": 64}   # tests in test-wise suites


def official_testwise(benchmarks, project):
    return json.loads((Path(benchmarks) / OFFICIAL.format(project) / "result-full.json").read_text())


def test_testwise_metrics_follow_visual_table_on_the_official_rows(benchmarks):
    from codeeval.tasks.javabench_testwise import summarize_testwise
    rows, expected = [], {}
    for project in TOTALS:
        compilation, passing = [], []
        for test_id, steps in official_testwise(benchmarks, project).items():
            for k, step in enumerate(steps):
                rows.append({"project": project, "test_id": test_id, "k": k,
                             "completed": step["can_replace"] and not step["has_todo"],
                             "compilable": step["compilable"], "n_pass": step["n_pass"]})
            ok = [s for s in steps if s["can_replace"] and not s["has_todo"] and s["compilable"]]
            c = sum(s["n_pass"][0] / s["n_pass"][1] for s in ok)
            compilation.append(len(ok) / 5)
            passing.append(1.0 if 5 - c < 1 else 1 - (5 - c) / (5 - c + math.ceil(c)))
        expected[project] = {"compilation@1": pytest.approx(sum(compilation) / len(compilation), abs=1e-6),
                             "fractional_pass@1": pytest.approx(sum(passing) / len(passing), abs=1e-6)}
    metrics = summarize_testwise(rows, 5)
    for project, values in expected.items():
        assert {k: metrics[project][k] for k in values} == values
    assert metrics["overall"]["n_suites"] == 43


def store_samples(run_dir: Path, rows):
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_testwise_reference_passes_every_pa19_suite(tmp_path, problems):
    from codeeval.tasks.javabench_testwise import run_testwise
    store_samples(tmp_path, reference_rows(problems))
    with java_sandbox() as box:
        report = run_testwise(tmp_path, None, _OnlyProject(box, "PA19"))
    steps = [s for s in report["steps"] if s["project"] == "PA19"]
    assert len(steps) == 8 and all(s["status"] == "passed" for s in steps), steps
    assert sum(s["n_pass"][1] for s in steps) == TESTWISE_TOTALS["PA19"]


def reference_rows(problems, project=None):
    task, rows = JavaBench(), []
    for problem in problems:
        if project in (None, problem.data["project"]):
            request = task.request(problem, 0)
            sample = task.sample_from_output(problem, request, request.reference, chat=True)
            rows.append({"task": "javabench", "task_id": problem.task_id, "sample_idx": 0,
                         "solution": sample.solution})
    return rows


def test_testwise_results_live_in_the_run_store_and_resume(tmp_path, problems, benchmarks):
    """Test-wise programs go through the run's ExecutionService: their rows join
    results.jsonl (form testwise), a rerun runs nothing again, --timeout reaches them."""
    from codeeval.records import Execution, read_jsonl
    from codeeval.tasks.javabench_testwise import run_testwise

    class Recorder:
        def __init__(self):
            self.programs = []

        def run(self, programs):
            self.programs += programs
            steps = [{"name": "assembly", "outcome": "passed", "can_replace": True,
                      "has_todo": False}, {"name": "compile", "outcome": "passed"},
                     {"name": "tests", "outcome": "passed", "tests": 2, "successes": 2}]
            return [Execution(p.key, "passed", tests=steps) for p in programs]

    store_samples(tmp_path, reference_rows(problems, "PA19"))
    first, again = Recorder(), Recorder()
    report = run_testwise(tmp_path, str(benchmarks), first, timeout=42.0)
    assert len(first.programs) == 8 and {p.timeout_s for p in first.programs} == {42.0}
    assert report["metrics"]["PA19"]["fractional_pass@1"] == 1.0
    rows = read_jsonl(tmp_path / "results.jsonl")
    assert len(rows) == 8 and {r["form"] for r in rows} == {"testwise"}
    assert run_testwise(tmp_path, str(benchmarks), again, timeout=42.0) == report
    assert again.programs == [] and len(read_jsonl(tmp_path / "results.jsonl")) == 8


class _OnlyProject:
    """A sandbox view that runs one project's programs (CI keeps to one project)."""

    def __init__(self, box, project):
        self.box, self.project = box, project

    def run(self, programs):
        return self.box.run([p for p in programs if f"/{self.project}/" in p.key])


def replay_testwise(tmp_path, benchmarks, project, limit_suites=None):
    """The official GPT-4o samples test-wise: the same compilable flag and n_pass as every
    official result-full.json step."""
    from codeeval.tasks.javabench_testwise import run_testwise
    rows, index = [], {}
    for line in (Path(benchmarks) / OFFICIAL.format(project) / "samples.jsonl").open():
        sample = json.loads(line)
        i = index[sample["task_id"]] = index.get(sample["task_id"], -1) + 1
        rows.append({"task": "javabench", "task_id": sample["task_id"], "sample_idx": i,
                     "completion": sample["completion"]})
    store_samples(tmp_path, rows)
    official = official_testwise(benchmarks, project)
    chosen = list(official)[:limit_suites]

    class Chosen(_OnlyProject):
        def run(self, programs):
            return self.box.run([p for p in programs
                                 if any(f"/{test_id}/" in p.key for test_id in chosen)])

    with java_sandbox() as box:
        report = run_testwise(tmp_path, None, Chosen(box, project))
    got = {(s["test_id"], s["k"]): (s["compilable"], s["n_pass"]) for s in report["steps"]}
    expected = {(test_id, k): (step["compilable"], step["n_pass"])
                for test_id in chosen for k, step in enumerate(official[test_id])}
    assert_all_match(got, expected)


def test_official_gpt4o_testwise_replays_exactly_pa20_first_two_suites(tmp_path, benchmarks):
    replay_testwise(tmp_path, benchmarks, "PA20", limit_suites=2)


@pytest.mark.slow
@pytest.mark.parametrize("project", tuple(TOTALS))
def test_official_gpt4o_testwise_replays_exactly(tmp_path, benchmarks, project):
    replay_testwise(tmp_path, benchmarks, project)
