"""ClassEval: prompts of the three strategies, the official extraction, multi-round generation,
and (with the classeval image) the official verdicts on the ground truth and GPT-4-Turbo."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from codeeval.tasks import get_task
from codeeval.tasks.classeval import extract_class_code, extract_method_code, method_signature
from codeeval.tasks.sources import DataSource
from conftest import codeeval_cmd, converse, with_variant


@pytest.fixture(scope="module")
def problems(benchmarks):
    return get_task("classeval").load(DataSource(benchmarks))


def test_hundred_classes_and_502_test_classes(problems):
    assert len(problems) == 100
    assert sum(len(p.data["test_classes"]) for p in problems) == 502
    assert sum(len(p.data["methods_info"]) for p in problems) == 410


def test_holistic_prompt(problems):
    task, problem = get_task("classeval"), problems[0]
    request = task.request(problem, 0)
    assert request.prompt.startswith("Below is an instruction that describes a task.")
    assert (f"### Instruction:\nPlease complete the class AccessGatewayFilter in the following "
            f"code.\n{problem.data['skeleton']}\n\n### Response:") in request.prompt
    assert len(converse(with_variant(task, "holistic"), problem, lambda r: r.reference)[0]) == 1


def test_base_model_prompt_ends_with_the_response_line_as_upstream_generate_prompt(problems):
    """inference_util.generate_prompt (eaeac44) ends its wrapper with "### Response:" and a
    newline, for every strategy."""
    task, problem = get_task("classeval"), problems[0]
    for variant, previous in (("holistic", ()), ("incremental", ()), ("compositional", ())):
        request = with_variant(task, variant).request(problem, 0, previous)
        assert request.prompt.endswith("\n\n### Response:\n")


def test_incremental_prompts_carry_the_generated_methods(problems):
    task, problem = get_task("classeval"), problems[0]
    methods = problem.data["methods_info"]
    incremental = with_variant(task, "incremental")
    assert len(converse(incremental, problem, lambda r: r.reference)[0]) == len(methods)
    first = with_variant(task, "incremental").request(problem, 0)
    assert "please complete filter method in the following class AccessGatewayFilter" in first.prompt
    assert first.round == 0 and first.key.endswith("/0")
    generated = "```python\n    def filter(self, request):\n        return 'GENERATED'\n```"
    second = with_variant(task, "incremental").request(problem, 0, (generated,))
    assert second.round == 1 and second.key.endswith("/round1")
    assert "    def filter(self, request):\n        return 'GENERATED'" in second.prompt
    assert f"please complete {methods[1]['method_name']} method" in second.prompt


def test_compositional_prompts_show_other_methods_as_signatures(problems):
    task, problem = get_task("classeval"), problems[0]
    methods = problem.data["methods_info"]
    request = with_variant(task, "compositional").request(problem, 0, ("anything",))
    target = methods[1]["method_name"]
    assert f"please complete {target} method" in request.prompt
    assert "    def filter(self, request):\n        pass\n" in request.prompt
    assert f"def {target}(self" in request.prompt.split("### Instruction:")[1]


def test_official_extraction():
    assert extract_class_code("Here:\n```python\nclass A:\n    pass\n```\nbye") == "\nclass A:\n    pass\n"
    text = "Sure, the class:\nimport os\nclass A:\n    x = 1"
    assert extract_class_code(text) == "import os\nclass A:\n    x = 1"
    method = "def add(self, a):\n        return a + 1\n\nclass Other:\n    pass"
    assert extract_method_code(method, "add") == "    def add(self, a):\n        return a + 1\n"
    fenced = "### Response:\n```python\n    def add(self, a):\n        return a\n```"
    assert extract_method_code(fenced, "add") == "    def add(self, a):\n        return a"
    assert method_signature('def add(self, a):\n        """doc"""', "add") == "    def add(self, a):"


def test_extraction_as_the_evaluation_at_eaeac44_does_it(problems):
    """test_pipeline.py (eaeac44): the text after the first response marker, [PYTHON] blocks,
    an indented class moved to column 0, and the @staticmethod repair in the program."""
    assert extract_class_code("### Response:\nclass A:\n    pass\n### Response:\nx") == "class A:\n    pass"
    assert extract_class_code("[PYTHON]\nclass A:\n    pass\n[/PYTHON]") == "\nclass A:\n    pass\n"
    assert extract_class_code("numpy.py is used by a.py\nclass A:\n    pass") == "class A:\n    pass"
    assert extract_class_code("Here:\n  class A:\n      x = 1") == "class A:\n    x = 1"
    task, problem = get_task("classeval"), problems[0]
    text = ("```python\nclass AccessGatewayFilter:\n    @staticmethod\n    def f(self):\n"
            "        pass\n    def g(x):\n        return x\n```")
    request = task.request(problem, 0)
    for chat in (True, False):
        sample = task.sample_from_output(problem, request, text, chat=chat)
        source = task.program(problem, sample, sanitized=False).source
        assert ("    def f(self):\n        pass\n    @staticmethod\n    def g(x):\n"
                "        return x\n") in source
        assert "@staticmethod\n    def f" not in source


def test_a_base_model_prediction_is_decoded_with_its_prompt(problems):
    """A local base model's official prediction is the whole decoded sequence: extraction
    then starts at the prompt's response marker, so a marker the model repeats ends it."""
    task, problem = get_task("classeval"), problems[0]
    request = task.request(problem, 0)
    text = "class A:\n    pass\n\n### Instruction:\nmore\n\n### Response:\nclass B:\n    pass"
    base = task.sample_from_output(problem, request, text, chat=False)
    assert base.completion == request.prompt + text and base.raw == text
    assert "class A:" in task.program(problem, base, sanitized=False).source
    chat = task.sample_from_output(problem, request, text, chat=True)
    assert chat.completion == text
    assert "class A:" not in task.program(problem, chat, sanitized=False).source


def test_reference_multi_round_samples_rebuild_each_class(problems):
    task = get_task("classeval")
    for variant in ("incremental", "compositional"):
        for problem in problems[:5]:
            _, sample = converse(with_variant(task, variant), problem,
                                 lambda request: request.reference)
            program = task.program(problem, sample, sanitized=False)
            compile(program.source, "program.py", "exec")
            for method in problem.data["methods_info"]:
                assert f"def {method['method_name']}(" in program.source


def classeval_image_ready() -> bool:
    from codeeval.sandbox.engine import daemon_available
    from codeeval.sandbox.images import IMAGES, image_exists
    ready = daemon_available() and image_exists(IMAGES["classeval"]().tag)
    if not ready and os.environ.get("CODEEVAL_REQUIRE_DOCKER") == "1":
        pytest.fail("CODEEVAL_REQUIRE_DOCKER=1 but no Docker daemon or classeval image")
    return ready


def run_cli(*args):
    proc = subprocess.run(codeeval_cmd(*args), capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_reference_matches_the_official_verdicts(benchmarks, tmp_path):
    if not classeval_image_ready():
        pytest.skip("no Docker daemon or classeval image")
    out = tmp_path / "gt"
    run_cli("run", "--tasks", "classeval", "--sandbox", "docker", "--out", str(out),
            "--data-dir", str(benchmarks))
    summary = json.loads((out / "summary.json").read_text())["tasks"]["classeval"]
    failing = {f["task_id"]: f for f in summary["failures"]}
    # Deterministic official verdicts as non-root: these never pass here ...
    assert {"ClassEval_48", "ClassEval_52", "ClassEval_69", "ClassEval_97"} <= set(failing)
    # ... and every failing class is named with its reason.
    task = get_task("classeval")
    assert set(failing) <= set(task.known_failures), failing
    assert all(f["reason"] == task.known_failures[t] for t, f in failing.items())
    # ClassEval_50's read-only-file test passes as non-root, as in the official non-root run.
    assert "ClassEval_50" not in failing
    counts = summary["breakdowns"]["counts"]
    # 495 pass when ClassEval_35's solve class beats its 5 s limit (it needs about 5-10 s
    # here, by the day) and ClassEval_58's random maps hold no doubled mine; 58 can fail two
    # classes in one run (its map test in about 22% of runs, its main test's two-mine map in
    # about 11%), so 492 is the low end (a CI run met it); the date-bound ClassEval_17 may pass.
    assert 492 <= counts["test_classes_succeeded_per_sample"] <= 497


@pytest.mark.parametrize("hash_seed,test_classes", [(0, 341), (6, 339)])
def test_gpt4_turbo_holistic_outputs_rescore_as_published(benchmarks, tmp_path, hash_seed,
                                                          test_classes):
    """The official pipeline, run here non-root with the outputs' libraries installed, gave
    341 (PYTHONHASHSEED=0) and 339 (=6, the published 0.6753) test classes: ClassEval_22's
    output depends on set order. codeeval must give the same number at each seed."""
    if not classeval_image_ready():
        pytest.skip("no Docker daemon or classeval image")
    outputs = benchmarks / "classeval" / "reference_results" / "GPT-4-Turbo_class_H_greedy.json"
    out = tmp_path / "gpt4"
    run_cli("evaluate", "--tasks", "classeval", "--samples", str(outputs), "--sandbox", "docker",
            "--hash-seed", str(hash_seed), "--out", str(out), "--data-dir", str(benchmarks))
    summary = json.loads((out / "summary.json").read_text())["tasks"]["classeval"]
    assert summary["breakdowns"]["counts"]["test_classes_succeeded_per_sample"] == test_classes
    assert 0.35 <= summary["metrics"]["class_success@1"] <= 0.37
