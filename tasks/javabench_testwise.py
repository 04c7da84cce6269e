"""JavaBench test-wise granularity: each test suite run against the k-th samples of every class
it depends on (`full_deps` in datasets/testcase/test-PAxx.jsonl), the rest canonical.

Test-wise steps combine samples of several classes, so they are not one program per sample as
the run pipeline executes: `codeeval javabench-testwise RUN_DIR` reads a JavaBench run store's
samples (any model, or `codeeval evaluate`d official outputs), runs one program per (suite, k)
in the java image (`--select-class` the suite) through the ExecutionService, so the results
join the store's results.jsonl (form `testwise`) and a rerun resumes, and writes
RUN_DIR/javabench_testwise.json with each step's [passed, total] and compilation@k /
fractional_pass@k (the official Pass@k) per project and overall (the official visual_table
get_compilation_data / get_pass_data, averaged over suites).

Deviation: where a dependency's k-th sample cannot be assembled (no `public`), upstream keeps
the file of the previous k in place and still runs; here that step fails at assembly. Both
are excluded from every metric (`can_replace` false), so no metric differs.
"""

from __future__ import annotations

import json
from pathlib import Path

from codeeval.errors import UserError
from codeeval.execution import ExecutionService
from codeeval.records import Problem
from codeeval.store import SAMPLES, RunStore
from codeeval.tasks.javabench import (PROJECTS, JavaBench, assemble, extract_java,
                                      fractional_pass_at_k, has_todo, sample_outcome)
from codeeval.tasks.sources import DataSource

FORM = "testwise"


def load_suites(source: DataSource) -> list[dict]:
    suites = []
    for project in PROJECTS:
        for row in source.local_rows("javabench", f"datasets/testcase/test-{project}.jsonl",
                                     ("test_id", "target", "full_deps")):
            suites.append({**row, "project": project})
    return suites


def class_text(problem: Problem, sample: dict) -> tuple[str | None, bool]:
    """(file text or None when it cannot be assembled, has_todo) for one stored sample."""
    if sample.get("solution") is not None:
        return sample["solution"], False
    code = extract_java(sample.get("completion") or "")
    return assemble(problem.data["skeleton"], code), has_todo(problem.data["skeleton"], code)


def testwise_jobs(task: JavaBench, problems: list[Problem], samples: list[dict],
                  suites: list[dict], n_samples: int) -> list[tuple[tuple, object]]:
    """(result key, Program) for every suite and k < n_samples: the key is (javabench, the
    suite's test id, k, FORM)."""
    by_target = {(p.data["project"], p.data["target"]): p for p in problems}
    stored = {(s["task_id"], s["sample_idx"]): s for s in samples}
    covered = {task_id.split("/")[0] for task_id, _ in stored}   # score only those projects
    jobs = []
    for suite in (s for s in suites if s["project"] in covered):
        deps = [by_target.get((suite["project"], d.replace(".", "/") + ".java"))
                for d in suite["full_deps"]]
        if None in deps:
            raise UserError(f"{suite['test_id']}: a dependency in {suite['full_deps']} is not "
                            "a JavaBench class of the data dir")
        for k in range(n_samples):
            missing = [p.task_id for p in deps if (p.task_id, k) not in stored]
            if missing:
                raise UserError(f"the run store has no sample {k} of {missing[0]} "
                                f"(needed by test suite {suite['test_id']})")
            texts = {p.data["target"]: class_text(p, stored[(p.task_id, k)]) for p in deps}
            key = (task.name, suite["test_id"], k, FORM)
            jobs.append((key, task.build_program(
                "/".join(map(str, key)), suite["project"], deps[0].data["solution_root"],
                {target: text for target, (text, _) in texts.items()},
                assembly={"todo": any(todo for _, todo in texts.values())},
                select_class=suite["target"])))
    return jobs


def summarize_testwise(rows: list[dict], n_samples: int, ks=(1, 5)) -> dict:
    """compilation@k and fractional_pass@k per project and overall, over suites."""
    per_suite: dict[tuple, list[dict]] = {}
    for row in rows:
        per_suite.setdefault((row["project"], row["test_id"]), []).append(row)
    scores: dict[str, dict[str, list]] = {}
    for (project, _), suite_rows in sorted(per_suite.items()):
        compiled = [r for r in suite_rows if r["completed"] and r["compilable"]]
        c_pass = sum(r["n_pass"][0] / r["n_pass"][1] for r in compiled if r["n_pass"][1])
        for scope in (project, "overall"):
            bucket = scores.setdefault(scope, {"compilation": [], "fractional_pass": []})
            bucket["compilation"].append(len(compiled))
            bucket["fractional_pass"].append(c_pass)
    return {scope: {"n_suites": len(b["compilation"]),
                    **{f"{m}@{k}": round(sum(fractional_pass_at_k(n_samples, c, k)
                                             for c in b[m]) / len(b[m]), 6)
                       for k in ks if k <= n_samples for m in b}}
            for scope, b in scores.items()}


def run_testwise(run_dir: Path, data_dir: str | None, runner, n_samples: int | None = None,
                 mode: str | None = None, timeout: float | None = None) -> dict:
    """Score a run store's JavaBench samples test-wise through the ExecutionService (results
    stored in the run store as form `testwise`, so a rerun resumes); write and return the
    report. `runner.run(programs)` yields their Executions (a sandbox of the java image)."""
    if not (run_dir / SAMPLES).is_file():
        raise UserError(f"{run_dir} is not a run store (no {SAMPLES})")
    store = RunStore(run_dir)
    store.lock()
    samples = [s for s in store.read(SAMPLES) if s.get("task") == "javabench"]
    if not samples:
        raise UserError(f"{run_dir / SAMPLES} holds no javabench samples")
    n = n_samples or min(
        sum(1 for s in samples if s["task_id"] == t) for t in {s["task_id"] for s in samples})
    source = DataSource.from_option(data_dir)
    task = JavaBench(mode=mode, timeout=timeout)
    suites = load_suites(source)
    jobs = testwise_jobs(task, task.load(source), samples, suites, n)
    results = ExecutionService(store, runner).run(jobs, desc="test-wise")
    project_of = {s["test_id"]: s["project"] for s in suites}
    rows = []
    for key, _ in jobs:
        if key not in results:
            continue   # a runner that left the program out (the tests keep to one project)
        row, (_, test_id, k, _) = results[key], key
        outcome = sample_outcome(row["tests"])
        rows.append({"test_id": test_id, "project": project_of[test_id], "k": k,
                     "completed": outcome["completed"], "compilable": outcome["compiled"],
                     "n_pass": outcome["test_result"], "status": row["status"]})
    rows.sort(key=lambda r: (r["project"], r["test_id"], r["k"]))
    report = {"n_samples": n, "metrics": summarize_testwise(rows, n), "steps": rows}
    (run_dir / "javabench_testwise.json").write_text(json.dumps(report, indent=1) + "\n")
    return report
