"""LDB-style block-level execution traces (standard library only; runs inside the sandbox).

LDB (Zhong, Wang, Shang, "Debug like a Human: A Large Language Model Debugger via Verifying
Runtime Execution Step-by-step", 2024) shows a model its failing program split into basic
blocks with the variable values at each block's entry and exit. This module builds the
control-flow blocks from the AST and records them at run time with `sys.settrace`, for every
function of the program (not only the entry point) and without rewriting the source.

Blocks: straight-line statements share a block; a new block starts at each branch (if/elif
test, each body and else), loop guard and loop body, the statement after a compound
statement, after break/continue/return/raise, each try/except/else/finally part, each with
body and each match case. Every function, method and nested function is its own sub-graph,
named by the code object's `co_qualname`; module-level code is `<module>`.

The worker imports this module from source (the config's `modules`), so it may use nothing
outside the standard library.
"""

import ast
import reprlib
import sys

GRANULARITIES = ("line", "block", "function")
# LDB's caps: at most this many dynamic blocks are kept, half from the start, half from the end.
MAX_EVENTS = {"line": 30, "block": 10, "function": 30}
SAFE_MODULES = {"builtins", "collections", "datetime", "decimal", "fractions", "array"}


class SafeRepr(reprlib.Repr):
    """Size-capped reprs that never run a user-defined __repr__."""

    def __init__(self):
        super().__init__()
        self.maxlevel, self.maxlist, self.maxtuple, self.maxdict = 3, 8, 8, 8
        self.maxset, self.maxstring, self.maxother, self.maxlong = 8, 60, 60, 40

    def repr_instance(self, obj, level):
        kind = type(obj)
        if kind.__module__ in SAFE_MODULES:
            try:
                return reprlib.Repr.repr_instance(self, obj, level)
            except Exception:
                pass
        if callable(obj) and hasattr(obj, "__qualname__"):
            return f"<{kind.__name__} {obj.__qualname__}>"
        return f"<{kind.__qualname__} object>"


_safe = SafeRepr()


def safe_repr(value) -> str:
    try:
        text = _safe.repr(value)
    except Exception as exc:  # a broken __eq__/__len__ inside a container, say
        text = f"<unprintable {type(value).__name__}: {type(exc).__name__}>"
    return text if len(text) <= 100 else text[:50] + "..." + text[-50:]


def snapshot(frame) -> dict:
    return {name: safe_repr(value) for name, value in frame.f_locals.items()
            if not (name.startswith("__") and name.endswith("__"))
            and not isinstance(value, type(sys))}


class CFGBuilder:
    """Assigns every statement line of every function to a block of that function."""

    def __init__(self):
        self.blocks = {}          # qualname -> [{"id", "kind", "lines": [first, last]}]
        self.block_of = {}        # (qualname, line) -> block id
        self._current = None
        self._kind = "entry"      # the kind of the block the next statement opens

    def build(self, tree):
        self._function("<module>", tree.body, "entry")
        return self

    def _function(self, qualname, body, kind):
        saved = self._current, self._kind
        self.blocks.setdefault(qualname, [])
        self._body(qualname, body, kind)
        self._current, self._kind = saved

    def _new(self, qualname, kind):
        """Close the current block; the next statement opens one of `kind` (blocks are made
        on their first statement, so no block is empty)."""
        self._current, self._kind = None, kind

    def _add(self, qualname, first, last):
        if self._current is None:
            blocks = self.blocks[qualname]
            self._current = {"id": len(blocks), "kind": self._kind, "lines": [first, last]}
            blocks.append(self._current)
            self._kind = "straight"
        self._current["lines"][1] = last
        for line in range(first, last + 1):
            self.block_of.setdefault((qualname, line), self._current["id"])

    def _body(self, qualname, body, kind):
        self._new(qualname, kind)
        for statement in body:
            self._statement(qualname, statement)

    def _header(self, qualname, node, end, kind):
        self._new(qualname, kind)
        self._add(qualname, node.lineno, end)

    def _statement(self, q, node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._add(q, node.lineno, node.lineno)
            kind = "class-body" if isinstance(node, ast.ClassDef) else "entry"
            self._function(self._child(q, node.name), node.body, kind)
            return
        if isinstance(node, ast.If):
            self._header(q, node, node.test.end_lineno, "if-test")
            self._body(q, node.body, "if-body")
            if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
                self._statement(q, node.orelse[0])          # elif: its own test block
            elif node.orelse:
                self._body(q, node.orelse, "else-body")
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            end = node.test.end_lineno if isinstance(node, ast.While) else node.iter.end_lineno
            self._header(q, node, end, "loop-guard")
            self._body(q, node.body, "loop-body")
            if node.orelse:
                self._body(q, node.orelse, "loop-else")
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            self._header(q, node, node.items[-1].context_expr.end_lineno, "with-enter")
            self._body(q, node.body, "with-body")
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self._body(q, node.body, "try-body")
            for handler in node.handlers:
                self._header(q, handler, handler.lineno, "except")
                for statement in handler.body:
                    self._statement(q, statement)
            if node.orelse:
                self._body(q, node.orelse, "try-else")
            if node.finalbody:
                self._body(q, node.finalbody, "finally")
        elif isinstance(node, ast.Match):
            self._header(q, node, node.subject.end_lineno, "match-subject")
            for case in node.cases:
                self._header(q, case.pattern, case.pattern.end_lineno, "case")
                for statement in case.body:
                    self._statement(q, statement)
        else:
            self._add(q, node.lineno, node.end_lineno)
            if isinstance(node, (ast.Return, ast.Raise, ast.Break, ast.Continue)):
                self._new(q, "after-jump")                  # what follows is a new block
            return
        self._new(q, "straight")                            # the statement after: new block

    def _child(self, qualname, name):
        """The co_qualname Python gives a def or class inside `qualname`."""
        if qualname == "<module>":
            return name
        if self.is_class(qualname):
            return f"{qualname}.{name}"
        return f"{qualname}.<locals>.{name}"


    def is_class(self, qualname):
        blocks = self.blocks.get(qualname)
        return bool(blocks) and blocks[0]["kind"] == "class-body"


def build_cfg(source: str) -> CFGBuilder:
    return CFGBuilder().build(ast.parse(source))


class Tracer:
    """Records the dynamic blocks of every function of one file while it runs."""

    def __init__(self, path, source, granularity="block"):
        if granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {GRANULARITIES}")
        self.path, self.granularity = path, granularity
        self.cfg = build_cfg(source)
        self.events = []
        self._open = {}           # frame -> open event

    def __enter__(self):
        sys.settrace(self._global)
        return self

    def __exit__(self, *exc):
        sys.settrace(None)
        for frame in list(self._open):
            self._close(frame, None)

    def _global(self, frame, event, arg):
        if frame.f_code.co_filename != self.path:
            return None
        qualname = frame.f_code.co_qualname
        if qualname == "<module>" or qualname not in self.cfg.blocks \
                or self.cfg.is_class(qualname):
            return None   # comprehensions and lambdas belong to their enclosing statement
        if self.granularity == "function":
            self._open_event(frame, {"function": qualname, "block": "call", "_key": "call",
                                     "lines": [frame.f_code.co_firstlineno] * 2})
        return self._local

    def _local(self, frame, event, arg):
        qualname = frame.f_code.co_qualname
        if event == "line" and self.granularity != "function":
            if self.granularity == "line":
                key = ("line", frame.f_lineno)
            else:
                key = self.cfg.block_of.get((qualname, frame.f_lineno))
            current = self._open.get(frame)
            if current is None or current["_key"] != key:
                self._close(frame, None)
                block = self._describe(qualname, key, frame.f_lineno)
                self._open_event(frame, block)
            self._open[frame]["executed"].append(frame.f_lineno)
        elif event == "line":
            self._open[frame]["executed"].append(frame.f_lineno)
        elif event == "return":
            self._close(frame, {"return": safe_repr(arg)})
        elif event == "exception":
            current = self._open.get(frame)
            if current is not None:
                current["exception"] = f"{arg[0].__name__}: {safe_repr(arg[1])}"
        return self._local

    def _describe(self, qualname, key, line):
        if self.granularity == "line" or key is None:
            return {"function": qualname, "block": f"line {line}", "lines": [line, line],
                    "_key": key}
        block = self.cfg.blocks[qualname][key]
        return {"function": qualname, "block": key, "kind": block["kind"],
                "lines": block["lines"], "_key": key}

    def _open_event(self, frame, block):
        block.update({"entry": snapshot(frame), "executed": []})
        self._open[frame] = block

    def _close(self, frame, extra):
        block = self._open.pop(frame, None)
        if block is None:
            return
        block["exit"] = snapshot(frame)
        block.pop("_key", None)
        if extra:
            block.update(extra)
        self.events.append(block)

    def summary(self):
        """The recorded blocks, capped as LDB does: the first and the last half kept."""
        cap = MAX_EVENTS[self.granularity]
        events = self.events
        if len(events) <= cap:
            return {"granularity": self.granularity, "blocks": events, "skipped": 0}
        head, tail = events[: cap // 2], events[-(cap - cap // 2):]
        return {"granularity": self.granularity, "blocks": head + tail,
                "skipped": len(events) - len(head) - len(tail), "skipped_after": len(head)}
