"""The openai backend against servers on 127.0.0.1: a scripted one that fails and under-
delivers on purpose (retries, `n` checking), and `transformers serve` with a tiny model."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import codeeval_cmd
from tinymodels import save_tiny_model

from codeeval.errors import UserError
from codeeval.generation import GenerationConfig, make_backend
from codeeval.records import Request, read_jsonl


class ScriptedServer:
    """Answers POSTs from a script: a list of statuses for the first calls, then at most
    `max_choices` choices per reply, each text naming the prompt and a running count, then
    `extra`."""

    def __init__(self, failures=(), max_choices=1, extra=""):
        self.failures, self.max_choices, self.extra = list(failures), max_choices, extra
        self.bodies, self.headers, self.lock = [], [], threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.bodies.append((self.path, body))
                    server.headers.append(dict(self.headers))
                    status = server.failures.pop(0) if server.failures else 200
                    count = len(server.bodies)
                if status != 200:
                    self.send_response(status)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(b'{"error": "scripted"}')
                    return
                prompt = body.get("prompt") or body["messages"][-1]["content"]
                texts = [f"{prompt}#{count}.{i}{server.extra}<STOP>tail"
                         for i in range(min(body["n"], server.max_choices))]
                choices = ([{"index": i, "message": {"content": t}} for i, t in enumerate(texts)]
                           if "messages" in body else
                           [{"index": i, "text": t} for i, t in enumerate(texts)])
                for choice in choices:
                    choice["finish_reason"] = "stop"
                data = json.dumps({"choices": choices, "usage": {
                    "completion_tokens": 7 * len(texts)}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def requests(prompts, n, messages=False):
    return [Request("t", str(p), i, prompt=f"P{p}", stop=("<STOP>",),
                    messages=({"role": "user", "content": f"M{p}"},) if messages else ())
            for p in range(prompts) for i in range(n)]


def backend(server, **options):
    options = {"base_url": server.url, **options}
    return make_backend("openai:tiny", GenerationConfig(n_samples=3, max_new_tokens=5), options)


def test_missing_choices_are_asked_for_again_after_retried_failures(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    server = ScriptedServer(failures=[429, 503], max_choices=2)
    try:
        client = backend(server, concurrency="2")
        out = list(client.generate(requests(2, 3)))
    finally:
        server.close()
    assert sorted((r.task_id, r.sample_idx) for r, _ in out) == \
        [(str(p), i) for p in range(2) for i in range(3)]
    assert all(a.text.startswith(f"P{r.task_id}#") and "<STOP>" not in a.text for r, a in out)
    assert len({a.text for _, a in out}) == 6
    # a call's usage counts all its choices: a sample's own count only when it came alone
    assert sorted(map(str, (a.tokens for _, a in out))) == ["7", "7", "None", "None", "None",
                                                            "None"]
    assert {a.finish_reason for _, a in out} == {"stop"} and client.tokens_generated == 42
    # per prompt: n=3 (2 choices back), then n=1; plus the two failed calls, retried
    asked = sorted(body["n"] for _, body in server.bodies)
    assert asked == [1, 1, 3, 3, 3, 3]
    assert all(path == "/v1/completions" for path, _ in server.bodies)
    assert all({k.lower(): v for k, v in h.items()}.get("authorization") == "Bearer sk-test"
               for h in server.headers)
    assert server.bodies[0][1]["stop"] == ["<STOP>"] and server.bodies[0][1]["max_tokens"] == 5


def test_chat_endpoint_for_requests_with_messages():
    server = ScriptedServer(max_choices=5)
    try:
        client = backend(server)
        out = list(client.generate(requests(1, 2, messages=True)))
    finally:
        server.close()
    assert [path for path, _ in server.bodies] == ["/v1/chat/completions"]
    assert all(client.uses_chat(r) and a.text.startswith("M0#") for r, a in out)
    assert not backend(server, endpoint="completions").uses_chat(out[0][0])


def test_chat_answers_are_cut_at_the_chat_stop_strings_not_the_completion_ones():
    # BigCodeBench's completion stops include "\nimport ": a chat answer opening with an
    # import would be cut to nothing if the completion stops applied to it
    server = ScriptedServer(max_choices=5)
    both = [Request("t", "0", 0, prompt="P0", stop=("#",), chat_stop=("<STOP>",),
                    messages=({"role": "user", "content": "M0"},))]
    try:
        [(_, chat_text)] = list(backend(server).generate(both))
        [(_, completion_text)] = list(backend(server, endpoint="completions").generate(both))
    finally:
        server.close()
    assert chat_text.text == "M0#1.0" and completion_text.text == "P0"
    assert [body["stop"] for _, body in server.bodies] == [["<STOP>"], ["#"]]


def test_a_lone_surrogate_in_a_reply_becomes_a_replacement_character():
    server = ScriptedServer(extra="\ud83d")      # half a pair, as JSON can escape it
    try:
        [(_, answer)] = list(backend(server).generate(requests(1, 1)))
    finally:
        server.close()
    text = answer.text
    assert text == "P0#1.0\ufffd"
    text.encode("utf-8")                         # storable, hashable, runnable


@pytest.mark.parametrize("failures,message", [
    ([400], "HTTP 400"),
    ([500, 500, 500], "HTTP 500 after 3 tries"),
])
def test_failures_become_one_line_errors(failures, message):
    server = ScriptedServer(failures=failures)
    try:
        with pytest.raises(UserError, match=message) as err:
            list(backend(server, max_retries="2").generate(requests(1, 1)))
    finally:
        server.close()
    assert "\n" not in str(err.value)
    assert len(server.bodies) == len(failures)


def test_each_retry_is_said_when_the_server_is_down():
    """Connection refused (nothing listens on the port) is retried with backoff, and every
    retry is a warning line: a server that is down must not look like a slow run."""
    import socket
    with socket.socket() as probe:            # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = make_backend("openai:m", GenerationConfig(max_new_tokens=4),
                        {"base_url": f"http://127.0.0.1:{port}/v1", "max_retries": "2"})
    with pytest.warns(UserWarning, match=r"retrying in \d+\.\d s \(retry \d of 2\)") as said:
        with pytest.raises(UserError, match="failed 3 times, last: APIConnectionError"):
            list(down.generate(requests(1, 1)))
    assert [str(w.message).split("(")[-1] for w in said] == ["retry 1 of 2)", "retry 2 of 2)"]


def test_base_url_comes_from_the_option_then_the_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    assert make_backend("openai:m", GenerationConfig(), {}).base_url == "http://127.0.0.1:9/v1"
    assert make_backend("openai:m", GenerationConfig(), {"base_url": "http://127.0.0.1:8/v1"}
                        ).base_url == "http://127.0.0.1:8/v1"
    with pytest.raises(UserError, match="model name"):
        make_backend("openai:", GenerationConfig(), {})
    with pytest.raises(UserError, match="unknown --model-args for openai: colour"):
        make_backend("openai:m", GenerationConfig(), {"colour": "blue"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(model: Path):
    """`transformers serve` (transformers[serving]) serving `model` on CPU on loopback; yields
    its API root."""
    port = free_port()
    command = Path(sys.executable).with_name("transformers")
    proc = subprocess.Popen([str(command), "serve", str(model), "--host", "127.0.0.1", "--port",
                             str(port), "--device", "cpu"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, "transformers serve exited"
                assert time.monotonic() < deadline, "transformers serve did not start"
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def transformers_server(tmp_path_factory):
    """A tiny chat model served by `transformers serve`."""
    model = save_tiny_model(tmp_path_factory.mktemp("served") / "tiny", "llama")
    with serve(model) as url:
        yield url, model


@pytest.mark.parametrize("endpoint,form", [("auto", "solution"), ("completions", "completion")])
def test_run_against_transformers_serve(transformers_server, benchmarks, tmp_path, endpoint,
                                        form):
    url, model = transformers_server
    out = tmp_path / "run"
    proc = subprocess.run(codeeval_cmd(
        "run", "--model", f"openai:{model}", "--base-url", url, "--model-args",
        f"endpoint={endpoint}", "--tasks", "humaneval-pro", "--limit", "2", "--n-samples", "2",
        "--temperature", "0.7", "--max-new-tokens", "8", "--out", str(out),
        "--data-dir", str(benchmarks)), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = read_jsonl(out / "samples.jsonl")
    # the server answers n=2 with one choice: the client asked again for the second sample
    assert sorted((r["task_id"], r["sample_idx"]) for r in rows) == \
        [("0", 0), ("0", 1), ("1", 0), ("1", 1)]
    assert all(r[form] is not None for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["model_args"] == {"endpoint": endpoint, "base_url": url}
