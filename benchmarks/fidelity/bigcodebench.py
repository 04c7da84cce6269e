"""BigCodeBench as its official generator (`bigcodebench.generate`) makes samples.

Mirrors bigcode-project/bigcodebench at commit 47eff25a9933ba89eee755bcf2696c4f17160b54:
`bigcodebench/generate.py` (codegen: a direct-completion model continues `complete_prompt`
and its sample is sanitize(prompt + output); a chat model's is sanitize(output)),
`bigcodebench/provider/utility.py` (EOS, the extra stops of direct completion, and
make_raw_chat_prompt: the instruction prefix and the prompt as the user turn, an assistant
turn prefilled with the response prefix and an open ```python fence, rendered by the chat
template and cut at a splitter string), `bigcodebench/provider/vllm.py` (the default backend:
chat stops add "\\n```\\n" when the response prefix holds a fence; tabs become four spaces)
and `bigcodebench/sanitize.py` + `syncheck.py` (the tree-sitter sanitizer). The sanitizer
here is written on tree-sitter from reading that file, independently of codeeval's `ast` one.
"""

from __future__ import annotations

import ast
import gzip
import json
import warnings
from pathlib import Path

from .common import Official

TASKS = ("bigcodebench",)
LOCAL_CHAT = True   # the vLLM and hf providers use the chat template when there is one

USER_PREFIX = ("Please provide a self-contained Python script that solves the following "
               "problem in a markdown code block:")
ASSISTANT_PREFIX = ("Below is a Python script with a self-contained function that solves the "
                    "problem and passes corresponding tests:")
EOS = ("<|endoftext|>", "<|endofmask|>", "</s>", "\nif __name__", "\ndef main(", "\nprint(")
DIRECT_COMPLETION_EXTRA = ("\ndef ", "\nclass ", "\nimport ", "\nfrom ", "\nassert ")
SPLITTER = "-[[]]-this-is-really-our-highest-priority-[[]]-"


def rows(task: str, data_dir: Path, options: dict) -> dict[str, dict]:
    folder = data_dir / "bigcodebench"
    version = options.get("dataset_version")
    stem = "BigCodeBench-Hard" if options.get("subset") == "hard" else "BigCodeBench"
    candidates = sorted(folder.glob(f"{stem}-{version or 'v*'}.jsonl*"))
    if not candidates:
        raise FileNotFoundError(f"no {stem}-{version or '<version>'}.jsonl[.gz] in {folder}")
    data = candidates[0].read_bytes()
    if candidates[0].suffix == ".gz":
        data = gzip.decompress(data)
    found = [json.loads(line) for line in data.decode("utf-8").split("\n") if line.strip()]
    return {row["task_id"]: row for row in found}


def _user(row: dict, split: str) -> str:
    if split == "complete":
        return f"{USER_PREFIX}\n```\n{row['complete_prompt'].strip()}\n```\n"
    return f"{USER_PREFIX}\n{row['instruct_prompt'].strip()}\n"


def _assistant(with_splitter: bool) -> str:
    return f"{ASSISTANT_PREFIX}\n```python\n" + (f"{SPLITTER}\n```\n" if with_splitter else "")


def prompt(task: str, row: dict, variant: str, options: dict) -> Official:
    split = options.get("split", "complete")
    completion = row["complete_prompt"] if split == "complete" else None
    # the rendered text ends at the splitter: the model continues the prefilled fence
    return Official(completion=completion,
                    messages=({"role": "user", "content": _user(row, split)},
                              {"role": "assistant", "content": _assistant(False)}))


def render(task: str, messages, tokenizer) -> str:
    user = messages[0]["content"]
    full = tokenizer.apply_chat_template(
        [{"role": "user", "content": user}, {"role": "assistant", "content": _assistant(True)}],
        tokenize=False)
    return full.split(SPLITTER)[0]


def stops(task: str, chat: bool, options: dict) -> tuple[str, ...] | None:
    if chat:
        return EOS + ("\n```\n",)
    return EOS + DIRECT_COMPLETION_EXTRA if options.get("split", "complete") == "complete" else None


def extract(task: str, row: dict, official: Official, raw: str, chat: bool,
            options: dict) -> dict:
    text = raw.replace("\t", "    ")
    code = text if chat else official.completion + text
    return {"solution": sanitize(code, row["entry_point"])}


# -- the sanitizer ------------------------------------------------------------------------------

def _parses(code: str) -> bool:
    """syncheck.syntax_check: ast.parse succeeds (SyntaxError and MemoryError mean no)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(code)
        except (SyntaxError, MemoryError):
            return False
    return True


def longest_parsable_span(text: str) -> str:
    """Every span of two or more lines is tried; the first with the most non-blank lines
    wins; none parsing leaves the first line."""
    lines = text.split("\n")
    best_lines, best = 0, (0, 0)
    for start in range(len(lines)):
        for end in range(start + 1, len(lines)):
            span = lines[start:end + 1]
            if _parses("\n".join(span)):
                filled = sum(1 for line in span if line.strip())
                if filled > best_lines:
                    best_lines, best = filled, (start, end)
    return "\n".join(lines[best[0]:best[1] + 1])


def _parser():
    import tree_sitter_python
    from tree_sitter import Language, Parser
    return Parser(Language(tree_sitter_python.language()))


def _name(node) -> str | None:
    return next((c.text.decode("utf8") for c in node.children if c.type == "identifier"), None)


def _identifiers(node, found: set) -> set:
    for child in node.children:
        if child.type == "identifier":
            found.add(child.text.decode("utf8"))
        else:
            _identifiers(child, found)
    return found


def _kept_definitions(code: str, entry_point: str) -> str:
    code = longest_parsable_span(code.strip())
    source = code.encode("utf8")
    root = _parser().parse(source).root_node
    imports, definitions, seen = [], [], set()
    for child in root.children:
        if child.type in ("import_statement", "import_from_statement"):
            imports.append(child)
            continue
        if child.type in ("class_definition", "function_definition"):
            node = child
        elif child.type == "expression_statement" and child.children[0].type == "assignment":
            node = child.children[0]
        else:
            continue
        name = _name(node)
        if name not in seen:   # the first definition of a name wins, whatever its kind
            seen.add(name)
            definitions.append((name, node))
    uses = {name: _identifiers(node, set()) for name, node in definitions}
    reached, queue = {entry_point}, [entry_point]
    while queue:
        for used in uses.get(queue.pop(0), ()):
            if used not in reached:
                reached.add(used)
                queue.append(used)
    out = b"".join(source[n.start_byte:n.end_byte] + b"\n" for n in imports)
    out += b"".join(source[n.start_byte:n.end_byte] + b"\n"
                    for name, n in definitions if name in reached)
    text = out[:-1].decode("utf8")
    # trailing top-level lines that mention the entry point go (left-over calls)
    lines = text.splitlines()
    mentions = []
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith(" "):
            break
        if entry_point in lines[index]:
            mentions.append(index)
    return "\n".join(lines[:mentions[-1]]) if mentions else text


def sanitize(code: str, entry_point: str) -> str:
    kept = _kept_definitions(code, entry_point).strip()
    return kept if kept else longest_parsable_span(code)
