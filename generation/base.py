"""The Backend interface: requests in, model text out. Heavy imports stay in each backend."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

from codeeval.records import Generation, Request


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    """The text before the earliest of the stop strings (every backend cuts its answers so)."""
    ends = [i for i in (text.find(s) for s in stops if s) if i != -1]
    return text[:min(ends)] if ends else text


def sample_seed(seed: int, key: str) -> int:
    """A sample's own seed, from the run's seed and the request key: a sample's text depends
    on neither batching nor the backend's call order (torch-free: the openai backend uses it)."""
    digest = hashlib.sha256(f"{seed}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


@dataclass(frozen=True)
class GenerationConfig:
    """Sampling options every backend honours. Per-sample seeds derive from `seed` and the
    request key, so a sample does not change with batching or with a resumed run."""

    n_samples: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 4096
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class Backend(ABC):
    name: str = ""
    chat: bool = False   # True when outputs answer the chat form (Request.messages)

    def __init__(self, model: str, config: GenerationConfig):
        self.model = model
        self.config = config
        self.tokens_generated = 0   # by this process, as the model counts them (stops included)

    @abstractmethod
    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[Request, Generation]]:
        """Yield (request, its Generation) for every request, as soon as each is ready."""

    def uses_chat(self, request: Request) -> bool:
        """Whether the text for `request` answers its chat form (Request.messages)."""
        return self.chat and bool(request.messages)

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.model, "chat": self.chat}
