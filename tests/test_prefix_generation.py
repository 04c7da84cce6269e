"""The prefix-sharing generator on tiny random-weight models: greedy tokens identical to
transformers' `generate`, shared prefixes prefilled and stored once, scheduling under a tight
KV budget, per-sample seeds, and the sharing plan itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tinymodels import ARCHITECTURES, tiny_model

from codeeval.generation.generator import PrefixSharingGenerator, SampleSpec
from codeeval.generation.kv_arena import SlotAllocator
from codeeval.generation.prefix_attention import ATTENTION_NAME, register
from codeeval.generation.prefix_tree import SharingPolicy, plan_groups
from codeeval.generation.base import sample_seed
from codeeval.generation.sampling import StopMatcher, TokenSampler, nucleus

EOS, PAD = 257, 258


def random_tokens(n, seed):
    return torch.randint(0, 256, (n,), generator=torch.Generator().manual_seed(seed)).tolist()


def eval_prompts():
    """Padding-heavy: a 48-token instruction shared by 4 problems of very different lengths,
    one problem sampled 3 times, and one unrelated prompt."""
    shared = random_tokens(48, 1)
    problems = [shared + random_tokens(n, 10 + n) for n in (1, 6, 29, 70)]
    return problems + [problems[2]] * 2 + [random_tokens(5, 3)]


def run_generator(model, prompts, max_new, *, budget=10 ** 6, policy=SharingPolicy(8, 2),
                  eos=(EOS,), samplers=None):
    register()
    model.set_attn_implementation(ATTENTION_NAME)
    device = model.device
    generator = PrefixSharingGenerator(model, kv_budget_tokens=budget, policy=policy,
                                       eos_ids=eos, device=device, max_positions=4096)
    samplers = samplers or [TokenSampler(0.0, 1.0, 0, device) for _ in prompts]
    out = dict(generator.generate([SampleSpec(p, max_new, s) for p, s in zip(prompts, samplers)]))
    model.set_attn_implementation("sdpa")
    return [out[i] for i in range(len(prompts))], generator.stats


def hf_greedy(model, prompts, max_new):
    """transformers' generate, one left-padded batch; outputs cut after EOS."""
    width = max(map(len, prompts))
    ids = torch.tensor([[PAD] * (width - len(p)) + p for p in prompts], device=model.device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts],
                        device=model.device)
    out = model.generate(ids, attention_mask=mask, max_new_tokens=max_new, do_sample=False,
                         eos_token_id=EOS, pad_token_id=PAD)[:, width:].tolist()
    return [row[:row.index(EOS) + 1] if EOS in row else row for row in out]


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_greedy_tokens_identical_to_hf_generate(arch):
    model = tiny_model(arch)
    prompts = eval_prompts()
    ours, stats = run_generator(model, prompts, 24)
    assert ours == hf_greedy(model, prompts, 24)
    # the instruction once, each distinct problem once, the unrelated prompt once
    assert stats.prefill_tokens == 48 + 1 + 6 + 29 + 70 + 5
    assert stats.shared_segments == 2   # the instruction; problem 2's prompt for its 3 samples


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_greedy_tokens_identical_to_hf_generate_on_gpu_with_an_8_layer_llama():
    """The compiled Triton kernel on the GPU, fp32: a deeper model than the CPU tests', longer
    prompts and decodes, n > 1 samples of shared prompts."""
    model = tiny_model("llama", layers=8, hidden=256, heads=8, kv_heads=2,
                       intermediate=512).cuda()
    prompts = eval_prompts() + [random_tokens(300, 4)] * 4
    ours, stats = run_generator(model, prompts, 64)
    assert ours == hf_greedy(model, prompts, 64)
    assert stats.shared_segments == 3


TRITON_RUN = """
import sys
sys.path.insert(0, sys.argv[1])
from test_prefix_generation import eval_prompts, hf_greedy, run_generator, tiny_model
model = tiny_model("llama")
prompts = eval_prompts()[:3]
ours, _ = run_generator(model, prompts, 6)
assert ours == hf_greedy(model, prompts, 6), (ours, hf_greedy(model, prompts, 6))
print("identical")
"""


@pytest.mark.skipif(torch.cuda.is_available(),
                    reason="the compiled kernel is tested on the GPU instead (Triton 3.6's "
                           "interpreter fails this run on a CUDA machine)")
def test_triton_kernel_path_gives_the_same_tokens():
    # a fresh interpreter: TRITON_INTERPRET must be set before Triton is first imported
    env = {**os.environ, "TRITON_INTERPRET": "1", "CODEEVAL_KERNELS": "triton"}
    out = subprocess.run([sys.executable, "-c", TRITON_RUN, str(Path(__file__).parent)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and "identical" in out.stdout, out.stderr[-3000:]


def test_shared_prompt_is_prefilled_and_stored_once():
    model = tiny_model("llama")
    prompt, n, max_new = random_tokens(64, 5), 8, 12
    ours, stats = run_generator(model, [prompt] * n, max_new, eos=())
    assert all(len(t) == max_new for t in ours)
    assert stats.prefill_tokens == 64 and stats.prompt_tokens == n * 64
    # KV held at peak: the prompt once plus each sample's own tokens (the last one's KV is
    # never needed), against n full copies in a per-sequence cache
    assert stats.peak_kv_tokens == 64 + n * (max_new - 1)
    assert stats.peak_kv_bytes == stats.peak_kv_tokens * 2 * 2 * 2 * 16 * 4
    assert ours == hf_greedy(model, [prompt] * n, max_new)


def test_sharing_that_does_not_pay_falls_back_to_plain_attention():
    model = tiny_model("qwen2")
    prompts = eval_prompts()
    ours, stats = run_generator(model, prompts, 10, policy=SharingPolicy(1000, 2))
    assert stats.shared_segments == 0
    assert stats.prefill_tokens == sum(len(p) for p in prompts[:4]) + 5   # repeats once
    assert ours == hf_greedy(model, prompts, 10)


def test_tight_kv_budget_runs_groups_in_turn_with_the_same_tokens():
    model = tiny_model("llama")
    prompts = eval_prompts()
    budget = 48 + 70 + 16      # the instruction plus the longest problem and its new tokens
    ours, stats = run_generator(model, prompts, 16, budget=budget)
    assert stats.peak_kv_tokens <= budget
    assert ours == hf_greedy(model, prompts, 16)
    with pytest.raises(Exception, match="max_batch_tokens"):
        run_generator(model, prompts, 16, budget=60)


def test_sampling_is_reproducible_and_independent_of_batching():
    model = tiny_model("llama")
    prompts = eval_prompts()

    def sample(indices):
        samplers = [TokenSampler(0.9, 0.95, sample_seed(7, f"task/{i}"), "cpu") for i in indices]
        out, _ = run_generator(model, [prompts[i] for i in indices], 10, samplers=samplers)
        return dict(zip(indices, out))

    everything = sample(list(range(len(prompts))))
    assert sample([5, 2]) == {i: everything[i] for i in (5, 2)}
    assert everything[2] != everything[4] or everything[2] != everything[5]  # samples differ


@pytest.mark.parametrize("temperature", [0.3, 1.0, 5.0])   # nucleus of a few .. thousands
def test_the_nucleus_is_the_full_sort_nucleus(temperature):
    """The top-k search finds exactly the tokens (and weights) a sort of the whole vocabulary
    keeps, including when the nucleus outgrows the first k."""
    generator = torch.Generator().manual_seed(3)
    probs = torch.softmax(torch.randn(49152, generator=generator) * 4 / temperature, dim=-1)
    ordered, order = probs.sort(descending=True)
    keep = (ordered.cumsum(-1) - ordered) < 0.95
    keep[0] = True
    weights, tokens = nucleus(probs, 0.95)
    kept = weights > 0
    assert sorted(tokens[kept].tolist()) == sorted(order[keep].tolist())
    assert torch.equal(weights[kept].sort().values, ordered[keep].sort().values)


def test_plan_clusters_groups_and_orders_long_decodes_first():
    shared = list(range(100, 140))
    prompts = [shared + [1, 2], shared + [3], shared + [3], [7, 8, 9], [7, 8, 9, 10]]
    groups = plan_groups(prompts, [8] * 5, SharingPolicy(min_tokens=2, min_seqs=2))
    by_members = {tuple(g.members): g for g in groups}
    assert set(by_members) == {(0,), (1, 2), (3,), (4,)}
    cluster = by_members[(1, 2)].cluster
    assert cluster is by_members[(0,)].cluster and cluster.length == 40
    assert by_members[(3,)].cluster is by_members[(4,)].cluster and \
        by_members[(3,)].cluster.length == 2      # each prompt keeps one token of its own
    assert not by_members[(1, 2)].shared           # its own part (1 token) is too short
    # 2 samples x 8 new tokens per prefilled token first, clusters kept together
    assert [g.members for g in groups] == [[1, 2], [0], [3], [4]]


def test_slot_allocator_reuses_and_coalesces_freed_ranges():
    slots = SlotAllocator(10)
    a, b, c = slots.alloc(4), slots.alloc(3), slots.alloc(3)
    assert (a.start, b.start, c.start) == (0, 4, 7) and slots.alloc(1) is None
    slots.free(a)
    slots.free(b)
    assert slots.free_ranges == [(0, 7)] and slots.reserved == 3
    assert slots.alloc(7).start == 0


def test_stop_matcher_sees_stops_across_token_boundaries():
    from tinymodels import byte_tokenizer
    tokenizer = byte_tokenizer()
    stop = StopMatcher(tokenizer, ["\nclass", "```"])
    text = "    return a\n\nclass B:"
    ids = tokenizer(text)["input_ids"]
    assert not stop.hit(ids[:text.index("class") + 2])
    assert stop.hit(ids)
    assert stop.cut(text + "```") == "    return a\n"
