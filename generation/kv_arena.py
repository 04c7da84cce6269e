"""The KV memory of the prefix-sharing generator: one preallocated arena per layer.

Every stored span (a shared prefix segment, or a sequence's own tokens) is a contiguous range
of token slots, the same range in every layer, so a kernel addresses it by (start, length).
Slots are handed out first-fit and returned when the span's last reader finishes. The arena's
capacity is the run's KV memory budget; the generator admits work only while it fits.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass
class Span:
    start: int
    capacity: int
    length: int = 0      # slots written so far


class SlotAllocator:
    """First-fit allocation of contiguous token ranges in [0, capacity)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.free_ranges: list[tuple[int, int]] = [(0, capacity)] if capacity else []  # sorted
        self.reserved = 0

    def alloc(self, size: int) -> Span | None:
        for i, (start, length) in enumerate(self.free_ranges):
            if length >= size:
                if length == size:
                    del self.free_ranges[i]
                else:
                    self.free_ranges[i] = (start + size, length - size)
                self.reserved += size
                return Span(start, size)
        return None

    def free(self, span: Span) -> None:
        self.reserved -= span.capacity
        i = bisect.bisect(self.free_ranges, (span.start, 0))
        start, length = span.start, span.capacity
        if i < len(self.free_ranges) and self.free_ranges[i][0] == start + length:
            length += self.free_ranges.pop(i)[1]
        if i > 0 and sum(self.free_ranges[i - 1]) == start:
            start, prev_length = self.free_ranges.pop(i - 1)
            length += prev_length
            i -= 1
        self.free_ranges.insert(i, (start, length))


class KVArena:
    """Per-layer key and value tensors [kv_heads, capacity, head_dim] plus the slot allocator,
    and the accounting the benchmarks report (slots held by written KV, at peak)."""

    def __init__(self, layers: int, kv_heads: int, head_dim: int, capacity: int, dtype, device):
        import torch
        self.keys = [torch.empty(kv_heads, capacity, head_dim, dtype=dtype, device=device)
                     for _ in range(layers)]
        self.values = [torch.empty_like(k) for k in self.keys]
        self.slots = SlotAllocator(capacity)
        self.bytes_per_token = 2 * layers * kv_heads * head_dim * self.keys[0].element_size() \
            if layers else 0
        self.held = 0          # written slots of live spans
        self.peak_held = 0

    def alloc(self, size: int) -> Span | None:
        return self.slots.alloc(size)

    def wrote(self, span: Span, count: int) -> None:
        span.length += count
        self.held += count
        self.peak_held = max(self.peak_held, self.held)

    def free(self, span: Span) -> None:
        self.held -= span.length
        self.slots.free(span)

    def copy(self, source: Span, target: Span) -> None:
        """Copy source's written KV to the start of target (a prompt prefilled once, then held
        per sequence because sharing it does not pay)."""
        n = source.length
        for keys, values in zip(self.keys, self.values):
            keys[:, target.start:target.start + n] = keys[:, source.start:source.start + n]
            values[:, target.start:target.start + n] = values[:, source.start:source.start + n]
        self.wrote(target, n)
