"""The debugging loop on a real model, against fresh samples that cost the same tokens.

Two `codeeval run`s per task with SmolLM2-135M-Instruct (`hf:smollm2-135m-instruct`, or
--model):
  debug    greedy, then `--debug-rounds 2`: pass@1 after each round (summary.json
           `debug.pass@1_by_round`) and the tokens each round generated;
  control  n=10 fresh samples at T=0.8, top-p 0.95: pass@k for the k whose extra k-1 samples
           cost what the repair rounds cost (k from the control's mean tokens per sample).
Tokens are counted by re-tokenizing the stored texts with the model's tokenizer (round 0: the
samples' raw answers; round r: the repair replies of debug.jsonl; the control: its samples'
raw answers), so every column is counted the same way. Printed as a Markdown table and
written to OUT/debug_loop.json.

    python benchmarks/debug_loop.py --data-dir ../shared/benchmarks --out runs/debug-loop \\
        --tasks humaneval-pro,mbpp-pro --limit 40
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROUNDS = 2


def codeeval_run(out: Path, task: str, args, *extra: str) -> dict:
    command = [sys.executable, "-m", "codeeval.cli", "run", "--model", args.model, "--tasks", task,
               "--max-new-tokens", "512", "--sandbox", args.sandbox, "--data-dir",
               args.data_dir, "--out", str(out), *extra]
    if args.limit:
        command += ["--limit", str(args.limit)]
    subprocess.run(command, check=True)
    return json.loads((out / "summary.json").read_text())


def token_counter(model: str):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generation_fidelity import load_tokenizer
    tokenizer = load_tokenizer(model)
    return lambda text: len(tokenizer(text or "", add_special_tokens=False)["input_ids"])


def measure(task: str, args, count) -> dict:
    from codeeval.passk import mean_pass_at_k
    from codeeval.records import read_jsonl
    debug_dir, control_dir = args.out / f"{task}-debug", args.out / f"{task}-control"
    debug = codeeval_run(debug_dir, task, args, "--debug-rounds", str(ROUNDS))
    codeeval_run(control_dir, task, args, "--n-samples", "10", "--temperature", "0.8",
                           "--top-p", "0.95", "--seed", "1")
    tokens = [sum(count(s["raw"]) for s in read_jsonl(debug_dir / "samples.jsonl"))]
    replies = read_jsonl(debug_dir / "debug.jsonl")
    tokens += [sum(count(r["reply"]) for r in replies if r["round"] == n)
               for n in range(1, ROUNDS + 1)]
    control_samples = read_jsonl(control_dir / "samples.jsonl")
    per_sample = sum(count(s["raw"]) for s in control_samples) / len(control_samples)
    problems = debug["tasks"][task]["n_problems"]
    # the control's pass counts per problem, from its raw-form verdicts
    passed: dict[str, int] = {}
    for row in read_jsonl(control_dir / "results.jsonl"):
        if row["form"] == "raw":
            passed[row["task_id"]] = passed.get(row["task_id"], 0) + (row["status"] == "passed")
    rounds = []
    for n, value in enumerate(debug["tasks"][task]["debug"]["pass@1_by_round"]):
        extra = sum(tokens[1:n + 1])
        k = min(10, 1 + round(extra / (per_sample * problems)))
        control_value = mean_pass_at_k(((10, c) for c in passed.values()), k)
        rounds.append({"round": n, "pass@1": value, "tokens": tokens[n],
                       "extra_tokens": extra, "control_k": k,
                       "control_pass@k": round(control_value, 6)})
    return {"task": task, "problems": problems, "control_tokens_per_sample": per_sample,
            "rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="hf:smollm2-135m-instruct")
    parser.add_argument("--data-dir", default="../shared/benchmarks")
    parser.add_argument("--out", type=Path, default=Path("runs/debug-loop"))
    parser.add_argument("--tasks", default="humaneval-pro,mbpp-pro")
    parser.add_argument("--sandbox", default="docker")
    parser.add_argument("--limit", type=int, help="first N problems of each task")
    args = parser.parse_args()
    count = token_counter(args.model)
    results = [measure(task, args, count) for task in args.tasks.split(",")]
    (args.out / "debug_loop.json").write_text(json.dumps(results, indent=2))
    print(f"\n{args.model}: greedy + {ROUNDS} repair rounds vs n=10 fresh samples (T=0.8, top-p 0.95) "
          "at equal tokens")
    print("| task | round | pass@1 | tokens this round | extra tokens | control k | "
          "control pass@k |")
    print("|---|---|---|---|---|---|---|")
    for result in results:
        for r in result["rounds"]:
            print(f"| {result['task']} ({result['problems']}) | {r['round']} | {r['pass@1']:.4f} "
                  f"| {r['tokens']} | {r['extra_tokens']} | {r['control_k']} | "
                  f"{r['control_pass@k']:.4f} |")


if __name__ == "__main__":
    main()
