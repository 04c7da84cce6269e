"""The torch maths of segment attention: the CPU path and the reference the Triton kernel is
tested against. Scores, softmax statistics and outputs are fp32 whatever the KV dtype."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SegmentTiles:
    """Work for one attend_segments call: tile i attends rows row_index[row_start[i] :
    row_start[i] + row_count[i]] of q to the KV range [kv_start[i], kv_start[i] + kv_len[i])."""

    kv_start: torch.Tensor   # int32 [tiles]
    kv_len: torch.Tensor     # int32 [tiles]
    row_start: torch.Tensor  # int32 [tiles]
    row_count: torch.Tensor  # int32 [tiles]
    row_index: torch.Tensor  # int64 [rows]
    spans: list[tuple[int, int, list[int]]]   # the same, as python (kv_start, kv_len, rows)
    max_rows: int
    max_kv_len: int
    kv_tokens: int           # kv_len summed over the tiles
    _padded: tuple | None = None

    @property
    def count(self) -> int:
        return len(self.spans)

    def padded_ranges(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(index [tiles, max_kv_len] of each tile's KV slots, padded with slot 0; valid mask),
        computed once and reused by every layer."""
        if self._padded is None:
            positions = torch.arange(self.max_kv_len, device=self.kv_len.device)
            valid = positions[None, :] < self.kv_len[:, None]
            self._padded = (torch.where(valid, self.kv_start[:, None] + positions[None, :], 0),
                            valid)
        return self._padded

    @classmethod
    def build(cls, segments, device, rows_per_tile: int | None = None) -> "SegmentTiles":
        """segments: (kv_start, kv_len, rows) triples; empty KV ranges and empty row lists are
        dropped; a segment with more rows than rows_per_tile becomes several tiles."""
        spans = []
        for kv_start, kv_len, rows in segments:
            if kv_len <= 0 or not rows:
                continue
            step = rows_per_tile or len(rows)
            spans.extend((kv_start, kv_len, list(rows[i:i + step]))
                         for i in range(0, len(rows), step))
        starts, total = [], 0
        for _, _, rows in spans:
            starts.append(total)
            total += len(rows)

        def ints(values, dtype=torch.int32):
            return torch.tensor(values, dtype=dtype, device=device)

        return cls(kv_start=ints([s[0] for s in spans]), kv_len=ints([s[1] for s in spans]),
                   row_start=ints(starts), row_count=ints([len(s[2]) for s in spans]),
                   row_index=ints([r for s in spans for r in s[2]], torch.int64), spans=spans,
                   max_rows=max((len(s[2]) for s in spans), default=0),
                   max_kv_len=max((s[1] for s in spans), default=0),
                   kv_tokens=sum(s[1] for s in spans))


def new_state(rows: int, heads: int, head_dim: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """The state of rows that have seen no key yet: o = 0, lse = -inf."""
    return (torch.zeros(rows, heads, head_dim, dtype=torch.float32, device=device),
            torch.full((rows, heads), float("-inf"), dtype=torch.float32, device=device))


def merge_into(o, lse, rows, o_part, lse_part) -> None:
    """state[rows] <- LSE-merge(state[rows], (o_part, lse_part)). Every part has seen at least
    one key (empty tiles are dropped), so lse_part and the merged lse are finite; a row's old
    lse may be -inf (nothing seen yet) and then weighs exp(-inf) = 0."""
    old = lse.index_select(0, rows)
    lse_new = torch.logaddexp(old, lse_part)
    o.index_copy_(0, rows, o.index_select(0, rows) * torch.exp(old - lse_new)[..., None]
                  + o_part * torch.exp(lse_part - lse_new)[..., None])
    lse.index_copy_(0, rows, lse_new)


def _partial(scores, values):
    """(o, lse) of softmax(scores) @ values, fp32. Each row has at least one finite score."""
    m = scores.amax(-1, keepdim=True)
    p = torch.exp(scores - m)
    l = p.sum(-1, keepdim=True)
    return (p @ values) / l, (m + torch.log(l)).squeeze(-1)


def _attend_span(q, keys, values, scale):
    """(o [1, KVH, M, D], lse [1, KVH, M]) of queries q [1, KVH, M, D] over keys and values
    [1, KVH, L, D], fp32. On the CPU one fused call (torch's flash attention for the CPU, which
    returns the log-sum-exp too): on 2 cores a decode step's attention is bound by the number of
    small ops, and the unfused maths is seven of them per span."""
    if q.device.type == "cpu":
        return _cpu_flash(q.float(), keys.float(), values.float(), scale=scale)
    return _partial(q.float() @ keys.float().transpose(2, 3) * scale, values.float())


_cpu_flash = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu


def _grouped(q_rows, kv_heads):
    """[R, H, D] -> [KVH, R * group, D]: the q heads that read one kv head stacked into M."""
    r, h, d = q_rows.shape
    return q_rows.view(r, kv_heads, h // kv_heads, d).transpose(0, 1).reshape(kv_heads, -1, d)


def _ungrouped(x, rows, heads):
    """[KVH, R * group, ...] -> [R, H, ...]."""
    kv_heads = x.shape[0]
    return x.reshape(kv_heads, rows, heads // kv_heads, *x.shape[2:]).transpose(0, 1).reshape(
        rows, heads, *x.shape[2:])


def _spans_over_views(q, k, v, tiles: SegmentTiles, scale: float):
    """(o, lse) of the tiles' rows (row_index order): each tile's rows attend its KV range over
    a view of the arena, read once for all of them."""
    heads, kv_heads = q.shape[1], k.shape[0]
    group = heads // kv_heads
    rows = tiles.row_index.shape[0]
    q_level = _grouped(q.index_select(0, tiles.row_index), kv_heads)[None]   # [1, KVH, R*G, D]
    k4, v4 = k[None], v[None]
    o_parts, lse_parts, first = [], [], 0
    for kv_start, kv_len, span_rows in tiles.spans:
        o_span, lse_span = _attend_span(q_level.narrow(2, first * group, len(span_rows) * group),
                                        k4.narrow(2, kv_start, kv_len),
                                        v4.narrow(2, kv_start, kv_len), scale)
        o_parts.append(o_span)
        lse_parts.append(lse_span)
        first += len(span_rows)
    o_level = o_parts[0] if len(o_parts) == 1 else torch.cat(o_parts, 2)
    lse_level = lse_parts[0] if len(lse_parts) == 1 else torch.cat(lse_parts, 2)
    return _ungrouped(o_level[0], rows, heads), _ungrouped(lse_level[0], rows, heads)


def _padded_rows(q, k, v, tiles: SegmentTiles, scale: float):
    """(o, lse) of one-row tiles as one batch: each row's KV range gathered into a padded
    [KVH, B, L, D] copy, padding masked out."""
    heads, d, kv_heads = q.shape[1], q.shape[2], k.shape[0]
    index, valid = tiles.padded_ranges()                                      # [B, L]
    b, length = index.shape
    keys = k.index_select(1, index.view(-1)).view(kv_heads, b, length, d).float()
    values = v.index_select(1, index.view(-1)).view(kv_heads, b, length, d).float()
    qg = q.index_select(0, tiles.row_index).float().view(b, kv_heads, heads // kv_heads,
                                                         d).transpose(0, 1)  # [KVH, B, G, D]
    scores = (qg @ keys.transpose(2, 3) * scale).masked_fill_(~valid[None, :, None, :],
                                                             float("-inf"))   # [KVH, B, G, L]
    o_part, lse_part = _partial(scores, values)
    return o_part.transpose(0, 1).reshape(b, heads, d), lse_part.transpose(0, 1).reshape(b, heads)


# One-row tiles at least this long on average are attended one by one over views of the arena:
# gathering long ranges into a padded batch copied every sequence's KV at every layer and step
# (57 % of SmolLM2's decode time on BigCodeBench prompts); short ones are cheaper batched.
VIEWS_FROM_KV_LEN = 256


def attend_segments_torch(q, k, v, o, lse, tiles: SegmentTiles, scale: float) -> None:
    """Tiles attend over views of the arena (a shared range read once for all its rows), except
    one-row tiles (the sequences' own KV) that are short on average: those go as one padded
    batch. The level's parts are merged into the state at once. The paths agree up to float
    summation order."""
    if tiles.count == 0:
        return
    if (tiles.max_rows == 1 and tiles.count > 1
            and tiles.kv_tokens < VIEWS_FROM_KV_LEN * tiles.count):
        o_part, lse_part = _padded_rows(q, k, v, tiles, scale)
    else:
        o_part, lse_part = _spans_over_views(q, k, v, tiles, scale)
    merge_into(o, lse, tiles.row_index, o_part, lse_part)
