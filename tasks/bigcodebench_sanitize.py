"""BigCodeBench's sanitizer, on Python's `ast` instead of tree-sitter.

The official post-processing (bigcodebench `sanitize.py`) turns a model's text into a program:
1. `code_extract`: the longest run of at least two consecutive lines that parses, measured in
   non-blank lines (the first such run wins a tie). Prose and markdown fences fall away.
2. From that code, keep every top-level import, then the first top-level definition of each
   name (undecorated functions and classes, and assignments), but only the definitions the
   entry point reaches through the names they mention; everything else goes.
3. Drop trailing top-level lines that mention the entry point (calls left at the end), and
   fall back to step 1's code when nothing is left.

The results match the tree-sitter version's, including its quirks, which are part of the
benchmark: decorated definitions and `from __future__` imports are dropped (tree-sitter calls
them `decorated_definition` and `future_import_statement`, which the official code does not
keep), an assignment whose target is not a plain name is named after its value when that is a
plain name (`a, b = c` defines "c"), and a dependency is any identifier in a definition,
attribute names and keyword-argument names included.
"""

from __future__ import annotations

import ast
import warnings

UNPARSABLE = (SyntaxError, ValueError, MemoryError, RecursionError)


def parse(code: str) -> ast.Module | None:
    with warnings.catch_warnings():   # invalid escapes and the like: valid code, noisy
        warnings.simplefilter("ignore")
        try:
            return ast.parse(code)
        except UNPARSABLE:
            return None


def parses(code: str) -> bool:
    return parse(code) is not None


def code_extract(text: str) -> str:
    """The longest parsable span of >= 2 lines by non-blank lines, as the official loop over
    every (start, end) pair finds it, without trying the pairs that cannot win."""
    lines = text.split("\n")
    filled = [0]
    for line in lines:
        filled.append(filled[-1] + bool(line.strip()))

    def count(i: int, j: int) -> int:
        return filled[j + 1] - filled[i]

    best, best_pair = 0, (0, 0)
    for i in range(len(lines)):
        if count(i, len(lines) - 1) <= best:
            continue
        for j in range(len(lines) - 1, i, -1):
            if count(i, j) <= best:
                break
            if parses("\n".join(lines[i:j + 1])):
                # the official ascending scan stops at the first end with this count
                first = j
                while first - 1 > i and count(i, first - 1) == count(i, j):
                    first -= 1
                while not parses("\n".join(lines[i:first + 1])):
                    first += 1
                best, best_pair = count(i, j), (i, first)
                break
    return "\n".join(lines[best_pair[0]:best_pair[1] + 1])


def identifiers(node: ast.AST) -> set[str]:
    """Every name tree-sitter would call an identifier inside `node`."""
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
        elif isinstance(sub, ast.arg):
            names.add(sub.arg)
        elif isinstance(sub, ast.keyword) and sub.arg:
            names.add(sub.arg)
        elif isinstance(sub, ast.alias):
            names.update(sub.name.split("."))
            if sub.asname:
                names.add(sub.asname)
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            names.update(sub.names)
        elif isinstance(sub, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and sub.name:
            names.add(sub.name)
        elif isinstance(sub, ast.MatchMapping) and sub.rest:
            names.add(sub.rest)
        elif isinstance(sub, ast.MatchClass):
            names.update(sub.kwd_attrs)
    return names


def definition_name(node: ast.stmt) -> tuple[bool, str | None]:
    """(is a kept definition, its name): the first identifier among the node's direct
    children in tree-sitter's grammar."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return not node.decorator_list, node.name
    if isinstance(node, ast.Assign):
        first = node.targets[0]
        if isinstance(first, ast.Name):
            return True, first.id
        chained = len(node.targets) > 1   # a = b = c nests the second assignment
        return True, node.value.id if isinstance(node.value, ast.Name) and not chained else None
    if isinstance(node, ast.AnnAssign):
        if isinstance(node.target, ast.Name):
            return True, node.target.id
        return True, node.value.id if isinstance(node.value, ast.Name) else None
    return False, None


def reachable(entry_point: str, deps: dict[str | None, set[str]]) -> set[str]:
    seen, queue = {entry_point}, [entry_point]
    while queue:
        for name in deps.get(queue.pop(0), ()):
            if name not in seen:
                seen.add(name)
                queue.append(name)
    return seen


def block_end(lines: list[bytes], starts: list[int], row: int, end: int) -> int:
    """Where tree-sitter ends a function or class whose last statement ends at byte `end` of
    line `row`: after a comment on that line and after the indented comment lines that follow
    (they still belong to the block); blank lines between them are kept, a line at column 0
    ends it."""
    if lines[row][end - starts[row]:].strip().startswith(b"#"):
        end = starts[row] + len(lines[row])
    for row in range(row + 1, len(lines)):
        line = lines[row]
        if not line.strip():
            continue
        if not line[:1].isspace() or not line.strip().startswith(b"#"):
            break
        end = starts[row] + len(line)
    return end


def extract_target_code_or_empty(code: str, entry_point: str) -> str:
    code = code_extract(code.strip())
    tree = parse(code)
    if tree is None:
        return ""
    data = code.encode("utf-8")
    lines = data.split(b"\n")
    starts = [0]   # byte offset of each line: ast columns count UTF-8 bytes
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def source(node: ast.stmt) -> bytes:
        end = starts[node.end_lineno - 1] + node.end_col_offset
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            end = block_end(lines, starts, node.end_lineno - 1, end)
        return data[starts[node.lineno - 1] + node.col_offset:end]

    imports, definitions, seen = [], [], set()
    for node in tree.body:
        if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom)
                                            and node.module != "__future__"):
            imports.append(node)
            continue
        kept, name = definition_name(node)
        if kept and name not in seen:
            definitions.append((name, node))
            seen.add(name)
    wanted = reachable(entry_point, {name: identifiers(node) for name, node in definitions})
    parts = [source(node) for node in imports]
    parts += [source(node) for name, node in definitions if name in wanted]
    output = b"\n".join(parts).decode("utf-8")

    # the official ad-hoc step: trailing unindented lines that mention the entry point go
    lines = output.splitlines()
    outer = []
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith(" "):
            break
        if entry_point in lines[i]:
            outer.append(i)
    return "\n".join(lines[:outer[-1]]) if outer else output


def sanitize(code: str, entry_point: str) -> str:
    """The program BigCodeBench keeps from a model's text (`sanitize` in the official code)."""
    code = code.replace("\r\n", "\n").replace("\r", "\n")
    kept = extract_target_code_or_empty(code, entry_point).strip()
    return kept or code_extract(code)
