"""The `hf` backend: a transformers causal LM driven by the prefix-sharing generator.

`--model hf:PATH_OR_HUB_ID` (or a plain path / hub id), or a GGUF file (`hf:PATH.gguf`, or the
alias of one a package ships, see gguf.SHIPPED), dequantized and cached on first load. Requests with chat messages use the
tokenizer's chat template when it has one; otherwise the completion prompt. `--model-args`
keys are listed in OPTIONS. torch and transformers are imported only here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from codeeval.errors import UserError
from codeeval.generation.base import Backend, GenerationConfig
from codeeval.generation.gguf import dequantized, gguf_file
from codeeval.records import Generation, Request

OPTIONS = {
    "dtype": "float32, float16, bfloat16 or auto (the checkpoint's; default: float32 on CPU, "
             "auto on CUDA)",
    "device": "cpu, cuda or cuda:N (default: cuda when available)",
    "max_batch_tokens": "KV memory budget in tokens (default: 80% of free GPU memory, 25% of "
                        "available RAM on CPU)",
    "share_min_tokens": "shortest prefix stored once and shared (default 32)",
    "share_min_seqs": "fewest sequences that make a prefix shared (default 2)",
    "trust_remote_code": "true to run a hub model's own code (default false)",
}


def looks_like_a_path(name: str) -> bool:
    """A hub id is `name` or `owner/name`; anything else names a local folder."""
    return name.startswith(("/", "./", "../", "~")) or name.count("/") > 1


def int_option(options: dict, key: str, default: int | None) -> int | None:
    if key not in options:
        return default
    try:
        value = int(options[key])
    except ValueError:
        raise UserError(f"--model-args {key} must be an integer, got {options[key]!r}") from None
    if value < 0:
        raise UserError(f"--model-args {key} must be >= 0")
    return value


class HFBackend(Backend):
    name = "hf"

    def __init__(self, model: str, config: GenerationConfig, options: dict | None = None):
        super().__init__(model, config)
        self.options = dict(options or {})
        unknown = sorted(set(self.options) - set(OPTIONS))
        if unknown:
            raise UserError(f"unknown --model-args for hf: {', '.join(unknown)} (known: "
                            f"{', '.join(OPTIONS)})")
        budget = int_option(self.options, "max_batch_tokens", None)
        policy_args = (int_option(self.options, "share_min_tokens", 32),
                       max(1, int_option(self.options, "share_min_seqs", 2)))
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from codeeval.generation.generator import PrefixSharingGenerator
        from codeeval.generation.prefix_attention import ATTENTION_NAME, register
        from codeeval.generation.prefix_tree import SharingPolicy

        device = self.options.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype_name = self.options.get("dtype") or ("auto" if device.startswith("cuda")
                                                   else "float32")
        if dtype_name not in ("auto", "float32", "float16", "bfloat16"):
            raise UserError(f"--model-args dtype must be float32, float16, bfloat16 or auto, "
                            f"got {dtype_name!r}")
        trust = self.options.get("trust_remote_code", "false").lower() in ("1", "true", "yes")
        register()
        self.gguf = None
        try:
            gguf = gguf_file(model)
            if gguf is not None:
                self.gguf = dequantized(gguf)
            folder = self.gguf.folder if self.gguf else model
            if looks_like_a_path(str(folder)):
                folder = Path(folder).expanduser()
            if isinstance(folder, Path) and not folder.is_dir():
                raise UserError(f"cannot load model {model!r}: no folder {folder} (name a "
                                "model folder, a .gguf file, or a hub id such as "
                                "Qwen/Qwen2.5-Coder-0.5B-Instruct)")
            self.tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust)
            self.lm = AutoModelForCausalLM.from_pretrained(
                folder, dtype=dtype_name if dtype_name == "auto" else getattr(torch, dtype_name),
                attn_implementation=ATTENTION_NAME, trust_remote_code=trust).to(device).eval()
        except (OSError, ValueError, KeyError, ImportError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"cannot load model {model!r}: {first}") from None
        self.chat = bool(getattr(self.tokenizer, "chat_template", None))
        text_config = self.lm.config.get_text_config()
        eos = self.lm.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            eos_ids.add(self.tokenizer.eos_token_id)
        self.generator = PrefixSharingGenerator(
            self.lm, device=device, eos_ids=eos_ids,
            max_positions=getattr(text_config, "max_position_embeddings", None),
            kv_budget_tokens=budget or self._default_budget(device),
            policy=SharingPolicy(*policy_args))
        self.device = device

    def _default_budget(self, device: str) -> int:
        import torch
        config = self.lm.config.get_text_config()
        heads = config.num_attention_heads
        kv_heads = getattr(config, "num_key_value_heads", None) or heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        per_token = (2 * config.num_hidden_layers * kv_heads * head_dim
                     * next(self.lm.parameters()).element_size())
        if device.startswith("cuda"):
            free = torch.cuda.mem_get_info(torch.device(device))[0] * 0.8
        else:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * 0.25
        return max(1, int(free // per_token))

    def prompt_ids(self, request: Request) -> list[int]:
        if self.uses_chat(request):
            # a final assistant message is a prefill: the model continues it, as the official
            # harnesses render it (BigCodeBench), rather than closing it and opening a new turn
            prefill = request.messages[-1].get("role") == "assistant"
            text = self.tokenizer.apply_chat_template(list(request.messages), tokenize=False,
                                                      add_generation_prompt=not prefill,
                                                      continue_final_message=prefill)
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        else:
            ids = self.tokenizer(request.prompt)["input_ids"]
        if not ids:
            if self.tokenizer.bos_token_id is None:
                raise UserError(f"the prompt of {request.key} is empty and the tokenizer has no "
                                "BOS token to start from")
            ids = [self.tokenizer.bos_token_id]
        return ids

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[Request, Generation]]:
        from codeeval.generation.generator import SampleSpec
        from codeeval.generation.base import sample_seed
        from codeeval.generation.sampling import StopMatcher, TokenSampler
        cfg = self.config
        stops = [r.stops(self.uses_chat(r)) for r in requests]
        specs = [SampleSpec(self.prompt_ids(r), cfg.max_new_tokens,
                            TokenSampler(cfg.temperature, cfg.top_p,
                                         sample_seed(cfg.seed, r.key), self.device),
                            StopMatcher(self.tokenizer, stop) if stop else None)
                 for r, stop in zip(requests, stops)]
        for index, tokens in self.generator.generate(specs):
            self.tokens_generated += len(tokens)
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            stop = specs[index].stop
            # the generator ends a sequence at EOS, a stop string, or its token cap
            ended = bool(tokens) and (tokens[-1] in self.generator.eos_ids
                                      or (stop is not None and stop.hit(tokens)))
            yield requests[index], Generation(stop.cut(text) if stop else text, len(tokens),
                                              "stop" if ended else "length")

    def describe(self) -> dict:
        return {**super().describe(), "options": self.options,
                **(self.gguf.describe() if self.gguf else {})}
