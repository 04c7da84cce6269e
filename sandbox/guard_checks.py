"""The checks the audit hook runs on what the program can reach (standard library only).

Loaded by the worker from source as `codeeval_guard_checks`, before `codeeval_guard`, whose
hook (sandbox/program_guard.py) calls the functions `make_checks` returns. They run inside the
hook, so no code of the program's may run in them: they touch the program's objects only through
exact types and C functions, and look up no name while they run (every builtin they use is
captured when they are made: the harness's builtins copy is a dict the program can reach).
"""

import itertools
import operator
import os


def make_checks(class_hooks, unittest_class_ids, instance_dict):
    """(text, encodable, intact, watch_class, watch_tests, class_intact, file_holds) for one
    hook. `class_hooks`: the names of a test class that unittest calls, watched while it runs;
    `unittest_class_ids`: the ids of unittest's own classes (not watched: the hook's snapshots
    check them); `instance_dict`: a TestCase instance's `__dict__` (TestCase's own getset)."""
    type_, str_, bytes_, dict_, id_, len_, callable_ = type, str, bytes, dict, id, len, callable
    list_, tuple_, dict_values, object_, os_error = list, tuple, dict.values, object, OSError
    exact_str, str_starts, is_subclass = str.__str__, str.startswith, type.__subclasscheck__
    is_, map_, all_, repeat = operator.is_, map, all, itertools.repeat
    class_dict, class_mro = (type.__dict__[name].__get__ for name in ("__dict__", "__mro__"))
    os_open, os_read, os_close, o_rdonly = os.open, os.read, os.close, os.O_RDONLY
    test_class = ()   # (class, its MRO, its watched mappings) while a test class runs
    tests = {}   # id -> (test, the method name the loader gave it), while a test class runs

    def text(value):   # an exact str, or None; a subclass's methods never run
        kind = type_(value)
        if kind is bytes_:
            return value.decode("utf-8", "replace")
        return exact_str(value) if kind is str_ or is_subclass(str_, kind) else None

    def encodable(value, depth):
        """Whether the JSON encoder can write `value` without calling a method: it calls a
        dict, list or tuple subclass's (`items`, `__iter__`), which would run program code."""
        kind = type_(value)
        if kind is dict_:
            items = dict_values(value)
        elif kind is list_ or kind is tuple_:
            items = value
        else:
            return not (is_subclass(dict_, kind) or is_subclass(list_, kind)
                        or is_subclass(tuple_, kind))
        return depth < 64 and all_(map_(encodable, items, repeat(depth + 1)))

    def str_keys(mapping):   # every key an exact str: a str subclass's __eq__ runs in lookups
        return all_(map_(is_, map_(type_, mapping), repeat(str_)))

    def intact(mappings):
        """Whether each (mapping, keys, values, size) still maps its keys to those objects (and
        has `size` keys, unless -1). C-level loops of identity tests: no object's __eq__ or
        __hash__ runs (keys are checked to be exact str before any lookup), and no audit event
        fires per item."""
        for mapping, keys, values, size in mappings:
            if size >= 0 and len_(mapping) != size:
                return False
            if not str_keys(mapping):
                return False
            if not all_(map_(is_, map_(mapping.get, keys), values)):
                return False
        return True

    def watch_class(cls):
        """From now on `class_intact` compares `cls` (a plain class, which the harness checked
        was the test code's) with what it is now: its MRO, and in each class of it but
        unittest's the functions and hooks unittest calls, its dunders and its test methods
        (not its data: `cls.test_dir = ...` in a setUpClass). None: no class runs. False: a
        class of it has a name that is not an exact str (a str subclass's __eq__ would run
        in the lookups here)."""
        nonlocal test_class
        test_class = ()
        tests.clear()
        if cls is None:
            return True
        mro, entries = class_mro(cls), []
        for klass in mro:
            if klass is not object_ and id_(klass) not in unittest_class_ids:
                names = class_dict(klass)
                if not str_keys(names):
                    return False
                keys = class_hooks + tuple_(k for k in names if str_starts(k, "test")
                                            and callable_(names[k]))
                entries.append((names, keys, tuple_(map_(names.get, keys)), -1))
        test_class = (cls, mro, tuple_(entries))
        return True

    def str_names(test):   # its instance dict, when every name in it is an exact str
        names = instance_dict(test)
        if type_(names) is dict_ and str_keys(names):
            return names
        return None

    def watch_tests(found):
        """The tests the loader made for the running class: from now on `class_intact` requires
        each to keep the method name it was given (code the solution runs could point a later
        test at one that passes, or at a no-op `runTest` set on the instance). False: not a
        tuple of instances of the class, each with an exact str name."""
        if not test_class or type_(found) is not tuple_:
            return False
        for test in found:
            names = str_names(test) if type_(test) is test_class[0] else None
            name = names.get("_testMethodName") if names is not None else None
            if type_(name) is not str_:
                return False
            tests[id_(test)] = (test, name)
        return True

    def class_intact(test):
        """The running test class as it was when its run began, and `test` (a test part's or
        an outcome's instance, or None) one of the tests the loader made for it, with the
        method name it gave it and no instance attribute of that name."""
        if not test_class:
            return True
        cls, mro, entries = test_class
        if not (type_(cls) is type_ and class_mro(cls) is mro and intact(entries)):
            return False
        if test is None:
            return True
        made = tests.get(id_(test))
        names = str_names(test) if made is not None and made[0] is test and \
            type_(test) is cls else None
        return (names is not None and names.get("_testMethodName") is made[1]
                and made[1] not in names)

    def file_holds(name, source):
        """Whether the file `name` holds exactly `source` (bytes, as importlib reads it)."""
        if type_(source) is not bytes_:
            return False
        try:
            fd = os_open(name, o_rdonly)
        except os_error:
            return False
        try:
            found = os_read(fd, len_(source) + 1)
            while len_(found) <= len_(source):
                more = os_read(fd, len_(source) + 1 - len_(found))
                if not more:
                    break
                found += more
        finally:
            os_close(fd)
        return found == source

    return text, encodable, intact, watch_class, watch_tests, class_intact, file_holds
