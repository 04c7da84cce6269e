"""Operands that may not judge a comparison themselves (standard library only).

Loaded by the worker from source as `codeeval_liars`, first of the harness modules. The
classic forgery is an object equal to every expected value; its kin are a container that holds
anything, an operand whose `__sub__` makes every difference 0, one whose `__ne__` says no. A
test's comparison runs the operands' own methods, so the harness refuses an operand whose
method the program could have written or steered (`from_outside_libraries`) when the other
operand's could not have been (a plain value, a numpy scalar, a library's object), and an
operand that says it equals a fresh probe, or both a plain value and a different one.
`codeeval_comparisons` judges every comparison with these checks.

Everything here reads objects through type's own descriptors and tells types apart by identity:
`type(x) in (...)` compares with ==, which runs the `__eq__` of a metaclass the program wrote
(and can swap a class's `__eq__` between the check and the comparison).
"""

import builtins
import os
import sys
import types

# Where installed code lives (the standard library included); a program cannot write there,
# and compiling code under these names is tampering unless a library does it
# (program_guard's audit hook).
LIBRARY_DIRS = tuple(sorted({os.path.join(p, "") for p in (
    sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.__file__))}))
# The file names of installed code: those, and the standard library's frozen modules (os,
# _collections_abc; the hook refuses `<frozen` names to code outside the import system).
LIBRARY_CODE = ("<frozen ",) + LIBRARY_DIRS

# The methods each kind of comparison runs on its operands.
EQUALITY = ("__eq__", "__ne__")
ORDERING = ("__lt__", "__le__", "__gt__", "__ge__")
CLOSENESS = EQUALITY + ORDERING + ("__sub__", "__rsub__", "__abs__", "__round__")
MEMBERSHIP = ("__contains__", "__iter__", "__getitem__")


class Probe:
    """A fresh object: no honest `__eq__` calls it equal to anything of its own."""

    __slots__ = ()
    __hash__ = object.__hash__


BUILTIN_TYPES = (int, float, complex, str, bytes, bytearray, bool, type(None), list, tuple,
                 dict, set, frozenset)
BUILTIN_IDS = frozenset(map(id, BUILTIN_TYPES))
# each container type with the C function that copies one of its subclasses' items into a
# plain container, reading them as the base type does (not through the subclass's methods)
CONTAINERS = ((list, list.copy), (tuple, tuple.__getitem__), (dict, dict.copy),
              (set, set.copy), (frozenset, frozenset.copy))
CLASS_DICT, CLASS_MRO, CLASS_QUALNAME = (type.__dict__[name].__get__ for name in (
    "__dict__", "__mro__", "__qualname__"))
SLOT_TYPE_IDS = frozenset(map(id, (type(object.__eq__), type(str.join))))   # a C type's own
MODULES, BUILTINS, BUILTIN_FUNCTION = sys.modules, vars(builtins), type(len)


def plain(value):
    return id(type(value)) in BUILTIN_IDS


def as_plain_container(value):
    """`value` itself, or for a subclass of list, tuple, dict, set or frozenset its items in a
    plain one (a list subclass without methods of its own compares its items with theirs)."""
    mro = CLASS_MRO(type(value))
    for base, copy in CONTAINERS:
        if type(value) is not base and any(klass is base for klass in mro):
            return copy(value, slice(None)) if base is tuple else copy(value)
    return value


def holds(container, item):
    try:
        return bool(item in container)
    except Exception:   # a container that cannot hold such an item
        return False


def says_equal(a, b):
    try:
        return bool(a == b)
    except Exception:   # an array's ambiguous truth, an __eq__ that reads other.x: not a lie
        return False


def perturbed(value):
    """A plain value that differs from plain `value` (for numbers, 0 or 1: `2 * x + 1` equals x
    at -1 and infinity, which made honest numpy values look like liars)."""
    kind = type(value)
    if kind is int or kind is float:
        return kind(0 if value else 1)
    if kind is str:
        return value + "\x01"   # not NUL: numpy compares its strings with trailing NULs stripped
    if kind is list or kind is tuple:
        return value + kind((Probe(),))
    if kind is dict:
        return {**value, Probe(): None}
    return Probe()


def from_outside_libraries(value, methods=EQUALITY):
    """Whether any of `methods` that Python calls for `value` is code the program could have
    written or steered: anything but a C type's own slot or an installed library's own method
    (`library_method`). A class dict with a key that is not a str (its __eq__ would run in a
    lookup) counts as the program's."""
    mro = CLASS_MRO(type(value))
    for method in methods:
        for klass in mro:
            attributes = CLASS_DICT(klass)
            if any(type(key) is not str for key in attributes):
                return True
            if method not in attributes:
                continue
            function = attributes[method]
            if id(type(function)) in SLOT_TYPE_IDS:
                if function.__objclass__ is not klass:
                    return True
            elif not library_method(function, klass, method):
                return True
            break
    return False


def library_method(function, klass, method, depth=0):
    """Whether `function`, the `method` of `klass`, runs as an installed library defined it:
    its code compiled from the library, with that module's own globals and the real builtins,
    named `method` (or defined in `klass` under another name: Django's `__contains__ =
    has_header`) with no closure but `klass` itself (`super()`), or a closure the library made
    (pandas' `unpack_zerodim_and_defer`, `_cat_compare_op`) over plain values, C functions and
    such functions only. A library's code run with the program's globals, builtins or closure
    (what functools' partialmethod builds over the program's function) is the program's."""
    if type(function) is not types.FunctionType or depth > 3:
        return False
    code, namespace = function.__code__, function.__globals__
    name = namespace.get("__name__") if type(namespace) is dict else None   # not __module__,
    if code.co_filename.startswith("<frozen "):               # which functools.wraps copies;
        name = code.co_filename[len("<frozen "):-1]   # _collections_abc says collections.abc
    module = MODULES.get(name) if type(name) is str else None
    if not (code.co_filename.startswith(LIBRARY_CODE) and type(module) is types.ModuleType
            and vars(module) is namespace and function.__builtins__ is BUILTINS):
        return False
    try:
        cells = [cell.cell_contents for cell in function.__closure__ or ()]
    except ValueError:   # an empty cell
        return False
    if code.co_name == method or code.co_qualname.startswith(CLASS_QUALNAME(klass) + "."):
        return code.co_freevars in ((), ("__class__",)) and all(c is klass for c in cells)
    return bool(cells) and all(plain(c) or type(c) is BUILTIN_FUNCTION
                               or library_method(c, klass, method, depth + 1) for c in cells)


def lying_operand(first, second, methods=EQUALITY, depth=0, seen=None):
    """The operand (if any) that may not judge a comparison running `methods` with the other:
    one whose methods the program could have written, beside one whose it could not have, or
    (for equality) one that says it equals a fresh probe, or both a plain value and a
    different one. Containers (subclasses read as their base) are compared item by item, a
    dict's keys as operands too, a set's items against the other side's. A pair whose methods
    are both the program's (its own objects compared with each other) is noted in `seen`: the
    program's code judges that comparison, and no one else could."""
    if depth > 20:
        return None
    for value, other in ((first, second), (second, first)):
        if plain(value):
            continue
        if from_outside_libraries(value, methods):
            if not from_outside_libraries(other, methods):
                return value
            if seen is not None:
                seen.append(value)
        if methods is not ORDERING and (
                says_equal(value, Probe()) or plain(other) and says_equal(value, other)
                and says_equal(value, perturbed(other))):
            return value
    first, second = as_plain_container(first), as_plain_container(second)
    kinds = type(first), type(second)
    if (kinds[0] is list or kinds[0] is tuple) and (kinds[1] is list or kinds[1] is tuple):
        pairs = zip(first[:10000], second[:10000])
    elif kinds[0] is dict and kinds[1] is dict:
        keys = [key for mapping in (first, second) for key in list(mapping)[:10000]]
        for key in keys:   # a key that may not judge its own equality: no lookup runs it
            if not plain(key) and from_outside_libraries(key, EQUALITY + ("__hash__",)):
                return key
        pairs = ((first[k], second[k]) for k in list(first)[:10000] if k in second)
    elif (kinds[0] is set or kinds[0] is frozenset) and (kinds[1] is set or kinds[1] is frozenset):
        items = list(second)[:100]
        pairs = ((a, b) for a in list(first)[:100] for b in items)
    else:
        pairs = ()
    for a, b in pairs:
        liar = lying_operand(a, b, methods, depth + 1, seen)
        if liar is not None:
            return liar
    return None


def lying_elements(first, second, seen=None):
    """For an order-insensitive comparison (`assertCountEqual`, lists): each element of either
    side that is not plain, against the other side's first element (which of the other's it
    meets is up to the comparison)."""
    for side, other in ((first, second), (second, first)):
        for value in side[:10000] if other else ():
            liar = None if plain(value) else lying_operand(value, other[0], seen=seen)
            if liar is not None:
                return liar
    return None


def lying_member(member, container, seen=None):
    """For `assertIn` and `in`: a container of the program's (its `__contains__`, `__iter__` or
    `__getitem__` is the program's) that says it holds a fresh probe, or the member against
    each item of a plain container (subclasses read as their base)."""
    container = as_plain_container(container)
    if not any(type(container) is base for base, _ in CONTAINERS):
        if not from_outside_libraries(container, MEMBERSHIP):
            return None
        # the program's own container (a ClassEval class under test) answers for itself,
        # unless it holds a fresh probe: then it holds anything
        if holds(container, Probe()):
            return container
        if seen is not None:
            seen.append(container)
        return None
    for item in list(container)[:10000]:
        liar = lying_operand(member, item, EQUALITY, 1, seen)
        if liar is not None:
            return liar
    return None
