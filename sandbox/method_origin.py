"""Whose code a type's methods are: the program's, or an installed library's or C's (standard
library only).

Loaded by the worker from source as `codeeval_method_origin`, first of the harness modules.
A comparison runs its operands' methods; `from_outside_libraries` tells whether the program
could have written or steered the ones a comparison runs: anything but a C type's own slot or
an installed library's own function (`library_method`), found where the library defined it
(`defined_there`). `codeeval_liars` walks the operands of each comparison with it.

Everything here reads classes through type's own descriptors and tells types apart by
identity: `type(x) in (...)` compares with ==, which runs the `__eq__` of a metaclass the
program wrote.
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
