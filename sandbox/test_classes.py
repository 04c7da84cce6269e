"""Whether a unittest class is the test code's, inside the program's process (standard library
only).

Loaded by the worker from source as `codeeval_test_classes`, before `codeeval_unittest`, which
checks each test class with these before it runs (and `written_by_tests` again after), and each
test instance when it starts and after each part (`shadowed`). The tests run in the solution's
namespace, and code the solution runs can reach the test class and its instances: a no-op
`run` or `_callTestMethod`, a test method swapped for the solution's, a `setUpModule` of the
solution's would each pass a failing class. While a class runs, the audit hook also checks it
at every assertion, part and outcome (program_guard.py: `codeeval.test_class`).
"""

import sys
import types
import unittest

import codeeval_method_origin as origin
from codeeval_method_origin import LIBRARY_DIRS

# Names a test class may take from unittest; one that defines them outside the test code
# (a no-op `run`, a test method swapped for the solution's) was not written by the benchmark.
TEST_HOOKS = frozenset(name for name in dir(unittest.TestCase) if not name.startswith("__")) | {
    "__call__", "__init__"}


# What of a running test class the audit hook watches while it runs (guard_checks.watch_class),
# besides its test methods and bases: the hooks unittest calls (a no-op `_callTestMethod` or
# `assertEqual` set on the class for one test and removed after it) and the dunders that decide
# how its attributes are found.
WATCHED_NAMES = tuple(sorted(name for name in TEST_HOOKS
                             if callable(getattr(unittest.TestCase, name)))) + (
    "__getattribute__", "__getattr__", "__setattr__", "__init__", "__new__", "__call__",
    "__class__", "__init_subclass__")
# A C function as a dunder of a library's TestCase (doctest's `__str__ = object.__str__`), and
# the descriptors of a class's `__dict__`, `__weakref__` and slots
C_FUNCTION_IDS = origin.SLOT_TYPE_IDS | {id(origin.BUILTIN_FUNCTION)}
GETSET, MEMBER = types.GetSetDescriptorType, types.MemberDescriptorType
MODULES = sys.modules   # the program can set sys.modules to a mapping of its own


def unittest_classes():
    return frozenset(id(value) for name, module in list(sys.modules.items())
                     if name == "unittest" or name.startswith("unittest.")
                     for value in vars(module).values() if isinstance(value, type))


def from_test_lines(code, path, first_line):
    return code.co_filename == path and code.co_firstlineno >= first_line


def written_by_tests(cls, path, first_line):
    """None when every class in `cls`'s MRO is unittest's or was defined by the test code
    (its test methods and unittest hooks compiled from the test lines) or by an installed
    library; else what is not."""
    for klass in cls.__mro__:
        if klass is object or id(klass) in UNITTEST_CLASSES:   # identity: __module__ is writable
            continue
        if type(klass) is not type:
            return f"{klass.__qualname__} has a metaclass"
        if any(type(name) is not str for name in vars(klass)):   # (a str subclass's __eq__
            return f"{klass.__qualname__} has a name that is not a str"   # runs in lookups)
        for name, value in vars(klass).items():
            # dunders too: a `__getattribute__` added while the tests run turns asserts off
            if name.startswith("test") or name in TEST_HOOKS or name.startswith("__"):
                wrong = foreign(klass, name, value, path, first_line)
                if wrong:
                    return f"{klass.__qualname__}.{name} {wrong}"
    return None


def foreign(klass, name, value, path, first_line):
    """What is wrong with `value`, the `name` of `klass` (a class of the test's MRO), or None.
    unittest calls these, so each must be a function of the test code, a decorator's wrapper
    around one (mock.patch's), or a function an installed library defined in a class of that
    name (pyfakefs's TestCase, doctest's DocTestCase): not another library's no-op put there
    (`logging.Handler.flush` as `_callTestMethod`), nor any other object that unittest could
    call or that answers an attribute lookup (a descriptor naming a test function in
    `__func__` while its `__get__` returns a no-op)."""
    kind = type(value)
    if kind is staticmethod or kind is classmethod:
        value = value.__func__
        kind = type(value)
    if kind is types.FunctionType:
        code = value.__code__
        if from_test_lines(code, path, first_line):
            return None
        if not code.co_filename.startswith(LIBRARY_DIRS):
            return "was not written by the test code"
        if code.co_qualname == f"{klass.__qualname__}.{name}" or \
                wrapped_test_code(value, path, first_line) is not None:
            return None
        return f"is another function ({code.co_qualname})"
    if kind is GETSET or kind is MEMBER or (name.startswith("__") and id(kind) in C_FUNCTION_IDS):
        return None
    if callable(value) or any("__get__" in origin.CLASS_DICT(k) for k in origin.CLASS_MRO(kind)):
        return "is not a function of the test code"
    return None


def wrapped_test_code(function, path, first_line):
    """The function of the test code that `function`, a decorator's wrapper, wraps: it holds
    that function in its closure and names it as `__wrapped__` (functools.wraps); or None."""
    for _ in range(8):
        inner = vars(function).get("__wrapped__")
        try:
            held = any(cell.cell_contents is inner for cell in function.__closure__ or ())
        except ValueError:   # an empty cell
            return None
        if type(inner) is not types.FunctionType or not held:
            return None
        if from_test_lines(inner.__code__, path, first_line):
            return inner
        function = inner
    return None


def undeclared(cls, declared, path, first_line):
    """Which test method the test code defines (`declared`, read from its source before the
    program ran) the class does not run as written, or None: one deleted, or another test's
    function under its name. Code the solution runs while the class is made (a hooked
    `__init_subclass__` or `__build_class__`) can edit it before any check here."""
    for name in sorted(declared):
        value = next((vars(klass)[name] for klass in cls.__mro__ if name in vars(klass)), None)
        if type(value) is staticmethod or type(value) is classmethod:
            value = value.__func__
        if type(value) is types.FunctionType and not from_test_lines(value.__code__, path,
                                                                      first_line):
            value = wrapped_test_code(value, path, first_line)
        if type(value) is not types.FunctionType or value.__code__.co_name != name:
            return f"{cls.__qualname__}.{name} is not the test code's {name}"
    return None


def test_count(cls):
    """How many tests unittest's loader finds in `cls` (its getTestCaseNames, counted here:
    the loader sorts with functools, whose functions the program can replace)."""
    names = [name for name in dir(cls)
             if name.startswith("test") and callable(getattr(cls, name, None))]
    return len(names) or int(hasattr(cls, "runTest"))


def shadowed(test):
    """What of a test instance was changed, or None: unittest takes the test method, setUp,
    `_callTestMethod` and the rest from the instance, so an instance attribute hiding a
    function of its class (set from a `setUpModule` or a `setUp` that runs the solution) or a
    method name that is no test's would run the program's code in their place."""
    attributes = vars(test)
    name = attributes.get("_testMethodName")
    if type(name) is not str or not name.startswith(("test", "runTest")):
        return f"the test's method name was changed to {name!r}"
    for key in list(attributes):
        if type(key) is not str:
            return "an attribute name that is not a string"
        for klass in type(test).__mro__:
            value = vars(klass).get(key)
            if value is not None:
                if isinstance(value, (types.FunctionType, classmethod, staticmethod)):
                    return f"{key} was set on the test instance"
                break
    return None


def module_fixtures(cls, path, first_line):
    """None when the module unittest takes `setUpModule` and `tearDownModule` from (the
    class's `__module__`, the solution's namespace) has none but the test code's; else what
    is wrong. unittest calls a solution's `setUpModule` before the first test."""
    name = vars(cls).get("__module__")
    module = MODULES.get(name) if type(name) is str else None   # the real sys.modules
    if not isinstance(module, types.ModuleType):
        return f"no module {cls.__module__!r} for the test class"
    namespace = vars(module)
    if "__getattr__" in namespace:   # it could answer unittest's getattr with anything
        return "the module has a __getattr__"
    for hook in ("setUpModule", "tearDownModule"):
        code = getattr(namespace.get(hook), "__code__", None)
        if hook in namespace and not (code is not None and from_test_lines(code, path, first_line)):
            return f"{hook} was not written by the test code"
    return None



UNITTEST_CLASSES = unittest_classes()   # at load, before any program: the real ones
