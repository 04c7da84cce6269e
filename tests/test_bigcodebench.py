"""BigCodeBench adapter: data versions, official prompts, extraction, assembly, limits, the
ground-truth check's reasons, and per-domain breakdowns (no sandbox needed here)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from codeeval import ground_truth
from codeeval.errors import UserError
from codeeval.failures import failure_reason
from codeeval.records import Problem
from codeeval.scoring import meta_breakdowns
from codeeval.tasks import get_task
from codeeval.tasks.bigcodebench import BASE_STOP, CHAT_STOP, FIELDS, PRELUDE, BigCodeBench
from codeeval.tasks.sources import DataSource

LOCAL = "BigCodeBench-v0.1.0_hf.jsonl.gz"


def task(**options):
    return get_task("bigcodebench", options)


@pytest.fixture(scope="module")
def loaded(benchmarks):
    bcb = task(dataset_version="v0.1.0_hf")
    return bcb, {p.task_id: p for p in bcb.load(DataSource(benchmarks))}


def test_loads_the_named_version_and_records_it(benchmarks):
    source = DataSource(benchmarks)
    bcb = task(dataset_version="v0.1.0")   # the published name is v0.1.0_hf
    problems = bcb.load(source)
    assert len(problems) == 1140 and problems[363].task_id == "BigCodeBench/363"
    assert bcb.describe() == {"prompt_variant": "default", "split": "complete", "subset": "full",
                              "dataset_version": "v0.1.0_hf"}
    assert list(source.loaded) == [f"bigcodebench/{LOCAL}"]


def test_without_a_version_a_data_dir_gives_its_only_version_with_a_warning(benchmarks):
    with pytest.warns(UserWarning, match="loading v0.1.0_hf .* official default is v0.1.4"):
        problems = task().load(DataSource(benchmarks))
    assert len(problems) == 1140


def test_a_version_not_in_the_data_dir_is_one_clear_line(benchmarks):
    with pytest.raises(UserError) as err:
        task(dataset_version="v0.1.4").load(DataSource(benchmarks))
    assert "v0.1.4 is not in" in str(err.value) and "\n" not in str(err.value)


def test_the_hub_default_is_the_official_loaders(benchmarks, monkeypatch):
    import datasets
    calls = []
    real_load = datasets.load_dataset

    def load_dataset(path, split=None, **kwargs):
        calls.append((path, split))
        return real_load("json", data_files=str(benchmarks / "bigcodebench" / LOCAL),
                         split="train")

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    problems = task().load(DataSource(None))
    assert calls == [("bigcode/bigcodebench", "v0.1.4")] and len(problems) == 1140


def test_hard_subset_offline_is_one_line_naming_the_hub_list(benchmarks, monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'bigcode/bigcodebench-hard' on the Hub\nmore")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(UserError) as err:
        task(subset="hard", dataset_version="v0.1.0_hf").load(DataSource(benchmarks))
    message = str(err.value)
    assert "\n" not in message and "bigcode/bigcodebench-hard" in message
    assert "--subset hard" in message


def test_hard_subset_reads_a_local_hard_file(tmp_path):
    folder = tmp_path / "bigcodebench"
    folder.mkdir()
    # made-up rows: the hard file is read as it is, whatever its rows hold
    hard = [{**dict.fromkeys(FIELDS, ""), "task_id": f"BigCodeBench/{i}"} for i in (13, 15, 16)]
    (folder / "BigCodeBench-Hard-v0.1.0_hf.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in hard))
    problems = task(subset="hard", dataset_version="v0.1.0_hf").load(DataSource(tmp_path))
    assert [p.task_id for p in problems] == ["BigCodeBench/13", "BigCodeBench/15",
                                             "BigCodeBench/16"]


def test_domains_come_from_task2domain(loaded):
    _, problems = loaded
    assert problems["BigCodeBench/2"].meta == {"domain": ("Computation", "General")}


def test_complete_prompts_base_and_chat(loaded):
    bcb, problems = loaded
    problem = problems["BigCodeBench/0"]
    request = bcb.request(problem, 0)
    assert request.prompt == problem.data["complete_prompt"]
    assert request.stop == BASE_STOP and "\ndef " in request.stop and "\nprint(" in request.stop
    assert request.chat_stop == CHAT_STOP and "\n```\n" in request.chat_stop
    user, prefill = request.messages
    assert user["content"] == ("Please provide a self-contained Python script that solves the "
                               "following problem in a markdown code block:\n```\n"
                               + problem.data["complete_prompt"].strip() + "\n```\n")
    assert prefill == {"role": "assistant", "content": "Below is a Python script with a "
                       "self-contained function that solves the problem and passes "
                       "corresponding tests:\n```python\n"}


def test_instruct_prompt_is_the_instruction(loaded):
    _, problems = loaded
    bcb = task(split="instruct")
    bcb.entry_points = {"BigCodeBench/0": "task_func"}
    problem = problems["BigCodeBench/0"]
    user = bcb.request(problem, 0).messages[0]["content"]
    assert user.endswith(problem.data["instruct_prompt"].strip() + "\n")
    assert "```\nimport itertools" in user   # the instruction carries the code prompt


def test_base_model_output_is_prompt_plus_completion_sanitized(loaded):
    bcb, problems = loaded
    problem = problems["BigCodeBench/0"]
    request = bcb.request(problem, 0)
    sample = bcb.sample_from_output(problem, request, problem.data["canonical_solution"], chat=False)
    assert sample.raw == problem.data["canonical_solution"]
    assert sample.solution.startswith("import itertools\nfrom random import shuffle\ndef task_func")
    assert '"""' in sample.solution          # the docstring is part of the definition


def test_chat_output_is_sanitized_from_the_fenced_answer(loaded):
    bcb, problems = loaded
    problem = problems["BigCodeBench/0"]
    request = bcb.request(problem, 0)
    text = ("import itertools\ndef task_func(numbers=list(range(1, 3))):\n\treturn 0.0\n```\n"
            "\nThis function returns zero.")
    sample = bcb.sample_from_output(problem, request, text, chat=True)
    assert sample.solution == ("import itertools\ndef task_func(numbers=list(range(1, 3))):\n"
                               "    return 0.0")


def test_calibrated_assembly_and_limits(loaded):
    bcb, problems = loaded
    problem = problems["BigCodeBench/0"]
    request = bcb.request(problem, 0)
    sample = bcb.sample_from_output(problem, request, problem.data["canonical_solution"], chat=False)
    program = bcb.program(problem, sample, sanitized=False)
    head = PRELUDE + "\n" + problem.data["code_prompt"] + "\n    pass\n" + sample.solution + "\n"
    assert program.source == head + problem.data["test"]
    assert program.test_first_line == head.count("\n") + 1
    assert (program.framework, program.test_classes) == ("unittest", ("TestCases",))
    assert program.class_timeout_s == 241 and program.timeout_s == 242
    assert program.memory_mb == 30 * 1024
    # a ground-truth runtime above the default raises the limit; --timeout replaces 240
    slow = dataclasses.replace(problem, ground_truth_s=300.0)
    assert bcb.program(slow, sample, sanitized=False).class_timeout_s == 301
    quick = task(dataset_version="v0.1.0_hf", timeout="5")
    assert quick.program(problem, sample, sanitized=False).class_timeout_s == 21  # unknown GT: 20 s
    fast = dataclasses.replace(problem, ground_truth_s=2.0)
    assert quick.program(fast, sample, sanitized=False).class_timeout_s == 6


def test_a_passing_ground_truth_runtime_goes_with_its_problem():
    problems = {"t": [Problem("a", {}), Problem("b", {}), Problem("c", {})],
                "u": [Problem("a", {})]}
    rows = {"t": {"a": {"status": "passed", "duration_s": 3.5},
                  "b": {"status": "failed", "duration_s": 1.0}}}
    timed = ground_truth.timed(problems, rows)
    assert [p.ground_truth_s for p in timed["t"]] == [3.5, None, None]
    assert timed["u"] == problems["u"]


def test_external_completion_is_appended_to_the_complete_prompt(loaded):
    from codeeval.records import Sample
    bcb, problems = loaded
    problem = problems["BigCodeBench/0"]
    sample = Sample("bigcodebench", problem.task_id, 0, completion="    return 0.0\n")
    program = bcb.program(problem, sample, sanitized=False)
    assert problem.data["complete_prompt"] + "    return 0.0\n" in program.source


def test_ground_truth_program_is_the_official_one(loaded):
    bcb, problems = loaded
    problem = problems["BigCodeBench/363"]
    program = bcb.ground_truth_program(problem)
    data = problem.data
    assert program.source == (PRELUDE + "\n" + data["complete_prompt"] + "\n"
                              + data["canonical_solution"] + "\n" + data["test"])
    assert program.class_timeout_s == 240


def test_failure_reasons_name_the_cause():
    nltk = ("TestCases: LookupError: \n**********\n  Resource \x1b[93mstopwords\x1b[0m not "
            "found.\n  Please use the NLTK Downloader")
    assert failure_reason({"status": "failed", "message": "x", "tests": [{"message": nltk}]}) \
        == "nltk data missing: stopwords"
    dns = {"status": "error", "message": "socket.gaierror: [Errno -2] Name or service not known"}
    assert failure_reason(dns).startswith("network needed")
    module = {"status": "error", "message": "ModuleNotFoundError: No module named 'torch.nn'"}
    assert failure_reason(module) == "missing module: torch.nn"
    assert failure_reason({"status": "timeout", "message": ""}).startswith("timeout")
    known = {"BigCodeBench/111": "library version: numpy"}
    assert failure_reason({"status": "failed", "task_id": "BigCodeBench/111", "message": "m"},
                          known) == "library version: numpy"
    assert failure_reason({"status": "failed", "message": "TestCases: AssertionError: 1 != 2"}) \
        == "failed: TestCases: AssertionError: 1 != 2"


def test_domain_breakdown_weighs_a_task_once_per_library():
    problems = [Problem("a", {}, {"domain": ("General", "General", "Time")}),
                Problem("b", {}, {"domain": ("General",)})]
    rows = {"a": [{"status": "passed"}], "b": [{"status": "failed"}]}
    domains = meta_breakdowns(BigCodeBench, problems, rows)["domain"]
    assert domains["General"] == {"n_problems": 2, "pass@1": round(2 / 3, 6)}
    assert domains["Time"] == {"n_problems": 1, "pass@1": 1.0}


def test_unknown_split_is_rejected():
    with pytest.raises(UserError, match="no split"):
        task(split="plus")


def test_data_dir_without_bigcodebench_names_the_missing_version(tmp_path):
    (tmp_path / "bigcodebench").mkdir()
    with pytest.raises(UserError, match=r"v0.1.4 is not in"):
        task().load(DataSource(tmp_path))


def test_two_local_versions_need_a_choice(tmp_path):
    folder = tmp_path / "bigcodebench"
    folder.mkdir()
    (folder / LOCAL).touch()   # the choice is asked for before any file is read
    (folder / "BigCodeBench-v0.1.3.jsonl.gz").touch()
    with pytest.raises(UserError, match="--dataset-version"):
        task().load(DataSource(tmp_path))


def test_containers_are_sized_for_the_memory_their_tasks_ask_for():
    """BigCodeBench's programs may use 30 GiB (its max_as_limit): the Docker container that
    runs them is capped there, not at the 4 GiB default other images get."""
    from types import SimpleNamespace

    from codeeval.execution import Sandboxes
    from codeeval.pipeline import RunConfig
    opened = []

    class Recorder:
        def open(self, **args):
            opened.append(args)
            return SimpleNamespace(describe=dict, close=lambda: None)

        def close(self):
            pass

    with Sandboxes([task(), get_task("humaneval-pro")], RunConfig("reference", ()), None,
                   None) as sandboxes:
        sandboxes.executor = Recorder()
        sandboxes.get("python"), sandboxes.get("base")
    assert [(a["image"], a["memory_mb"]) for a in opened] == [("python", 30 * 1024),
                                                              ("base", 4096)]
