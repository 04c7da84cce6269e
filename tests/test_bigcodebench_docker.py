"""BigCodeBench in the Docker sandbox: a representative subset of the real tasks (default
suite), the ground-truth check end to end through the CLI, and the full reference run (slow).

The subset covers the libraries most tasks use (pandas, numpy, matplotlib, seaborn, sklearn,
scipy, statsmodels, nltk without corpora, requests and flask with mocks, django, cv2, PIL),
the file-system and subprocess tasks, and the cases that once failed for the harness rather
than the task: 363 (a multiprocessing pool, hung by the official kill guard), 812 and 832
(need a non-root user), 1101 (runs `python`, which must be the sandbox's interpreter), 14
(runs `unzip`), 227 (librosa needs pkg_resources), and the honest solutions the forging
defences once refused: 185/186/188 (jinja2 compiles its templates), 234/238/986
(`gc.get_referents` in a library), 150/294/641/736/929/1057 (numpy values the assertEqual and
assertIn probe took for liars), 719 (a TestCase from pyfakefs), 562/563 (unittest.mock sets
__defaults__ on functions it defines).
"""

from __future__ import annotations

import gzip
import json
import subprocess

import pytest

from codeeval.failures import failure_reason
from codeeval.records import read_jsonl
from codeeval.tasks import get_task
from codeeval.tasks.sources import DataSource
from conftest import codeeval_cmd
from test_sandbox_docker import docker_ready

SUBSET = (2, 5, 14, 15, 17, 37, 52, 57, 82, 92, 100, 108, 129, 139, 148, 160, 184, 208, 227,
          239, 253, 271, 302, 308, 363, 374, 409, 413, 424, 454, 477, 501, 552, 593, 631, 674,
          702, 760, 812, 832, 865, 897, 916, 955, 1004, 1023, 1101, 1130,
          150, 185, 186, 188, 234, 238, 294, 562, 563, 641, 719, 736, 929, 986, 1057)
OFFLINE_FAILURES = {177: "nltk data missing: punkt", 290: "nltk data missing: stopwords",
                    1012: "network needed"}
# The official harness's environment, as a program sees it (reliability_guard and friends)
ENVIRONMENT_TESTS = """import unittest, time, shutil
class TestCases(unittest.TestCase):
    def test_environment(self):
        import matplotlib.pyplot as plt
        from threadpoolctl import threadpool_info
        self.assertEqual(time.tzname[0], "UTC")
        self.assertEqual({pool["num_threads"] for pool in threadpool_info()}, {1})
        self.assertEqual(plt.get_fignums(), [])
        self.assertIsNone(exit)
        self.assertIs(environ, os.environ)
        self.assertEqual(environ["TF_ENABLE_ONEDNN_OPTS"], "0")
        self.assertTrue(shutil.which("python").startswith(sys.prefix))
        self.assertNotEqual(os.getuid(), 0)
"""


@pytest.fixture(scope="module")
def task_and_problems(benchmarks):
    if not docker_ready("python"):
        pytest.skip("no Docker daemon or python image")
    task = get_task("bigcodebench", {"dataset_version": "v0.1.0_hf"})
    problems = {p.task_id: p for p in task.load(DataSource(benchmarks))}
    return task, problems


def test_representative_tasks_pass_as_ground_truth_and_as_reference_samples(task_and_problems):
    """Both program forms: the official ground-truth program, and the reference answer as a
    model's (sanitized, then the calibrated assembly)."""
    from codeeval.sandbox import make_sandbox
    task, problems = task_and_problems
    programs = []
    for number in (*SUBSET, *OFFLINE_FAILURES):
        problem = problems[f"BigCodeBench/{number}"]
        programs.append(task.ground_truth_program(problem))
        request = task.request(problem, 0)
        sample = task.sample_from_output(problem, request, request.reference, chat=False)
        programs.append(task.program(problem, sample, sanitized=False))
    programs.append(task.unittest_program("environment", "x = 1", ENVIRONMENT_TESTS, 60))
    with make_sandbox("docker", parallel=2, image="python", preload=task.preload) as box:
        executions = {e.key: e for e in box.run(programs)}
    environment = executions.pop("environment")
    assert environment.status == "passed", environment.tests
    verdicts = {}
    for key, execution in executions.items():
        row = {"task_id": "/".join(key.split("/")[1:3]), **execution.__dict__}
        verdicts[key] = failure_reason(row, task.known_failures) or "passed"
    for number in SUBSET:
        for key in (f"bigcodebench/BigCodeBench/{number}/ground_truth",
                    f"bigcodebench/BigCodeBench/{number}/0"):
            assert verdicts[key] == "passed", (key, verdicts[key])
    for number, reason in OFFLINE_FAILURES.items():
        for key in (f"bigcodebench/BigCodeBench/{number}/ground_truth",
                    f"bigcodebench/BigCodeBench/{number}/0"):
            assert verdicts[key].startswith(reason), (key, verdicts[key])


def test_cli_ground_truth_check_reports_rate_reasons_and_marks_failures(benchmarks, tmp_path):
    if not docker_ready("python"):
        pytest.skip("no Docker daemon or python image")
    data = tmp_path / "data" / "bigcodebench"
    data.mkdir(parents=True)
    rows = [json.loads(line) for line in
            gzip.open(benchmarks / "bigcodebench" / "BigCodeBench-v0.1.0_hf.jsonl.gz", "rt")]
    with open(data / "BigCodeBench-v0.1.0_hf.jsonl", "w") as f:
        for number in (2, 290, 363):
            f.write(json.dumps(rows[number]) + "\n")
    out = tmp_path / "run"
    proc = subprocess.run(codeeval_cmd("run", "--model", "reference", "--tasks", "bigcodebench",
                                       "--check-ground-truth", "--sandbox", "docker",
                                       "--dataset-version", "v0.1.0", "--parallel", "2",
                                       "--data-dir", str(tmp_path / "data"), "--out", str(out)),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())["tasks"]["bigcodebench"]
    truth = summary["ground_truth"]
    assert (truth["n_problems"], truth["n_passed"]) == (3, 2)
    assert [(f["task_id"], f["reason"]) for f in truth["failures"]] == [
        ("BigCodeBench/290", "nltk data missing: stopwords")]
    assert summary["failures"] == [{**summary["failures"][0], "task_id": "BigCodeBench/290",
                                    "ground_truth_failed": True}]
    assert summary["metrics"]["pass@1"] == pytest.approx(2 / 3, abs=1e-6)
    assert summary["options"]["dataset_version"] == "v0.1.0_hf"
    results = read_jsonl(out / "results.jsonl")
    assert sorted(r["form"] for r in results) == ["ground_truth"] * 3 + ["raw"] * 3


@pytest.mark.slow
def test_full_reference_run_reaches_the_official_offline_ceiling(benchmarks, tmp_path):
    """All 1140 tasks (about 10 minutes on 2 cores): at least the official evaluator's 1113,
    every failure with its cause; benchmarks/bigcodebench_gt.py times the same programs."""
    if not docker_ready("python"):
        pytest.skip("no Docker daemon or python image")
    out = tmp_path / "run"
    proc = subprocess.run(codeeval_cmd("run", "--model", "reference", "--tasks", "bigcodebench",
                                       "--sandbox", "docker", "--dataset-version", "v0.1.0",
                                       "--parallel", "4", "--data-dir", str(benchmarks),
                                       "--out", str(out)),
                          capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())["tasks"]["bigcodebench"]
    passed = round(summary["metrics"]["pass@1"] * 1140)
    assert passed >= 1113, summary["failures"]
    assert all(f["reason"] for f in summary["failures"])
    assert "BigCodeBench/363" not in {f["task_id"] for f in summary["failures"]}
