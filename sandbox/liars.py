"""Operands that may not judge a comparison themselves (standard library only).

Loaded by the worker from source as `codeeval_liars`, after `codeeval_method_origin`. The
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

import operator
import types
import weakref

from codeeval_method_origin import (BUILTIN_IDS, CLASS_DICT, CLASS_MRO, CONTAINERS, EQUALITY,
                                    MEMBERSHIP, MODULES, ORDERING, as_plain_container,
                                    from_outside_libraries, plain)


class Probe:
    """A fresh object: no honest `__eq__` calls it equal to anything of its own."""

    __slots__ = ()
    __hash__ = object.__hash__


GETSET, MEMBER = types.GetSetDescriptorType, types.MemberDescriptorType
DEQUE = type(__import__("collections").deque())
# C types that compare what they wrap, which cannot be read without running it: a weakref
# proxy's referent, a mappingproxy's mapping (either may be an object of the program's whose
# comparison is a C callable no profile function sees)
OPAQUE_IDS = frozenset(map(id, (weakref.ProxyType, weakref.CallableProxyType,
                                types.MappingProxyType)))
LT, LE, GT, GE = operator.lt, operator.le, operator.gt, operator.ge
# How far the walk goes item by item (pairs compared with each other); past that, what is left
# on each side is read for its types only (`outside_value`), up to SCAN_LIMIT objects.
ITEMS, SET_ITEMS, DEPTH, SCAN_LIMIT = 10000, 100, 20, 1_000_000


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
        if methods is ORDERING and claims_order(value, other):
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
    a library's object hands its comparison to something of the program's (`held`), or to
    something no one can read (OPAQUE_IDS)."""
    return from_outside_libraries(value, methods) or id(type(value)) in OPAQUE_IDS or (
        not plain(value) and outside_value(held(value, methods), methods) is not None)


def says(op, a, b):
    try:
        return bool(op(a, b))
    except Exception:   # no order between them: not a lie
        return False


def claims_order(value, other):
    """Whether `value` claims an order with a fresh probe (which has none), or claims both
    `value < other` and `value >= other` (or `>` and `<=`) with the plain `other`."""
    probe = Probe()
    return (any(says(op, value, probe) for op in (LT, LE, GT, GE)) or plain(other) and (
        says(LT, value, other) and says(GE, value, other)
        or says(GT, value, other) and says(LE, value, other)))


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
    """The values of `value`'s instance dict (a dict subclass read as a dict) and slots, read
    through type's own descriptors, and its classes' data (a subclass's `data = ...` class
    attribute stands in for a UserList's own): not functions, descriptors, classes, modules."""
    found = []
    for klass in CLASS_MRO(type(value)):
        if id(klass) in BUILTIN_IDS or klass is object:
            continue
        for name, entry in list(CLASS_DICT(klass).items()):
            if type(name) is not str:
                continue
            if type(entry) is MEMBER:
                try:
                    found.append(entry.__get__(value))
                except AttributeError:   # an empty slot
                    pass
            elif name == "__dict__" and type(entry) is GETSET:
                own = entry.__get__(value)
                if any(k is dict for k in CLASS_MRO(type(own))):
                    found.extend(dict.copy(own).values())
            else:   # the class's data; its functions and descriptors go below
                found.append(entry)
    return [v for v in found if not unread(v)]


def unread(value):
    """Whether `value` is a function, descriptor, class or module: what comparisons call or
    look up through, not data they compare (and a module would open every global)."""
    kind = type(value)
    return kind is types.ModuleType or any(k is type or "__get__" in CLASS_DICT(k)
                                           for k in CLASS_MRO(kind))


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


def all_plain(values):
    """Whether `values` and all they hold are builtin values (numbers, strings, and lists,
    tuples, dicts and sets of them, not subclasses): checking such operands runs no code of
    anyone's, so nothing can have changed since the check before it (`guarded`)."""
    stack, count = list(values), 0
    while stack:
        value = stack.pop()
        count += 1
        kind = type(value)
        if count > SCAN_LIMIT or id(kind) not in BUILTIN_IDS:
            return False
        if kind is dict:
            stack.extend(value)
            stack.extend(value.values())
        elif kind is list or kind is tuple or kind is set or kind is frozenset:
            stack.extend(value)
    return True


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
            if id(type(container)) in OPAQUE_IDS or holds(container, Probe()):
                return container   # unreadable, or holds anything
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
