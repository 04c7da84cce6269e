"""Every task adapter turns arbitrary model text into a sample, a program (or a score, or a
judge request) and a debugging program without raising: untrained and small models write
anything (CI once met U+2028 from a tiny random model). Texts are random mixes of fences,
code fragments, line separators, NUL and other characters, with a fixed seed."""

from __future__ import annotations

import random

import pytest

from codeeval.tasks import get_task
from codeeval.tasks.base import Repairable
from codeeval.tasks.sources import DataSource
from conftest import converse, with_variant

FRAGMENTS = ("```python\n", "```java\n", "```\n", "```", "def f(x):\n", "class A:\n",
             "public class X {\n", "public void m() {", "private int x;", "package a.b;\n",
             "import java.util.*;\n", "import os\n", "from x import *\n", "@staticmethod\n",
             "return x\n", "pass\n", "### Response:\n", "[PYTHON]", "[/PYTHON]",
             "if __name__ == '__main__':\n", "    ", "\t", "\n", "\r\n", "\r", "\u2028", "\x85",
             "\x00", "\ufffd", "{", "}", "(", ")", "'", '"', '"""', "'''", "#", "//", "/*", "*/",
             "\\", ":", "=", "0", " ", "é", "漢字", "🙂")
CONFIGS = [("humaneval-pro", {}), ("mbpp-pro", {}), ("bigcodebench-lite-pro", {}),
           ("bigcodebench", {"split": "complete"}), ("bigcodebench", {"split": "instruct"}),
           ("classeval", {}), ("multicodebench", {}), ("codeif", {}), ("javabench", {}),
           ("codereval", {"language": "python"}), ("codereval", {"language": "java"})]
PROBLEMS, TEXTS = 6, 6


def arbitrary_text(rng: random.Random) -> str:
    return "".join(rng.choice(FRAGMENTS) if rng.random() < 0.8 else
                   "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 8)))
                   for _ in range(rng.randrange(0, 40)))


@pytest.mark.filterwarnings("ignore:bigcodebench. loading")
@pytest.mark.parametrize("name,options", CONFIGS, ids=[f"{n}{''.join(o.values())}"
                                                       for n, o in CONFIGS])
def test_arbitrary_text_never_breaks_an_adapter(name, options, benchmarks):
    task = get_task(name, options)
    rng = random.Random(name + str(options))
    problems = task.load(DataSource(benchmarks))
    for variant in task.prompt_variants:
        for problem in rng.sample(problems, min(PROBLEMS, len(problems))):
            for text_number in range(TEXTS):
                chat = bool(text_number % 2)
                _, sample = converse(with_variant(task, variant), problem,
                                     lambda _: arbitrary_text(rng),
                                     chat=chat)
                if task.scoring == "execution":
                    for sanitized in (False, True):
                        assert task.program(problem, sample, sanitized=sanitized).source
                    if isinstance(task, Repairable) and task.visible_test(problem) is not None:
                        task.debug_program(problem, task.sample_code(problem, sample), "block")
                elif task.scoring == "similarity":
                    task.score(problem, sample)
                else:
                    task.judge_request(problem, sample)
