"""`codeeval gate` on synthetic run stores with known differences: verdicts, exit codes and
the JUnit/Markdown outputs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from codeeval.errors import UserError
from codeeval.gate import GateSettings, decide, run_gate
from codeeval.generation import GenerationConfig
from codeeval.rundata import Run
from conftest import codeeval_cmd
from runstores import DATASETS, flip, outcomes, write_store

HE = "humaneval-pro"


def gate(*args):
    return subprocess.run(codeeval_cmd("gate", *map(str, args)), capture_output=True,
                          text=True, timeout=120)


@pytest.fixture()
def baseline(tmp_path):
    return write_store(tmp_path / "base", {HE: outcomes(70, 30)})


def test_a_real_drop_is_a_regression_and_exits_1(tmp_path, baseline):
    current = write_store(tmp_path / "cur", {HE: flip(outcomes(70, 30), range(10), "failed")})
    junit, markdown = tmp_path / "gate.xml", tmp_path / "gate.md"
    proc = gate(current, "--baseline", baseline, "--junit", junit, "--markdown", markdown)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "regression" in proc.stdout and HE in proc.stdout.splitlines()[-1]
    assert "0.700" in proc.stdout and "0.600" in proc.stdout and "-0.100" in proc.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [(f"codeeval.gate.{HE}",
                                                                       "pass@1")]
    assert suite.get("failures") == "1" and cases[0].find("failure") is not None
    text = markdown.read_text()
    assert "FAIL" in text and f"| {HE} | pass@1 | 100 | 0.700 | 0.600 | -0.100 |" in text
    # the problems that went from pass to fail are named in all three outputs
    named = f"{HE} pass@1: worse on 10: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9"
    assert named in proc.stdout.splitlines()
    assert f"- {named}" in text.splitlines()
    assert "problems worse on 10: 0, 1, 2" in cases[0].find("failure").text


def test_a_drop_inside_the_noise_passes(tmp_path, baseline):
    # 12 problems lost, 9 gained: a drop of 0.03 > 0.02, but nowhere near significant.
    statuses = flip(flip(outcomes(70, 30), range(12), "failed"), range(70, 79), "passed")
    current = write_store(tmp_path / "cur", {HE: statuses})
    proc = gate(current, "--baseline", baseline)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "within noise" in proc.stdout and "-0.030" in proc.stdout
    assert (f"{HE} pass@1: worse on 12: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more; "
            "better on 9: 70, 71, 72, 73, 74, 75, 76, 77, 78") in proc.stdout.splitlines()


def test_an_improvement_is_reported_and_passes(tmp_path, baseline):
    current = write_store(tmp_path / "cur", {HE: flip(outcomes(70, 30), range(70, 85),
                                                      "passed")})
    report = run_gate(Run(current), Run(baseline), GateSettings())
    [comparison] = report.comparisons
    assert comparison.verdict == "improvement" and comparison.delta == pytest.approx(0.15)
    assert comparison.p_value == pytest.approx(2 / 2 ** 15)   # exact McNemar: 15 of 15
    assert gate(current, "--baseline", baseline).returncode == 0


def test_a_drop_within_tolerance_passes_even_when_significant(tmp_path):
    base = write_store(tmp_path / "base", {HE: outcomes(700, 300)})
    current = write_store(tmp_path / "cur", {HE: flip(outcomes(700, 300), range(15), "failed")})
    [comparison] = run_gate(Run(current), Run(base), GateSettings()).comparisons
    assert comparison.p_value < 0.001 and comparison.verdict == "pass"
    assert "within the tolerance" in comparison.reason
    strict = run_gate(Run(current), Run(base), GateSettings(max_drop=0.01))
    assert strict.comparisons[0].verdict == "regression" and strict.exit_code == 1


def test_sampled_runs_compare_every_pass_at_k(tmp_path):
    # 10 samples per problem: pass@k values are fractions, tested by sign flips.
    base_rows = {str(i): ["passed"] * (i % 10) + ["failed"] * (10 - i % 10) for i in range(80)}
    worse = {k: (["failed"] * 3 + v[3:] if int(k) % 2 else v) for k, v in base_rows.items()}
    sampling = GenerationConfig(n_samples=10, temperature=0.8)
    base = write_store(tmp_path / "base", {HE: base_rows}, generation=sampling)
    current = write_store(tmp_path / "cur", {HE: worse}, generation=sampling)
    report = run_gate(Run(current), Run(base), GateSettings())
    by_metric = {c.metric: c for c in report.comparisons}
    assert set(by_metric) == {"pass@1", "pass@5", "pass@10"}
    assert by_metric["pass@1"].verdict == "regression" and by_metric["pass@1"].p_value < 0.001
    assert by_metric["pass@1"].baseline == pytest.approx(
        json.loads((base / "summary.json").read_text())["tasks"][HE]["metrics"]["pass@1"])


def test_mismatched_configs_are_refused_unless_drift_is_allowed(tmp_path, baseline):
    current = write_store(tmp_path / "cur", {HE: outcomes(70, 30)},
                          generation=GenerationConfig(temperature=0.8),
                          task_options={f"{HE}.prompt_variant": "cot"},
                          datasets={**DATASETS, "humaneval-pro/humaneval_pro.json": "c" * 64})
    proc = gate(current, "--baseline", baseline)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    for what in ("temperature: 0.0 (baseline) vs 0.8 (current)",
                 f"-T {HE}.prompt_variant: 'the default' (baseline) vs 'cot' (current)",
                 "dataset humaneval-pro/humaneval_pro.json", "--allow-config-drift"):
        assert what in proc.stderr
    allowed = gate(current, "--baseline", baseline, "--allow-config-drift")
    assert allowed.returncode == 0, allowed.stderr
    assert "config drift (allowed): temperature" in allowed.stdout


def test_different_problem_sets_and_tasks_are_drift(tmp_path, baseline):
    current = write_store(tmp_path / "cur", {HE: outcomes(60, 30),
                                             "mbpp-pro": outcomes(5, 5)})
    with pytest.raises(UserError, match="tasks only in the current run: mbpp-pro; "
                                        "humaneval-pro problems: 10 only in the baseline"):
        run_gate(Run(current), Run(baseline), GateSettings())
    report = run_gate(Run(current), Run(baseline), GateSettings(allow_config_drift=True))
    assert [c.n_problems for c in report.comparisons] == [90]   # paired on the common ones


def test_a_summary_file_alone_is_a_baseline(tmp_path, baseline):
    committed = tmp_path / "repo" / "baseline.json"
    committed.parent.mkdir()
    shutil.copy(baseline / "summary.json", committed)
    current = write_store(tmp_path / "cur", {HE: flip(outcomes(70, 30), range(10), "failed")})
    proc = gate(current, "--baseline", committed)
    assert proc.returncode == 1 and "regression" in proc.stdout
    # Without per_problem (a summary from before it was recorded) it cannot be paired.
    summary = json.loads(committed.read_text())
    del summary["tasks"][HE]["per_problem"]
    committed.write_text(json.dumps(summary))
    proc = gate(current, "--baseline", committed)
    assert proc.returncode == 2 and "no per-problem pass counts" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_usage_and_input_errors_exit_2(tmp_path, baseline):
    assert gate(baseline).returncode == 2                                   # no --baseline
    assert gate(baseline, "--baseline", tmp_path / "nope").returncode == 2
    assert gate(baseline, "--baseline", baseline, "--alpha", "1.5").returncode == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    proc = gate(baseline, "--baseline", bad)
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr
    proc = gate(baseline, "--baseline", baseline, "--junit", tmp_path / "no" / "dir" / "j.xml")
    assert proc.returncode == 2 and "cannot write" in proc.stderr


def test_a_metric_without_per_problem_values_is_judged_on_tolerance():
    settings = GateSettings(max_drop=0.02)
    assert decide(-0.05, None, settings)[0] == "regression"
    assert decide(-0.01, None, settings)[0] == "pass"
    assert decide(-0.05, 0.2, settings) == ("pass", "dropped 0.050 but within noise, "
                                                   "p=0.2 >= 0.05")
    assert decide(-0.02, 0.0, settings)[0] == "pass"      # exactly the tolerance is allowed


def test_non_pass_at_k_metrics_are_compared_from_the_summary(tmp_path, baseline):
    current = write_store(tmp_path / "cur", {HE: outcomes(70, 30)})
    for path, value in ((baseline, 0.60), (current, 0.50)):
        summary = json.loads((path / "summary.json").read_text())
        summary["tasks"][HE]["metrics"]["codebleu"] = value
        (path / "summary.json").write_text(json.dumps(summary))
    report = run_gate(Run(current), Run(baseline), GateSettings())
    codebleu = next(c for c in report.comparisons if c.metric == "codebleu")
    assert codebleu.verdict == "regression" and codebleu.p_value is None
    assert report.exit_code == 1


@pytest.mark.parametrize("current_value,verdict", [(59.0, "pass"), (50.0, "regression")])
def test_the_tolerance_is_in_the_metric_s_own_scale(tmp_path, baseline, current_value,
                                                    verdict):
    """CodeBLEU is 0-100: --max-drop 0.02 allows a drop of 2 points, not of 0.02 points."""
    current = write_store(tmp_path / "cur", {HE: outcomes(70, 30)})
    for path, value in ((baseline, 60.0), (current, current_value)):
        summary = json.loads((path / "summary.json").read_text())
        summary["tasks"][HE]["metrics"]["codebleu"] = value
        summary["tasks"][HE]["metric_scales"] = {"codebleu": 100.0}
        (path / "summary.json").write_text(json.dumps(summary))
    report = run_gate(Run(current), Run(baseline), GateSettings(max_drop=0.02))
    codebleu = next(c for c in report.comparisons if c.metric == "codebleu")
    assert codebleu.verdict == verdict and "2" in codebleu.reason


def test_the_example_ci_workflow_uses_real_gate_options():
    import yaml
    from conftest import REPO
    workflow = yaml.safe_load((REPO / "examples" / "github-actions-gate.yml").read_text())
    commands = [step["run"] for step in workflow["jobs"]["gate"]["steps"] if "run" in step]
    gate_line = next(c for c in commands if c.startswith("codeeval gate"))
    options = set(re.findall(r"--[a-z-]+", gate_line))
    help_text = subprocess.run(codeeval_cmd("gate", "--help"), capture_output=True,
                               text=True).stdout
    assert options and all(option in help_text for option in options)
