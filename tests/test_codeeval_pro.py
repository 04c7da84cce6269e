"""HumanEval Pro / MBPP Pro / BigCodeBench-Lite Pro: prompts, extraction and assembly as
the official CodeEval-Pro harness does them, on the real data."""

from __future__ import annotations

import pytest

from codeeval.tasks import get_task
from codeeval.tasks.codeeval_pro import sanitize
from codeeval.tasks.sources import DataSource


@pytest.fixture(scope="module")
def problems(benchmarks):
    source = DataSource(benchmarks)
    return {name: get_task(name).load(source)
            for name in ("humaneval-pro", "mbpp-pro", "bigcodebench-lite-pro")}


def test_problem_counts(problems):
    assert {k: len(v) for k, v in problems.items()} == {
        "humaneval-pro": 164, "mbpp-pro": 378, "bigcodebench-lite-pro": 57}
    assert problems["bigcodebench-lite-pro"][0].task_id == "BigCodeBench/23"


def test_prompt_has_both_problems_and_the_response_prefix(problems):
    task, problem = get_task("humaneval-pro"), problems["humaneval-pro"][0]
    request = task.request(problem, 0)
    raw, new = problem.data["raw_problem"].strip(), problem.data["new_problem"].strip()
    assert request.prompt.startswith("You are an exceptionally intelligent coding assistant")
    assert "@@ Instruction\nWrite a solution of python file" in request.prompt
    assert f"```python\n{raw}\n{new}\n```\n\n@@ Response\n```python\n{raw}\n" in request.prompt
    assert request.prompt.endswith(f"@@ Response\n```python\n{raw}\n")
    assert request.messages[0]["role"] == "system"


def test_variants(problems):
    def prompt(name, problem, variant):
        return get_task(name, {"prompt_variant": variant}).request(problem, 0).prompt

    p = problems["humaneval-pro"][3]
    first_assert = p.data["test_code"].split("\n")[1]
    assert first_assert.startswith("assert")
    assert f"\n\n{first_assert}\n```" in prompt("humaneval-pro", p, "1shot")
    assert ("@@ Response\nLet's think step by step.\n```python\n"
            in prompt("humaneval-pro", p, "cot"))
    q = problems["mbpp-pro"][0]
    assert q.data["test_code"].split("\n")[0] in prompt("mbpp-pro", q, "1shot")


def test_bigcodebench_lite_pro_instruction_keeps_the_official_blank_line(problems):
    """map_bigcodebench_lite_pro_problem puts an empty line before the closing fence."""
    task, problem = get_task("bigcodebench-lite-pro"), problems["bigcodebench-lite-pro"][0]
    new = problem.data["new_problem"].strip()
    request = task.request(problem, 0)
    assert f"{new}\n\n```\n\n@@ Response\n" in request.prompt
    assert f"{new}\n\n```\n@@ Response\n" in request.messages[1]["content"]
    he = get_task("humaneval-pro").request(problems["humaneval-pro"][0], 0)
    assert f"{problems['humaneval-pro'][0].data['new_problem'].strip()}\n```" in he.prompt


def test_chat_answers_have_no_stop_strings_as_in_run_api(problems):
    """run_api.py sends no stop strings; inference.py stops base models at its EOS list."""
    for name in ("humaneval-pro", "mbpp-pro", "bigcodebench-lite-pro"):
        request = get_task(name).request(problems[name][0], 0)
        assert request.stops(chat=True) == ()
        assert request.stops(chat=False) == ("<|endoftext|>", "<|endofmask|>", "</s>", "<|EOT|>")


def test_completion_is_cut_at_the_first_fence(problems):
    task = get_task("humaneval-pro")
    problem = problems["humaneval-pro"][0]
    request = task.request(problem, 0)
    sample = task.sample_from_output(problem, request, "    return 1\n```\nExplanation ...", chat=False)
    assert sample.completion == "    return 1\n" and sample.solution is None


def test_chat_answer_becomes_a_whole_program(problems):
    task = get_task("mbpp-pro")
    problem = problems["mbpp-pro"][0]
    request = task.request(problem, 0)
    text = "Sure!\n```python\ndef f():\n    return 1\n```\nDone."
    sample = task.sample_from_output(problem, request, text, chat=True)
    assert sample.solution == "\ndef f():\n    return 1\n" and sample.completion is None


def test_sanitizer_uses_the_markers_in_priority_order():
    code = "def f():\n    return 1\n# Example usage\nprint(f())\n# Test\nassert f()\nif __name__ == '__main__':\n    pass\n"
    assert sanitize(code) == code[: code.index("if __name__")]
    assert sanitize("x = 1\n# Test\nprint(x)\n# Example y\n") == "x = 1\n"
    assert sanitize("x = 1\n# Example y\n") == "x = 1\n"
    assert sanitize("x = 1\n") == "x = 1\n"


def test_reference_program_is_the_official_ground_truth(problems):
    for name in problems:
        task = get_task(name)
        for problem in problems[name][:20]:
            d = problem.data
            request = task.request(problem, 0)
            sample = task.sample_from_output(problem, request, request.reference, chat=False)
            program = task.program(problem, sample, sanitized=False)
            ground_truth = d["raw_problem"] + d["raw_solution"] + d["new_problem"] + d["new_solution"]
            assert program.source == ground_truth + "\n" + d["test_code"]
            lines = program.source.splitlines()
            first_test = d["test_code"].lstrip("\n").splitlines()[0]
            assert first_test in lines[program.test_first_line - 1:]
            assert program.expected_steps >= 1


def test_unknown_variant_is_a_user_error():
    from codeeval.errors import UserError
    with pytest.raises(UserError, match="bigcodebench-lite-pro has no prompt_variant 'cot'"):
        get_task("bigcodebench-lite-pro", {"prompt_variant": "cot"})


def test_unknown_task_is_a_user_error():
    from codeeval.errors import UserError
    with pytest.raises(UserError, match="unknown task 'humaneval-pr'"):
        get_task("humaneval-pr")
