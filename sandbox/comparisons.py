"""Comparisons judged in the program's process (standard library only).

Loaded by the worker from source as `codeeval_comparisons`, after `codeeval_liars`. unittest's
assertions (codeeval_unittest.judged) ask here before they compare, and so does every
comparison the test code itself writes (`x == y` in `assertTrue(x == y)`, an `assert` in a test
function, `0 <= x <= 1`): codeeval_steps compiles the tests with each one a call of
`judged_comparison` or `judged_chain`. An operand that may not judge the comparison itself
(`codeeval_liars`) fails it; otherwise, unless the program's own objects stand on both sides,
the comparison runs `guarded`: with no function of the program's.
"""

import gc
import sys

from codeeval_liars import all_plain, lying_member, lying_operand
from codeeval_method_origin import (CLASS_DICT, CLASS_MRO, EQUALITY, LIBRARY_CODE, ORDERING,
                                    from_outside_libraries, library_method)

def judged_isinstance(value, kinds, isinstance=isinstance, issubclass=issubclass, type=type):
    """`isinstance(value, kinds)` as the test code wrote it, failing an object whose type is
    not one of `kinds` but which claims one through a `__class__` of the program's (a class
    attribute `__class__ = str`, or a `__getattribute__` that is a C callable, passes
    isinstance with no code run). unittest.mock's spec is a library's claim, and tests rely on
    it (BigCodeBench 563 asks isinstance of an autospec mock's attribute)."""
    verdict = isinstance(value, kinds)
    if verdict and not issubclass(type(value), kinds) and not claimed_by_library(value):
        raise AssertionError(f"a {type(value).__qualname__} claims a class it is not an "
                             "instance of (its __class__)")
    return verdict


def claimed_by_library(value):
    """Whether the `__class__` that isinstance falls back to is a library's property, found
    through no `__getattribute__` of the program's."""
    if from_outside_libraries(value, ("__getattribute__",)):
        return False
    for klass in CLASS_MRO(type(value)):
        attributes = CLASS_DICT(klass)
        if "__class__" in attributes:
            entry = attributes["__class__"]
            return type(entry) is property and library_method(entry.fget, klass, "__class__")
    return False


def refusal(liar):
    return (f"a {type(liar).__qualname__} may not judge this comparison itself (the program "
            "wrote its __eq__, __ne__, ordering, arithmetic or membership test, or it says yes "
            "to anything)")


class ProgramCodeInComparison(Exception):
    """Raised by `refuse_program_code` at the call of the program's function."""


# Where code a comparison may run without the program judging it lives: installed libraries
# and the harness. The audit hook refuses code compiled under these names by anyone else.
TRUSTED_CODE = LIBRARY_CODE + ("<codeeval",)


def refuse_program_code(frame, event, arg, starts=str.startswith, trusted=TRUSTED_CODE,
                        audit=sys.audit, refused=ProgramCodeInComparison):
    """The profile function of a guarded comparison: the program's (or the test code's)
    function is stopped at its first line. Code compiled from text ("<string>") is let through
    when a library made it (namedtuple's `__new__`): the audit hook keeps that list. Its
    helpers are defaults, bound at load: a program can rebind a module's names, not a
    function's defaults (the audit hook refuses that)."""
    if event != "call":
        return
    code = frame.f_code
    if starts(code.co_filename, trusted):
        return
    if starts(code.co_filename, "<"):
        answer = []
        audit("codeeval.library_code", code, answer)
        if answer == [True]:
            return
    raise refused(f"{code.co_qualname} ran inside the comparison")


def guarded(compare, args, kwargs, recheck=True, setprofile=sys.setprofile,
            getprofile=sys.getprofile, profile=refuse_program_code,
            refused=ProgramCodeInComparison, gc=gc, audit=sys.audit):
    """`compare(*args, **kwargs)` run with no function of the program's: one whose operands'
    own methods are C slots or a library's may still run the program's code, through a library
    method that defers to the program's state (a `UserList` whose `data` lies, a `Fraction`
    whose numerator does) or through a method the program put on a class after it was checked
    (from a gc callback, a signal handler, a thread). CPython drops a profile function that
    raises, so a library that swallows the exception leaves the profile gone, and that too is
    a refusal. Nested (assertEqual runs assertListEqual, itself judged), the outer one guards.
    The garbage collector is off meanwhile: a collection would run the finalizers of the
    program's garbage (and its gc callbacks) in the comparison."""
    if getprofile() is profile:
        return compare(*args, **kwargs)
    # the first check of operands that are not all builtin values (`recheck`) may have run
    # the program's code (a library method that defers to it), which may have changed the
    # harness: checked again
    if recheck:
        audit("codeeval.judge")
    collecting = gc.isenabled()
    gc.disable()
    setprofile(profile)
    try:
        result = compare(*args, **kwargs)
        kept = getprofile() is profile
    except refused as exc:
        raise AssertionError(f"the program's code judged this comparison: {exc}") from None
    finally:
        setprofile(None)
        if collecting:
            gc.enable()
    if not kept:
        raise AssertionError("the program's code judged this comparison (its call was stopped)")
    return result


SCALARS = frozenset(map(id, (int, float, str, bool, type(None))))


def as_python(op, left, right):
    """`left op right` as Python runs it, `op` an AST operator's name (branches, not a table:
    a module's dict can be changed by the program, and only its names are checked)."""
    if op == "Eq":
        return left == right
    if op == "NotEq":
        return left != right
    if op == "Lt":
        return left < right
    if op == "LtE":
        return left <= right
    if op == "Gt":
        return left > right
    if op == "GtE":
        return left >= right
    if op == "In":
        return left in right
    if op == "NotIn":
        return left not in right
    if op == "Is":
        return left is right
    if op == "IsNot":
        return left is not right
    raise ValueError(f"no comparison {op!r}")


def refuse_liar(op, left, right, seen=None):
    liar = (lying_member(left, right, seen) if op == "In" or op == "NotIn" else
            lying_operand(left, right, EQUALITY if op == "Eq" or op == "NotEq" else ORDERING,
                          seen=seen))
    if liar is not None:
        raise AssertionError(refusal(liar))


def checked_comparison(op, left, right):
    refuse_liar(op, left, right)
    return as_python(op, left, right)


def judged_comparison(op, left, right, audit=sys.audit, id=id, type=type, scalars=SCALARS,
                      as_python=as_python, refuse=refuse_liar, checked=checked_comparison,
                      guard=guarded, plain_values=all_plain, gc=gc):
    """`left op right` as the test code wrote it (`op` an AST operator's name), after refusing
    an operand that may not judge it (AssertionError: the test fails as if it were false).
    The harness's modules are checked first (`audit`): a program can switch a function of
    theirs off between two reports and back inside the comparison. What it calls is bound at
    load (the solution's code runs just before, and can rebind this module's names), and the
    garbage collector stays off from the check on (a gc callback of the program's would run
    between the check and the comparison). Unless the program's own objects are what it
    compares, the operands are then checked again and compared with no function of the
    program's (`guarded`): what runs the program's code there (a library method deferring to
    program state) was not seen by the first check."""
    if id(type(left)) in scalars and id(type(right)) in scalars or op == "Is" or op == "IsNot":
        return as_python(op, left, right)   # exact builtin scalars, identity: no method runs
    collecting = gc.isenabled()
    gc.disable()
    try:
        audit("codeeval.judge")
        seen = []
        refuse(op, left, right, seen)
        if seen:
            return as_python(op, left, right)
        return guard(checked, (op, left, right), {}, not plain_values((left, right)))
    finally:
        if collecting:
            gc.enable()


def judged_chain(ops, lazy, first, *later, judge=judged_comparison):
    """`first op1 second op2 third ...`, each pair judged. `later`: the operands after the
    first, each a function that evaluates it when `lazy` (so a false pair stops the chain, as
    in Python), else its value (a class body: no function there sees the class's names)."""
    left = outcome = first
    for op, operand in zip(ops, later):
        right = operand() if lazy else operand
        outcome = judge(op, left, right)
        if not outcome:
            return outcome
        left = right
    return outcome
