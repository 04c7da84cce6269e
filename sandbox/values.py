"""Assertion tests judged outside the program's process: the program computes, the host compares.

A `script` program whose every test statement is `assert <expression> == <literal>` (either
order; HumanEval Pro and MBPP Pro are nearly all of this form) runs as the `values` framework:
the sandbox gets the solution and the expressions only, the program's process reports each
expression's value as plain tagged data (program_steps.encode_value), and the host rebuilds it
and compares it with the literal, which never entered the sandbox. No trick inside the process
(a patched `exec`, a forged report, an object whose `__eq__` always says yes) can make a wrong
value pass: the program would have to know the expected value. Programs with any other test
statement run as scripts, judged in the process (program_guard.guard).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from codeeval.records import Program


@dataclass(frozen=True)
class Check:
    line: int
    expression: str   # what the program evaluates
    expected: object  # the literal, kept on the host
    statement: str    # the assert as written, for messages

    @property
    def name(self) -> str:
        return f"line {self.line}"


def value_checks(program: Program) -> list[Check] | None:
    """The program's tests as checks, or None when any test statement is not an equality
    assertion against a literal."""
    _, tests = program.split_at_tests()
    try:
        tree = ast.parse(tests)
    except (SyntaxError, ValueError):
        return None
    checks = []
    test_lines = tests.encode().splitlines(keepends=True)
    for statement in tree.body:
        check = equality_check(statement, test_lines, program.test_first_line - 1)
        if check is None:
            return None
        checks.append(check)
    return checks or None


def source_segment(lines: list[bytes], node: ast.AST) -> str:
    """The source text of `node`, as ast.get_source_segment gives it (which splits the whole
    text again on each call: most of this module's time). `lines`: the UTF-8 text split as the
    parser counts lines (bytes.splitlines: at \\n, \\r\\n and \\r only); columns are byte offsets."""
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        return lines[first][node.col_offset:node.end_col_offset].decode()
    return b"".join([lines[first][node.col_offset:], *lines[first + 1:last],
                     lines[last][:node.end_col_offset]]).decode()


def equality_check(statement: ast.stmt, lines: list[bytes], offset: int) -> Check | None:
    if not (isinstance(statement, ast.Assert) and isinstance(statement.test, ast.Compare)
            and len(statement.test.ops) == 1 and isinstance(statement.test.ops[0], ast.Eq)):
        return None
    left, right = statement.test.left, statement.test.comparators[0]
    for computed, literal in ((left, right), (right, left)):
        try:
            expected = ast.literal_eval(literal)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        # a parenthesised expression may span lines: evaluate it as one
        return Check(line=statement.lineno + offset,
                     expression="(" + source_segment(lines, computed) + ")",
                     expected=expected, statement=source_segment(lines, statement))
    return None


TAGS = {"int": int, "float": float, "str": str}
CONTAINERS = {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}


def decode(data, depth: int = 0):
    """Rebuild a value from program_steps.encode_value's tagged JSON; ValueError for anything
    else (a program may write any JSON in its report)."""
    if depth > 101:
        raise ValueError("nested too deeply")
    if data is None or data is True or data is False:
        return data
    if not (isinstance(data, list) and len(data) in (2, 3) and isinstance(data[0], str)):
        raise ValueError(f"not a tagged value: {str(data)[:80]}")
    tag, body = data[0], data[1]
    if tag in TAGS and isinstance(body, str) and len(data) == 2:
        return TAGS[tag](body)
    if tag == "complex" and len(data) == 3:
        return complex(float(body), float(data[2]))
    if tag in ("bytes", "bytearray") and isinstance(body, str):
        return (bytes if tag == "bytes" else bytearray).fromhex(body)
    if tag == "ndarray" and len(data) == 3 and isinstance(data[2], str):
        import numpy   # only a program that returned an array needs it here
        dtype = numpy.dtype(data[2])
        if dtype.kind not in "?bBiufcU":
            raise ValueError(f"array of {dtype}")
        return numpy.array(decode(body, depth + 1), dtype=dtype)
    if isinstance(body, list) and tag == "dict":
        if not all(isinstance(pair, list) and len(pair) == 2 for pair in body):
            raise ValueError("a dict item is not a key-value pair")
        return {decode(k, depth + 1): decode(v, depth + 1) for k, v in body}
    if isinstance(body, list) and tag in CONTAINERS:
        return CONTAINERS[tag](decode(item, depth + 1) for item in body)
    raise ValueError(f"unknown tag {tag!r}")


def judge_values(checks: list[Check], events: list[dict]) -> list[dict]:
    """Test steps from the reported values, in order, up to the first that fails (as the
    script would stop there). A check reported twice or out of order fails."""
    values = [e for e in events if e.get("event") in ("value", "step")]
    tests = []
    for index, check in enumerate(checks):
        if index >= len(values):
            break
        event = values[index]
        if event.get("name") != check.name:
            tests.append({"name": check.name, "outcome": "error",
                          "message": f"the program reported {event.get('name')!r} for {check.name}"})
            break
        if event["event"] == "step":   # the expression raised; never a pass, whatever it says
            tests.append({**{k: v for k, v in event.items() if k not in ("event", "exception")},
                          "outcome": "error"})
            break
        try:
            value = decode(event.get("value"))
        except (ValueError, TypeError, OverflowError) as exc:
            tests.append({"name": check.name, "outcome": "error", "message": f"unreadable value: {exc}"})
            break
        if equal(value, check.expected):
            tests.append({"name": check.name, "outcome": "passed"})
            continue
        shown = repr(value)
        shown = shown if len(shown) <= 300 else shown[:150] + "..." + shown[-150:]
        tests.append({"name": check.name, "outcome": "failed", "real_output": shown,
                      "message": f"AssertionError: {check.statement}\n  the computed side was {shown}"})
        break
    return tests


def equal(value, expected) -> bool:
    """`value == expected` as the assert would take it (an array compares element-wise, and
    only a one-element result is true or false)."""
    try:
        return bool(value == expected)
    except (RecursionError, TypeError, ValueError, DeprecationWarning):
        return False

