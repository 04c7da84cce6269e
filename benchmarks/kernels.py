"""Shared-prefix decode attention on a GPU: codeeval's Triton segment-attention kernel against
per-sequence attention (SDPA over each sequence's own copy of the KV).

For each (sequences, prefix length): B sequences share one prefix and each has 64 tokens of
its own; one decode step (one query per sequence), GQA 32 q heads / 8 kv heads, head dim 128,
fp16. The Triton path attends the prefix once for all B queries (two launches: prefix tiles,
then own tiles seeded with the prefix state). The baselines read each sequence's full KV
[B, 8, prefix + 64, 128] (GQA, no repeated heads): `scaled_dot_product_attention` as torch
picks its backend, and forced onto its FlashAttention backend. Outputs are checked against
each other; times are CUDA-event medians. The table gives each speedup, the KV bytes each path
reads, and the bandwidth those bytes imply against the GPU's peak (--peak-tbs, default the
H200's 4.8 TB/s).

The second table is the case sharing does not pay (the generator's SharingPolicy keeps such
sequences unshared): every sequence attends only its own KV of the given length, one tile per
sequence, against the same SDPA baselines.

    python benchmarks/kernels.py
    python benchmarks/kernels.py --seqs 8,64,256 --prefixes 256,1024,4096 --own-lengths 512
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


def sdpa_baselines(q, keys, values, scale) -> dict:
    """Per-sequence attention: q [B, H, D], keys/values [B, KVH, L, D] -> name: callable."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    def sdpa():
        return torch.nn.functional.scaled_dot_product_attention(
            q[:, :, None, :], keys, values, scale=scale, enable_gqa=True)[:, :, 0, :]

    def flash():
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            return sdpa()
    return {"SDPA": sdpa, "SDPA flash": flash}


def kv_bytes(tokens: int) -> int:
    return 2 * KV_HEADS * HEAD_DIM * 2 * tokens     # keys and values, fp16


def time_paths(shared, baselines, repeats) -> dict:
    reference = shared().to(torch.float16)
    times = {"segments": cuda_time(shared, repeats)}
    for name, fn in baselines.items():
        try:
            torch.testing.assert_close(reference, fn(), atol=2e-2, rtol=2e-2)
        except RuntimeError as exc:           # a backend that cannot run this shape
            print(f"  ({name} unavailable: {str(exc).splitlines()[0][:80]})")
            continue
        times[name] = cuda_time(fn, repeats)
    return times


def shared_prefix(seqs: int, prefix: int, repeats: int) -> tuple[dict, int, int]:
    """(times in ms by path, KV bytes the segment kernel reads, KV bytes per-sequence reads)"""
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
    index = torch.cat([torch.arange(prefix, device=device).expand(seqs, prefix),
                       prefix + torch.arange(seqs, device=device)[:, None] * OWN
                       + torch.arange(OWN, device=device)[None, :]], dim=1)     # [B, L]
    keys = k[:, index].transpose(0, 1).contiguous()                             # [B, KVH, L, D]
    values = v[:, index].transpose(0, 1).contiguous()
    times = time_paths(shared, sdpa_baselines(q, keys, values, scale), repeats)
    return times, kv_bytes(prefix + seqs * OWN), kv_bytes(seqs * (prefix + OWN))


def unshared(seqs: int, length: int, repeats: int) -> tuple[dict, int]:
    """Each sequence attends only its own `length` tokens: one tile per sequence."""
    from codeeval.kernels import SegmentTiles, attend_segments, new_state, rows_per_tile
    device, dtype = torch.device("cuda"), torch.float16
    scale = HEAD_DIM ** -0.5
    gen = torch.Generator(device=device).manual_seed(1)
    q = torch.randn(seqs, HEADS, HEAD_DIM, device=device, dtype=dtype, generator=gen)
    k = torch.randn(KV_HEADS, seqs * length, HEAD_DIM, device=device, dtype=dtype, generator=gen)
    v = torch.randn(KV_HEADS, seqs * length, HEAD_DIM, device=device, dtype=dtype, generator=gen)
    tiles = SegmentTiles.build([(i * length, length, [i]) for i in range(seqs)], device,
                               rows_per_tile(HEADS // KV_HEADS, device))

    def own():
        o, lse = new_state(seqs, HEADS, HEAD_DIM, device)
        attend_segments(q, k, v, o, lse, tiles, scale)
        return o

    keys = k.view(KV_HEADS, seqs, length, HEAD_DIM).transpose(0, 1).contiguous()
    values = v.view(KV_HEADS, seqs, length, HEAD_DIM).transpose(0, 1).contiguous()
    return time_paths(own, sdpa_baselines(q, keys, values, scale), repeats), \
        kv_bytes(seqs * length)


def rate(nbytes: int, ms: float, peak_tbs: float) -> str:
    tbs = nbytes / ms / 1e9
    return f"{tbs:.2f} TB/s ({100 * tbs / peak_tbs:.0f} %)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seqs", default="8,16,32,64,128,256")
    parser.add_argument("--prefixes", default="256,512,1024,2048,4096")
    parser.add_argument("--own-lengths", default="128,512,2048",
                        help="sequence lengths of the no-sharing table")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--peak-tbs", type=float, default=4.8,
                        help="the GPU's peak memory bandwidth in TB/s (H200: 4.8, H100 SXM: 3.35)")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("benchmarks/kernels.py needs a CUDA GPU (the Triton kernel runs on CUDA only; "
                 "tests/test_kernels.py checks its maths on CPU with TRITON_INTERPRET=1)")
    try:
        import triton  # noqa: F401
    except ImportError:
        sys.exit("benchmarks/kernels.py needs triton: pip install triton")
    seqs_list = [int(s) for s in args.seqs.split(",")]
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, triton "
          f"{triton.__version__}, fp16, {HEADS}/{KV_HEADS} heads, head dim {HEAD_DIM}, "
          f"{OWN} own tokens per sequence, median of {args.repeats}")
    print("\n| seqs | prefix | segments (ms) | SDPA (ms) | SDPA flash (ms) | vs SDPA | "
          "vs flash | KV read ratio | segments bandwidth | flash bandwidth |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for seqs in seqs_list:
        for prefix in (int(p) for p in args.prefixes.split(",")):
            times, ours_bytes, theirs_bytes = shared_prefix(seqs, prefix, args.repeats)
            flash = times.get("SDPA flash", float("nan"))
            print(f"| {seqs} | {prefix} | {times['segments']:.4f} | {times['SDPA']:.4f} | "
                  f"{flash:.4f} | {times['SDPA'] / times['segments']:.2f}x | "
                  f"{flash / times['segments']:.2f}x | {theirs_bytes / ours_bytes:.1f}x | "
                  f"{rate(ours_bytes, times['segments'], args.peak_tbs)} | "
                  f"{rate(theirs_bytes, flash, args.peak_tbs)} |", flush=True)
    print("\nNo sharing: each sequence attends its own KV only")
    print("| seqs | length | segments (ms) | SDPA (ms) | SDPA flash (ms) | vs SDPA | vs flash | "
          "segments bandwidth |")
    print("|---|---|---|---|---|---|---|---|")
    for seqs in seqs_list:
        for length in (int(n) for n in args.own_lengths.split(",")):
            times, nbytes = unshared(seqs, length, args.repeats)
            flash = times.get("SDPA flash", float("nan"))
            print(f"| {seqs} | {length} | {times['segments']:.4f} | {times['SDPA']:.4f} | "
                  f"{flash:.4f} | {times['SDPA'] / times['segments']:.2f}x | "
                  f"{flash / times['segments']:.2f}x | "
                  f"{rate(nbytes, times['segments'], args.peak_tbs)} |", flush=True)


if __name__ == "__main__":
    main()
