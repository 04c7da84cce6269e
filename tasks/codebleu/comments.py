"""Comment and docstring removal, per language, as MultiCodeBench's scorer does it.

The official rules (evaluation/CodeBleu/parser/utils.py) parse the code with tree-sitter,
blank out comment spans (and a few docstring-like strings) with spaces, keep only the lines
from the first to the last line holding code, and collapse blank lines. Their quirks are kept
on purpose, since scores depend on them:
- tree-sitter columns count bytes, yet they index Python strings (non-ASCII text shifts them);
- a span covering several lines loses its newlines (the lines merge into one);
- "lines holding code" are the start line of the first and the end line of the last node, in
  pre-order, whose type is not a comment (nor, for some languages, a string);
- Go first blanks preprocessor-like lines starting with `#`; Scala works on byte offsets;
  Swift removes comments with regular expressions and trims by byte offsets;
- C# compares node types with `in "comment"` (a substring test), reproduced literally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from codeeval.tasks.codebleu.grammars import parse

BLANK_LINES = re.compile(r"\n\s*\n")


def _substrings(word: str) -> frozenset[str]:
    return frozenset(word[i:j] for i in range(len(word) + 1) for j in range(i, len(word) + 1))


def _string_child_of(*parents: str, node_type: str = "string") -> Callable:
    return lambda node, parent: node.type == node_type and parent is not None \
        and parent.type in parents


def _python_docstring(node, parent) -> bool:
    if node.type != "string" or parent is None:
        return False
    if parent.type in ("function_definition", "class_definition", "module"):
        return True
    return parent.type == "expression_statement" and parent.children[0] == node


def _c_docstring(node, parent) -> bool:
    if node.type != "string_literal":
        return False
    if parent is not None and parent.type == "function_definition":
        return True
    return node.prev_sibling is not None and node.prev_sibling.type == "function_definition"


@dataclass(frozen=True)
class LineRule:
    """How one language's comments are found; the blanking itself is shared."""

    comments: frozenset[str]
    not_code: frozenset[str]                 # types that do not mark a line as holding code
    docstring: Callable | None = None        # (node, parent) -> is a docstring to blank
    # trim to the code lines only when the last one lies inside the text (Python, Go)
    trim_needs_last_inside: bool = False
    hash_lines_blanked: bool = False         # Go: lines starting with '#' become empty first


def _rule(comments, extra_not_code=(), **kw) -> LineRule:
    comments = frozenset(comments)
    return LineRule(comments, comments | frozenset(extra_not_code), **kw)


LINE_RULES: dict[str, LineRule] = {
    "python": _rule({"comment"}, {"string"}, docstring=_python_docstring,
                    trim_needs_last_inside=True),
    "javascript": _rule({"comment", "html_comment"}),
    "typescript": _rule({"comment", "html_comment"}),
    "solidity": _rule({"comment"}, {"string_literal"}, docstring=_string_child_of(
        "function_definition", "contract_definition", "library_definition",
        node_type="string_literal")),
    "go": _rule({"comment"}, {"string_literal"}, trim_needs_last_inside=True,
                hash_lines_blanked=True),
    "c_sharp": LineRule(frozenset({"comment"}), _substrings("comment")),
    "cpp": _rule({"comment"}, {"string_literal"},
                 docstring=_string_child_of("function_definition", node_type="string_literal")),
    "c": _rule({"comment"}, {"string_literal"}, docstring=_c_docstring),
    "java": _rule({"comment", "line_comment", "block_comment"}, {"string_literal"}),
    "rust": _rule({"block_comment", "line_comment", "doc_comment", "inner_doc_comment_marker",
                   "outer_doc_comment_marker"}),
    "php": _rule({"comment", "line_comment", "block_comment", "doc_comment"}),
    "lua": _rule({"comment"}, {"string"}, docstring=_string_child_of("function_definition")),
    "kotlin": _rule({"line_comment", "multiline_comment"}, {"string_literal"},
                    docstring=_string_child_of("function_declaration",
                                               node_type="string_literal")),
}


def _preorder(root):
    """(node, parent) pairs in pre-order, without recursion (deep trees are common)."""
    stack = [(root, None)]
    while stack:
        node, parent = stack.pop()
        yield node, parent
        stack.extend((child, node) for child in reversed(node.children))


def _blank(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> None:
    (start_line, start_col), (end_line, end_col) = start, end
    if start_line == end_line:
        line = lines[start_line]
        lines[start_line] = line[:start_col] + " " * (end_col - start_col) + line[end_col:]
        return
    lines[start_line] = lines[start_line][:start_col] + " " * (len(lines[start_line]) - start_col)
    for i in range(start_line + 1, end_line):
        lines[i] = " " * len(lines[i])
    lines[end_line] = " " * end_col + lines[end_line][end_col:]


def _remove_by_lines(source: str, key: str, rule: LineRule) -> str:
    if rule.hash_lines_blanked:
        source = "".join("\n" if line.lstrip().startswith("#") else line
                         for line in source.splitlines(True))
    spans, first, last = [], None, 0
    for node, parent in _preorder(parse(key, source).root_node):
        if node.type in rule.comments or (rule.docstring and rule.docstring(node, parent)):
            spans.append((tuple(node.start_point), tuple(node.end_point)))
        if node.type not in rule.not_code:
            if first is None:
                first = node.start_point[0]
            last = node.end_point[0]
    lines = source.splitlines(True)
    for start, end in sorted(spans, key=lambda span: span[0], reverse=True):
        if start[0] < len(lines) and end[0] < len(lines):   # the official scorer would crash
            _blank(lines, start, end)
    cleaned = "".join(lines)
    if first is not None and (last < len(lines) or not rule.trim_needs_last_inside):
        cleaned = "\n".join(cleaned.splitlines()[first:last + 1])
    return BLANK_LINES.sub("\n", cleaned)


def _code_byte_span(root, comment_types) -> tuple[int | None, int]:
    first, last = None, 0
    for node, _ in _preorder(root):
        if node.type not in comment_types:
            if first is None:
                first = node.start_byte
            last = node.end_byte
    return first, last


def _remove_scala(source: str) -> str:
    comment_types = {"line_comment", "block_comment", "comment"}
    root = parse("scala", source).root_node
    chars = list(source)
    for node, _ in _preorder(root):
        if node.type in comment_types:
            for i in range(node.start_byte, min(node.end_byte, len(chars))):
                chars[i] = " "
    first, last = _code_byte_span(root, comment_types)
    cleaned = re.sub(r"\n\s*(This\s(function|method)[^\n]*)", "", "".join(chars))
    cleaned = BLANK_LINES.sub("\n", cleaned)
    return cleaned[first:last] if first is not None and last > 0 else cleaned


def _spaces(match: re.Match) -> str:
    return " " * (match.end() - match.start())


def _remove_swift(source: str) -> str:
    first, last = _code_byte_span(parse("swift", source).root_node, {"comment"})
    cleaned = source
    for pattern in (r"///.*", r"/\*[\s\S]*?\*/", r"//.*"):
        cleaned = re.sub(pattern, _spaces, cleaned)
    if first is not None:
        cleaned = cleaned[first:last]
    return BLANK_LINES.sub("\n", cleaned)


def remove_comments(source: str, key: str) -> str:
    """`source` without comments and docstrings, by the official rules for language `key`."""
    if key == "scala":
        return _remove_scala(source)
    if key == "swift":
        return _remove_swift(source)
    return _remove_by_lines(source, key, LINE_RULES[key])
