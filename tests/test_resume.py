"""Kill a real run with SIGKILL mid-generation and mid-execution, then resume it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

from conftest import codeeval_cmd

N_PROBLEMS = 40

# The real pipeline with a reference backend slowed down, so the kill lands mid-generation.
SLOW_RUN = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import codeeval.pipeline as pipeline
    from codeeval.generation.reference import ReferenceBackend
    from codeeval.generation import GenerationConfig
    from codeeval.tasks.sources import DataSource

    class SlowReference(ReferenceBackend):
        def generate(self, requests):
            for item in super().generate(requests):
                time.sleep(0.05)
                yield item

    pipeline.make_backend = lambda spec, config, options=None: SlowReference(spec, config)
    config = pipeline.RunConfig(model="reference", tasks=("humaneval-pro",), limit=%d)
    pipeline.run_pipeline(config, Path(sys.argv[1]), source=DataSource(Path(sys.argv[2])))
""" % N_PROBLEMS)


def lines(path):
    return path.read_text().splitlines() if path.exists() else []


def wait_for_lines(proc, path, count, timeout=120):
    deadline = time.monotonic() + timeout
    while len(lines(path)) < count:
        assert proc.poll() is None, "the run finished too soon"
        assert time.monotonic() < deadline
        time.sleep(0.01)


def kill_when(proc, path, count):
    wait_for_lines(proc, path, count)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def resume_and_check(out, benchmarks):
    proc = subprocess.run(codeeval_cmd("run", "--tasks", "humaneval-pro", "--limit",
                                       str(N_PROBLEMS), "--out", str(out),
                                       "--data-dir", str(benchmarks)),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    samples = [json.loads(l) for l in lines(out / "samples.jsonl")]
    results = [json.loads(l) for l in lines(out / "results.jsonl")]
    assert sorted(int(s["task_id"]) for s in samples) == list(range(N_PROBLEMS))
    assert sorted(int(r["task_id"]) for r in results) == list(range(N_PROBLEMS))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tasks"]["humaneval-pro"]["metrics"]["pass@1"] == 1.0
    return samples, results


def test_sigkill_during_generation_then_resume(benchmarks, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(out), str(benchmarks)],
                            start_new_session=True, stderr=subprocess.DEVNULL)
    kill_when(proc, out / "samples.jsonl", 10)
    before = lines(out / "samples.jsonl")
    assert 10 <= len(before) < N_PROBLEMS
    samples, _ = resume_and_check(out, benchmarks)
    # what was stored before the kill was kept, not regenerated
    assert lines(out / "samples.jsonl")[: len(before) - 1] == before[: len(before) - 1]


def test_sigkill_during_execution_then_resume(benchmarks, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(codeeval_cmd("run", "--tasks", "humaneval-pro", "--limit",
                                         str(N_PROBLEMS), "--out", str(out), "--parallel", "1",
                                         "--data-dir", str(benchmarks)),
                            start_new_session=True, stderr=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL)
    kill_when(proc, out / "results.jsonl", 5)
    done_before = len(lines(out / "results.jsonl"))
    assert done_before < N_PROBLEMS
    resume_and_check(out, benchmarks)


def test_torn_last_line_is_repaired(benchmarks, tmp_path):
    out = tmp_path / "run"
    resume_and_check(out, benchmarks)
    samples = out / "samples.jsonl"
    kept = lines(samples)[:-1]
    samples.write_text("\n".join(kept) + "\n" + '{"task": "humaneval-pro", "task_id": "3')
    results = out / "results.jsonl"
    results.write_text("\n".join(lines(results)[:-2]) + "\n")
    resume_and_check(out, benchmarks)


def test_a_second_process_on_the_same_store_stops_with_one_line(benchmarks, tmp_path):
    """Two processes on one store would both do all the work and store every row twice: the
    second stops at once, and once the first is killed (SIGKILL: the kernel drops its lock)
    a rerun resumes and stores each row once."""
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(out), str(benchmarks)],
                             start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        wait_for_lines(first, out / "samples.jsonl", 2)
        second = subprocess.run(codeeval_cmd("run", "--tasks", "humaneval-pro", "--limit",
                                             str(N_PROBLEMS), "--out", str(out),
                                             "--data-dir", str(benchmarks)),
                                capture_output=True, text=True, timeout=300)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        f"error: {out} is in use by another codeeval process (pid {first.pid}): wait for it "
        "to finish, or use another --out"]
    resume_and_check(out, benchmarks)


def test_out_naming_a_file_is_a_one_line_error(benchmarks, tmp_path):
    out = tmp_path / "notes.txt"
    out.write_text("mine")
    proc = subprocess.run(codeeval_cmd("run", "--limit", "1", "--out", str(out),
                                       "--data-dir", str(benchmarks)),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and out.read_text() == "mine"
    assert proc.stderr.strip().splitlines() == [
        f"error: {out} is a file, not a run store directory: name a directory with --out"]
