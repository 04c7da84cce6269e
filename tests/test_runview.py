"""Looking into a finished run: `codeeval runs`, `show`, `export` and `results_frame`."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest

from codeeval.errors import UserError
from codeeval.runview import results_frame
from conftest import codeeval_cmd


def cli(*args):
    proc = subprocess.run(codeeval_cmd(*map(str, args)), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def run_dir(benchmarks, tmp_path_factory):
    """Problem 0 solved, problem 1 answered wrongly, evaluated from a samples file."""
    problems = json.loads((benchmarks / "humaneval-pro" / "humaneval_pro.json").read_text())
    p0 = problems[0]
    right = p0["raw_problem"] + p0["raw_solution"] + p0["new_problem"] + p0["new_solution"]
    samples = tmp_path_factory.mktemp("in") / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": 0, "solution": right}) + "\n"
                       + json.dumps({"task_id": 1, "solution": "def nothing():\n    pass\n"})
                       + "\n")
    out = tmp_path_factory.mktemp("runs") / "theirs"
    cli("evaluate", "--tasks", "humaneval-pro", "--samples", samples, "--out", out,
        "--data-dir", benchmarks)
    return out


def test_results_frame_and_export(run_dir, tmp_path):
    frame = results_frame(run_dir)
    assert list(frame[["task_id", "status"]].itertuples(index=False, name=None)) == \
        [("0", "passed"), ("1", "failed")]
    assert {"solution", "program_hash", "message", "tests_passed", "duration_s"} <= \
        set(frame.columns)
    assert "def nothing" in frame.loc[1, "solution"]
    assert "2 rows" in cli("export", run_dir, "-o", tmp_path / "results.csv")
    assert pd.read_csv(tmp_path / "results.csv", dtype={"task_id": str})["task_id"].tolist() \
        == ["0", "1"]
    with pytest.raises(UserError, match="export to .csv, .parquet or .jsonl"):
        from codeeval.runview import export
        export(run_dir, tmp_path / "results.xlsx")


def test_show_one_problem_end_to_end(run_dir, benchmarks):
    text = cli("show", run_dir, "1", "--data-dir", benchmarks)
    assert text.startswith("== humaneval-pro 1, sample 0 (samples:samples.jsonl)")
    for part in ("-- prompt", "-- sample\ndef nothing():", "-- verdict (raw): failed",
                 "-- first failing test", "-- program (raw form)\ndef nothing():"):
        assert part in text


def test_show_says_why_a_failure_ran_again(run_dir, benchmarks, tmp_path):
    """A row judged again alone names its first verdict and the reason (rows stored before
    the reason was kept say the old one: a wait for a CPU)."""
    import shutil
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    first = {"status": "failed", "message": "", "duration_s": 4.5, "cpu_wait_s": 0.25}
    for reason, said in (("its tests hit a wall-clock time limit",
                          "its tests hit a wall-clock time limit"),
                         (None, "it waited 0.25 s for a CPU")):
        rows = [json.loads(line) for line in (copy / "results.jsonl").read_text().splitlines()]
        for row in rows:
            if row["task_id"] == "1":
                row["first_run"] = {**first, **({"reason": reason} if reason else {})}
        (copy / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        text = cli("show", copy, "1", "--data-dir", benchmarks)
        assert ("-- judged again alone: its first run, beside other programs, was failed; "
                + said) in text


def test_runs_lists_each_run_with_its_headline(run_dir):
    [line] = cli("runs", run_dir.parent).strip().splitlines()
    assert line.startswith(f"{run_dir}  samples:samples.jsonl  humaneval-pro pass@1 0.500 "
                           "(2 problems)")
