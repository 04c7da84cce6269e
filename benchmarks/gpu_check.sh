#!/usr/bin/env bash
# The GPU checks of the shared-prefix kernels and generator, prepared to run in a few minutes of
# a lent GPU. Results go to OUT (one file per part) and to stdout.
#
#   benchmarks/gpu_check.sh kernels OUT
#       compiled Triton kernel vs fp64 direct attention (fp32/fp16/bf16; GQA, MHA, MQA; odd
#       lengths; empty segments), an 8-layer random Llama's greedy tokens vs `generate` on the
#       GPU (tests/test_kernels.py, tests/test_prefix_generation.py), then
#       benchmarks/kernels.py (shared-prefix decode attention vs SDPA and its flash backend)
#   benchmarks/gpu_check.sh generation OUT MODEL DATA_DIR [SAMPLES]
#       benchmarks/generation.py on the real model: HumanEval Pro, 164 problems, greedy n=1
#       (tokens compared across engines) then n=SAMPLES (10, issue 14's item 5) at T=0.8,
#       top-p 0.95, 512 new tokens, fp32
set -uo pipefail
cd "$(dirname "$0")/.."
part=$1 out=$2
mkdir -p "$out"
export PYTHONUNBUFFERED=1
case $part in
kernels)
    python3 -c "import torch, triton; print(torch.cuda.get_device_name(), torch.__version__, \
triton.__version__)"
    python3 -m pytest -q -p no:cacheprovider tests/test_kernels.py tests/test_prefix_generation.py \
        2>&1 | tee "$out/tests.log"
    python3 benchmarks/kernels.py --repeats 30 2>&1 | tee "$out/kernels.md"
    ;;
generation)
    python3 benchmarks/generation.py --real 164 --samples "${5:-10}" --new-tokens 512 --model "$3" \
        --data-dir "$4" --model-args dtype=float32 --generate-problems 16 \
        2>&1 | tee "$out/generation.md"
    ;;
*)
    echo "usage: benchmarks/gpu_check.sh kernels|generation OUT [MODEL DATA_DIR [SAMPLES]]" >&2
    exit 2
    ;;
esac
