"""The `openai` backend: any OpenAI-compatible server (vLLM, SGLang, TGI, hosted APIs).

`--model openai:MODEL --base-url URL` (else OPENAI_BASE_URL, else the OpenAI API); the API key,
if any, comes from OPENAI_API_KEY. Requests with the same prompt go out as one call with `n` =
their count; a server may return fewer choices than asked (some ignore `n`), so the missing
samples are asked for again. Calls run with bounded concurrency through the `openai` client,
which retries 408/409/429/5xx, timeouts and connection errors with exponential backoff
(honouring Retry-After); each retry is said as a warning. Stop strings are sent and also applied
to the returned text, since not every server honours them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import openai

from codeeval.errors import UserError
from codeeval.generation.base import Backend, GenerationConfig, cut_at_stop, sample_seed
from codeeval.records import Generation, Request, utf8_text

OPTIONS = {
    "base_url": "the server's API root, e.g. http://127.0.0.1:8000/v1",
    "endpoint": "auto (chat when the task gives messages), chat or completions",
    "concurrency": "calls in flight at once (default 8)",
    "timeout": "seconds to wait for one call (default 600)",
    "max_retries": "retries of a failing call before giving up (default 6)",
}
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class RetriesSaid(logging.Handler):
    """Turns the client's "Retrying request ..." log records into warnings: a server that is
    down must not look like a slow run."""

    def __init__(self, base_url: str):
        super().__init__(logging.INFO)
        self.base_url = base_url

    def emit(self, record: logging.LogRecord) -> None:
        if not str(record.msg).startswith("Retrying"):
            return
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) == 3 and isinstance(args[0], float):   # (delay, retry, of)
            message = f"retrying in {args[0]:.1f} s (retry {args[1]} of {args[2]})"
        else:
            message = record.getMessage()
        warnings.warn(f"{self.base_url}: {message}", stacklevel=2)


def is_retried(exc) -> bool:
    """Whether the client retried this status before giving up (its own rule)."""
    return exc.status_code in (408, 409, 429) or exc.status_code >= 500


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
            timeout = float(options.get("timeout", 600))
            self.max_retries = max(0, int(options.get("max_retries", 6)))
        except ValueError:
            raise UserError("--model-args concurrency, timeout and max_retries must be "
                            "numbers") from None
        # a local server needs no key, but the client insists on one
        self.client = openai.OpenAI(base_url=self.base_url, timeout=timeout,
                                    api_key=os.environ.get("OPENAI_API_KEY") or "none",
                                    max_retries=self.max_retries)
        logger = logging.getLogger("openai._base_client")
        logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
        if not any(isinstance(h, RetriesSaid) for h in logger.handlers):
            logger.addHandler(RetriesSaid(self.base_url))

    def uses_chat(self, request: Request) -> bool:
        return self.endpoint == "chat" or (self.endpoint == "auto" and bool(request.messages))

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[Request, Generation]]:
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

    def _complete_group(self, group: list[Request]) -> list[tuple[Request, Generation]]:
        """Answers for every request of a group (same prompt), asking again for missing ones."""
        results, remaining, empty_replies = [], list(group), 0
        while remaining:
            answers = self._call(remaining[0], len(remaining))[:len(remaining)]
            if not answers:
                empty_replies += 1
                if empty_replies > self.max_retries:
                    raise UserError(f"{self.base_url} returned no choices for {group[0].key}")
                continue
            for request, answer in zip(remaining, answers):
                text = cut_at_stop(answer.text, request.stops(self.uses_chat(request)))
                results.append((request, dataclasses.replace(answer, text=text)))
            remaining = remaining[len(answers):]
        return results

    def _call(self, request: Request, n: int) -> list[Generation]:
        """One call for `n` samples of the request's prompt: the choices it returned."""
        chat = self.uses_chat(request)
        body = {"model": self.model, "n": n, "max_tokens": self.config.max_new_tokens,
                "temperature": self.config.temperature, "top_p": self.config.top_p,
                "seed": sample_seed(self.config.seed, f"{request.key}/{n}") % (2 ** 31)}
        if request.stops(chat):
            body["stop"] = list(request.stops(chat))
        path = "/chat/completions" if chat else "/completions"
        try:
            if chat:
                reply = self.client.chat.completions.create(messages=list(request.messages),
                                                            **body)
            else:
                reply = self.client.completions.create(prompt=request.prompt, **body)
        except openai.APIStatusError as exc:
            detail = str(exc.message or "").strip().splitlines()
            tries = f" after {self.max_retries + 1} tries" if is_retried(exc) else ""
            raise UserError(f"{self.base_url}{path}: HTTP {exc.status_code}{tries}: "
                            f"{detail[0][:200] if detail else ''}") from None
        except openai.APIConnectionError as exc:   # timeouts included
            raise UserError(f"{self.base_url}{path} failed {self.max_retries + 1} times, last: "
                            f"{type(exc).__name__}: {exc}") from None
        except openai.APIResponseValidationError as exc:
            raise UserError(f"{self.base_url}{path}: the reply is not a completion ({exc})"
                            ) from None
        usage = getattr(reply, "usage", None)
        tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        self.tokens_generated += tokens
        # servers leave out fields: read each with a default
        choices = sorted(getattr(reply, "choices", None) or [],
                         key=lambda c: getattr(c, "index", 0) or 0)
        # the usage counts every choice of the call: a sample's own count only when alone
        own = tokens if len(choices) == 1 and usage is not None else None
        texts = [(getattr(getattr(c, "message", None), "content", None) if chat
                  else getattr(c, "text", None)) or "" for c in choices]
        return [Generation(utf8_text(text), own, getattr(c, "finish_reason", None))
                for text, c in zip(texts, choices)]

    def describe(self) -> dict:
        return {**super().describe(), "base_url": self.base_url, "endpoint": self.endpoint}
