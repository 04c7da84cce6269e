"""CodeIF: the official parsing rules, the metrics on hand-built judge replies, and a whole run
with a judge served over loopback by a small OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from codeeval.errors import UserError
from codeeval.records import Problem, read_jsonl, results_by_key
from codeeval.scoring import summarize_task
from codeeval.tasks.codeif import CodeIF, parse_verdicts, sample_scores
from codeeval.tasks.sources import DataSource
from conftest import codeeval_cmd


@pytest.mark.parametrize("reply, verdicts", [
    ("['Yes', 'No']", ["Yes", "No"]),
    ("Result: [Yes, No, yes]", ["Yes", "No", "yes"]),      # bare words are quoted
    ("['Yes'] and later ['No', 'No']", ["Yes"]),          # the first list only
    ("no list at all", ["No"]),                           # unparsable: ['No']
    ("[Yes, 'No'", ["No"]),                               # unclosed
    ("[1+x]", ["No"]),                                    # parses, not a value
])
def test_parse_verdicts(reply, verdicts):
    assert parse_verdicts(reply) == verdicts


def _problem(task_id: str, language: str, subset: str) -> Problem:
    types = ["global", "variable", "function", "global", "class"]
    data = {"question_id": int(task_id), "question": "Write it.",
            "meta_info": {"programming_language": language, "item_set": subset},
            "instruction_list": [{"type": t, "instruction": f"rule {i}"}
                                 for i, t in enumerate(types)],
            "instruction_dependence": {"3": [0, 1], "4": [2]}}
    return Problem(task_id, data, {"language": language, "subset": subset})


def test_metrics_on_hand_built_judge_replies():
    task = CodeIF()
    problems = [_problem("1", "go", "easy"), _problem("2", "java", "hard"),
                _problem("3", "go", "hard"), _problem("4", "go", "easy")]
    replies = ["['Yes', 'No', 'Yes', 'Yes', 'Yes']",  # SSR 4/5; RSR: #3 needs #1 -> 3/5; CCSR 3/5
               "[Yes, Yes, Yes, Yes, Yes]",
               "I would say yes",                     # -> ['No']: length 1, excluded
               "['Yes', 'No', 'Yes']"]                # length 3, excluded
    rows = {("codeif", p.task_id, 0, "raw"): {"task": "codeif", "form": "raw", **task.score_reply(p, reply)}
            for p, reply in zip(problems, replies)}
    first = rows[("codeif", "1", 0, "raw")]
    assert first["scores"] == {"CSR": 0.0, "SSR": 0.8, "RSR": 0.6, "CCSR": 0.6}
    assert rows[("codeif", "3", 0, "raw")]["status"] == "excluded"
    assert rows[("codeif", "4", 0, "raw")]["verdicts"] == ["Yes", "No", "Yes"]
    summary = summarize_task(task, problems, rows, ["raw"], 1)
    assert summary["metrics"] == {"CSR": 0.5, "SSR": 0.9, "RSR": 0.8, "CCSR": 0.8}
    assert summary["headline"] == "CSR"
    assert summary["breakdowns"]["status"] == {"raw": {"scored": 2, "excluded": 2}}
    assert summary["n_samples"] == 4 and summary["n_problems"] == 4
    assert summary["per_problem"] == {"raw": {"1": [1, 0.0], "2": [1, 1.0], "3": [0, 0],
                                              "4": [0, 0]}}
    assert summary["breakdowns"]["language"]["go"] == {
        "n_problems": 1, "n_samples": 1, "CSR": 0.0, "SSR": 0.8, "RSR": 0.6, "CCSR": 0.6}
    assert summary["breakdowns"]["subset"]["hard"]["CSR"] == 1.0
    # a store written before one status vocabulary (judged, length_mismatch) reads the same
    old = {"scored": "judged", "excluded": "length_mismatch"}
    legacy = results_by_key({**r, "task_id": k[1], "sample_idx": 0, "status": old[r["status"]]}
                            for k, r in rows.items())
    assert summarize_task(task, problems, legacy, ["raw"], 1) == summary
    # category: global instructions #0 and #3 of both judged samples, all Yes
    assert summary["breakdowns"]["category"]["global"] == {"n_instructions": 4,
                                                           "satisfied": 1.0}
    assert summary["breakdowns"]["category"]["variable"] == {"n_instructions": 2,
                                                             "satisfied": 0.5}


def test_dependencies_count_only_when_all_prerequisites_hold():
    verdicts = ["No", "Yes", "Yes", "Yes"]
    scores = sample_scores(verdicts, {"1": [0], "2": [1], "3": [2, 1]})
    assert scores["RSR"] == pytest.approx(2 / 4)   # #1 fails on #0; #2 and #3 hold
    assert scores["CCSR"] == pytest.approx(3 / 4) and scores["CSR"] == 0.0


def test_subsets(benchmarks):
    assert len(CodeIF().load(DataSource(benchmarks))) == 1200
    hard = CodeIF(subset="hard").load(DataSource(benchmarks))
    assert len(hard) == 600 and {p.meta["subset"] for p in hard} == {"hard"}
    with pytest.raises(UserError):
        CodeIF(subset="medium")


def test_prompts_are_the_official_ones(benchmarks):
    task = CodeIF()
    problem = task.load(DataSource(benchmarks))[0]
    prompt = task.request(problem, 0).messages[0]["content"]
    assert prompt.startswith("\nAs a programming assistant, your task is to generate code")
    assert "\n1. " + problem.data["instruction_list"][0]["instruction"] + "\n2. " in prompt
    assert prompt.endswith("Please generate the code snippet based on the above information:\n")
    from codeeval.records import Sample
    judge = task.judge_request(problem, Sample("codeif", problem.task_id, 0, completion="ANSWER"))
    content = judge.messages[0]["content"]
    assert "Model-generated code:\nANSWER\n" in content
    assert content.rstrip().endswith("containing only 'Yes' or 'No'.")


class ChatServer:
    """An OpenAI chat-completions server on 127.0.0.1: writes code when asked to generate,
    and as a judge says No to instruction 2 and Yes to the rest (or rambles, for answers
    containing RAMBLE)."""

    def __init__(self):
        self.calls = {"generate": 0, "judge": 0}
        self.bodies = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.bodies.append(body)
                reply = server.answer(body["messages"][-1]["content"])
                data = json.dumps({"choices": [{"message": {"role": "assistant",
                                                            "content": reply}}]}).encode()
                self.send_response(200 if self.path == "/v1/chat/completions" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, content: str) -> str:
        if "Model-generated code:" in content:
            self.calls["judge"] += 1
            if "RAMBLE" in content:
                return "The code looks fine to me."
            section = content.split("Instructions:\n", 1)[1].split("\n\nModel-generated", 1)[0]
            n = len(re.findall(r"^\d+\. ", section, flags=re.M))
            return str(["No" if i == 1 else "Yes" for i in range(n)])
        self.calls["generate"] += 1
        return "RAMBLE" if self.calls["generate"] == 2 else "```go\nfunc main() {}\n```"

    def close(self):
        self.httpd.shutdown()


def test_run_with_a_judge_over_loopback(benchmarks, tmp_path):
    server = ChatServer()
    out = tmp_path / "run"
    # one request at a time, so that the second generation request is the one that rambles
    args = codeeval_cmd("run", "--model", "openai:coder", "--model-args", "concurrency=1",
                        "--tasks", "codeif", "--subset",
                        "hard", "--limit", "3", "--judge-model", "openai:judge",
                        "--out", str(out), "--data-dir", str(benchmarks))
    env = {**os.environ, "OPENAI_BASE_URL": server.url, "OPENAI_CONCURRENCY": "1"}
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr
        assert server.calls == {"generate": 3, "judge": 3}
        judge_bodies = [b for b in server.bodies if b["model"] == "judge"]
        assert {b["temperature"] for b in judge_bodies} == {0.5}
        assert {b["max_tokens"] for b in judge_bodies} == {4096}
        again = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
        assert again.returncode == 0, again.stderr
        assert server.calls == {"generate": 3, "judge": 3}     # nothing asked twice
    finally:
        server.close()
    judgements = read_jsonl(out / "judgements.jsonl")
    assert len(judgements) == 3 and {j["judge"] for j in judgements} == {"openai:judge"}
    summary = json.loads((out / "summary.json").read_text())
    task = summary["tasks"]["codeif"]
    assert task["breakdowns"]["status"] == {"raw": {"scored": 2, "excluded": 1}}
    problems = CodeIF(subset="hard").load(DataSource(benchmarks))[:3]
    judged = [p for p in problems if p.task_id != problems[1].task_id]   # #2 rambled
    expected = {m: 0.0 for m in ("CSR", "SSR", "RSR", "CCSR")}
    for problem in judged:
        n = len(problem.data["instruction_list"])
        deps = problem.data["instruction_dependence"]
        broken = sum(1 for i in range(n) if i != 1 and 1 in deps.get(str(i), []))
        expected["SSR"] += (n - 1) / n / 2
        expected["RSR"] += (n - 1 - broken) / n / 2
        expected["CCSR"] += max(1, n - 2) / n / 2
    assert task["metrics"] == pytest.approx(expected)
    assert summary["provenance"]["judges"]["codeif"]["model"] == "openai:judge"
    assert summary["provenance"]["sandbox"] == {}


def test_judge_tasks_need_a_judge(benchmarks, tmp_path):
    proc = subprocess.run(codeeval_cmd("run", "--model", "openai:x", "--tasks", "codeif",
                                       "--out", str(tmp_path / "o"), "--data-dir",
                                       str(benchmarks)),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--judge-model" in proc.stderr
    assert proc.stderr.count("\n") == 1
