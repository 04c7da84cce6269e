"""The audit hook that alone may write a program's test report; installed in the program's
process before its first statement.

Sent to the sandbox worker as source (the worker sees no codeeval installation) and loaded there
as `codeeval_guard`; in the forked program process the worker calls `guard`, then
`codeeval_steps.run_program` (sandbox/program_steps.py), which runs the plan `guard` compiled.
Standard library only.

Model-written code shares this process, so the report must not depend on anything it can reach.
`guard` runs before the program's first statement: it compiles the whole plan (solution and test
steps, immutable code objects) and installs a PEP 578 audit hook that alone holds the run's
nonce (the key each report line is signed with) and the report descriptor (in its closure: no
frame, module or gc listing leads to them, since the hook refuses gc listings). Harness code
reports through `sys.audit("codeeval.report", record)`; the hook writes a line only when the
caller is harness code (code objects captured at install) and the harness's modules, `builtins`
and `traceback` (and under unittest, `unittest` and `signal`) still hold what they held at
install. The hook itself calls only C functions it captured at install (the JSON encoder too),
and looks up no builtin or module global while it runs: no lookup on a class, module or
builtins dict the program can change runs program code inside it. The hook also stops the
program (exit 87, and a `tampered` line) on what no benchmark's honest program does: tracing or
profiling outside the harness's tracer, listing every thread's frames, gc listings, swapping a
function's code or building code objects outside installed libraries, compiling code under a
harness or library file name, opening /proc/*/mem or /proc/*/fd, truncating the report, ctypes
reading or writing memory at an address. That last defence is partial: ctypes pointers index
memory, and numpy arrays map any address, without an audit event, so code set on reading this
process's memory can still find the nonce; only the `values` framework, which judges on the
host, holds against it.
"""

import gc
import hashlib
import json
import operator
import os
import signal
import sys
import threading
import types
import unittest

import codeeval_unittest
from codeeval_signals import guard_signals
from codeeval_snapshots import SIGNAL_MODULES, guarded_snapshot, snapshots_before_fork

TAMPERED_EXIT = 87   # the audit hook's exit when it catches the program tampering (pool.py)
MAC_FIELD = ', "mac": "'   # each report line ends with it, the MAC, '"}' (verdict.MAC_FIELD)
# ctypes reading or writing memory at an address: what finds the hook's state. Refused from
# the program's code; an installed library's own calls pass (llvmlite reads LLVM's messages
# with string_at when librosa's numba compiles: BigCodeBench 227).
MEMORY_EVENTS = frozenset({"ctypes.string_at", "ctypes.wstring_at", "ctypes.cdata",
                           "ctypes.PyObj_FromPtr"})
try:   # the C helpers that ctypes.cast, memmove, memset and string_at call
    import _ctypes
    MEMORY_HELPERS = frozenset((_ctypes._cast_addr, _ctypes._memmove_addr, _ctypes._memset_addr,
                                _ctypes._string_at_addr, _ctypes._wstring_at_addr))
except ImportError:   # an interpreter built without ctypes
    MEMORY_HELPERS = frozenset()
# gc.get_referents is not among them: it shows only what an object the caller already holds
# refers to, and nothing the program can reach leads to the hook (libraries call it: pandas'
# deep memory use, BigCodeBench 234, 238, 986); only on a class or a class's mappingproxy.
FLAGGED = frozenset({"sys.settrace", "sys.setprofile", "sys._current_frames", "gc.get_objects",
                     "gc.get_referrers", "sys.addaudithook"})   # a hook of the program's runs
# after the harness's, untraced, at each of its events (between a check and what it guards)
WATCHED = FLAGGED | MEMORY_EVENTS | {
    "codeeval.report", "codeeval.plan", "codeeval.outcome", "codeeval.signal", "codeeval.judge",
    "codeeval.library_code", "codeeval.test_class", "codeeval.test_instances", "exec",
    "object.__setattr__", "ctypes.call_function", "ctypes.dlsym", "gc.get_referents",
    "code.__new__", "compile", "open", "os.truncate", "fcntl.fcntl"}
# The libraries whose code compiled from text after the worker prepared counts as theirs:
# namedtuple's template takes only identifiers; dataclasses and numpy 1.23's dispatchers paste
# field and function names unchecked (a name with newlines is code), and timeit or jinja2
# compile text a program gives them.
TEMPLATE_MAKERS = ("/collections/__init__.py",)


def guard(report_fd, nonce, request, path):
    """Compile the program's plan and install the audit hook that owns the report. Called once,
    in the program's process, before any of its code runs; the worker passes the nonce as an
    argument only, so no frame that stays on the stack holds it. The hook itself was built
    before the worker forked (`prepare`): the program's process only fills in its state."""
    install, snapshots = PREPARED.pop() if PREPARED else (make_guard(), snapshots_before_fork())
    install(report_fd, nonce, sys.modules["codeeval_steps"].make_plan(path, request), snapshots)


def make_guard():
    """The audit hook that owns the report, and install(report_fd, nonce, plan, snapshots),
    which gives it one program's state and adds it, once per process.

    While the hook runs, no program code may: its frame shows its state to any frame walker.
    So it touches program objects only through exact types (a str subclass's `__eq__`, an
    object's `__class__` property would run program code), calls only functions it captured
    here, keeps the garbage collector off (a finalizer), leaves through `os._exit` when it
    catches tampering (an exception's traceback would keep its frame), and program-installed
    signal handlers do not run while it is on the stack (`guard_signals`)."""
    unit, steps = codeeval_unittest, sys.modules["codeeval_steps"]
    # the ids of the code the hook trusts; the closure keeps the code objects alive
    runner_codes, runners = steps.RUNNER_CODES, frozenset(map(id, steps.RUNNER_CODES))
    report_id, tally_id, plan_id, test_class_id = (
        id(steps.report.__code__), id(unit.Tally.count.__code__), id(steps.run_program.__code__),
        id(unit.run_test_class.__code__))
    classes = sys.modules["codeeval_test_classes"]
    text, encodable, intact, watch_class, watch_tests, class_intact, file_holds = \
        sys.modules["codeeval_guard_checks"].make_checks(
            classes.WATCHED_NAMES, classes.UNITTEST_CLASSES,
            vars(unittest.TestCase)["__dict__"].__get__)
    tracer = sys.modules["codeeval_tracer"].Tracer
    tracer_ids = frozenset(map(id, (tracer.__enter__.__code__, tracer.__exit__.__code__,
                                    steps.real_output.__code__)))
    comparisons = sys.modules["codeeval_comparisons"]
    # a guarded comparison's profile: set and unset by `guarded`, or dropped by CPython when it
    # stops a call of the program's (the frame then is the program's)
    guarded_id = id(comparisons.guarded.__code__)
    comparison_profile = comparisons.refuse_program_code
    getprofile = sys.getprofile
    stdlib, libraries = steps.STDLIB, steps.LIBRARIES
    code_type = types.CodeType
    # CPython prints an uncaught exception of a thread (threading's invoke_excepthook calls
    # the C excepthook) by compiling each shown line under its own file's name, to place the
    # carets: not a program's code claiming to be threading.py's
    thread_excepthook = next(c for c in threading._make_invoke_excepthook.__code__.co_consts
                             if type(c) is code_type and c.co_name == "invoke_excepthook")
    # Code that installed libraries compiled from text: namedtuple's `__new__` ("<string>",
    # which pandas calls inside a comparison), numpy 1.23's dispatchers ("<__array_function__
    # internals>"). A guarded comparison may run it (comparisons.refuse_program_code asks here);
    # the same names from the program's own exec are the program's. What exists when the
    # worker prepares (no program has run), and what a library execs later ("exec" events).
    library_made = {}

    def register(code):
        for inner in code.co_consts:
            if type_(inner) is code_type:
                register(inner)
        library_made[id_(code)] = code

    def synthetic(name):   # a file name that is no file: "<string>", not "<frozen os>"
        return str_starts(name, "<") and not str_starts(name, ("<frozen ", "<codeeval"))
    unittest_dir = os.path.join(os.path.dirname(unittest.__file__), "")
    sig_dfl, sig_ign = signal.SIG_DFL, signal.SIG_IGN
    write, fstat, getframe, getpid = os.write, os.fstat, sys._getframe, os.getpid
    sha256 = hashlib.sha256
    # C-level serialisation and field access only: a Python-level JSONEncoder method, or a
    # property set on os.stat_result (a mutable class), would run program code in the hook
    encoder = json.encoder.c_make_encoder({}, refuse_to_encode, json.encoder.encode_basestring_ascii,
                                          None, ": ", ", ", False, False, True)
    field, join = tuple.__getitem__, "".join
    exit_now, gc_enabled, gc_disable, gc_enable = os._exit, gc.isenabled, gc.disable, gc.enable
    # every name the hook's functions use is one of these: a builtin or a module global looked
    # up while it runs could be the program's (the harness's builtins copy is a dict it can
    # reach), and would run inside the hook
    type_, str_, int_, dict_, id_, len_ = type, str, int, dict, id, len
    any_exception, watched, flagged = BaseException, WATCHED, FLAGGED
    template_makers, tampered_exit, mac_field = TEMPLATE_MAKERS, TAMPERED_EXIT, MAC_FIELD
    str_eq, str_starts, is_subclass = str.__eq__, str.startswith, type.__subclasscheck__
    is_, any_, list_ = operator.is_, any, list
    proxy_type = types.MappingProxyType
    function_type, memory_events = types.FunctionType, MEMORY_EVENTS
    memory_helpers, ctypes_dir = MEMORY_HELPERS, os.path.join(steps.STDLIB, "ctypes", "")
    root, tally, taken = [], {}, []
    for found in gc.get_objects():
        if type_(found) is function_type and synthetic(found.__code__.co_filename):
            register(found.__code__)
    # one program's state, set by install in its process
    report_fd = report_inode = key = owner = plan = framework = path = first_line = None
    sequence = 0
    trace_ids = test_ids = writers = frozenset()
    snapshot = running = kept = ()
    real_signal = trampoline = None

    def line(record):
        """One report line, signed: the record, its sequence number, and a MAC (sha256 of the
        nonce and the line up to the MAC) that the host checks (verdict.parse_report). The
        program holds the report write-only, but it can still write at an offset (dup and
        F_SETFL, or pwritev2's RWF_NOAPPEND): a rewritten or dropped line breaks the chain."""
        nonlocal sequence
        if id_(getframe(1).f_code) not in writers or getpid() != owner:   # found in memory,
            exit_now(tampered_exit)                                       # or a forked child
        found = fstat(report_fd)   # a pipe dup2-ed over the report would block this write
        if (field(found, 2), field(found, 1)) != report_inode:   # st_dev, st_ino
            exit_now(tampered_exit)
        body = join(encoder(record, 0))[:-1] + ', "seq": ' + str_(sequence) + mac_field
        write(report_fd, (body + sha256((key + body).encode()).hexdigest() + '"}\n').encode())
        sequence += 1

    def tamper(what):
        try:
            line({"event": "tampered", "what": what})
        finally:
            exit_now(tampered_exit)

    def test_code(code):
        return id_(code) in test_ids or (str_eq(path, text(code.co_filename)) is True
                                         and code.co_firstlineno >= first_line)

    def driver_code(code):   # a driver program is all task code: the model's runs in a child
        return framework == "driver" and str_eq(path, text(code.co_filename)) is True

    def unittest_code(code):   # between a test's outcome and the harness: unittest, its tests
        return str_starts(text(code.co_filename), stdlib) or test_code(code)

    def from_harness(frame, trusted):
        """The frames from `frame` down to run_program's are harness code (or `trusted`)."""
        while frame is not None and frame is not root[0]:
            if id_(frame.f_code) not in runners and not trusted(frame.f_code):
                return False
            frame = frame.f_back
        return frame is not None

    def library_caller():
        """Whether the code behind a ctypes event (the first frame outside ctypes' own
        wrappers) is an installed library's, not the program's."""
        caller = getframe(3)
        while caller is not None and str_starts(text(caller.f_code.co_filename), ctypes_dir):
            caller = caller.f_back
        return caller is not None and str_starts(text(caller.f_code.co_filename), libraries)

    def handle(event, args):
        if event == "codeeval.report":
            caller = getframe(2)
            if not root or id_(caller.f_code) != report_id or \
                    not from_harness(caller.f_back, driver_code):
                tamper("a test report from outside the harness")
            if not intact(snapshot):
                tamper("changed harness, builtins, traceback, unittest or signal functions")
            record = args[0] if len_(args) == 1 else None
            if type_(record) is not dict_ or not encodable(record, 0):
                tamper("a malformed test report")
            if framework == "unittest" and record.get("event") == "step":
                record["tally"] = dict_(tally)
                tally.clear()
            line(record)
        elif event == "codeeval.judge":   # an assertion or comparison about to be judged, a
            if not intact(running):       # test part just run: the harness's and unittest's
                tamper("changed harness or unittest functions")   # functions must be there
            if not class_intact(args[0] if len_(args) == 1 else None):
                tamper("changed the test class while it ran")
        elif event == "codeeval.test_class" or event == "codeeval.test_instances":
            # a test class about to run (None: done; run_test_class checked that it is a plain
            # class), then the tests the loader made for it
            caller = getframe(2)
            if len_(args) != 1 or id_(caller.f_code) != test_class_id or \
                    not from_harness(caller.f_back, driver_code) or not (
                        watch_class if event == "codeeval.test_class" else watch_tests)(args[0]):
                tamper("a test class from outside the harness, or a name in it not a str")
        elif event == "codeeval.library_code":   # from a guarded comparison's profile function
            code, answer = args
            if type_(answer) is list_:
                list_.append(answer, type_(code) is code_type
                             and library_made.get(id_(code)) is code)
        elif event == "exec":   # code a library made from its own template and runs now
            code, caller = args[0], text(getframe(2).f_code.co_filename) or ""
            if type_(code) is code_type and synthetic(text(code.co_filename) or "") and \
                    str_starts(caller, libraries) and caller.endswith(template_makers):
                register(code)
        elif event == "codeeval.outcome":   # unittest's verdict on one test, as it happens
            caller = getframe(2)
            if len_(args) != 1 or id_(caller.f_code) != tally_id or \
                    not from_harness(caller.f_back, unittest_code):
                tamper("a unittest outcome from outside the harness")
            if not intact(running):   # unittest patched for a test, put back before the report
                tamper("changed harness or unittest functions")
            if not class_intact(None):
                tamper("changed the test class while it ran")
            kind = args[0] if type_(args[0]) is str_ else "error"
            tally[kind] = tally.get(kind, 0) + 1
        elif event == "codeeval.plan":
            caller = getframe(2)
            if id_(caller.f_code) != plan_id or root or taken:
                tamper("a second request for the test plan")
            root.append(caller)
            taken.append(True)
            args[0].append(plan)
        elif event == "codeeval.signal":   # signal.signal, through guard_signals (or a forgery:
            number, disposition = args     # only the kernel's dispositions pass, by identity)
            if not (disposition is sig_dfl or disposition is sig_ign
                    or type_(disposition) is int_ and (disposition == 0 or disposition == 1)):
                disposition = trampoline
            real_signal(int_.__index__(number), disposition)
        elif event in memory_events or event == "ctypes.call_function" and \
                type_(args[0]) is int_ and args[0] in memory_helpers:
            if not library_caller():
                tamper(f"ctypes reading or writing memory ({event})")
        elif event == "gc.get_referents":   # a class's own dict, behind its mappingproxy:
            # changed there, it no longer matches the method cache Python calls through
            if any_(is_(type_(o), proxy_type) or is_subclass(type_, type_(o)) for o in args[0]) \
                    and not library_caller():
                tamper("gc.get_referents on a class or its dict")
        elif event == "ctypes.dlsym":   # the interpreter's C API: PyFrame_LocalsToFast rewrites
            name = text(args[1])        # a harness frame's locals, PyCell_Set a closure
            if name is not None and str_starts(name, ("Py", "_Py")) and not library_caller():
                tamper(f"ctypes reaching the interpreter's C API ({name})")
        elif event in flagged:
            caller = id_(getframe(2).f_code)
            if event in ("sys.settrace", "sys.setprofile") and caller in trace_ids or \
                    event == "sys.setprofile" and (caller == guarded_id
                                                   or getprofile() is comparison_profile):
                return
            tamper(event)
        elif event == "object.__setattr__":
            name = text(args[1])
            if type_(args[0]) is function_type and name in ("__code__", "__defaults__", "__kwdefaults__"):
                # the harness's functions, and unittest's code, from anyone (a library such as
                # threading can be made to call setattr; unittest.mock sets the defaults of
                # functions it defines); anything else from outside libraries
                owner = text(args[0].__code__.co_filename)
                if str_starts(owner, "<codeeval") or str_eq(name, "__code__") is True and \
                        str_starts(owner, unittest_dir) or \
                        not str_starts(text(getframe(2).f_code.co_filename), libraries):
                    tamper(f"setting a function's {name}")
        elif event == "code.__new__":
            if not str_starts(text(getframe(2).f_code.co_filename), libraries):
                tamper("building a code object")
        elif event == "compile":   # code that claims to be the tests', the harness's or a library's
            # A library may compile its own files (jinja2's templates), the import system any;
            # a standard-library name (unittest's frames are trusted) only the import system
            name = text(args[1])
            if name is not None and getframe(2).f_code is not thread_excepthook:
                caller = text(getframe(2).f_code.co_filename)
                if str_eq(name, path) is True or str_starts(name, "<codeeval") or (
                        str_starts(name, (stdlib, "<frozen ")) and
                        not str_starts(caller, "<frozen ")) or (
                        str_starts(name, libraries) and not str_starts(caller, libraries)):
                    tamper(f"compiling code as {name}")
                # the import system compiles a file's own bytes; text of the program's under a
                # library's name (importlib's source_to_code, a loader's get_data) is not
                if str_starts(caller, "<frozen ") and str_starts(name, libraries) and \
                        not str_starts(name, "<frozen ") and not file_holds(name, args[0]):
                    tamper(f"compiling other text as {name}")
        elif event in ("os.truncate", "fcntl.fcntl"):
            fd = args[0]
            if (type_(fd) is int_ or is_subclass(int_, type_(fd))) and int_.__index__(fd) == report_fd:
                tamper(f"{event} on the test report")
        elif event == "open":
            name = text(args[0])
            if name is not None and str_starts(name, "/proc/") and (
                    name.endswith("/mem") or "/fd/" in name or "/map_files/" in name):
                tamper(f"opening {name}")

    def hook(event, args):
        if event not in watched:   # `event` is an exact str: sys.audit makes a new one
            return
        collecting = gc_enabled()
        gc_disable()   # no finalizer of the program's runs with this frame on the stack
        try:
            handle(event, args)
        except any_exception:   # never let an exception carry this frame to the program
            exit_now(tampered_exit)
        finally:
            if collecting:
                gc_enable()

    def install(fd, nonce, new_plan, snapshots):
        nonlocal report_fd, report_inode, key, owner, plan, framework, path, first_line, \
            trace_ids, test_ids, snapshot, running, real_signal, trampoline, kept, writers
        if report_fd is not None:
            exit_now(tampered_exit)
        writers = frozenset(map(id_, (handle.__code__, tamper.__code__, install.__code__)))
        # Nothing built before the fork may be freed here: freeing the snapshots would write
        # to every object they hold, copying each page they live on (~190 pages a program)
        kept = (install, snapshots, runner_codes)
        plan = new_plan
        framework, path, _, trace, first_line, _, _, _, _, _, _, tests, steps, _, _ = plan
        trace_ids = tracer_ids if trace else frozenset()
        test_ids = frozenset(map(id, [code for code in (tests,) if code is not None]
                                 + [step[1] for step in steps]))
        found = fstat(fd)
        report_fd, report_inode = fd, (found.st_dev, found.st_ino)
        key, owner = nonce, getpid()
        real_signal, trampoline = guard_signals(id(hook.__code__), id(handle.__code__),
                                                id(line.__code__))
        # the worker's snapshots, taken before it forked, and signal's, after guard_signals
        # replaced signal.signal. None for `values`: the host judges the values, and a forged
        # report would need the expected values, which never enter this process; checking
        # would cost every program a copy of each page the guarded objects live on (their
        # reference counts change on the first look).
        # While the tests run (`running`, checked at each assertion, comparison, test part and
        # outcome) builtins, traceback and signal may be patched (mock.patch('builtins.open')):
        # the harness's modules run with builtins of their own (worker.py), and unittest's
        # assertions with no code of the program's (codeeval_comparisons.guarded).
        harness, others, unit_classes, harness_functions, unit_functions = snapshots
        unit = unit_classes if framework == "unittest" else ()
        running = () if framework == "values" else harness_functions + (
            unit_functions if framework == "unittest" else ()) + (
            (vars(sys), ("modules",), (sys.modules,), -1),)   # unittest looks modules up there
        snapshot = () if framework == "values" else harness + others + (
            unit + guarded_snapshot(SIGNAL_MODULES) if framework == "unittest" else ())
        sys.addaudithook(hook)
        line({"event": "started"})
    return install


def refuse_to_encode(value):
    raise TypeError("a test report holds a value JSON cannot encode")   # no lookup on the value


PREPARED = []


def prepare():
    """Called by the worker once, after preloading, before it forks any program: the hook
    (`make_guard`) and the snapshots of what cannot change between then and a program's
    `guard` (all but signal's), so that each program does not rebuild them. `guard` takes them
    out of PREPARED before the program's first statement; the worker's own copy is never
    reachable from a program."""
    PREPARED[:] = [(make_guard(), snapshots_before_fork())]
