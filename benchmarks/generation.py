"""Generation throughput: codeeval's prefix-sharing generator (the hf backend's engine) against
transformers' `model.generate` and its continuous batching (`generate_batch`, paged attention).

Same tiny random-weight Llama (fp32, 2 layers, hidden 256, 32k vocabulary), same prompts,
greedy, a fixed number of new tokens per sequence; the tokens of every engine are asserted
identical. Each scenario is n samples whose prompts share a long prefix (the run's instruction
/ problem text) and end in a few distinct tokens. Reported, all in one run on the same machine:
tokens/s (generated tokens over wall time, prefill included) and its ratio to `generate`,
prompt tokens run through the model, and KV bytes held at peak. Continuous batching's time is
its requests' lifespan (its one-off cache setup is reported apart).

    python benchmarks/generation.py                  # both scenarios
    python benchmarks/generation.py --scenarios 8x512 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

SUFFIX = 16


def build_model():
    from transformers import AutoModelForCausalLM, LlamaConfig
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=32000, hidden_size=256, intermediate_size=688,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                         max_position_embeddings=4096)
    return AutoModelForCausalLM.from_config(config, attn_implementation="sdpa").eval()


def make_prompts(n: int, prefix: int, seed: int = 1) -> list[list[int]]:
    gen = torch.Generator().manual_seed(seed)
    shared = torch.randint(3, 32000, (prefix,), generator=gen).tolist()
    return [shared + torch.randint(3, 32000, (SUFFIX,), generator=gen).tolist()
            for _ in range(n)]


def kv_bytes_per_token(model) -> int:
    c = model.config
    return 2 * c.num_hidden_layers * c.num_key_value_heads * (c.hidden_size //
                                                              c.num_attention_heads) * 4


def hf_generate(model, prompts, new):
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(torch.tensor(prompts), attention_mask=torch.ones(
            len(prompts), len(prompts[0]), dtype=torch.long), max_new_tokens=new,
            min_new_tokens=new, do_sample=False, pad_token_id=0)
    seconds = time.perf_counter() - start
    tokens = out[:, len(prompts[0]):].tolist()
    prefill = sum(map(len, prompts))
    kv = len(prompts) * (len(prompts[0]) + new - 1) * kv_bytes_per_token(model)
    return tokens, seconds, prefill, kv


def prefix_sharing(model, prompts, new):
    from codeeval.generation.generator import PrefixSharingGenerator, SampleSpec
    from codeeval.generation.prefix_attention import ATTENTION_NAME, register
    from codeeval.generation.prefix_tree import SharingPolicy
    from codeeval.generation.sampling import TokenSampler
    register()
    model.set_attn_implementation(ATTENTION_NAME)
    generator = PrefixSharingGenerator(model, kv_budget_tokens=10 ** 7, policy=SharingPolicy(),
                                       eos_ids=(), device="cpu", max_positions=4096)
    specs = [SampleSpec(p, new, TokenSampler(0.0, 1.0, 0, "cpu")) for p in prompts]
    start = time.perf_counter()
    out = dict(generator.generate(specs))
    seconds = time.perf_counter() - start
    model.set_attn_implementation("sdpa")
    stats = generator.stats
    return [out[i] for i in range(len(prompts))], seconds, stats.prefill_tokens, \
        stats.peak_kv_bytes


def continuous_batching(model, prompts, new):
    from transformers import GenerationConfig
    config = GenerationConfig(max_new_tokens=new, min_new_tokens=new, do_sample=False,
                              eos_token_id=-1, pad_token_id=0)
    start = time.perf_counter()
    out = model.generate_batch(prompts, generation_config=config)
    total = time.perf_counter() - start
    results = [out[f"req_{i}"] for i in range(len(prompts))]
    begin = min(r.lifespan[0] for r in results)
    end = max(r.lifespan[1] for r in results)
    return [r.generated_tokens for r in results], end - begin, total - (end - begin)


def run_scenario(model, n, prefix, new, repeats):
    prompts = make_prompts(n, prefix)
    engines = {"hf generate": hf_generate, "codeeval prefix sharing": prefix_sharing}
    for engine in engines.values():
        engine(model, prompts[:2], 4)   # warm-up
    # repeats interleave the engines, so load changes on a shared machine hit both alike
    runs = {name: [] for name in engines}
    for _ in range(repeats):
        for name, engine in engines.items():
            runs[name].append(engine(model, prompts, new))
    rows = {name: (r[0][0], statistics.median(x[1] for x in r), r[0][2], r[0][3])
            for name, r in runs.items()}
    reference = rows["hf generate"][0]
    assert rows["codeeval prefix sharing"][0] == reference, "prefix sharing changed tokens"
    note = ""
    if hasattr(model, "generate_batch"):
        runs = [continuous_batching(model, prompts, new) for _ in range(repeats)]
        assert runs[0][0] == reference, "continuous batching changed tokens"
        rows["transformers continuous batching"] = (
            runs[0][0], statistics.median(r[1] for r in runs), None, None)
        note = f" (continuous batching setup outside the timing: {runs[0][2]:.1f} s)"
    base_rate = n * new / rows["hf generate"][1]
    base_prefill, base_kv = rows["hf generate"][2], rows["hf generate"][3]
    print(f"\n{n} samples, {prefix}-token shared prefix + {SUFFIX} own prompt tokens, "
          f"{new} new tokens, greedy, tokens identical{note}")
    print("| engine | tokens/s | vs generate | prompt tokens prefilled | KV bytes at peak |")
    print("|---|---|---|---|---|")
    for name, (_, seconds, prefill, kv) in rows.items():
        rate = n * new / seconds
        prefill_text = "n/a" if prefill is None else \
            f"{prefill} ({prefill / base_prefill:.3f}x)"
        kv_text = "n/a" if kv is None else f"{kv / 2 ** 20:.1f} MiB ({kv / base_kv:.3f}x)"
        print(f"| {name} | {rate:.0f} | {rate / base_rate:.2f}x | {prefill_text} | {kv_text} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="8x512,32x1024",
                        help="comma-separated SAMPLESxPREFIX")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = build_model()
    print(f"torch {torch.__version__}, {args.threads} threads, median of {args.repeats}")
    for item in args.scenarios.split(","):
        n, prefix = (int(x) for x in item.lower().split("x"))
        run_scenario(model, n, prefix, args.new_tokens, args.repeats)


if __name__ == "__main__":
    main()
