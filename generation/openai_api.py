"""The `openai` backend: any OpenAI-compatible server (vLLM, SGLang, TGI, hosted APIs).

`--model openai:MODEL --base-url URL` (else OPENAI_BASE_URL, else the OpenAI API); the API key,
if any, comes from OPENAI_API_KEY. Requests with the same prompt go out as one call with `n` = their count; a
server may return fewer choices than asked (some ignore `n`), so the missing samples are asked
for again. Calls run with bounded concurrency and are retried with exponential backoff on 429,
5xx, timeouts and connection errors. Stop strings are sent and also applied to the returned
text, since not every server honours them. Only the standard library is used.
"""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from codeeval.errors import UserError
from codeeval.generation.base import Backend, GenerationConfig, sample_seed
from codeeval.records import Request, utf8_text

OPTIONS = {
    "base_url": "the server's API root, e.g. http://127.0.0.1:8000/v1",
    "endpoint": "auto (chat when the task gives messages), chat or completions",
    "concurrency": "calls in flight at once (default 8)",
    "timeout": "seconds to wait for one call (default 600)",
    "max_retries": "retries of a failing call before giving up (default 6)",
    "retry_base_s": "first backoff delay in seconds, doubled per retry (default 1)",
}
RETRY_STATUS = {408, 409, 429} | set(range(500, 600))
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class RetryableError(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def stop_cut(text: str, stops) -> str:
    ends = [i for i in (text.find(s) for s in stops if s) if i != -1]
    return text[:min(ends)] if ends else text


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(self, model: str, config: GenerationConfig, options: dict | None = None):
        super().__init__(model, config)
        options = dict(options or {})
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise UserError(f"unknown --model-args for openai: {', '.join(unknown)} (known: "
                            f"{', '.join(OPTIONS)})")
        base_url = (options.get("base_url") or os.environ.get("OPENAI_BASE_URL")
                    or DEFAULT_BASE_URL)
        if not model:
            raise UserError("openai:MODEL needs a model name after `openai:`")
        self.base_url = base_url.rstrip("/")
        self.endpoint = options.get("endpoint", "auto")
        if self.endpoint not in ("auto", "chat", "completions"):
            raise UserError("--model-args endpoint must be auto, chat or completions")
        self.chat = self.endpoint != "completions"
        try:
            self.concurrency = max(1, int(options.get("concurrency", 8)))
            self.timeout = float(options.get("timeout", 600))
            self.max_retries = max(0, int(options.get("max_retries", 6)))
            self.retry_base_s = float(options.get("retry_base_s", 1.0))
        except ValueError:
            raise UserError("--model-args concurrency, timeout, max_retries and retry_base_s "
                            "must be numbers") from None
        self.api_key = os.environ.get("OPENAI_API_KEY")
        self.calls = 0   # HTTP calls made, retries included

    def uses_chat(self, request: Request) -> bool:
        return self.endpoint == "chat" or (self.endpoint == "auto" and bool(request.messages))

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[Request, str]]:
        groups: dict[tuple, list[Request]] = {}
        for request in requests:
            form = (request.messages if self.uses_chat(request) else request.prompt)
            groups.setdefault((json.dumps(form), request.stops(self.uses_chat(request))),
                              []).append(request)
        pool = ThreadPoolExecutor(self.concurrency)
        try:
            pending = {pool.submit(self._complete_group, g) for g in groups.values()}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield from future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _complete_group(self, group: list[Request]) -> list[tuple[Request, str]]:
        """Texts for every request of a group (same prompt), asking again for missing ones."""
        results, remaining, empty_replies = [], list(group), 0
        while remaining:
            texts = self._call(remaining[0], len(remaining))[:len(remaining)]
            if not texts:
                empty_replies += 1
                if empty_replies > self.max_retries:
                    raise UserError(f"{self.base_url} returned no choices for {group[0].key}")
                continue
            for request, text in zip(remaining, texts):
                results.append((request, stop_cut(text, request.stops(self.uses_chat(request)))))
            remaining = remaining[len(texts):]
        return results

    def _call(self, request: Request, n: int) -> list[str]:
        chat = self.uses_chat(request)
        body = {"model": self.model, "n": n, "max_tokens": self.config.max_new_tokens,
                "temperature": self.config.temperature, "top_p": self.config.top_p,
                "seed": sample_seed(self.config.seed, f"{request.key}/{n}") % (2 ** 31)}
        if request.stops(chat):
            body["stop"] = list(request.stops(chat))
        if chat:
            body["messages"] = list(request.messages)
        else:
            body["prompt"] = request.prompt
        reply = self._post("/chat/completions" if chat else "/completions", body)
        self.tokens_generated += int((reply.get("usage") or {}).get("completion_tokens") or 0)
        choices = sorted(reply.get("choices") or [], key=lambda c: c.get("index", 0))
        if chat:
            return [utf8_text((c.get("message") or {}).get("content") or "") for c in choices]
        return [utf8_text(c.get("text") or "") for c in choices]

    def _post(self, path: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.max_retries + 1):
            self.calls += 1
            try:
                return self._post_once(self.base_url + path, data, headers)
            except RetryableError as exc:
                if attempt == self.max_retries:
                    raise UserError(f"{self.base_url}{path} failed {attempt + 1} times, last: "
                                    f"{exc}") from None
                delay = max(self.retry_base_s * 2 ** attempt * random.uniform(0.5, 1.0),
                            exc.retry_after or 0.0)
                # said every time: a server that is down must not look like a slow run
                warnings.warn(f"{self.base_url}{path}: {exc}; retry {attempt + 1} of "
                              f"{self.max_retries} in {delay:.1f} s")
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _post_once(self, url: str, data: bytes, headers: dict) -> dict:
        req = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace").strip().splitlines()
            message = f"HTTP {exc.code}: {detail[0][:200] if detail else exc.reason}"
            if exc.code in RETRY_STATUS:
                after = exc.headers.get("Retry-After") if exc.headers else None
                raise RetryableError(message, float(after) if after and after.isdigit()
                                     else None) from None
            raise UserError(f"{url}: {message}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise RetryableError(f"{type(exc).__name__}: {exc}") from None
        except json.JSONDecodeError:
            raise RetryableError("the reply was not JSON") from None

    def describe(self) -> dict:
        return {**super().describe(), "base_url": self.base_url, "endpoint": self.endpoint}
