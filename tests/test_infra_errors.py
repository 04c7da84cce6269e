"""Infra errors can never raise a score: a wrong program that breaks its sandbox worker counts
as a failure, the run exits non-zero, and a rerun retries it without adding rows."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from codeeval.records import read_jsonl

# The CLI with the process sandbox as an ordinary (non-root) user gets it: programs run as the
# worker's own uid, so a program can kill its worker. (As root each slot has its own uid.)
UNPRIVILEGED_CLI = textwrap.dedent("""
    import sys
    from codeeval.cli import main
    from codeeval.sandbox.process import ProcessSandbox

    plain_init = ProcessSandbox.__init__

    def unprivileged(self, *args, **kwargs):
        plain_init(self, *args, **kwargs)
        self.dedicated_uids, self.processes_limit = False, None

    ProcessSandbox.__init__ = unprivileged
    main()
""")

# Fails the task by killing the sandbox worker (the program's grandparent) before any test runs.
KILL_THE_WORKER = textwrap.dedent("""
    import os, signal
    with open(f"/proc/{os.getppid()}/stat") as stat:
        worker = int(stat.read().rsplit(")", 1)[1].split()[1])
    os.kill(worker, signal.SIGKILL)
""")


def test_a_program_that_kills_its_worker_counts_as_a_failure(benchmarks, tmp_path):
    problem = json.loads((benchmarks / "humaneval-pro" / "humaneval_pro.json").read_text())[0]
    right = (problem["raw_problem"] + problem["raw_solution"] + problem["new_problem"]
             + problem["new_solution"])
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": 0, "solution": s}) + "\n"
                               for s in [right] + [KILL_THE_WORKER] * 4))
    out = tmp_path / "eval"
    command = [sys.executable, "-c", UNPRIVILEGED_CLI, "evaluate", "--tasks", "humaneval-pro",
               "--samples", str(samples), "--sandbox", "process", "--out", str(out),
               "--data-dir", str(benchmarks)]
    for attempt in (1, 2):   # the rerun retries the four, which break their workers again
        proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 3, proc.stderr
        assert proc.stderr.strip().splitlines()[-1] == (
            "error: programs hit sandbox infrastructure errors twice (humaneval-pro 4); they "
            "count as failures above; rerun the same command to retry them")
        rows = read_jsonl(out / "results.jsonl")
        assert sorted((r["sample_idx"], r["status"]) for r in rows) == \
            [(0, "passed")] + [(i, "infra_error") for i in range(1, 5)]   # one row per sample
        task = json.loads((out / "summary.json").read_text())["tasks"]["humaneval-pro"]
        assert task["per_problem"]["raw"] == {"0": [5, 1]}
        assert task["metrics"]["pass@1"] == 0.2 and task["infra_errors"] == 4
