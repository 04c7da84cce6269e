"""The generation-fidelity differential (benchmarks/generation_fidelity.py): codeeval's
prompts, stop strings and extraction against the official harnesses' re-implemented ones, on
run stores whose raw texts exercise each extraction (fences, prose, tabs, trailing calls)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from codeeval.records import Request, to_json
from codeeval.tasks import get_task
from codeeval.tasks.sources import DataSource

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import generation_fidelity  # noqa: E402
from fidelity.bigcodebench import sanitize as official_sanitize  # noqa: E402

TEXTS = (
    "Here is the code:\n```python\nimport math\n\ndef helper(x):\n\treturn math.sqrt(x)\n\n"
    "def task_func(x):\n    return helper(x)\n\nprint(task_func(4))\n```\nIt works.",
    "    return 1\n```\nThat is all.\n\nimport os\nclass X:\n    pass",
    "Sure.\n```python\nclass Thing:\n    def f(x):\n        return x\n```",
    "no code at all",
)
TASKS = ("humaneval-pro", "mbpp-pro", "bigcodebench-lite-pro", "bigcodebench", "classeval",
         "javabench")
LIMIT = 3


def write_run(folder: Path, benchmarks: Path, *, chat: bool, tasks=TASKS,
              options: dict | None = None) -> Path:
    """A run store as a model run leaves it: each problem answered by each text of TEXTS."""
    folder.mkdir(parents=True)
    identity = {"tasks": list(tasks), "limit": LIMIT, "model": "hf:a-model",
                "task_options": {f"{name}.{option}": value for name in tasks
                                 for option, value in (options or {}).items()}}
    rows = []
    for name in tasks:
        task = get_task(name, options)
        for problem in task.load(DataSource(benchmarks))[:LIMIT]:
            for index, text in enumerate(TEXTS):
                request = task.request(problem, index)
                rows.append(to_json(task.sample_from_output(problem, request, text, chat=chat)))
    (folder / "config.json").write_text(json.dumps({"identity": identity}))
    (folder / "summary.json").write_text(json.dumps({"provenance": {"backend": {"chat": chat}}}))
    (folder / "samples.jsonl").write_text("\n".join(rows) + "\n")
    return folder


@pytest.mark.parametrize("chat", [True, False])
def test_codeeval_agrees_with_every_official_harness(benchmarks, tmp_path, chat):
    run = write_run(tmp_path / "run", benchmarks, chat=chat)
    reports = generation_fidelity.check_run(run, benchmarks, tokenizer=False)
    assert [r.task for r in reports] == list(TASKS)
    for report in reports:
        assert report.problems == LIMIT
        assert report.checked["prompt"] == report.checked["stops"] == LIMIT
        assert report.checked["extraction"] == LIMIT * len(TEXTS), report.task
        assert not report.unexplained, [(d.check, d.task_id, d.detail) for d in report.unexplained]
    # the only differences: where a local model's chat form is not the official one
    differing = {(r.task, d.check, d.code) for r in reports for d in r.differences}
    assert differing == ({(t, "form", "local-model-chat-form") for t in TASKS[:3] + ("classeval",)}
                         if chat else set())


def test_a_form_the_official_harness_lacks_is_a_known_difference(benchmarks, tmp_path):
    """BigCodeBench --split instruct has no base-model form officially: codeeval's is listed
    as a known difference, with nothing to extract against, and the check passes."""
    run = write_run(tmp_path / "run", benchmarks, chat=False, tasks=("bigcodebench",),
                    options={"split": "instruct"})
    report, = generation_fidelity.check_run(run, benchmarks)
    assert {(d.check, d.code) for d in report.differences} == {
        ("prompt", "no-official-completion-form"), ("stops", "no-official-completion-form")}
    assert not report.unexplained and "extraction" not in report.checked
    assert generation_fidelity.main([str(run), "--data-dir", str(benchmarks)]) == 0


def test_chat_answers_cut_at_completion_stops_are_caught(benchmarks, tmp_path, monkeypatch):
    """The defect the issue names: both backends cut chat answers at the completion stops (a
    BigCodeBench chat answer ended at its first "\\nimport "). The stop check sees it."""
    run = write_run(tmp_path / "run", benchmarks, chat=True, tasks=("bigcodebench",))
    monkeypatch.setattr(Request, "stops", lambda self, chat: self.stop)
    report, = generation_fidelity.check_run(run, benchmarks, tokenizer=False)
    assert report.checked["stops"] == LIMIT and report.agreed.get("stops", 0) == 0
    assert {d.code for d in report.unexplained} == {"stop-strings"}
    assert repr("\nimport ") in report.unexplained[0].detail


def test_a_changed_prompt_or_extraction_is_an_unexplained_difference(benchmarks, tmp_path,
                                                                      monkeypatch):
    run = write_run(tmp_path / "run", benchmarks, chat=True, tasks=("humaneval-pro",))
    samples = (run / "samples.jsonl").read_text().split("\n")
    first = json.loads(samples[0])
    first["solution"] = first["solution"] + "# changed"
    (run / "samples.jsonl").write_text("\n".join([json.dumps(first)] + samples[1:]))
    task_class = type(get_task("humaneval-pro"))
    monkeypatch.setattr(task_class, "response_prefix",
                        lambda self, problem, variant: "```python\n")
    report, = generation_fidelity.check_run(run, benchmarks, tokenizer=False)
    codes = [(d.check, d.code) for d in report.unexplained]
    assert codes.count(("prompt", "completion-prompt")) == LIMIT
    assert codes.count(("extraction", "solution-differs")) == 1
    def no_tokenizer(model):
        raise OSError(f"{model} is not here")
    monkeypatch.setattr(generation_fidelity, "load_tokenizer", no_tokenizer)
    assert generation_fidelity.main([str(run), "--data-dir", str(benchmarks)]) == 1


def test_the_official_sanitizer_keeps_what_the_entry_point_reaches():
    text = ("Sure:\n```python\nimport os\nfrom math import pi\nUNUSED = 3\nRATE = pi\n"
            "def helper():\n    return RATE\n\nclass Unused:\n    pass\n\n"
            "def task_func():\n    return helper()\n\ntask_func()\n```")
    assert official_sanitize(text, "task_func") == (
        "import os\nfrom math import pi\nRATE = pi\ndef helper():\n    return RATE\n"
        "def task_func():\n    return helper()")
    # nothing parses beyond one line: the first line comes back
    assert official_sanitize("just prose\nmore prose", "task_func") == "just prose"
