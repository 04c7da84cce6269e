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

`--real N` measures the same three engines on a real model instead (`hf:smollm2-135m-instruct`
unless --model names another): the chat prompts of the first N HumanEval Pro problems, first
greedy n=1 (tokens asserted identical across engines), then n=--samples at T=0.8, top-p 0.95
(throughput only: each engine draws its own random numbers). Every engine stops at EOS or
--new-tokens; tokens/s counts the tokens each really generated. Peak memory is the process's
resident-set growth during the engine's run (CPU) or CUDA's peak allocation.

    python benchmarks/generation.py --real 164 --samples 10 --new-tokens 512 --data-dir D
    python benchmarks/generation.py --real 164 --modes greedy --no-continuous-batching ...

On a GPU, `--model-args dtype=float32` keeps greedy tokens comparable across engines (fp16/bf16
change the argmax where two logits nearly tie), and `--generate-problems K` runs `generate` on
K problems (K x n rows) at a time, as a user would to fit its padded per-sequence cache.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import threading
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


@contextlib.contextmanager
def peak_memory():
    """Yields a one-item list holding, once the block ends, the peak memory growth in bytes:
    CUDA's peak allocation, else the process's resident set polled every 20 ms."""
    box = [0]
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        yield box
        box[0] = torch.cuda.max_memory_allocated() - base
        return
    import psutil
    process, done = psutil.Process(), threading.Event()
    base = process.memory_info().rss

    def poll():
        while not done.wait(0.02):
            box[0] = max(box[0], process.memory_info().rss - base)
    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        done.set()
        thread.join()


def real_prompts(backend, data_dir: str, problems: int) -> list[list[int]]:
    from codeeval.tasks import get_task
    from codeeval.tasks.sources import DataSource
    task = get_task("humaneval-pro", {})
    return [backend.prompt_ids(task.request(p, 0))
            for p in task.load(DataSource(Path(data_dir)))[:problems]]


def real_engines(backend, prompts, n, new, temperature, generate_problems,
                 with_continuous=True):
    """(name -> (token lists, seconds, peak bytes)) for the engines on one workload (continuous
    batching only `with_continuous`)."""
    from transformers import GenerationConfig

    from codeeval.generation.generator import SampleSpec
    from codeeval.generation.base import sample_seed
    from codeeval.generation.sampling import TokenSampler
    model, eos = backend.lm, backend.generator.eos_ids
    pad = backend.tokenizer.pad_token_id or min(eos)
    sampling = dict(do_sample=temperature > 0, temperature=temperature or None,
                    top_p=0.95 if temperature else None, top_k=None)
    results = {}

    def timed(name, run):
        with peak_memory() as peak:
            start = time.perf_counter()
            tokens = run()
            seconds = time.perf_counter() - start
        results[name] = (tokens, seconds, peak[0])
        print(f"  {name}: {sum(map(len, tokens))} tokens in {seconds:.1f} s", flush=True)

    def ours():
        specs = [SampleSpec(p, new, TokenSampler(temperature, 0.95, sample_seed(0, f"{i}/{j}"),
                                                 backend.device))
                 for i, p in enumerate(prompts) for j in range(n)]
        out = dict(backend.generator.generate(specs))
        return [out[i] for i in range(len(specs))]

    def generate_chunk(chunk):
        width = max(map(len, chunk))
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in chunk], device=model.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in chunk],
                            device=model.device)
        with torch.inference_mode():
            out = model.generate(ids, attention_mask=mask, max_new_tokens=new,
                                 num_return_sequences=n, pad_token_id=pad,
                                 eos_token_id=sorted(eos), **sampling)
        rows = out[:, width:].tolist()
        return [next((r[:i + 1] for i, t in enumerate(r) if t in eos), r) for r in rows]

    def generate():
        step = generate_problems or len(prompts)
        return [row for i in range(0, len(prompts), step)
                for row in generate_chunk(prompts[i:i + step])]

    def continuous():
        config = GenerationConfig(max_new_tokens=new, num_return_sequences=n, pad_token_id=pad,
                                  eos_token_id=sorted(eos), **sampling)
        ours = model.config._attn_implementation
        model.set_attn_implementation("sdpa")   # continuous batching refuses custom attention
        try:
            out = model.generate_batch(prompts, generation_config=config)
        finally:
            model.set_attn_implementation(ours)
        return [r.generated_tokens for _, r in sorted(out.items())]

    timed("codeeval prefix sharing", ours)
    timed("hf generate", generate)
    if with_continuous and hasattr(model, "generate_batch"):
        timed("transformers continuous batching", continuous)
    return results


def run_real(args) -> None:
    from codeeval.generation import GenerationConfig, make_backend
    options = dict(item.split("=", 1) for item in args.model_args.split(",") if item)
    backend = make_backend(args.model, GenerationConfig(max_new_tokens=args.new_tokens), options)
    prompts = real_prompts(backend, args.data_dir, args.real)
    device = backend.device
    name = torch.cuda.get_device_name(device) if str(device).startswith("cuda") else "cpu"
    print(f"{args.model}: {len(prompts)} HumanEval Pro chat prompts, {args.new_tokens} new "
          f"tokens at most, {name}, {backend.lm.dtype}, torch {torch.__version__}", flush=True)
    print("warm-up (not timed: kernels compile, caches fill):", flush=True)
    real_engines(backend, prompts[:2], 2, 8, 0.8, 0, args.continuous_batching)
    modes = {"greedy": (1, 0.0), "sampled": (args.samples, 0.8)}
    for n, temperature in (modes[name] for name in args.modes.split(",")):
        results = real_engines(backend, prompts, n, args.new_tokens, temperature,
                               args.generate_problems, args.continuous_batching)
        base = results["hf generate"]
        base_rate = sum(map(len, base[0])) / base[1]
        same = ""
        if temperature == 0:
            ours = results["codeeval prefix sharing"][0]
            for name, (tokens, _, _) in results.items():
                differ = sum(a != b for a, b in zip(tokens, ours))
                same += f"; {name}: {len(ours) - differ}/{len(ours)} identical to codeeval"
        print(f"\nn={n}, T={temperature}{same}")
        print("| engine | tokens | wall s | tokens/s | vs generate | peak memory |")
        print("|---|---|---|---|---|---|")
        for name, (tokens, seconds, peak) in results.items():
            count = sum(map(len, tokens))
            print(f"| {name} | {count} | {seconds:.1f} | {count / seconds:.1f} | "
                  f"{count / seconds / base_rate:.2f}x | {peak / 2 ** 20:.0f} MiB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="8x512,32x1024",
                        help="comma-separated SAMPLESxPREFIX")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--real", type=int, metavar="N",
                        help="a real model on the first N HumanEval Pro problems")
    parser.add_argument("--model", default="hf:smollm2-135m-instruct")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--modes", default="greedy,sampled",
                        help="with --real: greedy (n=1), sampled (n=--samples), or both")
    parser.add_argument("--continuous-batching", action=argparse.BooleanOptionalAction,
                        default=True, help="with --real: time transformers' continuous batching")
    parser.add_argument("--data-dir", default="../shared/benchmarks")
    parser.add_argument("--model-args", default="",
                        help="hf backend options, KEY=VALUE,... (e.g. dtype=float32,device=cuda)")
    parser.add_argument("--generate-problems", type=int, default=0,
                        help="problems per `generate` call (default: all in one call)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.real:
        run_real(args)
        return
    model = build_model()
    print(f"torch {torch.__version__}, {args.threads} threads, median of {args.repeats}")
    for item in args.scenarios.split(","):
        n, prefix = (int(x) for x in item.lower().split("x"))
        run_scenario(model, n, prefix, args.new_tokens, args.repeats)


if __name__ == "__main__":
    main()
