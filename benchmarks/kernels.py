"""Shared-prefix decode attention on a GPU: codeeval's Triton segment-attention kernel against
per-sequence attention (SDPA over each sequence's full KV, the prefix copied per sequence).

For each (sequences, prefix length): B sequences share one prefix and each has 64 tokens of
its own; one decode step (one query per sequence), GQA 32 q heads / 8 kv heads, head dim 128,
fp16. The Triton path attends the prefix once for all B queries (two launches: prefix tiles,
then own tiles seeded with the prefix state); the baseline is
`scaled_dot_product_attention` over [B, H, prefix + 64, D]. Outputs are checked against each
other, times are CUDA-event medians, and the table gives the speedup and the KV bytes each
path reads. Needs CUDA and Triton; on a machine without them it says so and exits.

    python benchmarks/kernels.py
    python benchmarks/kernels.py --seqs 8,64,256 --prefixes 256,1024,4096
"""

from __future__ import annotations

import argparse
import statistics
import sys

import torch

HEADS, KV_HEADS, HEAD_DIM, OWN = 32, 8, 128, 64


def cuda_time(fn, repeats: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def measure(seqs: int, prefix: int, repeats: int) -> tuple[float, float, float]:
    from codeeval.kernels import SegmentTiles, attend_segments, new_state, rows_per_tile
    device, dtype = torch.device("cuda"), torch.float16
    scale = HEAD_DIM ** -0.5
    gen = torch.Generator(device=device).manual_seed(0)
    q = torch.randn(seqs, HEADS, HEAD_DIM, device=device, dtype=dtype, generator=gen)
    arena = prefix + seqs * OWN
    k = torch.randn(KV_HEADS, arena, HEAD_DIM, device=device, dtype=dtype, generator=gen)
    v = torch.randn(KV_HEADS, arena, HEAD_DIM, device=device, dtype=dtype, generator=gen)
    per_tile = rows_per_tile(HEADS // KV_HEADS, device)
    levels = [SegmentTiles.build([(0, prefix, list(range(seqs)))], device, per_tile),
              SegmentTiles.build([(prefix + i * OWN, OWN, [i]) for i in range(seqs)], device,
                                 per_tile)]

    def shared():
        o, lse = new_state(seqs, HEADS, HEAD_DIM, device)
        for tiles in levels:
            attend_segments(q, k, v, o, lse, tiles, scale)
        return o

    # per-sequence baseline: each sequence's KV = the prefix (copied) + its own tokens
    own_index = torch.arange(OWN, device=device)
    index = torch.cat([torch.arange(prefix, device=device).expand(seqs, prefix),
                       prefix + torch.arange(seqs, device=device)[:, None] * OWN
                       + own_index[None, :]], dim=1)                          # [B, L]
    keys = k[:, index].transpose(0, 1).repeat_interleave(HEADS // KV_HEADS, 1).contiguous()
    values = v[:, index].transpose(0, 1).repeat_interleave(HEADS // KV_HEADS, 1).contiguous()

    def per_sequence():
        return torch.nn.functional.scaled_dot_product_attention(
            q[:, :, None, :], keys, values, scale=scale)[:, :, 0, :]

    torch.testing.assert_close(shared().to(dtype), per_sequence(), atol=2e-2, rtol=2e-2)
    return cuda_time(shared, repeats), cuda_time(per_sequence, repeats), \
        seqs * (prefix + OWN) / (prefix + seqs * OWN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seqs", default="8,16,32,64,128,256")
    parser.add_argument("--prefixes", default="256,512,1024,2048,4096")
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("benchmarks/kernels.py needs a CUDA GPU (the Triton kernel runs on CUDA only; "
                 "tests/test_kernels.py checks its maths on CPU with TRITON_INTERPRET=1)")
    try:
        import triton  # noqa: F401
    except ImportError:
        sys.exit("benchmarks/kernels.py needs triton: pip install triton")
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, fp16, "
          f"{HEADS}/{KV_HEADS} heads, head dim {HEAD_DIM}, {OWN} own tokens per sequence")
    print("| seqs | prefix | shared-prefix (ms) | SDPA per sequence (ms) | speedup | "
          "KV read ratio |")
    print("|---|---|---|---|---|---|")
    for seqs in (int(s) for s in args.seqs.split(",")):
        for prefix in (int(p) for p in args.prefixes.split(",")):
            shared_ms, sdpa_ms, kv_ratio = measure(seqs, prefix, args.repeats)
            print(f"| {seqs} | {prefix} | {shared_ms:.3f} | {sdpa_ms:.3f} | "
                  f"{sdpa_ms / shared_ms:.2f}x | {kv_ratio:.1f}x |")


if __name__ == "__main__":
    main()
