"""HumanEval Pro, MBPP Pro and BigCodeBench-Lite Pro as the authors' harness generates them.

Mirrors CodeEval-Pro/CodeEval-Pro at commit 36f292eafc597b38535fbc8b4aafea8e5c654e3c:
`eval/utils.py` (map_*_problem: instruction and response prefix per dataset and variant),
`eval/prompt_template.py` (PROMPT_WRAPPER for base models, PROMPT_WRAPPER_API for chat),
`eval/inference.py` (vLLM with stop=EOS; the completion is cut at its first "```") and
`eval/run_api.py` (chat: system + user message, no stop strings; the answer is taken after
its first "```python" and cut at the next "```"). Written from reading those files.
"""

from __future__ import annotations

import json
from pathlib import Path

from .common import Official

FILES = {"humaneval-pro": "humaneval_pro.json", "mbpp-pro": "mbpp_pro.json",
         "bigcodebench-lite-pro": "bigcodebench_lite_pro.json"}
TASKS = tuple(FILES)
LOCAL_CHAT = False   # inference.py: the completion prompt for every local model

ASSISTANT = ("You are an exceptionally intelligent coding assistant that consistently delivers "
             "accurate and reliable responses to user instructions.")
TASK_TEXT = ("Write a solution of python file to the following problems, the solution of the "
             "second problem requires single or multiple calls to the first solution.")
# inference.py's EOS list (vLLM stops); run_api.py passes none
BASE_STOPS = ("<|endoftext|>", "<|endofmask|>", "</s>", "<|EOT|>")


def rows(task: str, data_dir: Path, options: dict) -> dict[str, dict]:
    data = json.loads((data_dir / "humaneval-pro" / FILES[task]).read_text(encoding="utf-8"))
    return {str(row["id"]): row for row in data}


def _instruction_and_prefix(task: str, row: dict, variant: str) -> tuple[str, str]:
    first, second = row["raw_problem"].strip(), row["new_problem"].strip()
    body = f"{first}\n{second}"
    if task == "bigcodebench-lite-pro":
        # map_bigcodebench_lite_pro_problem: a blank line before the closing fence (its
        # unused `example` would have gone there)
        body += "\n"
    elif variant == "1shot":
        # the second line of HumanEval Pro's test code (it starts with a newline), the first
        # of MBPP Pro's
        example = row["test_code"].split("\n")[1 if task == "humaneval-pro" else 0]
        body += f"\n\n{example}"
    instruction = f"{TASK_TEXT}\n```python\n{body}\n```"
    prefix = f"```python\n{first}\n"
    if variant == "cot":
        prefix = "Let's think step by step.\n" + prefix
    return instruction, prefix


def prompt(task: str, row: dict, variant: str, options: dict) -> Official:
    instruction, prefix = _instruction_and_prefix(task, row, variant)
    completion = f"{ASSISTANT}\n@@ Instruction\n{instruction}\n\n@@ Response\n{prefix}"
    user = f"\n@@ Instruction\n{instruction}\n@@ Response\n"
    return Official(completion=completion,
                    messages=({"role": "system", "content": ASSISTANT},
                              {"role": "user", "content": user}))


def stops(task: str, chat: bool, options: dict) -> tuple[str, ...]:
    return () if chat else BASE_STOPS


def _before_fence(text: str) -> str:
    end = text.find("```")
    return text if end < 0 else text[:end]


def extract(task: str, row: dict, official: Official, raw: str, chat: bool,
            options: dict) -> dict:
    if chat:
        after = raw.split("```python", 1)
        return {"solution": _before_fence(after[-1])}
    return {"completion": _before_fence(raw)}
