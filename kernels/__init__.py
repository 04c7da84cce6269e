"""Shared-prefix ("cascade") attention: one pass over each shared KV segment for all the queries
that share it, merged by log-sum-exp with every other segment a query attends.

The state of a query row is (o, lse): its attention output normalised over the keys seen so
far, and the log-sum-exp of those keys' scores. Attending a further segment merges into that
state; the merge is associative, so a sequence's attention is its segments attended one level
at a time (instruction prefix shared across problems, prompt shared by the n samples, the
sequence's own tokens). `attend_segments` runs the Triton kernel on CUDA and the torch
reference of the same maths elsewhere (tests compare the two under TRITON_INTERPRET=1).
"""

from __future__ import annotations

import os

from codeeval.kernels.reference import SegmentTiles, attend_segments_torch, new_state

__all__ = ["SegmentTiles", "attend_segments", "new_state", "rows_per_tile", "use_triton"]


def use_triton(device) -> bool:
    """Triton on CUDA, torch elsewhere; CODEEVAL_KERNELS=triton forces Triton (on CPU that needs
    TRITON_INTERPRET=1, which the tests use), CODEEVAL_KERNELS=torch forces the reference."""
    choice = os.environ.get("CODEEVAL_KERNELS", "auto")
    if choice == "torch" or (choice != "triton" and getattr(device, "type", device) != "cuda"):
        return False
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def rows_per_tile(group: int, device) -> int | None:
    """How many query rows one kernel program holds (None: no limit, the torch path)."""
    if not use_triton(device):
        return None
    from codeeval.kernels.triton_segments import MAX_BLOCK_M
    return max(1, MAX_BLOCK_M // group)


def attend_segments(q, k, v, o, lse, tiles: SegmentTiles, scale: float) -> None:
    """Merge into the state (o, lse) of each tile's rows the attention of those rows' queries
    over the tile's KV range. q [R, H, D]; k, v [KVH, T, D] (an arena); o [R, H, D] fp32;
    lse [R, H] fp32. A row appears in at most one tile per call."""
    if use_triton(q.device):
        from codeeval.kernels.triton_segments import attend_segments_triton
        attend_segments_triton(q, k, v, o, lse, tiles, scale)
    else:
        attend_segments_torch(q, k, v, o, lse, tiles, scale)
