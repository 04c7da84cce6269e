"""BigCodeBench's sanitizer on ast: the official tree-sitter behaviour, quirks included."""

from __future__ import annotations

import ast
import gzip
import json

from codeeval.tasks.bigcodebench_sanitize import code_extract, parse, sanitize

PROGRAM = '''import os
import numpy as np
from collections import Counter

LIMIT = 3
UNUSED = 7

def helper(x):
    return x * LIMIT

class Box:
    pass

def task_func(values):
    return [helper(v) for v in values if os.sep]
'''


def test_chat_answer_keeps_the_code_in_the_fence():
    answer = ("Sure! Here is the solution:\n```python\n" + PROGRAM +
              "```\n\nThe helper multiplies by the limit. It's quick.\n")
    kept = sanitize(answer, "task_func")
    assert "Sure" not in kept and "```" not in kept and "quick" not in kept
    assert "def task_func(values):" in kept and "def helper" in kept


def test_keeps_imports_and_what_the_entry_point_reaches():
    kept = sanitize(PROGRAM, "task_func")
    assert kept.splitlines()[:3] == ["import os", "import numpy as np",
                                     "from collections import Counter"]
    assert "LIMIT = 3" in kept and "def helper" in kept     # reached through helper
    assert "UNUSED" not in kept and "class Box" not in kept  # never mentioned


def test_drops_trailing_calls_and_main_blocks():
    text = PROGRAM + "\nresult = task_func([1])\nprint(task_func([2]))\nif __name__ == '__main__':\n    task_func([3])\n"
    kept = sanitize(text, "task_func")
    assert kept.rstrip().endswith("return [helper(v) for v in values if os.sep]")


def test_first_definition_of_a_name_wins():
    kept = sanitize(PROGRAM + "\ndef task_func():\n    return None\n", "task_func")
    assert "return None" not in kept and "def task_func(values)" in kept


def test_official_quirks_decorators_future_imports_and_tuple_targets():
    text = ("from __future__ import annotations\nimport functools\n"
            "@functools.lru_cache\ndef cached(x):\n    return x\n"
            "a, b = c\nc = 1\n"
            "def task_func():\n    return cached(1) + c\n")
    kept = sanitize(text, "task_func")
    assert "__future__" not in kept              # tree-sitter: future_import_statement
    assert "def cached" not in kept              # tree-sitter: decorated_definition
    assert "a, b = c" in kept                    # named after its value, "c", then reached
    assert "c = 1" not in kept                   # the name "c" is taken already


def test_comments_that_end_a_definition_stay_with_it():
    text = "def task_func():\n    return 1  # one\n    # still the body\n# module level\nX = 2\n"
    assert sanitize(text, "task_func") == "def task_func():\n    return 1  # one\n    # still the body"


def test_a_one_line_definition_at_the_end_is_cut_as_the_official_code_does():
    assert sanitize("import os\ndef task_func(): return 1\n", "task_func") == "import os"


def test_nothing_kept_falls_back_to_the_longest_parsable_span():
    text = "no code here\nx = 1\ny = 2\nthe end"
    assert sanitize(text, "task_func") == "x = 1\ny = 2"


def test_code_extract_prefers_more_non_blank_lines_and_the_first_on_ties():
    assert code_extract("a = 1\nb = 2\n\n\nHere's more:\nc = 3\nd = 4") == "a = 1\nb = 2"
    assert code_extract("x = (\ny = 1\nz = 2\nw = 3") == "y = 1\nz = 2\nw = 3"
    assert code_extract("only one line") == "only one line"


def test_canonical_programs_survive_sanitizing(benchmarks):
    path = benchmarks / "bigcodebench" / "BigCodeBench-v0.1.0_hf.jsonl.gz"
    rows = [json.loads(line) for line in gzip.open(path, "rt", encoding="utf-8")]
    for row in rows:
        kept = sanitize(row["complete_prompt"] + row["canonical_solution"], row["entry_point"])
        names = {n.name for n in parse(kept).body if isinstance(n, ast.FunctionDef)}
        assert row["entry_point"] in names, row["task_id"]
