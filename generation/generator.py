"""The prefix-sharing generator (BatchLLM-style) behind the hf backend.

All requests go in at once. `plan_groups` cuts the prefix tree of their prompts into levels;
each shared span's KV is computed once and stored once in the KV arena, and every decode step
attends each sequence to its shared segments and its own tokens (see prefix_attention).
Scheduling: whole groups are admitted, in plan order (long decodes first, clusters together),
while their KV fits the arena, which is sized by the memory budget rather than by a request
count; a finished sequence leaves the batch at once and frees its KV; a group's shared prompt
is freed with its last member, a cluster's prefix with its last group.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch

from codeeval.errors import UserError
from codeeval.generation.kv_arena import KVArena, Span
from codeeval.generation.prefix_attention import STEP_KWARG, DecodeStep, PrefillStep
from codeeval.generation.prefix_tree import Cluster, PromptGroup, SharingPolicy, plan_groups
from codeeval.generation.sampling import StopMatcher, TokenSampler, pick_tokens
from codeeval.kernels import SegmentTiles, rows_per_tile


@dataclass
class SampleSpec:
    """What one request needs from the generator."""

    prompt: list[int]
    max_new: int
    sampler: TokenSampler
    stop: StopMatcher | None = None


@dataclass(eq=False)
class Sequence:
    index: int
    spec: SampleSpec
    group: PromptGroup
    own: Span
    generated: list[int] = field(default_factory=list)


@dataclass
class GenerationStats:
    """Deterministic quantities of one generate() call (tests and benchmarks read them)."""

    prompt_tokens: int = 0        # summed over requests, as a per-sequence engine processes them
    prefill_tokens: int = 0       # prompt tokens this generator ran through the model
    decode_tokens: int = 0
    decode_steps: int = 0
    peak_kv_tokens: int = 0       # written KV slots held at once, at peak
    kv_bytes_per_token: int = 0
    shared_segments: int = 0

    @property
    def peak_kv_bytes(self) -> int:
        return self.peak_kv_tokens * self.kv_bytes_per_token


class PrefixSharingGenerator:
    def __init__(self, model, *, kv_budget_tokens: int, policy: SharingPolicy, eos_ids,
                 device, max_positions: int | None = None):
        self.model, self.device = model, torch.device(device)
        self.kv_budget_tokens, self.policy = kv_budget_tokens, policy
        self.eos_ids = set(eos_ids)
        self.max_positions = max_positions
        config = model.config.get_text_config()
        self.layers = config.num_hidden_layers
        self.heads = config.num_attention_heads
        self.kv_heads = getattr(config, "num_key_value_heads", None) or self.heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.rows_per_tile = rows_per_tile(self.heads // self.kv_heads, self.device)
        self.stats = GenerationStats()

    # -- public -------------------------------------------------------------------------------

    def generate(self, specs: list[SampleSpec]) -> Iterator[tuple[int, list[int]]]:
        """Yield (index into specs, generated token ids) as each sequence finishes."""
        self.stats = GenerationStats(prompt_tokens=sum(len(s.prompt) for s in specs))
        groups = plan_groups([s.prompt for s in specs], [s.max_new for s in specs], self.policy)
        for spec in specs:
            if self.max_new(spec.prompt, spec.max_new) < 1:
                raise UserError(f"a prompt has {len(spec.prompt)} tokens, the model's context "
                                f"is {self.max_positions}: no room to generate")
        total, planned = 0, set()
        for group in groups:
            total += sum(size for _, size in self._sizes(group, specs, planned))
            planned.add(group.cluster)
        capacity = min(self.kv_budget_tokens, total)
        dtype = next(self.model.parameters()).dtype
        self.arena = KVArena(self.layers, self.kv_heads, self.head_dim, capacity, dtype,
                             self.device)
        self.stats.kv_bytes_per_token = self.arena.bytes_per_token
        self.cluster_spans: dict[Cluster, Span] = {}
        self.cluster_left = {g.cluster: len(g.cluster.groups) for g in groups if g.cluster}
        self.group_spans: dict[PromptGroup, Span] = {}
        self.group_left: dict[PromptGroup, int] = {}
        waiting, active = deque(groups), []
        while waiting or active:
            while waiting:
                placed = self._place(waiting[0], specs)
                if placed is None:
                    break
                started = self._prefill(waiting.popleft(), placed, specs)
                active.extend(started)
                yield from self._retire(active, [s for s in started if self._done(s)])
            if not active and waiting:
                need = sum(size for _, size in self._sizes(waiting[0], specs, self.cluster_spans))
                raise UserError(f"one prompt group needs {need} tokens of KV memory but the "
                                f"budget is {self.kv_budget_tokens}: raise max_batch_tokens "
                                "in --model-args or lower --max-new-tokens")
            if active:
                self._decode_step(active)
                yield from self._retire(active, [s for s in active if self._done(s)])
        self.stats.peak_kv_tokens = self.arena.peak_held
        self.arena = None    # the KV memory goes back as soon as the last sequence is out

    # -- scheduling ---------------------------------------------------------------------------

    def _sizes(self, group: PromptGroup, specs, live_clusters) -> list[tuple[object, int]]:
        """The spans a group needs: its cluster prefix (unless live), its shared prompt, and
        each member's own KV (its unshared prompt tokens plus its new tokens)."""
        sizes = []
        if group.cluster and group.cluster not in live_clusters:
            sizes.append(("cluster", group.cluster.length))
        if group.shared:
            sizes.append(("group", group.rest_length))
        own_prompt = 0 if group.shared else group.rest_length
        for index in group.members:
            sizes.append((index, own_prompt + self.max_new(group.tokens, specs[index].max_new)))
        return sizes

    def max_new(self, prompt, max_new: int) -> int:
        if self.max_positions is None:
            return max_new
        return min(max_new, self.max_positions - len(prompt))

    def _place(self, group: PromptGroup, specs) -> dict | None:
        """Allocate every span the group needs, or nothing (returns None) if it does not fit."""
        sizes = self._sizes(group, specs, self.cluster_spans)
        placed = {}
        for name, size in sizes:
            span = self.arena.alloc(size)
            if span is None:
                for done in placed.values():
                    self.arena.free(done)
                return None
            placed[name] = span
        return placed

    def _retire(self, active: list[Sequence], finished: list[Sequence]):
        for seq in finished:
            active.remove(seq)
            self.arena.free(seq.own)
            group = seq.group
            self.group_left[group] -= 1
            if self.group_left[group] == 0:
                if group in self.group_spans:
                    self.arena.free(self.group_spans.pop(group))
                if group.cluster:
                    self.cluster_left[group.cluster] -= 1
                    if self.cluster_left[group.cluster] == 0:
                        self.arena.free(self.cluster_spans.pop(group.cluster))
            yield seq.index, seq.generated

    def _done(self, seq: Sequence) -> bool:
        tokens = seq.generated
        return (tokens[-1] in self.eos_ids
                or len(tokens) >= self.max_new(seq.spec.prompt, seq.spec.max_new)
                or (seq.spec.stop is not None and seq.spec.stop.hit(tokens)))

    # -- model passes -------------------------------------------------------------------------

    @torch.inference_mode()
    def _forward(self, tokens: list[list[int]], positions: list[list[int]], step) -> torch.Tensor:
        ids = torch.tensor(tokens, device=self.device)
        pos = torch.tensor(positions, device=self.device)
        out = self.model(input_ids=ids, position_ids=pos, use_cache=False, logits_to_keep=1,
                         **{STEP_KWARG: step})
        return out.logits[:, -1, :].float()

    def _prefill_span(self, tokens, first_position: int, target: Span, ancestors: list[Span]):
        step = PrefillStep(self.arena, target, ancestors, first_position + len(tokens))
        logits = self._forward([list(tokens)],
                               [list(range(first_position, first_position + len(tokens)))], step)
        self.arena.wrote(target, len(tokens))
        self.stats.prefill_tokens += len(tokens)
        return logits[0]

    def _prefill(self, group: PromptGroup, placed: dict, specs) -> list[Sequence]:
        ancestors = []
        if group.cluster:
            if "cluster" in placed:
                span = self.cluster_spans[group.cluster] = placed["cluster"]
                self.stats.shared_segments += 1
                self._prefill_span(group.tokens[:group.cluster.length], 0, span, [])
            ancestors.append(self.cluster_spans[group.cluster])
        owns = [placed[index] for index in group.members]
        if group.shared:
            target = self.group_spans[group] = placed["group"]
            self.stats.shared_segments += 1
        else:
            target = owns[0]
        logits = self._prefill_span(group.tokens[group.shared_from:], group.shared_from, target,
                                    ancestors)
        if not group.shared:
            for own in owns[1:]:
                self.arena.copy(owns[0], own)
        self.group_left[group] = len(group.members)
        seqs = [Sequence(index, specs[index], group, own)
                for index, own in zip(group.members, owns)]
        for seq in seqs:
            seq.generated.append(seq.spec.sampler.pick(logits))
        return seqs

    def _decode_step(self, active: list[Sequence]) -> None:
        rows_of_cluster: dict[Cluster, list[int]] = {}
        rows_of_group: dict[PromptGroup, list[int]] = {}
        for row, seq in enumerate(active):
            if seq.group.cluster:
                rows_of_cluster.setdefault(seq.group.cluster, []).append(row)
            if seq.group.shared:
                rows_of_group.setdefault(seq.group, []).append(row)
        levels = [
            [(self.cluster_spans[c].start, self.cluster_spans[c].length, rows)
             for c, rows in rows_of_cluster.items()],
            [(self.group_spans[g].start, self.group_spans[g].length, rows)
             for g, rows in rows_of_group.items()],
            [(seq.own.start, seq.own.length + 1, [row]) for row, seq in enumerate(active)],
        ]
        positions = [len(s.spec.prompt) + len(s.generated) - 1 for s in active]
        step = DecodeStep(self.arena,
                          torch.tensor([s.own.start + s.own.length for s in active],
                                       device=self.device),
                          [SegmentTiles.build(level, self.device, self.rows_per_tile)
                           for level in levels],
                          max(positions) + 1)
        logits = self._forward([[s.generated[-1]] for s in active], [[p] for p in positions],
                               step)
        for seq, token in zip(active, pick_tokens(logits, [s.spec.sampler for s in active])):
            self.arena.wrote(seq.own, 1)
            seq.generated.append(token)
        self.stats.decode_steps += 1
        self.stats.decode_tokens += len(active)
