"""The `openai:` backend: any server speaking the OpenAI chat-completions API.

`openai:MODEL` sends each request's chat messages to `$OPENAI_BASE_URL/chat/completions`
(default https://api.openai.com/v1) with `$OPENAI_API_KEY` as bearer token, when set.
Requests run a few at a time (`OPENAI_CONCURRENCY`, default 8); a request that fails is
retried three times (3 s apart, as CodeIF's client does), then the run stops with one line;
what was answered before stays in the run store. Minimal on purpose (stdlib HTTP, chat form
only): it serves as CodeIF's judge, and gives way to the full `openai` generation backend
when that lands.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from codeeval.errors import UserError
from codeeval.generation.base import Backend
from codeeval.records import Request

DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRIES, RETRY_SLEEP_S, TIMEOUT_S = 3, 3.0, 300


class OpenAIChatBackend(Backend):
    name = "openai"
    chat = True

    def __init__(self, model: str, config):
        super().__init__(model, config)
        self.served_model = model.split(":", 1)[1]
        if not self.served_model:
            raise UserError("openai: needs a model name, e.g. openai:gpt-4o-2024-11-20")
        self.base_url = os.environ.get("OPENAI_BASE_URL", DEFAULT_BASE_URL).rstrip("/")
        self.api_key = os.environ.get("OPENAI_API_KEY")
        self.concurrency = int(os.environ.get("OPENAI_CONCURRENCY", "8"))

    def describe(self) -> dict:
        return {**super().describe(), "base_url": self.base_url}

    def body(self, request: Request) -> dict:
        messages = list(request.messages) or [{"role": "user", "content": request.prompt}]
        body = {"model": self.served_model, "messages": messages, "n": 1,
                "temperature": self.config.temperature, "top_p": self.config.top_p,
                "max_tokens": self.config.max_new_tokens,
                "seed": self.config.seed + request.sample_idx}
        if request.stop and not request.messages:   # stop strings belong to the prompt form
            body["stop"] = list(request.stop)
        return body

    def complete(self, request: Request) -> str:
        data = json.dumps(self.body(request)).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        problem = ""
        for attempt in range(RETRIES):
            http = urllib.request.Request(f"{self.base_url}/chat/completions", data=data,
                                          headers=headers, method="POST")
            try:
                with urllib.request.urlopen(http, timeout=TIMEOUT_S) as response:
                    reply = json.loads(response.read())
                return reply["choices"][0]["message"]["content"] or ""
            except (urllib.error.URLError, OSError, ValueError, KeyError, IndexError) as exc:
                problem = str(getattr(exc, "reason", None) or exc)
                if attempt + 1 < RETRIES:
                    time.sleep(RETRY_SLEEP_S)
        raise UserError(f"{self.base_url}/chat/completions failed {RETRIES} times for "
                        f"{request.key}: {problem}; rerun to resume")

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[Request, str]]:
        if not requests:
            return
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(self.complete, r): r for r in requests}
            for future in as_completed(futures):
                yield futures[future], future.result()
