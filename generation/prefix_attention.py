"""The attention function the hf backend registers with transformers (AttentionInterface).

The model's own attention modules compute q, k, v and rotary embeddings as always; this
function receives them and does the rest against codeeval's KV arena instead of a transformers
cache: it writes the new keys/values into their arena slots and attends each query to the
shared segments of its levels and to its own tokens (codeeval.kernels). What to do this forward
pass comes as a keyword argument, which transformers passes down to every attention call. Without
it the function is plain SDPA (with SDPA's masks), so the model still works with `generate`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from codeeval.generation.kv_arena import KVArena, Span
from codeeval.kernels import SegmentTiles, attend_segments, new_state

ATTENTION_NAME = "codeeval_prefix_sharing"
STEP_KWARG = "codeeval_step"


@dataclass
class PrefillStep:
    """One span of prompt tokens (batch 1): written to `target` from its current length on,
    attending fully to the ancestor segments and causally to itself. One SDPA call over the
    ancestors' KV and its own (a prompt is prefilled once, so copying the ancestors' KV here
    costs less than a second pass; SDPA keeps long prompts from materialising L x L scores)."""

    arena: KVArena
    target: Span
    ancestors: list[Span]
    max_position: int

    def attend(self, layer: int, query, key, value, scale: float):
        length = query.shape[2]
        start = self.target.start + self.target.length
        keys, values = self.arena.keys[layer], self.arena.values[layer]
        keys[:, start:start + length] = key[0]
        values[:, start:start + length] = value[0]
        spans = [(a.start, a.length) for a in self.ancestors] + [(start, length)]
        all_keys = torch.cat([keys[:, s:s + n] for s, n in spans], dim=1)[None]
        all_values = torch.cat([values[:, s:s + n] for s, n in spans], dim=1)[None]
        seen = all_keys.shape[2] - length
        visible = torch.ones(length, seen + length, dtype=torch.bool,
                             device=query.device).tril(diagonal=seen)
        out = torch.nn.functional.scaled_dot_product_attention(
            query, all_keys, all_values, attn_mask=visible, scale=scale,
            enable_gqa=query.shape[1] != all_keys.shape[1])
        return out.transpose(1, 2)                         # [1, L, H, D]


@dataclass
class DecodeStep:
    """One new token per sequence (row): its KV goes to write_index, then each level's tiles
    (cluster prefixes, group prompts, own tokens) are attended in turn."""

    arena: KVArena
    write_index: torch.Tensor    # [B] arena slot of each row's new token
    levels: list[SegmentTiles]
    max_position: int

    def attend(self, layer: int, query, key, value, scale: float):
        q = query[:, :, 0]                                 # [B, H, D]
        keys, values = self.arena.keys[layer], self.arena.values[layer]
        keys[:, self.write_index] = key[:, :, 0].transpose(0, 1)
        values[:, self.write_index] = value[:, :, 0].transpose(0, 1)
        o, lse = new_state(q.shape[0], q.shape[1], q.shape[2], q.device)
        for tiles in self.levels:
            attend_segments(q, keys, values, o, lse, tiles, scale)
        return o.to(query.dtype).unsqueeze(1)              # [B, 1, H, D]


def prefix_sharing_attention(module, query, key, value, attention_mask, scaling=None,
                             dropout=0.0, **kwargs):
    step = kwargs.pop(STEP_KWARG, None)
    if step is None:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward
        return sdpa_attention_forward(module, query, key, value, attention_mask,
                                      scaling=scaling, dropout=dropout, **kwargs)
    window = kwargs.get("sliding_window")
    if window is not None and step.max_position >= window:
        raise NotImplementedError(f"sequences longer than the sliding window ({window}) are "
                                  "not supported by the prefix-sharing generator")
    if kwargs.get("softcap") or kwargs.get("s_aux") is not None:
        raise NotImplementedError("attention logit soft-capping / sinks are not supported by "
                                  "the prefix-sharing generator")
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    return step.attend(module.layer_idx, query, key, value, scale), None


def register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
    AttentionInterface.register(ATTENTION_NAME, prefix_sharing_attention)
    AttentionMaskInterface.register(ATTENTION_NAME, sdpa_mask)
