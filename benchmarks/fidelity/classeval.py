"""ClassEval's holistic generation and the code its evaluation extracts from each answer.

Mirrors FudanSELab/ClassEval at commit eaeac44d0d5dcd8a95feec50726d66fedc73a98f:
`generation/inference_pipeline.py` (construct_prompt, holistic: "Please complete the class
... in the following code." and the skeleton; model_generate: no stop strings; a local model's
prediction is the decoded whole sequence, prompt included), `generation/inference_util.py`
(generate_prompt: the instruction wrapper ending in "### Response:\\n" for base models, the
bare instruction for chat-template models, as for DeepSeekCoder_inst) and
`classeval_evaluation/test_pipeline.py` (extract_code, add_static_statement, gen_code_list:
the task's imports, then the extracted class). Compared: the stored prediction and the code
each answer becomes in the program.
The incremental and compositional strategies are not mirrored here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .common import Official

TASKS = ("classeval",)
LOCAL_CHAT = False   # only DeepSeekCoder_inst gets its chat template; other local models the wrapper
VARIANTS = ("holistic", "default")

WRAPPER = ("Below is an instruction that describes a task. Write a response that appropriately "
           "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n")
RESPONSE_MARKERS = ("### Response:", "@@ Response:", "[/INST]")
CODE_PATTERNS = (r"```python(.*?)```", r"```ruby(.*?)```", r"```scss(.*?)```", r"```python(.*?)",
                 r"```(.*?)```", r"\[PYTHON\](.*?)\[/PYTHON\]")


def rows(task: str, data_dir: Path, options: dict) -> dict[str, dict]:
    data = json.loads((data_dir / "classeval" / "ClassEval_data.json").read_text(encoding="utf-8"))
    return {row["task_id"]: row for row in data}


def prompt(task: str, row: dict, variant: str, options: dict) -> Official:
    instruction = (f"Please complete the class {row['class_name']} in the following code.\n"
                   f"{row['skeleton']}")
    return Official(completion=WRAPPER.format(instruction=instruction),
                    messages=({"role": "user", "content": instruction},))


def render(task: str, messages, tokenizer) -> str:
    return tokenizer.apply_chat_template(list(messages), tokenize=False,
                                         add_generation_prompt=True)


def stops(task: str, chat: bool, options: dict) -> tuple[str, ...]:
    return ()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def class_code(text: str) -> str:
    """test_pipeline's extract_code for every model but InCoder."""
    text = text.rstrip()
    marker = next((m for m in RESPONSE_MARKERS if m in text), None)
    if marker is not None:
        text = text.split(marker)[1]
    for pattern in CODE_PATTERNS:
        found = re.findall(pattern, text, re.S)
        if found:
            return found[0]
    lines = text.split("\n")
    dropped = []
    for line in lines:
        if line.strip().startswith("class"):
            break
        if not line.strip().startswith(("import", "from")):
            dropped.append(line)
    text = "\n".join(line for line in lines if line not in dropped)
    class_line = next((line for line in text.split("\n") if line.strip().startswith("class")), None)
    if class_line is None or _indent(class_line) == 0:
        return text
    shift = _indent(class_line)
    return "\n".join(" " * (_indent(line) - shift) + line.lstrip() for line in text.split("\n"))


def with_static_markers(code: str) -> str:
    """add_static_statement: every existing @staticmethod line goes; a class-level `def`
    whose line mentions neither self nor cls gets one."""
    lines = [line for line in code.split("\n") if "@staticmethod" not in line]
    out = []
    for line in lines:
        if (line.strip().startswith("def ") and "self" not in line and "cls" not in line
                and _indent(line) == 4):
            out.append("    @staticmethod")
        out.append(line)
    return "\n".join(out)


def extract(task: str, row: dict, official: Official, raw: str, chat: bool,
            options: dict) -> dict:
    # a base model's prediction is decoded with its prompt; a chat answer is taken as the
    # API path stores it (the content alone)
    prediction = raw if chat else official.completion + raw
    code = with_static_markers(class_code(prediction))
    return {"completion": prediction,
            "program": "\n".join(row["import_statement"]) + "\n" + code}


def from_program(program, row: dict) -> str:
    """The solution part of codeeval's program: everything before the tests."""
    return "\n".join(program.source.split("\n")[:program.test_first_line - 1])
