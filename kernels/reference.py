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
    _padded: tuple | None = None
    _span_rows: list | None = None

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

    def span_rows(self) -> list[torch.Tensor]:
        """Each tile's row indices as a tensor, computed once and reused by every layer."""
        if self._span_rows is None:
            self._span_rows = list(torch.split(self.row_index, self.row_count.tolist()))
        return self._span_rows

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
                   max_kv_len=max((s[1] for s in spans), default=0))


def new_state(rows: int, heads: int, head_dim: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """The state of rows that have seen no key yet: o = 0, lse = -inf."""
    return (torch.zeros(rows, heads, head_dim, dtype=torch.float32, device=device),
            torch.full((rows, heads), float("-inf"), dtype=torch.float32, device=device))


def merge_into(o, lse, rows, o_part, lse_part) -> None:
    """state[rows] <- LSE-merge(state[rows], (o_part, lse_part)). Every part has seen at least
    one key (empty tiles are dropped), so lse_part and the merged lse are finite; a row's old
    lse may be -inf (nothing seen yet) and then weighs exp(-inf) = 0."""
    lse_new = torch.logaddexp(lse[rows], lse_part)
    o[rows] = (o[rows] * torch.exp(lse[rows] - lse_new)[..., None]
               + o_part * torch.exp(lse_part - lse_new)[..., None])
    lse[rows] = lse_new


def _partial(scores, values):
    """(o, lse) of softmax(scores) @ values, fp32. Each row has at least one finite score."""
    m = scores.amax(-1, keepdim=True)
    p = torch.exp(scores - m)
    l = p.sum(-1, keepdim=True)
    return (p @ values) / l, (m + torch.log(l)).squeeze(-1)


def _attend_rows_by_views(q, k, v, o, lse, tiles: SegmentTiles, scale: float) -> None:
    heads, d, kv_heads = q.shape[1], q.shape[2], k.shape[0]
    o_part = torch.empty(tiles.count, heads, d, dtype=torch.float32, device=q.device)
    lse_part = torch.empty(tiles.count, heads, dtype=torch.float32, device=q.device)
    for i, (kv_start, kv_len, (row,)) in enumerate(tiles.spans):
        qg = q[row].float().view(kv_heads, heads // kv_heads, d)             # [KVH, G, D]
        keys = k[:, kv_start:kv_start + kv_len].float()
        values = v[:, kv_start:kv_start + kv_len].float()
        o_row, lse_row = _partial(qg @ keys.transpose(1, 2) * scale, values)
        o_part[i], lse_part[i] = o_row.reshape(heads, d), lse_row.reshape(heads)
    merge_into(o, lse, tiles.row_index, o_part, lse_part)


def _grouped(q_rows, kv_heads):
    """[R, H, D] -> [KVH, R * group, D]: the q heads that read one kv head stacked into M."""
    r, h, d = q_rows.shape
    return q_rows.float().view(r, kv_heads, h // kv_heads, d).permute(1, 0, 2, 3).reshape(
        kv_heads, -1, d)


def _ungrouped(x, rows, heads):
    """[KVH, R * group, ...] -> [R, H, ...]."""
    kv_heads = x.shape[0]
    return x.reshape(kv_heads, rows, heads // kv_heads, *x.shape[2:]).transpose(0, 1).reshape(
        rows, heads, *x.shape[2:])


# One-row tiles at least this long on average are attended one by one over views of the arena:
# gathering long ranges into a padded batch copied every sequence's KV at every layer and step
# (57 % of SmolLM2's decode time on BigCodeBench prompts); short ones are cheaper batched.
VIEWS_FROM_KV_LEN = 256


def attend_segments_torch(q, k, v, o, lse, tiles: SegmentTiles, scale: float) -> None:
    """Tiles with several rows (shared segments): one matmul per tile over a view of its KV,
    read once for all its rows. Tiles of one row each (the sequences' own KV): one matmul per
    row over views when the ranges are long, else one batched matmul over the gathered, padded
    ranges. The paths agree up to float summation order (padding changes the blocking)."""
    if tiles.count == 0:
        return
    heads, kv_heads = q.shape[1], k.shape[0]
    if tiles.max_rows > 1 or tiles.count == 1:
        for (kv_start, kv_len, rows), index in zip(tiles.spans, tiles.span_rows()):
            qg = _grouped(q[index], kv_heads)
            keys = k[:, kv_start:kv_start + kv_len].float()
            values = v[:, kv_start:kv_start + kv_len].float()
            o_part, lse_part = _partial(qg @ keys.transpose(1, 2) * scale, values)
            merge_into(o, lse, index, _ungrouped(o_part, len(rows), heads),
                       _ungrouped(lse_part, len(rows), heads))
        return
    if sum(span[1] for span in tiles.spans) >= VIEWS_FROM_KV_LEN * tiles.count:
        _attend_rows_by_views(q, k, v, o, lse, tiles, scale)
        return
    index, valid = tiles.padded_ranges()                                      # [B, L]
    keys, values = k[:, index].float(), v[:, index].float()                   # [KVH, B, L, D]
    rows = tiles.row_index
    b, d = len(rows), q.shape[2]
    qg = q[rows].float().view(b, kv_heads, heads // kv_heads, d).transpose(0, 1)  # [KVH,B,G,D]
    scores = qg @ keys.transpose(2, 3) * scale                                # [KVH, B, G, L]
    scores = scores.masked_fill(~valid[None, :, None, :], float("-inf"))
    o_part, lse_part = _partial(scores, values)
    merge_into(o, lse, rows, o_part.transpose(0, 1).reshape(b, heads, d),
               lse_part.transpose(0, 1).reshape(b, heads))
