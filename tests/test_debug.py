"""LDB-style debugging: the CFG builder, block traces of a planted bug, and the repair loop end
to end through the OpenAI-compatible backend against a scripted server on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from codeeval.records import read_jsonl
from codeeval.tasks import get_task
from codeeval.tasks.sources import DataSource
from conftest import codeeval_cmd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sandbox"))
import tracer  # noqa: E402  (the in-sandbox module, imported here as plain code)


def blocks(source: str) -> dict:
    return {name: [(b["kind"], tuple(b["lines"])) for b in bs]
            for name, bs in tracer.build_cfg(source).blocks.items()}


TRICKY = '''\
def search(rows, goal):
    for row in rows:
        for cell in row:
            if cell == goal:
                break
        else:
            continue
        return row
    return None

def safe(x):
    try:
        y = 1 / x
    except ZeroDivisionError:
        y = 0
    finally:
        done = True
    return y

def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)

def gen(n):
    squares = [i * i for i in range(n)]
    key = lambda v: -v
    for s in sorted(squares, key=key):
        yield s

class Box:
    size = 2
    def area(self):
        def half(v):
            return v / 2
        return half(self.size * self.size)
'''


def test_cfg_of_tricky_code():
    cfg = blocks(TRICKY)
    assert cfg["search"] == [("loop-guard", (2, 2)), ("loop-guard", (3, 3)), ("if-test", (4, 4)),
                             ("if-body", (5, 5)), ("loop-else", (7, 7)), ("straight", (8, 8)),
                             ("straight", (9, 9))]
    assert [k for k, _ in cfg["safe"]] == ["try-body", "except", "finally", "straight"]
    assert cfg["fact"] == [("if-test", (21, 21)), ("if-body", (22, 22)), ("straight", (23, 23))]
    assert [k for k, _ in cfg["gen"]] == ["entry", "loop-guard", "loop-body"]
    assert cfg["Box.area"] == [("entry", (34, 36))]
    assert cfg["Box.area.<locals>.half"] == [("entry", (35, 35))]


def traced(tmp_path, source: str, calls) -> tracer.Tracer:
    """Define `source` as a file, then trace `calls(namespace)` at block granularity."""
    path = tmp_path / "p.py"
    path.write_text(source)
    t = tracer.Tracer(str(path), source, "block")
    with t:
        namespace = {}
        exec(compile(source, str(path), "exec"), namespace)
        calls(namespace)
    return t


def test_trace_follows_recursion_and_every_function(tmp_path):
    t = traced(tmp_path, TRICKY, lambda ns: (ns["fact"](3), ns["Box"]().area(), list(ns["gen"](3))))
    functions = [b["function"] for b in t.events]
    assert functions.count("fact") == 6  # 3 calls, each its test block and one more
    assert "Box.area.<locals>.half" in functions and "gen" in functions
    returns = [b["return"] for b in t.events if b["function"] == "fact" and "return" in b]
    assert returns == ["1", "2", "6"]


def test_safe_repr_never_calls_user_repr():
    class Evil:
        def __repr__(self):
            raise SystemExit("user code ran")
    assert tracer.safe_repr(Evil()) == "<test_safe_repr_never_calls_user_repr.<locals>.Evil object>"
    assert len(tracer.safe_repr("x" * 10_000)) <= 103


def test_long_traces_keep_head_and_tail(tmp_path):
    source = "def loop(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n"
    t = traced(tmp_path, source, lambda ns: ns["loop"](50))
    summary = t.summary()
    assert len(summary["blocks"]) == 10 and summary["skipped"] == len(t.events) - 10
    assert summary["blocks"][-1]["return"] == str(sum(range(50)))


def test_a_planted_off_by_one_shows_the_wrong_value_at_the_right_block(benchmarks, sandbox):
    task = get_task("humaneval-pro")
    problem = next(p for p in task.load(DataSource(benchmarks)) if p.task_id == "14")
    d = problem.data
    # new_solution redefines all_prefixes (the one the tests call): plant the bug there
    buggy = d["new_solution"].replace("range(1, len(string) + 1)", "range(1, len(string))")
    assert buggy != d["new_solution"]
    code = d["raw_problem"] + d["raw_solution"] + d["new_problem"] + buggy
    [execution] = sandbox.run([task.debug_program(problem, code, "block")])
    assert execution.status == "failed"
    assert execution.tests[-1]["real_output"] == "[['a', 'ab'], ['d', 'de']]"
    planted = next(n for n, line in enumerate(code.splitlines(), 1)
                   if "range(1, len(string))" in line)
    calls = [b for b in execution.trace["blocks"] if b["function"] == "all_prefixes"]
    assert calls and calls[0]["lines"][0] <= planted <= calls[0]["lines"][1]
    assert calls[0]["entry"] == {"string": "'abc'"} and calls[0]["return"] == "['a', 'ab']"
    outer = [b for b in execution.trace["blocks"] if b["function"] == "all_prefixes_for_list"]
    assert outer[-1]["return"] == "[['a', 'ab'], ['d', 'de']]"


class ScriptedModel(BaseHTTPRequestHandler):
    """An OpenAI-style chat server: buggy code for generation, a fix for debug feedback."""
    fixed: dict = {}
    buggy: dict = {}
    marker: dict = {}     # problem id -> the signature its prompts contain
    feedback: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        last = body["messages"][-1]["content"]
        conversation = "\n".join(m["content"] for m in body["messages"])
        problem = next(k for k, marker in self.marker.items() if marker in conversation)
        if "fails the given unit test" in last:
            type(self).feedback.append(last)
            text = ('{"block": "BLOCK-1", "correct": "False", "explanation": "off by one"}\n'
                    f"```python\n{self.fixed[problem]}\n```")
        else:
            text = f"```python\n{self.buggy[problem]}\n```"
        answer = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant",
                                                                   "content": text}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args):
        pass


def scripted_run(benchmarks, out, task_name: str, limit: int, *args, slow_fix: float = 0):
    """`codeeval run` against ScriptedModel: buggy code first, the canonical program as the
    fix (sleeping `slow_fix` seconds first, when given)."""
    task = get_task(task_name)
    problems = task.load(DataSource(benchmarks))[:limit]
    for p in problems:
        d = p.data
        pause = f"import time\ntime.sleep({slow_fix})\n" if slow_fix else ""
        ScriptedModel.fixed[p.task_id] = pause + d["raw_problem"] + d["raw_solution"] + \
            d["new_problem"] + d["new_solution"]
        ScriptedModel.buggy[p.task_id] = d["raw_problem"].strip() + "\n    return None\n" + \
            d["new_problem"] + d["new_solution"]
        ScriptedModel.marker[p.task_id] = d["new_problem"].strip().splitlines()[-1]
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedModel)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {"OPENAI_BASE_URL": f"http://127.0.0.1:{server.server_port}/v1", "PATH": "/usr/bin:/bin"}
    try:
        return subprocess.run(codeeval_cmd("run", "--model", "openai:scripted", "--tasks",
                                           task_name, "--limit", str(limit), *args,
                                           "--out", str(out), "--data-dir", str(benchmarks)),
                              capture_output=True, text=True, timeout=600,
                              env={**__import__("os").environ, **env})
    finally:
        server.shutdown()


def test_repair_loop_end_to_end_through_a_loopback_server(benchmarks, tmp_path):
    out = tmp_path / "run"
    proc = scripted_run(benchmarks, out, "humaneval-pro", 2, "--debug-rounds", "2",
                        "--timeout", "60")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())["tasks"]["humaneval-pro"]
    results = read_jsonl(out / "results.jsonl")
    assert summary["debug"]["pass@1_by_round"] == [0.0, 1.0, 1.0], \
        [(r["task_id"], r["form"], r["status"], r["message"]) for r in results]
    debug = read_jsonl(out / "debug.jsonl")
    assert len(debug) == 2 and all(r["round"] == 1 for r in debug)
    assert all(r["verdicts"][0]["correct"] == "False" and r["trace"]["blocks"] for r in debug)
    assert "[BLOCK-0]" in ScriptedModel.feedback[0] and "# Real Execution Output:" in \
        ScriptedModel.feedback[0]
    assert {(r["form"], r["status"]) for r in results} == {
        ("raw", "failed"), ("trace1", "failed"), ("debug1", "passed")}
    repaired = [r for r in results if r["form"] == "debug1"]
    assert all(r["trace"]["blocks"] and r["verdicts"] for r in repaired)


def test_debugging_problems_whose_ids_hold_slashes(benchmarks, tmp_path):
    """BigCodeBench-Lite Pro's ids (`BigCodeBench/23`) once broke the key parsing of the
    repair rounds (KeyError after the first round's fixes ran)."""
    out = tmp_path / "run"
    proc = scripted_run(benchmarks, out, "bigcodebench-lite-pro", 1, "--debug-rounds", "1")
    assert proc.returncode == 0, proc.stderr
    repaired = [r for r in read_jsonl(out / "results.jsonl") if r["form"] == "debug1"]
    assert [r["task_id"] for r in repaired] == ["BigCodeBench/23"]


def test_timeout_reaches_the_repair_rounds(benchmarks, tmp_path):
    """--timeout limits every program a run executes: the fixed program sleeps 5 s, within
    HumanEval Pro's own 10 s limit but past the 2 s given."""
    out = tmp_path / "run"
    proc = scripted_run(benchmarks, out, "humaneval-pro", 1, "--debug-rounds", "1",
                        "--timeout", "2", slow_fix=5)
    assert proc.returncode == 0, proc.stderr
    statuses = {r["form"]: r["status"] for r in read_jsonl(out / "results.jsonl")}
    assert statuses == {"raw": "failed", "trace1": "failed", "debug1": "timeout"}
