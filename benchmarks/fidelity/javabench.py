"""JavaBench's holistic (class-wise) generation and its assembly of each answer.

Mirrors java-bench/JavaBench at commit 0551d7b06869b0daccaf3306cde511705e79157d:
`app/prompt/template.py` (complete_template: the system message with the context, the user
message "Complete the code and give the complete class." with the skeleton), `inference.py`
(holistic: one query per class, no stop strings, the answer stored as `completion`; the
OpenAI path records the prompt as system + "\\n" + user), `app/util/io.py` (extract_code: the
first ```java block, else nothing) and `app/test_env.py` (replace: the skeleton file up to its
first "public", then the code from its first "public"; nothing where either has none).
The independent and incremental strategies are not mirrored here.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path

from .common import Official

TASKS = ("javabench",)
LOCAL_CHAT = True   # local models get a conversation template
VARIANTS = ("holistic", "default")
PROJECTS = ("PA19", "PA20", "PA21", "PA22")

SYSTEM = ("You are a helpful java programmer that write the project based on the following "
          "context. \nJava is a high-level, class-based, object-oriented programming language "
          "that is designed to have as few implementation dependencies as possible.\n"
          "{code_context}\n")
USER = "Complete the code and give the complete class.\n{code}"


def rows(task: str, data_dir: Path, options: dict) -> dict[str, dict]:
    context = options.get("context", "selective")
    found = {}
    for project in PROJECTS:
        path = data_dir / "javabench" / "datasets" / f"{context}-context" / f"data-{project}.jsonl"
        for line in path.read_text(encoding="utf-8").split("\n"):
            if line.strip():
                row = json.loads(line)
                skeleton = data_dir / "javabench" / "projects" / project / "src/main/java" / row["target"]
                found[row["task_id"]] = {**row, "skeleton_file": skeleton.read_text(encoding="utf-8")}
    return found


def prompt(task: str, row: dict, variant: str, options: dict) -> Official:
    system = SYSTEM.format(code_context=row["code_context"])
    user = USER.format(code=row["code"])
    return Official(completion=system + "\n" + user,
                    messages=({"role": "system", "content": system},
                              {"role": "user", "content": user}))


def stops(task: str, chat: bool, options: dict) -> tuple[str, ...]:
    return ()


def java_code(text: str) -> str:
    blocks = re.findall("```java\r?\n(.*?)```", text, re.DOTALL)
    return blocks[0] if blocks else ""


def extract(task: str, row: dict, official: Official, raw: str, chat: bool,
            options: dict) -> dict:
    code, skeleton = java_code(raw), row["skeleton_file"]
    start, code_start = skeleton.find("public"), code.find("public")
    replaced = None if start < 0 or code_start < 0 else skeleton[:start] + code[code_start:]
    return {"completion": raw, "program": replaced}


def from_program(program, row: dict) -> str | None:
    """The class file codeeval's driver program writes over the project (None: none)."""
    packed = re.search(r"SPEC = load_spec\('([^']*)'\)", program.source).group(1)
    spec = json.loads(zlib.decompress(base64.b64decode(packed)))
    return spec["files"].get(f"src/main/java/{row['target']}")
