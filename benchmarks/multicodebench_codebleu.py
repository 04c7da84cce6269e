"""MultiCodeBench CodeBLEU: agreement with the official scores, the reference run, timing.

1. Scores the official GPT-4 generations shipped in
   multicodebench/reference_results/docstring_only/GPT4/Block_chain.jsonl (200 tasks x 3) and
   compares each with its published CodeBleu_score, per language, against what the official
   scorer itself gives (multicodebench_official_ranges.json, beside this script: the official
   `calc_code_bleu.py` run under many PYTHONHASHSEEDs, since its data-flow term iterates
   Python sets):
   - a score the official scorer gives under every seed alike ("seed-independent") must be
     reproduced to 1e-6; each miss is listed with its checked cause (`KNOWN_CAUSES`);
   - a seed-dependent one must lie within the official range over those seeds; each one
     outside is listed, with whether some order of the DFG's name sets reproduces the
     published score ("set order": codeeval's order is sorted, deterministic).
2. Scores the ground truth against itself for all 2400 tasks (the reference model) and
   counts the tasks below 100 by cause (no reference data flow; too short for the weighted
   n-gram match: fewer than 4 tokens, or unigram weights summing to less than 1, where the
   official denominator floor of 1 caps the recall).
3. Times both, against a parse-only baseline measured in the same run (tree-sitter parsing
   of the same texts, the floor of any AST-based metric).

    python benchmarks/multicodebench_codebleu.py --data-dir ../shared/benchmarks [--orders 100]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

from tqdm import tqdm

import codeeval.tasks.codebleu.dataflow_extract as extract
from codeeval.tasks.codebleu import codebleu, language_key
from codeeval.tasks.codebleu.comments import remove_comments
from codeeval.tasks.codebleu.dataflow import data_flow, dataflow_match
from codeeval.tasks.codebleu.grammars import parse
from codeeval.tasks.codebleu.keywords import KEYWORDS
from codeeval.tasks.codebleu.ngram import KEYWORD_WEIGHT, OTHER_WEIGHT
from codeeval.tasks.codebleu.score import reference_text
from codeeval.tasks.multicodebench import DOMAINS

RANGES = Path(__file__).with_name("multicodebench_official_ranges.json")

# Seed-independent official scores codeeval does not reproduce, with the cause as checked by
# parsing the texts with the official scorer's compiled grammars (tree-sitter 0.21.3)
KNOWN_CAUSES = {
    "c854a8edbe64": "grammar: the official JavaScript grammar is a commit after 0.21.4 "
                    "(`import.meta` parses as meta_property); no wheel has it",
    "28e9af392cd0": "grammar: Solidity 1.2.11 parses the reference unlike the official "
                    "1.2.7, which PyPI lacks",
}


def set_order_explains(generation: str, task: dict, official: float, score, orders: int) -> bool:
    """Whether some order of the DFG's name sets gives the official score."""
    key = language_key(task["language"])
    candidate = remove_comments(remove_comments(
        ("<?\n" if key == "php" else "") + generation, key), key)
    reference = remove_comments(reference_text(task["ground_truth"], key), key)
    needed = score.dataflow + (official - score.codebleu) / 25
    original = extract.unique_names
    try:
        for seed in range(orders):
            rng = random.Random(seed)

            def shuffled(names, rng=rng):
                distinct = sorted(set(names))
                rng.shuffle(distinct)
                return distinct
            extract.unique_names = shuffled
            if abs(dataflow_match(reference, candidate, key) - needed) < 1e-9:
                return True
    finally:
        extract.unique_names = original
    return False


def official_agreement(folder: Path, orders: int) -> dict:
    tasks = {t["instance_id"]: t for t in json.loads((folder / "Block_chain.json").read_text())}
    ranges = json.loads(RANGES.read_text())["ranges"]
    path = folder / "reference_results" / "docstring_only" / "GPT4" / "Block_chain.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    counts = defaultdict(Counter)
    differences = []
    started = time.perf_counter()
    scored = []
    for row in tqdm(rows, desc="official GPT-4", unit="task"):
        task = tasks[row["instance_id"]]
        for index, generation in enumerate(row["generation_result"]):
            score = codebleu(generation["code"], task["ground_truth"],
                             task["function_declaration"], task["language"])
            scored.append((row["instance_id"], index, task, generation, score))
    elapsed = time.perf_counter() - started
    for instance_id, index, task, generation, score in tqdm(scored, desc="classify", unit="gen"):
        official, c = generation["CodeBleu_score"], counts[task["language"]]
        c["generations"] += 1
        exact = abs(score.codebleu - official) < 1e-6
        c["exact"] += exact
        official_range = ranges.get(f"{instance_id}/{index}")
        if official_range is None:
            c["seed-independent"] += 1
            c["reproduced"] += exact
            if exact:
                continue
            cause = "unexplained"
        else:
            c["seed-dependent"] += 1
            low, high = official_range
            if low - 1e-6 <= score.codebleu <= high + 1e-6:
                c["in range"] += 1
                continue
            # codeeval's name sets are sorted; the official order is the interpreter's
            cause = "outside the official range: sorted name-set order" + (
                "; another order gives the published score"
                if set_order_explains(generation["code"], task, official, score, orders)
                else "")
        cause = KNOWN_CAUSES.get(instance_id, cause)
        differences.append({"instance_id": instance_id, "generation": index,
                            "language": task["language"], "official": official,
                            "codeeval": score.codebleu, "cause": cause})
    return {"seconds": elapsed, "generations": len(scored), "by_language": counts,
            "differences": differences}


def reference_run(folder: Path) -> dict:
    tasks = [t for domain in DOMAINS for t in json.loads((folder / f"{domain}.json").read_text())]
    started = time.perf_counter()
    below = defaultdict(Counter)
    for task in tqdm(tasks, desc="reference", unit="task"):
        score = codebleu(task["ground_truth"], task["ground_truth"],
                         task["function_declaration"], task["language"])
        if abs(score.codebleu - 100) > 1e-9:
            key = language_key(task["language"])
            reference = reference_text(task["ground_truth"], key)
            causes = []
            if not data_flow(remove_comments(reference, key), key):
                causes.append("no reference data flow")
            tokens = reference[len(task["function_declaration"]):].split()
            weight = sum(KEYWORD_WEIGHT if t in KEYWORDS[key] else OTHER_WEIGHT for t in tokens)
            if len(tokens) < 4 or weight < 1:
                causes.append("too short for the weighted n-gram match")
            below[task["language"]][" + ".join(causes) or "unexplained"] += 1
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    for task in tasks:   # the baseline: parse the same texts as often as CodeBLEU does
        key = language_key(task["language"])
        for _ in range(8):
            parse(key, task["ground_truth"])
    baseline = time.perf_counter() - started
    return {"tasks": len(tasks), "seconds": elapsed, "parse_only_seconds": baseline,
            "below_100": below}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--orders", type=int, default=100,
                        help="random name-set orders tried per differing generation")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    folder = Path(args.data_dir) / "multicodebench"
    official = official_agreement(folder, args.orders)
    reference = reference_run(folder)

    print(f"\nofficial GPT-4 Block_chain: {official['generations']} generations scored in "
          f"{official['seconds']:.1f} s")
    columns = ("generations", "exact", "seed-independent", "reproduced", "seed-dependent",
               "in range")
    print(f"{'language':<12}" + "".join(f"{name:>17}" for name in columns))
    total = sum(official["by_language"].values(), Counter())
    for language, c in sorted(official["by_language"].items()) + [("all", total)]:
        print(f"{language:<12}" + "".join(f"{c[name]:>17}" for name in columns))
    for d in official["differences"]:
        print(f"  {d['language']} {d['instance_id']}/{d['generation']}: official "
              f"{d['official']:.4f}, codeeval {d['codeeval']:.4f}: {d['cause']}")
    print(f"\nreference model, {reference['tasks']} tasks: {reference['seconds']:.1f} s "
          f"({reference['tasks'] / reference['seconds']:.0f} tasks/s); parse-only baseline "
          f"{reference['parse_only_seconds']:.1f} s, ratio "
          f"{reference['seconds'] / reference['parse_only_seconds']:.1f}x")
    for language, causes in sorted(reference["below_100"].items()):
        print(f"  below 100: {language}: {dict(causes)}")
    if args.json:
        args.json.write_text(json.dumps({"official": official, "reference": reference},
                                        indent=1, default=dict))


if __name__ == "__main__":
    main()
