"""Global prefix identification: which prompt tokens are shared, and by whom.

All prompts of a run are known before generation starts, so the sharing structure is computed
once, as BatchLLM does. Prompts with identical token ids form a *prompt group* (the n samples
of a problem). Distinct prompts sorted by token ids list the leaves of the prefix tree (trie)
over token ids in depth-first order, and the longest common prefix (LCP) of neighbours in that
order gives the tree's branch points; a maximal run of neighbours whose LCP is at least
`min_tokens` is a *cluster* (instruction / few-shot block shared across problems), whose shared
prefix is the smallest LCP in the run. That two-level cut is the plan: level 0 the cluster
prefix, level 1 the rest of the prompt shared by a group's samples, then each sample's own
tokens. A level whose span is too short, or read by too few sequences, is not worth a shared
segment: its tokens are stored with the level below (plain attention).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SharingPolicy:
    min_tokens: int = 32     # a shorter shared span is stored per level below
    min_seqs: int = 2        # a span read by fewer sequences is stored per level below


@dataclass(eq=False)
class Cluster:
    """Prompt groups sharing a level-0 prefix of `length` tokens, stored once."""

    length: int
    groups: list["PromptGroup"] = field(default_factory=list)


@dataclass(eq=False)
class PromptGroup:
    """Sequences with identical prompt token ids. `shared_from` is where the level-1 span starts
    (the cluster prefix length, or 0); `shared` says whether that span is one stored segment
    read by every member, or copied into each member's own KV."""

    tokens: tuple[int, ...]
    members: list[int] = field(default_factory=list)     # request indices
    max_new: int = 0
    cluster: Cluster | None = None
    shared_from: int = 0
    shared: bool = False

    @property
    def rest_length(self) -> int:
        return len(self.tokens) - self.shared_from

    def decode_ratio(self) -> float:
        """Expected decode tokens per prompt token this group prefills: BatchLLM's order key."""
        return len(self.members) * self.max_new / max(1, self.rest_length)


def common_prefix(a, b) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def plan_groups(prompts, max_new: list[int], policy: SharingPolicy) -> list[PromptGroup]:
    """Group request prompts (token id sequences, each non-empty) and cut the prefix tree into
    levels. Returns the groups in scheduling order: clusters kept together (their prefix lives
    shortest), groups with the most decode work per prefill token first."""
    by_tokens: dict[tuple[int, ...], PromptGroup] = {}
    for index, tokens in enumerate(prompts):
        group = by_tokens.setdefault(tuple(tokens), PromptGroup(tuple(tokens)))
        group.members.append(index)
        group.max_new = max(group.max_new, max_new[index])
    ordered = sorted(by_tokens.values(), key=lambda g: g.tokens)   # the trie's leaves, DFS order

    runs: list[list[PromptGroup]] = [[]]
    for prev, group in zip([None] + ordered[:-1], ordered):
        if prev is not None and common_prefix(prev.tokens, group.tokens) < policy.min_tokens:
            runs.append([])
        runs[-1].append(group)

    units: list[list[PromptGroup]] = []
    for run in runs:
        # the cluster prefix is the run's smallest neighbour LCP, leaving each prompt at least
        # one token of its own so that its last prefill step yields that prompt's logits
        length = min((common_prefix(a.tokens, b.tokens) for a, b in zip(run, run[1:])),
                     default=0)
        length = min([length] + [len(g.tokens) - 1 for g in run])
        if len(run) > 1 and length >= policy.min_tokens:
            cluster = Cluster(length, list(run))
            for group in run:
                group.cluster, group.shared_from = cluster, length
            units.append(run)
        else:
            units.extend([g] for g in run)
    for group in by_tokens.values():
        group.shared = (len(group.members) >= policy.min_seqs
                        and group.rest_length >= policy.min_tokens)

    for unit in units:
        unit.sort(key=lambda g: -g.decode_ratio())
    units.sort(key=lambda unit: -unit[0].decode_ratio())
    return [g for unit in units for g in unit]
