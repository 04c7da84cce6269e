"""Choosing tokens and noticing stops, per sample.

Every sample draws from its own random generator, seeded from the run's seed and the request
key, so a sample's text depends on neither batching nor which other requests run beside it
(nor on a resumed run skipping some)."""

from __future__ import annotations

import torch

from codeeval.generation.base import cut_at_stop


NUCLEUS_FIRST_K = 64   # usually holds the whole nucleus at top_p 0.95


class TokenSampler:
    """Greedy when temperature is 0, else temperature + nucleus (top-p) sampling."""

    def __init__(self, temperature: float, top_p: float, seed: int, device):
        self.temperature, self.top_p = temperature, top_p
        self.generator = None
        if temperature > 0:
            self.generator = torch.Generator(device=device)
            self.generator.manual_seed(seed)

    @property
    def greedy(self) -> bool:
        return self.generator is None

    def pick(self, logits: torch.Tensor) -> int:
        """logits: [V] fp32."""
        if self.greedy:
            return int(logits.argmax())
        probs = torch.softmax(logits / self.temperature, dim=-1)
        if self.top_p >= 1.0:
            return int(torch.multinomial(probs, 1, generator=self.generator))
        weights, tokens = nucleus(probs, self.top_p)
        return int(tokens[torch.multinomial(weights, 1, generator=self.generator)])


def nucleus(probs: torch.Tensor, top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The smallest set of top tokens whose mass reaches top_p (at least one): (their
    probabilities, zero outside the set; token ids), most probable first. Searched among the
    top k, k grown until their mass reaches top_p, rather than by sorting the whole vocabulary,
    which cost a quarter of a real model's sampled decode time."""
    k = min(NUCLEUS_FIRST_K, probs.numel())
    while True:
        top, tokens = probs.topk(k)
        mass = top.cumsum(-1)
        if mass[-1] >= top_p or k == probs.numel():
            break
        k = min(8 * k, probs.numel())
    outside = mass - top >= top_p
    outside[0] = False
    return top.masked_fill(outside, 0.0), tokens


def pick_tokens(logits: torch.Tensor, samplers: list[TokenSampler]) -> list[int]:
    """One token per row of logits [B, V]; greedy rows in one batched argmax."""
    tokens = logits.argmax(-1).tolist()
    for row, sampler in enumerate(samplers):
        if not sampler.greedy:
            tokens[row] = sampler.pick(logits[row])
    return tokens


class StopMatcher:
    """Says when the text generated so far contains one of the stop strings, decoding only a
    tail of tokens long enough to hold any of them (a token is at least one byte)."""

    def __init__(self, tokenizer, stops):
        self.tokenizer = tokenizer
        self.stops = [s for s in stops if s]
        self.window = 4 * max((len(s) for s in self.stops), default=0) + 8

    def hit(self, tokens: list[int]) -> bool:
        if not self.stops:
            return False
        tail = self.tokenizer.decode(tokens[-self.window:], skip_special_tokens=False)
        return any(s in tail for s in self.stops)

    def cut(self, text: str) -> str:
        """The text before the earliest stop string."""
        return cut_at_stop(text, self.stops)
