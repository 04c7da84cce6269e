"""What the in-process defences cost per assertion: one unittest class run in the process sandbox
(one slot, best of `--repeats` runs), once with N assertions of each kind and once with none.

The kinds: `assertEqual` on ints, `assertEqual` on one-item lists, and `assertTrue(x == y)` (a
comparison the test code writes, compiled as a judged one). Each assertion is checked by the
audit hook (the harness's and unittest's functions, the running test class) and its operands by
the liar checks; a list's comparison also runs guarded. The difference between the two runs,
divided by the number of assertions, is the cost of one.

    python benchmarks/assertion_cost.py [--assertions 2000] [--repeats 5]

To compare two revisions, run it in each (the process sandbox needs root for its uid isolation;
as an ordinary user it runs unisolated, with a warning, and the cost is the same).
"""

from __future__ import annotations

import argparse
import time
import warnings

from codeeval.records import Program
from codeeval.sandbox.process import ProcessSandbox

SOLUTION = "def inc(x):\n    return x + 1\n"
TESTS = """import unittest
class T(unittest.TestCase):
    def test_scalars(self):
        for i in range({n}):
            self.assertEqual(inc(i), i + 1)
    def test_lists(self):
        for i in range({n}):
            self.assertEqual([inc(i)], [i + 1])
    def test_true(self):
        for i in range({n}):
            self.assertTrue([inc(i)] == [i + 1])
"""


def program(n: int) -> Program:
    return Program(key=f"n{n}", source=SOLUTION + TESTS.format(n=n), test_first_line=3,
                   expected_steps=1, framework="unittest", test_classes=("T",), timeout_s=300,
                   memory_mb=1024)


def best_of(box, prog: Program, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        [execution] = box.run([prog])
        times.append(time.perf_counter() - start)
        if execution.status != "passed":
            raise SystemExit(f"{prog.key} did not pass: {execution.message}")
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assertions", type=int, default=2000, help="of each kind")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # an ordinary user's unisolated process sandbox
        box = ProcessSandbox(parallel=1)
    with box:
        empty = best_of(box, program(0), args.repeats)
        full = best_of(box, program(args.assertions), args.repeats)
    total = 3 * args.assertions
    print(f"no assertions: {empty:.3f} s; {total} assertions: {full:.3f} s; "
          f"{(full - empty) / total * 1e3:.3f} ms per assertion")


if __name__ == "__main__":
    main()
