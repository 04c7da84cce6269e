"""Tiny random-weight causal LMs with a byte-level tokenizer, saved to a folder like a hub model.

No model hub is reachable here, so tests and benchmarks build their models: a byte-level BPE
tokenizer without merges (256 byte tokens plus BOS/EOS/PAD, a chat template) and a small
config of the requested architecture with random weights from a fixed seed.
"""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")

ARCHITECTURES = ("llama", "qwen2", "mistral", "qwen3")


def byte_tokenizer(chat_template: bool = True):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    vocab = {token: i for i, token in enumerate(pre_tokenizers.ByteLevel.alphabet())}
    raw = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    raw.pre_tokenizer = byte_level
    raw.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>")
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_config(arch: str = "llama", *, vocab_size: int = 259, hidden: int = 64, layers: int = 2,
                heads: int = 4, kv_heads: int = 2, intermediate: int = 128):
    import transformers

    classes = {"llama": transformers.LlamaConfig, "qwen2": transformers.Qwen2Config,
               "mistral": transformers.MistralConfig, "qwen3": transformers.Qwen3Config}
    return classes[arch](vocab_size=vocab_size, hidden_size=hidden, intermediate_size=intermediate,
                         num_hidden_layers=layers, num_attention_heads=heads,
                         num_key_value_heads=kv_heads, max_position_embeddings=4096,
                         bos_token_id=256, eos_token_id=257, pad_token_id=258,
                         tie_word_embeddings=False)


def tiny_model(arch: str = "llama", seed: int = 0, **config_kwargs):
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(tiny_config(arch, **config_kwargs))
    # Random init gives near-uniform logits; scaling the head up makes greedy choices clear-cut
    # (no near-ties), so token identity across attention implementations is a sharp test.
    with torch.no_grad():
        model.lm_head.weight.mul_(8.0)
    return model.eval()


def save_tiny_model(folder: Path, arch: str = "llama", seed: int = 0, chat_template: bool = True,
                    **config_kwargs) -> Path:
    folder = Path(folder)
    tiny_model(arch, seed, **config_kwargs).save_pretrained(folder)
    byte_tokenizer(chat_template).save_pretrained(folder)
    return folder
