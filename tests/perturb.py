"""Perturbed copies of stored samples: real programs with real bugs, for report and gate
tests that need a run which fails in varied ways (wrong answers, crashes, timeouts)."""

from __future__ import annotations

import json
from pathlib import Path

from codeeval.records import read_jsonl

MUTATIONS = ((" + 1", " + 2"), ("<=", "<"), (" < ", " <= "), (">=", ">"), (" > ", " >= "),
             ("==", "!="), ("return ", "return None and "))
SAMPLES_PER_PROBLEM = 5


def mutate(code: str) -> str:
    """The first mutation that applies: a plausible off-by-one or flipped comparison."""
    for old, new in MUTATIONS:
        if old in code:
            return code.replace(old, new, 1)
    return code + "\n    raise ValueError('mutated')\n"


def perturbed_samples(samples_jsonl: Path, task: str, problems: int, out: Path) -> Path:
    """SAMPLES_PER_PROBLEM samples for each of the first `problems` problems of `task`:
    some correct, some mutated, one that does not compile, a few that never finish; every
    eighth problem has no correct sample at all."""
    rows = read_jsonl(samples_jsonl)
    rows = sorted((r for r in rows if r["task"] == task), key=lambda r: int(r["task_id"]))
    lines = []
    for i, row in enumerate(rows[:problems]):
        good = row["completion"] if i % 8 != 5 else mutate(row["completion"])
        variants = [good, mutate(good), good + "\n    def broken(:\n", mutate(good) if i % 3
                    else good, "    while True:\n        pass\n" + good if i % 10 == 0 else good]
        lines += [{"task_id": row["task_id"], "completion": v} for v in variants]
    out.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return out
