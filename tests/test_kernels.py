"""Segment attention: the Triton kernel and the torch path against attention computed directly
(fp64) over each row's concatenated KV. On a CUDA machine the kernel runs compiled on the GPU
(fp16 and bf16 too); elsewhere Triton's CPU interpreter runs it."""

from __future__ import annotations

import os

import pytest
import torch

CUDA = torch.cuda.is_available()
if not CUDA:
    os.environ["TRITON_INTERPRET"] = "1"   # before the kernel module defines its @triton.jit
DEVICE = torch.device("cuda" if CUDA else "cpu")

from codeeval.kernels import SegmentTiles, new_state
from codeeval.kernels.reference import attend_segments_torch
from codeeval.kernels.triton_segments import MAX_BLOCK_M, attend_segments_triton


def direct_attention(q, k, v, ranges, scale):
    """Row r attends the concatenation of its KV ranges; plain softmax in fp64."""
    group = q.shape[1] // k.shape[0]
    q, k, v = q.cpu(), k.cpu(), v.cpu()
    out = torch.zeros(q.shape, dtype=torch.float64)
    for row, spans in enumerate(ranges):
        index = [i for start, length in spans for i in range(start, start + length)]
        if not index:
            continue
        keys = k[:, index].double().repeat_interleave(group, 0)        # [H, L, D]
        values = v[:, index].double().repeat_interleave(group, 0)
        scores = (keys @ q[row].double()[:, :, None]).squeeze(-1) * scale   # [H, L]
        out[row] = (torch.softmax(scores, -1)[:, None, :] @ values).squeeze(1)
    return out


def run_levels(attend, q, k, v, levels, scale, rows_per_tile):
    o, lse = new_state(q.shape[0], q.shape[1], q.shape[2], q.device)
    for level in levels:
        attend(q, k, v, o, lse, SegmentTiles.build(level, q.device, rows_per_tile), scale)
    return o, lse


CASES = [  # rows, q heads, kv heads, head dim
    (7, 8, 2, 24),     # GQA 4, head dim not a power of two
    (5, 4, 4, 32),     # MHA
    (36, 8, 1, 16),    # MQA: 18 rows share a prefix, 16 fit a program (16 x 8 heads)
]


# bf16 only compiled: the interpreter computes through numpy, which has no bfloat16
DTYPES = [torch.float32, torch.float16] + ([torch.bfloat16] if CUDA else [])
TOLERANCE = {torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 1.6e-2}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows,heads,kv_heads,head_dim", CASES)
def test_triton_and_torch_match_direct_attention(dtype, rows, heads, kv_heads, head_dim):
    gen = torch.Generator().manual_seed(rows * heads + head_dim)
    arena = 180 + 10 * rows
    q = torch.randn(rows, heads, head_dim, generator=gen).to(DEVICE, dtype)
    k = torch.randn(kv_heads, arena, head_dim, generator=gen).to(DEVICE, dtype)
    v = torch.randn(kv_heads, arena, head_dim, generator=gen).to(DEVICE, dtype)
    # level 0: two clusters; level 1: one group of three rows; own: odd lengths, some empty
    cluster_of = [r % 2 for r in range(rows)]
    level0 = [(0, 37, [r for r in range(rows) if cluster_of[r] == 0]),
              (40, 101, [r for r in range(rows) if cluster_of[r] == 1])]
    level1 = [(150, 19, [0, 1, 2])]
    own = [(180 + 10 * r, (r * 3) % 7, [r]) for r in range(rows)]   # r = 0 and r = 7: empty
    ranges = [[(s, n) for s, n, rs in level0 + level1 + own if r in rs] for r in range(rows)]
    expected = direct_attention(q, k, v, ranges, head_dim ** -0.5)
    tol = TOLERANCE[dtype]
    group = heads // kv_heads
    for attend, per_tile in ((attend_segments_torch, None),
                             (attend_segments_triton, max(1, MAX_BLOCK_M // group))):
        o, lse = run_levels(attend, q, k, v, [level0, level1, own], head_dim ** -0.5, per_tile)
        assert torch.isfinite(lse).all()
        torch.testing.assert_close(o.double().cpu(), expected, atol=tol, rtol=tol)


def test_state_of_unseen_rows_stays_empty_and_lse_is_the_log_partition():
    q = torch.randn(3, 2, 16, device=DEVICE)
    k, v = torch.randn(1, 50, 16, device=DEVICE), torch.randn(1, 50, 16, device=DEVICE)
    for attend, per_tile in ((attend_segments_torch, None), (attend_segments_triton, 8)):
        o, lse = run_levels(attend, q, k, v, [[(0, 50, [0, 2])], [(5, 0, [1])]], 0.25, per_tile)
        assert torch.isneginf(lse[1]).all() and (o[1] == 0).all()
        scores = (k[0] @ q[0].T).T * 0.25            # [H, 50]
        torch.testing.assert_close(lse[0], torch.logsumexp(scores, -1), atol=1e-5, rtol=1e-5)


def test_tiles_split_rows_beyond_a_program():
    tiles = SegmentTiles.build([(0, 10, list(range(9))), (10, 0, [9]), (12, 3, [])], "cpu", 4)
    assert [(s, n, rows) for s, n, rows in tiles.spans] == [
        (0, 10, [0, 1, 2, 3]), (0, 10, [4, 5, 6, 7]), (0, 10, [8])]
    assert tiles.row_start.tolist() == [0, 4, 8] and tiles.max_rows == 4
    with pytest.raises(ValueError, match="rows"):
        q, k = torch.randn(40, 4, 16), torch.randn(1, 10, 16)
        o, lse = new_state(40, 4, 16, "cpu")
        attend_segments_triton(q, k, k, o, lse, SegmentTiles.build([(0, 10, list(range(40)))],
                                                                   "cpu"), 1.0)


def test_long_own_ranges_by_views_agree_with_the_batched_gather(monkeypatch):
    """The torch path attends long one-row ranges one by one over views of the arena and short
    ones as one padded batch: the same maths, equal up to float summation order."""
    import codeeval.kernels.reference as reference
    gen = torch.Generator().manual_seed(5)
    rows, heads, kv_heads, head_dim = 6, 9, 3, 64
    lengths = [300, 257, 511, 280, 400, 260]
    starts = [sum(lengths[:r]) + 3 * r for r in range(rows)]
    arena = starts[-1] + lengths[-1]
    q = torch.randn(rows, heads, head_dim, generator=gen)
    k = torch.randn(kv_heads, arena, head_dim, generator=gen)
    v = torch.randn(kv_heads, arena, head_dim, generator=gen)
    own = [(starts[r], lengths[r], [r]) for r in range(rows)]
    results = []
    for views_from in (reference.VIEWS_FROM_KV_LEN, 10 ** 9):   # views, then the gather
        monkeypatch.setattr(reference, "VIEWS_FROM_KV_LEN", views_from)
        results.append(run_levels(attend_segments_torch, q, k, v, [own], head_dim ** -0.5, None))
    torch.testing.assert_close(results[0], results[1], atol=1e-6, rtol=1e-6)
    expected = direct_attention(q, k, v, [[(s, n)] for s, n, _ in own], head_dim ** -0.5)
    torch.testing.assert_close(results[0][0].double(), expected, atol=1e-5, rtol=1e-5)
