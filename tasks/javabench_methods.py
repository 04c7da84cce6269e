"""JavaBench's method-by-method strategies: which methods are TODO, the one-method prompt
code, and splicing a generated body into the class (the official class_compose_tool, on the
same tree-sitter Java grammar family).

Method identity is (name, seq): seq counts the constructors and methods of that name in
document order (all of them, TODO or not, nested ones included), as upstream numbers them. A
method is a TODO method when a `//` comment inside it mentions TODO.

- `todo_methods(code)`: the TODO methods that have a body, in document order.
- `retain_todo(code, name, seq)`: every other TODO method's body emptied to `{}` (the code of
  one method round's prompt).
- `replace_body(code, target, name, seq)`: the TODO method's body replaced by the body of the
  same (name, seq) method of `target` (the code extracted from the model's answer); `code`
  unchanged when `target` has no such method or that body has a syntax error.

Offsets are byte offsets on UTF-8, applied to bytes; upstream applies them to Python strings,
which only differs for non-ASCII text before a method (no prompt has any).
"""

from __future__ import annotations

from dataclasses import dataclass

from codeeval.tasks.codebleu.grammars import parser

METHOD_NODES = ("constructor_declaration", "method_declaration")


@dataclass(frozen=True)
class MethodBody:
    name: str
    seq: int
    start: int          # byte offset of the body's `{`
    end: int            # byte offset just after its `}`
    has_todo: bool
    has_error: bool     # the body holds a syntax error


def _walk(node):
    """The subtree in pre-order (document order, outer before inner), without recursion."""
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def _methods(code: str, todo_only: bool) -> list[MethodBody]:
    tree = parser("java", "JavaBench's independent and incremental strategies",
                  "javabench").parse(code.encode("utf-8"))
    seqs: dict[str, int] = {}
    found = []
    for node in _walk(tree.root_node):
        if node.type not in METHOD_NODES:
            continue
        name = node.child_by_field_name("name").text.decode("utf-8", "replace")
        seq = seqs[name] = seqs.get(name, -1) + 1
        body = node.child_by_field_name("body")
        if body is None:
            continue
        has_todo = any(n.type == "line_comment" and b"TODO" in n.text for n in _walk(node))
        if has_todo or not todo_only:
            found.append(MethodBody(name, seq, body.start_byte, body.end_byte, has_todo,
                                    body.has_error))
    return found


def todo_methods(code: str) -> tuple[MethodBody, ...]:
    return tuple(_methods(code, todo_only=True))


def retain_todo(code: str, name: str, seq: int) -> str:
    data = code.encode("utf-8")
    for method in reversed(todo_methods(code)):
        if (method.name, method.seq) != (name, seq):
            data = data[:method.start + 1] + data[method.end - 1:]
    return data.decode("utf-8")


def replace_body(code: str, target: str, name: str, seq: int) -> str:
    """`code` unchanged where it has no such TODO method either (upstream raises there: an
    earlier generated body added a nested method of the same name, shifting the numbering)."""
    slot = next((m for m in todo_methods(code) if (m.name, m.seq) == (name, seq)), None)
    generated = next((m for m in _methods(target, todo_only=False)
                      if (m.name, m.seq) == (name, seq)), None)
    if slot is None or generated is None or generated.has_error:
        return code
    data, new = code.encode("utf-8"), target.encode("utf-8")
    return (data[:slot.start + 1] + new[generated.start + 1:generated.end - 1]
            + data[slot.end - 1:]).decode("utf-8")
