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
GETSET, MEMBER = types.GetSetDescriptorType, types.MemberDescriptorType
DEQUE = type(__import__("collections").deque())
# How far the walk goes item by item (pairs compared with each other); past that, what is left
# on each side is read for its types only (`outside_value`), up to SCAN_LIMIT objects.
ITEMS, SET_ITEMS, DEPTH, SCAN_LIMIT = 10000, 100, 20, 1_000_000


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
    """Plain values that differ from plain `value`. For numbers: 0 or 1 (`2 * x + 1` equals x
    at -1 and infinity, which made honest numpy values look like liars) and the neighbours (an
    operand whose `__eq__` is another comparison, `int.__lt__`, says yes to a range)."""
    kind = type(value)
    if kind is int or kind is float:
        return tuple(p for p in (kind(0 if value else 1), value + 1, value - 1) if p != value)
    if kind is str:
        return (value + "\x01",)   # not NUL: numpy compares strings with trailing NULs stripped
    if kind is list or kind is tuple:
        return (value + kind((Probe(),)),)
    if kind is dict:
        return ({**value, Probe(): None},)
    return (Probe(),)


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
        return code.co_freevars in ((), ("__class__",)) and all(c is klass for c in cells) \
            and defined_there(function, namespace)
    return bool(cells) and all(plain(c) or type(c) is BUILTIN_FUNCTION
                               or library_method(c, klass, method, depth + 1) for c in cells)


def defined_there(function, namespace):
    """Whether the module `namespace` holds `function` where its qualified name says
    (`Class.method`, or a wrapper of it there: pandas' decorators): a library's code given
    globals that name other classes (a module the program made), or borrowed by a class it
    was not defined in, is not. Names with `<locals>` are taken as they are."""
    names = function.__code__.co_qualname.split(".")
    if "<locals>" in names:
        return True
    found = namespace.get(names[0])
    for name in names[1:]:
        try:
            found = CLASS_DICT(found).get(name)
        except TypeError:   # not a class
            return False
    if type(found) is staticmethod or type(found) is classmethod:
        found = found.__func__
    elif type(found) is property:
        return any(f is function for f in (found.fget, found.fset, found.fdel))
    for _ in range(4):
        if found is function:
            return True
        found = vars(found).get("__wrapped__") if type(found) is types.FunctionType else None
    return False


def lying_operand(first, second, methods=EQUALITY, depth=0, seen=None):
    """The operand (if any) that may not judge a comparison running `methods` with the other:
    one whose methods the program could have written or steered (`steered`), beside one whose
    it could not have, or (for equality) one that says it equals a fresh probe, or both a plain
    value and a different one. Containers (subclasses read as their base) are compared item by
    item, a dict's keys as operands too, a set's items against the other side's, as far as
    ITEMS, SET_ITEMS and DEPTH go; what is left is read for its types. A pair whose methods
    are both the program's (its own objects compared with each other) is noted in `seen`: the
    program's code judges that comparison, and no one else could."""
    if depth > DEPTH:
        return outside_either((first,), (second,), methods, seen)
    for value, other in ((first, second), (second, first)):
        if plain(value):
            continue
        if steered(value, methods):
            if not steered(other, methods):
                return value
            if seen is not None:
                seen.append(value)
        if methods is not ORDERING and (
                says_equal(value, Probe()) or plain(other) and says_equal(value, other)
                and any(says_equal(value, p) for p in perturbed(other))):
            return value
    first, second = as_plain_container(first), as_plain_container(second)
    kinds = type(first), type(second)
    rest = ()
    if (kinds[0] is list or kinds[0] is tuple) and (kinds[1] is list or kinds[1] is tuple):
        pairs = zip(first[:ITEMS], second[:ITEMS])
        if len(first) > ITEMS or len(second) > ITEMS:
            rest = first[ITEMS:], second[ITEMS:]
    elif kinds[0] is dict and kinds[1] is dict:
        keys = [key for mapping in (first, second) for key in list(mapping)[:ITEMS]]
        for key in keys:   # a key that may not judge its own equality: no lookup runs it
            if not plain(key) and from_outside_libraries(key, EQUALITY + ("__hash__",)):
                return key
        pairs = ((first[k], second[k]) for k in list(first)[:ITEMS] if k in second)
        if len(first) > ITEMS or len(second) > ITEMS:   # (a new dict would hash the keys)
            rest = (first,), (second,)
    elif (kinds[0] is set or kinds[0] is frozenset) and (kinds[1] is set or kinds[1] is frozenset):
        items = list(second)[:SET_ITEMS]
        pairs = ((a, b) for a in list(first)[:SET_ITEMS] for b in items)
        if len(first) > SET_ITEMS or len(second) > SET_ITEMS:
            rest = (first,), (second,)
    else:
        pairs = ()
    for a, b in pairs:
        liar = lying_operand(a, b, methods, depth + 1, seen)
        if liar is not None:
            return liar
    return outside_either(*rest, methods, seen) if rest else None


def steered(value, methods):
    """Whether the program wrote `value`'s comparison `methods` (`from_outside_libraries`), or
    a library's object hands its comparison to something of the program's (`held`)."""
    return from_outside_libraries(value, methods) or (
        not plain(value) and outside_value(held(value, methods), methods) is not None)


def held(value, methods):
    """What a library's object may hand a comparison to: a container subclass's items, a
    deque's, an object array's, and, when its comparison `methods` are Python code (which
    reads attributes: a UserList's `data`, a Fraction's numerator), its attribute values."""
    items = as_plain_container(value)
    if items is not value:
        return [items]
    if type(value) is DEQUE:
        return list(value)
    objects = object_array_items(value)
    if objects is not None:
        return objects
    compared_in_python = False
    for method in methods:
        for klass in CLASS_MRO(type(value)):
            attributes = CLASS_DICT(klass)
            if method in attributes:
                compared_in_python |= type(attributes[method]) is types.FunctionType
                break
    return attribute_values(value) if compared_in_python else []


def attribute_values(value):
    """The values of `value`'s instance dict and slots, read through type's own descriptors."""
    found = []
    for klass in CLASS_MRO(type(value)):
        for name, entry in list(CLASS_DICT(klass).items()):
            if type(entry) is MEMBER:
                try:
                    found.append(entry.__get__(value))
                except AttributeError:   # an empty slot
                    pass
            elif name == "__dict__" and type(entry) is GETSET:
                own = entry.__get__(value)
                if type(own) is dict:
                    found.extend(own.values())
    return found


def object_array_items(value):
    """The items of a numpy array of objects (its comparisons compare them in C), or None."""
    numpy = MODULES.get("numpy")
    ndarray = vars(numpy).get("ndarray") if type(numpy) is types.ModuleType else None
    if type(ndarray) is not type or not any(k is ndarray for k in CLASS_MRO(type(value))):
        return None
    descriptors = CLASS_DICT(ndarray)
    if descriptors["dtype"].__get__(value).kind != "O":
        return None
    flat = descriptors["ravel"](value)
    return descriptors["tolist"](flat[:SCAN_LIMIT])


def outside_either(first, second, methods, seen):
    """For what the walk does not compare item by item (past its limits): a value of either
    side (`first`, `second`: iterables) whose comparison methods the program wrote or steered,
    when the other side holds none; when both do, the program judges (noted in `seen`)."""
    found = [outside_value(side, methods) for side in (first, second)]
    if found[0] is not None and found[1] is not None:
        if seen is not None:
            seen.append(found[0])
        return None
    return found[0] if found[0] is not None else found[1]


def outside_value(values, methods):
    """The first object among `values` and what they hold (containers opened, a library
    object's `held`), up to SCAN_LIMIT objects, whose comparison `methods` the program wrote
    (or, for dict keys and set items, their hash); None if there is none."""
    known, stack, count = {}, list(values), 0
    while stack and count < SCAN_LIMIT:
        value = stack.pop()
        count += 1
        kind = type(value)
        if kind is dict or kind is set or kind is frozenset:
            for key in value:
                if not plain(key) and from_outside_libraries(key, EQUALITY + ("__hash__",)):
                    return key
            stack.extend(value.values() if kind is dict else value)
        elif kind is list or kind is tuple:
            stack.extend(value)
        elif id(kind) not in BUILTIN_IDS:
            verdict = known.get(id(kind))   # (the type kept alive with its verdict)
            if verdict is None:
                verdict = known[id(kind)] = (kind, from_outside_libraries(value, methods))
            if verdict[1]:
                return value
            stack.extend(held(value, methods))
    return None


def lying_elements(first, second, seen=None):
    """For an order-insensitive comparison (`assertCountEqual`, lists): each element of either
    side that is not plain, against the other side's first element (which of the other's it
    meets is up to the comparison); past ITEMS, their types."""
    for side, other in ((first, second), (second, first)):
        for value in side[:ITEMS] if other else ():
            liar = None if plain(value) else lying_operand(value, other[0], seen=seen)
            if liar is not None:
                return liar
    if len(first) <= ITEMS and len(second) <= ITEMS:
        return None
    return outside_either(first[ITEMS:], second[ITEMS:], EQUALITY, seen)


def lying_member(member, container, seen=None):
    """For `assertIn` and `in`: a container of the program's (its `__contains__`, `__iter__` or
    `__getitem__` is the program's) that says it holds a fresh probe, a library's container
    holding items of the program's (`held`), or the member against each item of a plain
    container (subclasses read as their base), past ITEMS their types."""
    container = as_plain_container(container)
    if not any(type(container) is base for base, _ in CONTAINERS):
        if not from_outside_libraries(container, MEMBERSHIP):
            return outside_either((member,), held(container, MEMBERSHIP + EQUALITY), EQUALITY,
                                  seen)
        # the program's own container (a ClassEval class under test) answers for itself,
        # unless it holds a fresh probe: then it holds anything
        if holds(container, Probe()):
            return container
        if seen is not None:
            seen.append(container)
        return None
    items = list(container)
    for item in items[:ITEMS]:
        liar = lying_operand(member, item, EQUALITY, 1, seen)
        if liar is not None:
            return liar
    return outside_either((member,), items[ITEMS:], EQUALITY, seen) if len(items) > ITEMS else None
