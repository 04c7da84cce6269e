"""JavaBench's method-by-method strategies (independent, incremental): upstream's method
numbering, one-method prompts and body splicing, the rounds through the pipeline, and (in the
java image) classes built from canonical method answers passing their suites."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeeval import pipeline
from codeeval.generation.reference import ReferenceBackend
from codeeval.records import Generation
from codeeval.store import ROUNDS, SAMPLES, RunStore
from codeeval.tasks.javabench import JavaBench, extract_java, has_todo, sample_outcome
from codeeval.tasks.javabench_methods import replace_body, retain_todo, todo_methods
from codeeval.tasks.sources import DataSource
from conftest import converse, with_variant

CLASS = """```java
package p;

public class A {
    public A() {
        // TODO
    }

    abstract void bodyless();

    int f(int x) {
        // TODO
        return 0;
    }

    int f(String s) {
        /* TODO: a block comment does not make a TODO method */
        return 1;
    }

    int f(long y) {
        // TODO
        Runnable r = new Runnable() { public void run() { } };
        return 2;
    }
}
```"""


def test_todo_methods_are_numbered_per_name_over_all_methods():
    found = [(m.name, m.seq) for m in todo_methods(CLASS)]
    assert found == [("A", 0), ("f", 0), ("f", 2)]   # f(String) counts, but has no // TODO


def test_retain_todo_empties_every_other_todo_body():
    kept = retain_todo(CLASS, "f", 2)
    assert "public A() {}" in kept and "int f(int x) {}" in kept
    assert "/* TODO: a block comment" in kept                  # not a TODO method: untouched
    assert "// TODO\n        Runnable r" in kept               # the kept method's body
    assert [(m.name, m.seq) for m in todo_methods(kept)] == [("f", 2)]


def test_replace_body_takes_the_same_overload_of_the_answer():
    answer = extract_java("Here:\n```java\nclass A {\n  int f(int x) { return x; }\n"
                          "  int f(String s) { return 9; }\n  int f(long y) { return 7; }\n}\n```")
    replaced = replace_body(CLASS, answer, "f", 2)
    assert "int f(long y) { return 7; }" in replaced
    assert "int f(int x) {\n        // TODO" in replaced      # the others stay as they were
    # no such method in the answer, or a broken body there: the class is unchanged
    assert replace_body(CLASS, "class A { int g() { return 1; } }", "f", 0) == CLASS
    assert replace_body(CLASS, "class A { int f(int x) { return x +; } }", "f", 0) == CLASS
    assert replace_body(CLASS, answer, "missing", 0) == CLASS


@pytest.fixture(scope="module")
def problems(benchmarks):
    return {p.task_id: p for p in JavaBench().load(DataSource(Path(benchmarks)))}


def method_answer(request, canonical: str) -> str:
    """A model that completes just the TODO method of the prompt's class with the canonical
    body (every other method as the prompt shows it), in a chat-style answer."""
    shown = extract_java(request.messages[1]["content"])
    [target] = todo_methods(shown)
    return "Sure:\n```java\n" + replace_body(shown, canonical, target.name, target.seq) + "```\n"


def test_every_todo_method_is_one_round(problems):
    task = JavaBench()
    rounds = {v: [len(converse(with_variant(task, v), p, lambda _: "")[0])
                  for p in problems.values()]
              for v in ("independent", "holistic")}
    assert sum(rounds["independent"]) == 160 and set(rounds["holistic"]) == {1}


def test_independent_prompts_start_from_the_skeleton_incremental_from_the_answers(problems):
    task, problem = JavaBench(), problems["PA19/Pipe.java"]
    canonical = problem.data["canonical"]
    texts: dict[str, list[str]] = {"independent": [], "incremental": []}
    samples = {}
    for variant, answers in texts.items():
        def answer(request, answers=answers):
            assert request.round == len(answers)
            assert request.messages[0] == task.request(problem, 0).messages[0]
            assert request.messages[1]["content"].startswith(
                "Complete the code and give the complete class.\n```java\npackage game.pipes;")
            answers.append(method_answer(request, canonical))
            return answers[-1]
        samples[variant] = converse(with_variant(task, variant), problem, answer, chat=True)[1]
    third = {v: with_variant(task, v).request(problem, 0, tuple(a[:2])).messages[1]["content"]
             for v, a in texts.items()}
    assert "public void setFilled() {}" in third["independent"]
    assert "public void setFilled() {\n        filled = true;\n    }" in third["incremental"]
    for prompt in third.values():   # the third method is the one left to do
        assert "public boolean getFilled() {\n        // TODO" in prompt
        assert "public Direction[] getConnections() {}" in prompt
    for sample in samples.values():
        code = extract_java(sample.completion)
        assert not todo_methods(sample.completion) and not has_todo(problem.data["skeleton"], code)
        assert "return shape.getCharByState(filled);" in code


def test_unanswered_methods_keep_their_todo_and_reference_answers_the_file(problems):
    task, problem = JavaBench(), problems["PA19/FillableCell.java"]
    first = with_variant(task, "independent").request(problem, 0)
    texts = iter([method_answer(first, problem.data["canonical"]), "I cannot do that."])
    _, sample = converse(with_variant(task, "independent"), problem, lambda _: next(texts),
                         chat=True)
    assert [m.name for m in todo_methods(sample.completion)] == ["toSingleChar"]
    assert has_todo(problem.data["skeleton"], extract_java(sample.completion))
    _, sample = converse(with_variant(task, "incremental"), problem,
                         lambda request: request.reference, chat=True)
    assert sample.solution == problem.data["canonical"]


class MethodAnswers(ReferenceBackend):
    """Answers each method round with the canonical body; records the batches."""
    batches: list[list[int]] = []

    def generate(self, requests):
        if requests:
            type(self).batches.append([r.round for r in requests])
        for request in requests:
            yield request, Generation(method_answer(request, request.reference))


def run_with_method_answers(monkeypatch, benchmarks, out, variant, task_ids):
    MethodAnswers.batches = []
    monkeypatch.setattr(pipeline, "make_backend",
                        lambda spec, config, options=None: MethodAnswers(spec, config))
    load = JavaBench.load
    monkeypatch.setattr(JavaBench, "load", lambda self, source: [
        p for p in load(self, source) if p.task_id in task_ids])
    config = pipeline.RunConfig(model="reference", tasks=("javabench",),
                                task_options=(("javabench", "prompt_variant", variant),),
                                sandbox="docker")
    return pipeline.run_pipeline(config, out, source=DataSource(Path(benchmarks)))


def test_rounds_run_as_batches_across_classes(monkeypatch, benchmarks, tmp_path):
    task = JavaBench(prompt_variant="incremental")
    chosen = task.load(DataSource(Path(benchmarks)))[:3]   # with 1, 2 and 3 TODO methods
    store = RunStore(tmp_path)
    store.open({}, "test", force=False)
    MethodAnswers.batches = []
    config = pipeline.RunConfig(model="reference", tasks=("javabench",))
    pipeline.generate(store, MethodAnswers("reference", config.generation), [task],
                      {"javabench": chosen}, config)
    assert MethodAnswers.batches == [[0, 0, 0], [1, 1], [2]]
    samples = {s["task_id"]: s for s in store.read(SAMPLES)}
    for problem in chosen:   # the one-method class too went through the method assembly
        assert samples[problem.task_id]["completion"].startswith("```java\npackage")
        assert not todo_methods(samples[problem.task_id]["completion"])
    assert len(store.read(ROUNDS)) == 1 + 2   # every round but the last, which the sample holds
    # a store that holds every round's text but no sample (written by earlier versions, or
    # killed before the sample) resumes by replaying the texts, asking the model nothing
    old = RunStore(tmp_path / "old")
    old.open({}, "test", force=False)
    with old.appender(ROUNDS) as out:
        for problem in chosen:
            for round_ in range(len(todo_methods(problem.data["code"]))):
                out.append({"task": "javabench", "task_id": problem.task_id, "sample_idx": 0,
                            "round": round_, "text": "no answer"})
    MethodAnswers.batches = []
    pipeline.generate(old, MethodAnswers("reference", config.generation), [task],
                      {"javabench": chosen}, config)
    assert MethodAnswers.batches == [] and len(old.read(SAMPLES)) == 3


# Classes whose skeleton keeps every helper the canonical bodies call (of all 45, 31 pass
# every test with canonical method answers; the rest lack helpers, equals/hashCode or imports,
# rename parameters, or keep placeholder bodies outside the TODO methods), with 1, 2 and 7
# TODO methods.
METHOD_READY = ("PA19/Cell.java", "PA19/Wall.java", "PA19/Pipe.java")


@pytest.mark.parametrize("variant", ("independent", "incremental"))
def test_canonical_method_answers_pass_pa19_suites(monkeypatch, benchmarks, tmp_path, variant):
    from test_javabench import TOTALS, require_java_image
    require_java_image()
    run_with_method_answers(monkeypatch, benchmarks, tmp_path, variant, METHOD_READY)
    assert [len(batch) for batch in MethodAnswers.batches] == [3, 2] + [1] * 5
    results = {r["task_id"]: r for r in map(json.loads, (tmp_path / "results.jsonl").open())}
    assert sorted(results) == sorted(METHOD_READY)
    for task_id, result in results.items():
        assert result["status"] == "passed", (task_id, result["message"])
        assert sample_outcome(result["tests"])["test_result"] == [TOTALS["PA19"]] * 2
