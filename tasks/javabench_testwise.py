"""JavaBench test-wise granularity: each test suite run against the k-th samples of every class
it depends on (`full_deps` in datasets/testcase/test-PAxx.jsonl), the rest canonical.

Test-wise steps combine samples of several classes, so they are not one program per sample as
the run pipeline executes: `codeeval javabench-testwise RUN_DIR` reads a JavaBench run store's
samples (any model, or `codeeval evaluate`d official outputs), runs one program per (suite, k)
in the java image (`--select-class` the suite), and writes RUN_DIR/javabench_testwise.json
with each step's [passed, total] and Compilation@k / Pass@k per project and overall (the
official visual_table get_compilation_data / get_pass_data, averaged over suites).

Deviation: where a dependency's k-th sample cannot be assembled (no `public`), upstream keeps
the file of the previous k in place and still runs; here that step fails at assembly. Both
are excluded from every metric (`can_replace` false), so no metric differs.
"""

from __future__ import annotations

import json
from pathlib import Path

from codeeval.errors import UserError
from tqdm import tqdm

from codeeval.records import Problem, read_jsonl
from codeeval.tasks.javabench import (PROJECTS, JavaBench, assemble, extract_java,
                                      fractional_pass_at_k, has_todo, sample_outcome)
from codeeval.tasks.sources import DataSource


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


def testwise_programs(task: JavaBench, problems: list[Problem], samples: list[dict],
                      suites: list[dict], n_samples: int) -> dict[str, tuple[dict, int]]:
    """Program key -> (suite, k) for every suite and k < n_samples, with the programs."""
    by_target = {(p.data["project"], p.data["target"]): p for p in problems}
    stored = {(s["task_id"], s["sample_idx"]): s for s in samples}
    covered = {task_id.split("/")[0] for task_id, _ in stored}   # score only those projects
    programs, steps = [], {}
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
            key = f"javabench-testwise/{suite['test_id']}/{k}"
            programs.append(task.build_program(
                key, suite["project"], deps[0].data["solution_root"],
                {target: text for target, (text, _) in texts.items()},
                assembly={"todo": any(todo for _, todo in texts.values())},
                select_class=suite["target"]))
            steps[key] = (suite, k)
    return {p.key: (steps[p.key], p) for p in programs}


def summarize_testwise(rows: list[dict], n_samples: int, ks=(1, 5)) -> dict:
    """Compilation@k and Pass@k (fractional c) per project and overall, over suites."""
    per_suite: dict[tuple, list[dict]] = {}
    for row in rows:
        per_suite.setdefault((row["project"], row["test_id"]), []).append(row)
    scores: dict[str, dict[str, list]] = {}
    for (project, _), suite_rows in sorted(per_suite.items()):
        compiled = [r for r in suite_rows if r["completed"] and r["compilable"]]
        c_pass = sum(r["n_pass"][0] / r["n_pass"][1] for r in compiled if r["n_pass"][1])
        for scope in (project, "overall"):
            bucket = scores.setdefault(scope, {"compilation": [], "pass": []})
            bucket["compilation"].append(len(compiled))
            bucket["pass"].append(c_pass)
    return {scope: {"n_suites": len(b["pass"]),
                    **{f"{m}@{k}": round(sum(fractional_pass_at_k(n_samples, c, k)
                                             for c in b[m]) / len(b[m]), 6)
                       for k in ks if k <= n_samples for m in ("compilation", "pass")}}
            for scope, b in scores.items()}


def run_testwise(run_dir: Path, data_dir: str | None, sandbox, n_samples: int | None = None,
                 mode: str | None = None) -> dict:
    """Score a run store's JavaBench samples test-wise; write and return the report."""
    path = run_dir / "samples.jsonl"
    if not path.is_file():
        raise UserError(f"{run_dir} is not a run store (no samples.jsonl)")
    samples = [s for s in read_jsonl(path) if s.get("task") == "javabench"]
    if not samples:
        raise UserError(f"{path} holds no javabench samples")
    n = n_samples or min(
        sum(1 for s in samples if s["task_id"] == t) for t in {s["task_id"] for s in samples})
    source = DataSource.from_option(data_dir)
    task = JavaBench(mode=mode)
    jobs = testwise_programs(task, task.load(source), samples, load_suites(source), n)
    unique = {}   # identical programs (e.g. equal samples) run once
    for key, (_, program) in jobs.items():
        unique.setdefault(program.content_hash, []).append(key)
    programs = [jobs[keys[0]][1] for keys in unique.values()]
    rows = []
    for execution in tqdm(sandbox.run(programs), total=len(programs), desc="test-wise",
                          unit="step"):
        outcome = sample_outcome(execution.tests)
        for key in unique[jobs[execution.key][1].content_hash]:
            suite, k = jobs[key][0]
            rows.append({"test_id": suite["test_id"], "project": suite["project"], "k": k,
                         "completed": outcome["completed"], "compilable": outcome["compiled"],
                         "n_pass": outcome["test_result"], "status": execution.status})
    rows.sort(key=lambda r: (r["project"], r["test_id"], r["k"]))
    report = {"n_samples": n, "metrics": summarize_testwise(rows, n), "steps": rows}
    (run_dir / "javabench_testwise.json").write_text(json.dumps(report, indent=1) + "\n")
    return report
