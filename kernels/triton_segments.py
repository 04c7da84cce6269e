"""Triton kernel for segment attention (see codeeval.kernels): one program per (tile, kv head).

A program stacks the queries of all its tile's rows, times the q heads that share the kv head
(GQA), into the M dimension of one tile, and streams the tile's KV range once with `tl.dot`
and an online softmax seeded by the rows' incoming (o, lse) state, so the LSE merge with the
segments attended before is fused into this pass. Shared prefixes therefore cost one read of
their KV per group instead of one per sequence. Import only where Triton can run (CUDA, or the
interpreter with TRITON_INTERPRET=1 set before this module is imported).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from codeeval.kernels.reference import SegmentTiles


@triton.jit
def _segment_attention_kernel(
        q_ptr, k_ptr, v_ptr, o_ptr, lse_ptr,
        kv_start_ptr, kv_len_ptr, row_start_ptr, row_count_ptr, row_index_ptr,
        stride_qr, stride_qh, stride_kh, stride_kt, stride_vh, stride_vt,
        stride_or, stride_oh, stride_lr,
        scale, head_dim,
        GROUP: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
        BLOCK_D: tl.constexpr, IEEE_FP32: tl.constexpr):
    tile = tl.program_id(0)
    kv_head = tl.program_id(1)
    kv_start = tl.load(kv_start_ptr + tile)
    kv_len = tl.load(kv_len_ptr + tile)
    row_start = tl.load(row_start_ptr + tile)
    row_count = tl.load(row_count_ptr + tile)

    offs_m = tl.arange(0, BLOCK_M)
    local_row = offs_m // GROUP
    head = kv_head * GROUP + offs_m % GROUP
    m_valid = local_row < row_count
    row = tl.load(row_index_ptr + row_start + local_row, mask=m_valid, other=0)
    offs_d = tl.arange(0, BLOCK_D)
    d_valid = offs_d < head_dim
    md_mask = m_valid[:, None] & d_valid[None, :]

    q = tl.load(q_ptr + row[:, None] * stride_qr + head[:, None] * stride_qh + offs_d[None, :],
                mask=md_mask, other=0.0)
    state_o = o_ptr + row[:, None] * stride_or + head[:, None] * stride_oh + offs_d[None, :]
    state_lse = lse_ptr + row * stride_lr + head
    # Seed the online softmax with the incoming state: running max = lse, running sum = 1
    # (0 for a row that has seen no key), accumulator = o * sum.
    m_i = tl.load(state_lse, mask=m_valid, other=float("-inf"))
    l_i = tl.where(m_i == float("-inf"), 0.0, 1.0)
    acc = tl.load(state_o, mask=md_mask, other=0.0) * l_i[:, None]

    k_base = k_ptr + kv_head * stride_kh + kv_start * stride_kt
    v_base = v_ptr + kv_head * stride_vh + kv_start * stride_vt
    for n0 in range(0, kv_len, BLOCK_N):
        offs_n = n0 + tl.arange(0, BLOCK_N)
        n_valid = offs_n < kv_len
        k = tl.load(k_base + offs_n[None, :] * stride_kt + offs_d[:, None],
                    mask=n_valid[None, :] & d_valid[:, None], other=0.0)     # [D, N]
        if IEEE_FP32:
            s = tl.dot(q, k, input_precision="ieee")
        else:
            s = tl.dot(q, k)
        s = tl.where(n_valid[None, :], s * scale, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        alpha = tl.exp(m_i - m_new)
        p = tl.exp(s - m_new[:, None])
        l_i = l_i * alpha + tl.sum(p, 1)
        v = tl.load(v_base + offs_n[:, None] * stride_vt + offs_d[None, :],
                    mask=n_valid[:, None] & d_valid[None, :], other=0.0)     # [N, D]
        if IEEE_FP32:
            pv = tl.dot(p, v, input_precision="ieee")
        else:
            pv = tl.dot(p.to(v.dtype), v)
        acc = acc * alpha[:, None] + pv
        m_i = m_new

    seen = l_i > 0
    l_safe = tl.where(seen, l_i, 1.0)
    tl.store(state_o, acc / l_safe[:, None], mask=md_mask)
    tl.store(state_lse, tl.where(seen, m_i + tl.log(l_safe), float("-inf")), mask=m_valid)


MAX_BLOCK_M = 128   # query rows x q heads per program, at most


def block_m(rows: int, group: int) -> int:
    """M of a program's query tile for tiles of up to `rows` rows: tl.dot needs >= 16."""
    return max(16, triton.next_power_of_2(rows * group))


def attend_segments_triton(q, k, v, o, lse, tiles: SegmentTiles, scale: float,
                           block_n: int = 32) -> None:
    if tiles.count == 0:
        return
    rows, heads, head_dim = q.shape
    kv_heads = k.shape[0]
    group = heads // kv_heads
    bm = block_m(tiles.max_rows, group)
    if bm > max(MAX_BLOCK_M, block_m(1, group)):
        raise ValueError(f"a tile holds {tiles.max_rows} rows; at most "
                         f"{max(1, MAX_BLOCK_M // group)} fit a program (build the tiles with "
                         "rows_per_tile)")
    if q.stride(2) != 1 or k.stride(2) != 1 or v.stride(2) != 1 or o.stride(2) != 1:
        raise ValueError("q, k, v and o need a contiguous last dimension")
    grid = (tiles.count, kv_heads)
    _segment_attention_kernel[grid](
        q, k, v, o, lse,
        tiles.kv_start, tiles.kv_len, tiles.row_start, tiles.row_count, tiles.row_index,
        q.stride(0), q.stride(1), k.stride(0), k.stride(1), v.stride(0), v.stride(1),
        o.stride(0), o.stride(1), lse.stride(0),
        scale, head_dim,
        GROUP=group, BLOCK_M=bm, BLOCK_N=block_n,
        BLOCK_D=max(16, triton.next_power_of_2(head_dim)), IEEE_FP32=q.dtype == torch.float32,
        num_warps=8 if bm >= 128 else 4)
