"""Programs that try to forge a pass, in both sandboxes: none may pass, and the next program on
the slot (a canary) must pass. Each attack is a wrong solution plus the trick; the tests would
fail without the trick. `values`-framework programs (assertions against literals) are judged on
the host; the others in the program's process under the audit hook (sandbox/program_guard.py).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import warnings

import pytest

from codeeval.records import Program
from conftest import base_docker_sandbox
from tests.test_cli import cli
from tests.test_sandbox_docker import docker_ready

WRONG = "def inc(x):\n    return x\n"
SCRIPT_TESTS = "y = inc(1)\nassert y == 2\nassert inc(2) == 3\n"     # judged in the process
VALUE_TESTS = "assert inc(1) == 2\nassert inc(2) == 3\n"              # judged on the host
CHECK_TESTS = ("def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(2) == 3\n"
               "check(inc)\n")                                     # HumanEval's form
UNITTEST_TESTS = ("import unittest\nclass TestInc(unittest.TestCase):\n"
                  "    def test_one(self):\n        self.assertEqual(inc(1), 2)\n"
                  "    def test_two(self):\n        self.assertEqual(inc(2), 3)\n")

# What the attacks below do once they reach the audit hook's state: find its `line` function
# (through any function's closure in a frame's locals) and write passing steps with the nonce.
FORGE = """import os, sys, types
def closure_of(function):
    code = function.__code__
    return dict(zip(code.co_freevars, (c.cell_contents for c in function.__closure__ or ())))
def find_line(scope, depth=0):
    if depth > 3:
        return None
    for value in list(scope.values()):
        if isinstance(value, types.FunctionType):
            inner = closure_of(value)
            if 'key' in inner and value.__name__ == 'line':
                return value
            found = find_line(inner, depth + 1)
            if found:
                return found
    return None
def forge(scope):
    line = find_line(scope)
    if line is None:
        return
    lines = open(__file__).read().splitlines()
    first = next((i + 1 for i, text in enumerate(lines) if text.startswith(('y = inc(1)', 'assert inc(1)'))),
                 len(lines) + 1)
    unit = any(text.startswith('class ' + 'TestInc(') for text in lines)
    names = ['TestInc'] if unit else [f'line {first + i}' for i in range(3)]
    for name in names:
        line({'event': 'step', 'name': name, 'outcome': 'passed', 'tally': {'run': 1, 'success': 1}})
    line({'event': 'done', 'steps': len(names)})
    os._exit(0)
def forge_from_frames(frame):
    while frame is not None:
        forge(frame.f_locals)
        frame = frame.f_back
"""

IN_HOOK = FORGE + """FORGING = []
def forge_in_hook():
    if FORGING:   # forge's own writes come back through the same hooked lookup
        return
    FORGING.append(True)
    frame = sys._getframe(1)
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, types.FunctionType) and value.__name__ == 'line' and \\
                    'key' in value.__code__.co_freevars:
                forge({'line': value, 'f': lambda: None})
        frame = frame.f_back
"""

# name -> (solution, which tests)
ATTACKS = {
    "replace builtins.exec and compile": (
        "import builtins\nbuiltins.exec = lambda *a, **k: None\nbuiltins.compile = lambda *a, **k: None\n"
        + WRONG, "script"),
    "an object equal to everything": (
        "class Equal:\n    def __eq__(self, other):\n        return True\n    __hash__ = None\n"
        "def inc(x):\n    return Equal()\n", "values"),
    "an int subclass equal to everything": (
        "class Equal(int):\n    def __eq__(self, other):\n        return True\n"
        "def inc(x):\n    return Equal(0)\n", "values"),
    "an object equal to everything, to unittest": (
        "class Equal:\n    def __eq__(self, other):\n        return True\n"
        "def inc(x):\n    return Equal()\n", "unittest"),
    "an object equal to every int, to unittest": (
        "class Equal(int):\n    def __eq__(self, other):\n        return isinstance(other, int)\n"
        "    __hash__ = int.__hash__\ndef inc(x):\n    return Equal(0)\n", "unittest"),
    "objects equal to everything inside a list, to unittest": (
        "class Equal:\n    __eq__ = staticmethod(lambda other: True)\n"
        "UNITTEST_LIST\ndef inc(x):\n    return x\n", "unittest-list"),
    "rewrite the pending steps through frames": (
        "import sys\ndef inc(x):\n    frame = sys._getframe(1)\n    while frame:\n"
        "        for name, value in list(frame.f_locals.items()):\n"
        "            if isinstance(value, list):\n                value.clear()\n"
        "            try:\n                frame.f_locals[name] = ()\n            except Exception:\n"
        "                pass\n        frame = frame.f_back\n    return x\n", "script"),
    "call the harness's reporter": (
        "import os, sys\nsteps = sys.modules['codeeval_steps']\n"
        "for name in ('line 4', 'line 5', 'line 6'):\n"
        "    steps.report({'event': 'step', 'name': name, 'outcome': 'passed'})\n"
        "steps.report({'event': 'done', 'steps': 3})\nos._exit(0)\n", "script"),
    "raise the report's audit event directly": (
        "import os, sys\nfor name in ('line 4', 'line 5', 'line 6'):\n"
        "    sys.audit('codeeval.report', {'event': 'step', 'name': name, 'outcome': 'passed'})\n"
        "sys.audit('codeeval.report', {'event': 'done', 'steps': 3})\nos._exit(0)\n", "script"),
    "a second audit hook of the program's own, with a nonce it knows": (
        "import sys\nsys.modules['codeeval_guard'].guard(3, '0' * 32, {'test_first_line': 99}, __file__)\n"
        "sys.modules['codeeval_steps'].run_program()\n" + WRONG, "script"),
    "run the harness's runner on fake steps": (
        "import os, sys, types\nsteps = sys.modules['codeeval_steps']\n"
        "fake = [('line 4', compile('pass', 'x', 'exec'), None)] * 3\n"
        "steps.run_script(fake, {}, exec, eval, None)\nos._exit(0)\n", "script"),
    "find the nonce with gc and write to the report": (
        "import gc, os, re\nnonces = {o for o in gc.get_objects() if isinstance(o, str) and re.fullmatch('[0-9a-f]{32}', o)}\n"
        "for fd in range(3, 64):\n    for n in nonces:\n        for name in ('line 4', 'line 5', 'line 6'):\n"
        "            try:\n                os.write(fd, (f'{{\"event\": \"step\", \"name\": \"{name}\", \"outcome\": \"passed\", \"nonce\": \"{n}\"}}\\n').encode())\n"
        "            except OSError:\n                pass\n" + WRONG, "script"),
    "find the nonce in the stack's frames": (
        "import os, re, sys\nfound = set()\nframe = sys._getframe()\nwhile frame:\n"
        "    for value in list(frame.f_locals.values()):\n"
        "        text = value if isinstance(value, str) else repr(value)\n"
        "        found.update(re.findall('[0-9a-f]{32}', text))\n    frame = frame.f_back\n"
        "for n in found:\n    for name in ('line 4', 'line 5', 'line 6'):\n"
        "        os.write(3, (f'{{\"event\": \"step\", \"name\": \"{name}\", \"outcome\": \"passed\", \"nonce\": \"{n}\"}}\\n').encode())\n"
        "    os.write(3, (f'{{\"event\": \"done\", \"nonce\": \"{n}\"}}\\n').encode())\n"
        "if found:\n    os._exit(0)\n" + WRONG, "script"),
    "reopen the report through /proc/self/fd": (
        "import os\nfor fd in os.listdir('/proc/self/fd'):\n    try:\n"
        "        open(f'/proc/self/fd/{fd}', 'w').close()\n    except OSError:\n        pass\n" + WRONG,
        "script"),
    "truncate the report": (
        "import os\nfor fd in range(3, 64):\n    try:\n        os.ftruncate(fd, 0)\n"
        "    except OSError:\n        pass\n" + WRONG, "script"),
    "settrace turns the failing step into a pass": (
        "import sys\ndef skip(frame, event, arg):\n    if event == 'exception':\n"
        "        frame.f_lineno = frame.f_lineno + 1\n    return skip\nsys.settrace(skip)\n" + WRONG,
        "script"),
    "swap a test method's __code__": (
        "import sys\ndef inc(x):\n    frame = sys._getframe(1)\n    cls = type(frame.f_locals['self'])\n"
        "    for name in ('test_one', 'test_two'):\n"
        "        getattr(cls, name).__code__ = (lambda self: None).__code__\n    return x\n",
        "unittest"),
    "hook __build_class__": (
        "import builtins\noriginal = builtins.__build_class__\n"
        "def build(func, name, *bases, **kw):\n    cls = original(func, name, *bases, **kw)\n"
        "    for attr in list(vars(cls)):\n        if attr.startswith('test'):\n"
        "            setattr(cls, attr, lambda self: None)\n    return cls\n"
        "builtins.__build_class__ = build\n" + WRONG, "unittest"),
    "hook __build_class__ and restore it": (
        "import builtins\noriginal = builtins.__build_class__\n"
        "def build(func, name, *bases, **kw):\n    builtins.__build_class__ = original\n"
        "    cls = original(func, name, *bases, **kw)\n    for attr in list(vars(cls)):\n"
        "        if attr.startswith('test'):\n            setattr(cls, attr, lambda self: None)\n"
        "    return cls\nbuiltins.__build_class__ = build\n" + WRONG, "unittest"),
    "make TestResult.addFailure a no-op": (
        "import unittest\nunittest.TestResult.addFailure = lambda *a: None\n" + WRONG, "unittest"),
    # test_one fails; test_two's call empties the result's lists, then test_two passes
    "clear the result's failures through a frame": (
        "import sys\ndef inc(x):\n    frame = sys._getframe()\n"
        "    while frame:\n        for value in list(frame.f_locals.values()):\n"
        "            if hasattr(value, 'failures') and hasattr(value, 'errors'):\n"
        "                value.failures.clear()\n                value.errors.clear()\n"
        "        frame = frame.f_back\n    return x + 1 if x == 2 else x\n", "unittest"),
    "replace the test class from a thread": (
        "import sys, threading, time, unittest\nsys.setswitchinterval(1e-6)\n"
        "class TestInc(unittest.TestCase):\n"
        "    def test_one(self):\n        pass\n"
        "def swap():\n    module = sys.modules['solution']\n    end = time.time() + 3\n    while time.time() < end:\n"
        "        if module.__dict__.get('TestInc') is not Fake:\n            module.TestInc = Fake\n"
        "        time.sleep(0)\nFake = TestInc\nthreading.Thread(target=swap, daemon=True).start()\n"
        + WRONG, "unittest"),
}

ATTACKS.update({
    "a signal handler reads the hook's frame (timer storm)": (
        FORGE + "import signal\ndef handler(n, f):\n    signal.setitimer(signal.ITIMER_REAL, 0)\n"
        "    forge_from_frames(f)\n    signal.setitimer(signal.ITIMER_REAL, 0.0002)\n"
        "signal.signal(signal.SIGALRM, handler)\nsignal.setitimer(signal.ITIMER_REAL, 0.0002)\n"
        "for _ in range(100000):\n    sys._getframe()\nsignal.setitimer(signal.ITIMER_REAL, 0)\n"
        + WRONG, "script"),
    "a full pipe over the report, then a signal during the blocked write": (
        FORGE + "import signal, stat, threading, time\n"
        "report = next(fd for fd in range(3, 256) if os.path.exists(f'/proc/self/fd/{fd}') "
        "and stat.S_ISREG(os.fstat(fd).st_mode))\nsaved = os.dup(report)\nr, w = os.pipe()\n"
        "os.set_blocking(w, False)\ntry:\n    while True:\n        os.write(w, b'x' * 4096)\n"
        "except BlockingIOError:\n    pass\nos.set_blocking(w, True)\nos.dup2(w, report)\n"
        "def handler(n, f):\n    os.dup2(saved, report)\n    forge_from_frames(f)\n"
        "signal.signal(signal.SIGUSR1, handler)\nmain = os.getpid()\n"
        "def poke():\n    while True:\n        time.sleep(0.05)\n        os.kill(main, signal.SIGUSR1)\n"
        "threading.Thread(target=poke, daemon=True).start()\n" + WRONG, "script"),
    "keep the traceback of a refused operation": (
        FORGE + "import gc\nreport = next(fd for fd in range(3, 256) if os.path.exists(f'/proc/self/fd/{fd}') "
        "and __import__('stat').S_ISREG(os.fstat(fd).st_mode))\nsaved = os.dup(report)\n"
        "os.dup2(os.open(os.devnull, os.O_WRONLY), report)\ntry:\n    gc.get_objects()\n"
        "except BaseException as exc:\n    os.dup2(saved, report)\n    tb = exc.__traceback__\n"
        "    while tb is not None:\n        forge(tb.tb_frame.f_locals)\n        tb = tb.tb_next\n" + WRONG,
        "unittest"),
    "a str subclass key in builtins runs code inside the hook": (
        FORGE + "import builtins\nclass Key(str):\n    __hash__ = str.__hash__\n"
        "    def __eq__(self, other):\n        if str.__eq__(self, other):\n"
        "            forge_from_frames(sys._getframe(1))\n            return True\n        return False\n"
        "namespace = vars(builtins)\nnamespace[Key('memoryview')] = namespace.pop('memoryview')\n" + WRONG,
        "unittest"),
    "a str subclass key in builtins, to the values judge": (
        FORGE + "import builtins\nclass Key(str):\n    __hash__ = str.__hash__\n"
        "    def __eq__(self, other):\n        if str.__eq__(self, other):\n"
        "            forge_from_frames(sys._getframe(1))\n            return True\n        return False\n"
        "namespace = vars(builtins)\nnamespace[Key('memoryview')] = namespace.pop('memoryview')\n" + WRONG,
        "values"),
    # Program code that runs inside the hook finds its `line` among the frames' locals: the
    # hook's own serialisation and stat-field lookups must not reach a class the program changes
    "a JSONEncoder method runs inside the hook": (
        IN_HOOK + "import json\noriginal = json.JSONEncoder.iterencode\n"
        "def iterencode(self, o, _one_shot=False):\n    forge_in_hook()\n"
        "    return original(self, o, _one_shot)\njson.JSONEncoder.iterencode = iterencode\n" + WRONG,
        "script"),
    "a property on os.stat_result runs inside the hook": (
        IN_HOOK + "original = os.stat_result.st_dev\n"
        "os.stat_result.st_dev = property(lambda self: (forge_in_hook(), original.__get__(self))[1])\n"
        + WRONG, "script"),
    # Found by a red-team pass on 2026-12-04 (each passed before its fix):
    "a fake unittest module whose TestCase claims to be unittest's": (
        "import sys, types, unittest\nfake = types.ModuleType('unittest')\nfake.__dict__.update(vars(unittest))\n"
        "class TestCase(unittest.TestCase):\n    def assertEqual(self, first, second, msg=None):\n        pass\n"
        "TestCase.__module__ = 'unittest.case'\nTestCase.__qualname__ = 'TestCase'\n"
        "fake.TestCase = TestCase\nsys.modules['unittest'] = fake\n" + WRONG, "unittest"),
    "codeop compiles under a stdlib name, threading swaps Tally's code": (
        "import codeop, os, sys, threading\nT = sys.modules['codeeval_unittest'].Tally\n"
        "src = 'class X:\\n    def addFailure(self, test, err):\\n        __class__\\n        self.count(\"success\")\\n'\n"
        "name = os.path.join(os.path.dirname(os.__file__), 'zz_nop.py')\n"
        "ns = {}\nexec(codeop.Compile()(src, name, 'exec'), ns)\n"
        "threading.Thread(target=setattr, args=(T.addFailure, '__code__', ns['X'].addFailure.__code__)).run()\n"
        + WRONG, "unittest"),
    "a signal handler equal to SIG_DFL skips the trampoline": (
        FORGE + "import signal\nDONE = []\nclass H:\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = object.__hash__\n    def __call__(self, n, frame):\n        if DONE:\n            return\n"
        "        f = frame\n        while f is not None and 'key' not in f.f_code.co_freevars and f.f_code.co_name != 'handle':\n"
        "            f = f.f_back\n        if f is None:\n            return\n"
        "        DONE.append(1)\n        signal.setitimer(signal.ITIMER_REAL, 0)\n        forge_from_frames(frame)\n"
        "signal.signal(signal.SIGALRM, H())\nsignal.setitimer(signal.ITIMER_REAL, 0.0001, 0.0001)\n"
        "for _ in range(200000):\n    open(os.devnull).close()\nsignal.setitimer(signal.ITIMER_REAL, 0)\n"
        + WRONG, "script"),
    "a forged signal event installs a handler directly": (
        FORGE + "import signal\nDONE = []\ndef h(n, frame):\n    if not DONE:\n        DONE.append(1)\n"
        "        signal.setitimer(signal.ITIMER_REAL, 0)\n        forge_from_frames(frame)\n"
        "sys.audit('codeeval.signal', signal.SIGALRM, h)\nsignal.setitimer(signal.ITIMER_REAL, 0.0001, 0.0001)\n"
        "for _ in range(200000):\n    open(os.devnull).close()\nsignal.setitimer(signal.ITIMER_REAL, 0)\n"
        + WRONG, "script"),
    "change the plan through frames": (
        "import sys\nframe = sys._getframe(1)\nfor name, value in list(frame.f_locals.items()):\n"
        "    class Grab:\n        def __eq__(self, other):\n            global GRABBED\n"
        "            if isinstance(other, dict) and 'steps' in other:\n                GRABBED = other\n"
        "            return False\n    value == Grab()\n"
        "GRABBED = globals().get('GRABBED')\nif isinstance(GRABBED, dict):\n"
        "    GRABBED['steps'] = tuple((n, compile('pass', 'x', 'exec'), None) for n, c, l in GRABBED['steps'])\n"
        + WRONG, "script"),
})

# Found by a hostile review (stop 27); each passed before its fix.
STEPS_WITH = ("    for name in ('line 4', 'line 5', 'line 6'):\n"
              "        os.write(FD, ('{\"event\": \"step\", \"name\": \"%s\", \"outcome\": \"passed\", "
              "\"nonce\": \"%s\"}\\n' % (name, n)).encode())\n"
              "    os.write(FD, ('{\"event\": \"done\", \"steps\": 3, \"nonce\": \"%s\"}\\n' % n).encode())\n"
              "    os._exit(0)\n")
ATTACKS.update({
    "read the nonce back from the report descriptor": (
        "import os, re\nfor FD in range(3, 64):\n    try:\n        text = os.pread(FD, 65536, 0)\n"
        "    except OSError:\n        continue\n    found = re.search(rb'\"nonce\": \"([0-9a-f]{32})\"', text)\n"
        "    if not found:\n        continue\n    n = found.group(1).decode()\n" + STEPS_WITH + WRONG,
        "script"),
    "reopen the report through /proc/self/fd by a relative name": (
        "import os, re\nhere = os.getcwd()\nos.chdir('/proc/self/fd')\nfor FD in range(3, 64):\n"
        "    try:\n        text = open(str(FD), 'rb').read()\n    except OSError:\n        continue\n"
        "    found = re.search(rb'\"nonce\": \"([0-9a-f]{32})\"', text)\n"
        "    if not found:\n        continue\n    os.chdir(here)\n    n = found.group(1).decode()\n"
        + STEPS_WITH + "os.chdir(here)\n" + WRONG, "script"),
    "ctypes reads the process's memory for the nonce": (
        "import ctypes, os, re, stat\nFD = next(fd for fd in range(3, 64) if os.path.exists(f'/proc/self/fd/{fd}') "
        "and stat.S_ISREG(os.fstat(fd).st_mode))\nfor row in open('/proc/self/maps'):\n    parts = row.split()\n"
        "    lo, hi = (int(x, 16) for x in parts[0].split('-'))\n"
        "    if parts[1][0] != 'r' or len(parts) > 5 and parts[5].startswith('[v'):\n        continue\n"
        "    found = re.search(rb', \"nonce\": \"([0-9a-f]{32})\"}', ctypes.string_at(lo, hi - lo))\n"
        "    if not found:\n        continue\n    n = found.group(1).decode()\n" + STEPS_WITH + WRONG,
        "script"),
    "an object equal to everything, to a script's assert": (
        "class Equal:\n    def __eq__(self, other):\n        return True\n"
        "def inc(x):\n    return Equal()\n", "script"),
    "an int equal to every int but 0 and 1, to unittest": (
        "class Liar(int):\n    __hash__ = int.__hash__\n"
        "    def __eq__(self, other):\n        return type(other) is int and other not in (0, 1)\n"
        "    def __ne__(self, other):\n        return not self.__eq__(other)\n"
        "def inc(x):\n    return Liar(x)\n", "unittest"),
    "a form feed in a comment turns the host's checks into a script": (
        "# header\x0ccomment\nclass Equal:\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = None\ndef inc(x):\n    return Equal()\n", "values"),
    "a lone CR and a backslash swallow a test": (
        WRONG + "# a comment\rif 0: \\\n", "single"),
    "a decorator on the solution's last line wraps the first test": (
        WRONG + "@lambda f: (lambda *a, **k: None)\n", "check"),
    "the solution raises SkipTest": (
        "import unittest\ndef inc(x):\n    raise unittest.SkipTest('not today')\n", "unittest"),
    "a TestCase.__getattribute__ that turns asserts off": (
        "import unittest\ndef quiet(self, name, get=object.__getattribute__):\n"
        "    return (lambda *a, **k: None) if name.startswith('assert') else get(self, name)\n"
        "unittest.TestCase.__getattribute__ = quiet\n" + WRONG, "unittest"),
    "Tally counts failures as skips": (
        "import sys\nT = sys.modules['codeeval_unittest'].Tally\n"
        "T.addFailure = T.addSkip\nT.addError = T.addSkip\n" + WRONG, "unittest"),
})

# Found by a second hostile review the same day, against the fixes above.
PARTIAL_EQ = ("import functools\ndef liar(self, other):\n    return type(other) is int and other != 0\n"
              "class Equal:\n    __eq__ = functools.partialmethod(liar)._make_unbound_method()\n"
              "    __hash__ = object.__hash__\ndef inc(x):\n    return Equal()\n")
METACLASS_SWAP = (   # the metaclass's __eq__ runs when the checker asks whether the type is a tuple
    "import sys\ndef liar(self, other):\n    del Equal.__eq__\n    return True\n"
    "class Meta(type):\n    def __eq__(cls, other):\n        f = sys._getframe(1)\n"
    "        if (cls is Equal and other is tuple and f.f_code.co_name == 'lying_operand'\n"
    "                and not isinstance(f.f_locals.get('value'), Equal)):\n"
    "            Equal.__eq__ = liar\n        return type.__eq__(cls, other)\n"
    "    __hash__ = type.__hash__\nclass Equal(metaclass=Meta):\n    __hash__ = object.__hash__\n"
    "def inc(x):\n    return Equal()\n")
ATTACKS.update({
    "a library's code as __eq__ (functools.partialmethod), to a script's assert": (PARTIAL_EQ, "script"),
    "a library's code as __eq__ (functools.partialmethod), to unittest": (PARTIAL_EQ, "unittest"),
    "a library's code object with the program's closure as __eq__": (
        "import functools, sys, types\n"
        "code = functools.partialmethod(len)._make_unbound_method().__code__\n"
        "class Fake:\n    pass\nfake = Fake()\nfake.func = lambda a, b: True\nfake.args, fake.keywords = (), {}\n"
        "class Equal:\n    __eq__ = types.FunctionType(code, functools.__dict__, '__eq__', None, "
        "(types.CellType(fake),))\n    __hash__ = object.__hash__\ndef inc(x):\n    return Equal()\n",
        "script"),
    "a metaclass swaps the class's __eq__ while it is checked, to a script's assert": (
        METACLASS_SWAP, "script"),
    "a metaclass swaps the class's __eq__ while it is checked, to unittest": (METACLASS_SWAP, "unittest"),
    "a container of the program's that holds anything, to assertIn": (
        "class All:\n    def __contains__(self, member):\n        return True\n"
        "def inc(x):\n    return All()\n", "unittest-in"),
    "the shared unittest loader hands back a passing suite": (
        "import unittest\nclass Fine(unittest.TestCase):\n    def test_fine(self):\n        pass\n"
        "unittest.defaultTestLoader.loadTestsFromTestCase = lambda cls: unittest.TestSuite([Fine('test_fine')])\n"
        + WRONG, "unittest"),
    "sys.audit swapped, a dict subclass in the record steals the key from the encoder": (
        "import functools, hashlib, json, os, sys\naudit = sys.audit\n"
        "class Evil(dict):\n    def items(self):\n        f = sys._getframe(1)\n"
        "        while f is not None and 'key' not in f.f_locals:\n            f = f.f_back\n"
        "        key, seq = f.f_locals['key'], f.f_locals['sequence']\n"
        "        for record in [{'event': 'step', 'name': f'line {n}', 'outcome': 'passed'} for n in (4, 5, 6)] \\\n"
        "                + [{'event': 'done', 'steps': 3}]:\n"
        "            body = json.dumps(record)[:-1] + ', \"seq\": %d, \"mac\": \"' % seq\n"
        "            seq += 1\n"
        "            os.write(3, (body + hashlib.sha256((key + body).encode()).hexdigest() + '\"}\\n').encode())\n"
        "        os._exit(0)\n"
        "sys.audit = functools.partial(audit, 'codeeval.report', {'event': 'noise', 'v': Evil(a=1)})\n"
        + WRONG, "script"),
})

# Found by a third review: the program cannot read its report, but it can write into it at an
# offset. Each rewrites the hook's line for the failing step (its nonce stamp, the last 47
# bytes, kept) from an audit hook of its own, which runs after the harness's.
REWRITE = ("import os, stat, sys, fcntl\n"
           "FD = next(fd for fd in range(3, 256) if os.path.exists(f'/proc/self/fd/{fd}') "
           "and stat.S_ISREG(os.fstat(fd).st_mode))\n"
           "def rewrite(start, end, text):\n    body = text.encode()\n"
           "    WRITE(body + b' ' * (end - 47 - start - len(body)), start)\n"
           "def first_test():\n    lines = open(__file__).read().split('\\n')\n"
           "    return next(i + 1 for i, t in enumerate(lines) if t.startswith(('y = inc(1)', 'import unittest')))\n"
           "END = [os.fstat(FD).st_size]\n"
           "def hook(event, args):\n    if event != 'codeeval.report':\n        return\n"
           "    size = os.fstat(FD).st_size\n    record = args[0]\n"
           "    if record.get('event') == 'step' and record.get('outcome') != 'passed':\n"
           "        rewrite(END[0], size, '{\"event\": \"step\", \"name\": \"%s\", \"outcome\": \"passed\", '\n"
           "                '\"tests_run\": 2, \"tally\": {\"run\": 2, \"success\": 2}' % record['name'])\n"
           "    END[0] = size\n")
WITHOUT_APPEND = ("D = os.dup(FD)\nfcntl.fcntl(D, fcntl.F_SETFL, fcntl.fcntl(D, fcntl.F_GETFL) & ~os.O_APPEND)\n"
                  "WRITE = lambda data, offset: os.pwrite(D, data, offset)\n")
ATTACKS.update({
    "rewrite the failing step's line (a dup without O_APPEND)": (
        REWRITE + WITHOUT_APPEND + "sys.addaudithook(hook)\n" + WRONG, "unittest"),
    "rewrite the failing step's line (pwritev2 with RWF_NOAPPEND)": (
        REWRITE + "WRITE = lambda data, offset: os.pwritev(FD, [data], offset, 0x20)\n"
        "sys.addaudithook(hook)\n" + WRONG, "unittest"),
    "forked children trip the hook, their lines rewritten into passing steps": (
        REWRITE + WITHOUT_APPEND +
        "def stamped(text):\n    start = os.fstat(D).st_size\n    pid = os.fork()\n    if pid == 0:\n"
        "        try:\n            open('/proc/' + 'z' * 150 + '/mem')\n        finally:\n"
        "            os._exit(1)\n    os.waitpid(pid, 0)\n    rewrite(start, os.fstat(D).st_size, text)\n"
        "stamped('{\"event\": \"step\", \"name\": \"line %d\", \"outcome\": \"passed\"' % (first_test() + 2))\n"
        "stamped('{\"event\": \"done\", \"steps\": 3')\nEND[0] = os.fstat(D).st_size\n"
        "sys.addaudithook(hook)\n" + WRONG, "script"),
})

# Found by a fourth review, and while fixing it.
OUTCOME_OF_TEST = ("import sys, unittest\ndef outcome():\n    f = sys._getframe(2)\n"
                   "    while f is not None and not hasattr(f.f_locals.get('self'), '_outcome'):\n"
                   "        f = f.f_back\n    return None if f is None else f.f_locals['self']._outcome\n")
ATTACKS.update({
    "the running test's _Outcome expects a failure": (
        OUTCOME_OF_TEST + "def inc(x):\n    found = outcome()\n    if found is not None:\n"
        "        found.expecting_failure = True\n    return x\n", "unittest"),
    "the running test's _Outcome reports to a result of the program's": (
        OUTCOME_OF_TEST + "class Sink(unittest.TestResult):\n    def __init__(self, outcome):\n"
        "        super().__init__()\n        self.outcome = outcome\n"
        "    def addFailure(self, test, err):\n        self.outcome.success = True\n"
        "    addError = addFailure\n"
        "def inc(x):\n    found = outcome()\n    if found is not None and not isinstance(found.result, Sink):\n"
        "        found.result = Sink(found)\n    return x\n", "unittest"),
    "PyFrame_LocalsToFast rewrites the runner's locals": (
        "import ctypes, sys\ndef inc(x):\n    f = sys._getframe(1)\n"
        "    while f is not None and f.f_code.co_name != 'run_script':\n        f = f.f_back\n"
        "    if f is not None:\n        f.f_locals['run'] = lambda code, ns: None\n"
        "        f.f_locals['evaluate'] = lambda code, ns: 0\n"
        "        ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(f), ctypes.c_int(0))\n"
        "    return x\n", "script"),
    "the runner codes the hook trusts, extended with the program's": (
        "import os, sys\nsteps = sys.modules['codeeval_steps']\ndef inc(x):\n"
        "    f = sys._getframe()\n    while f is not None:\n"
        "        steps.RUNNER_CODES[id(f.f_code)] = f.f_code\n        f = f.f_back\n"
        "    lines = open(__file__).read().split('\\n')\n"
        "    first = next(i + 1 for i, t in enumerate(lines) if t.startswith('y = inc(1)'))\n"
        "    for n in range(3):\n"
        "        steps.report({'event': 'step', 'name': f'line {first + n}', 'outcome': 'passed'})\n"
        "    steps.report({'event': 'done', 'steps': 3})\n    os._exit(0)\n", "script"),
    "a closure cell of assertEqual rewritten": (
        "import unittest\nf = unittest.TestCase.assertEqual\n"
        "for name, cell in zip(f.__code__.co_freevars, f.__closure__ or ()):\n"
        "    if name in ('assertion', 'lying'):\n        cell.cell_contents = lambda *a, **k: None\n"
        + WRONG, "unittest"),
})

# Found by a fifth review.
TEST_SELF = "import sys\ndef test_self():\n    return sys._getframe(2).f_locals.get('self')\n"
ATTACKS.update({
    "a library's __eq__ code with the builtins of a module the program made": (
        "import sys, types, email.charset\n"
        "def fake_str(obj):\n    f = sys._getframe(1)\n    while f is not None:\n"
        "        if f.f_code.co_name in ('says_equal', 'lying_operand', 'lying_member'):\n"
        "            return 'no'\n        f = f.f_back\n    return 'yes'\n"
        "shadow = types.ModuleType('email._charset_shadow')\nshadow.__dict__['__builtins__'] = {'str': fake_str}\n"
        "sys.modules['email._charset_shadow'] = shadow\n"
        "class Liar:\n    __eq__ = types.FunctionType(email.charset.Charset.__eq__.__code__, shadow.__dict__, '__eq__')\n"
        "    __hash__ = object.__hash__\ndef inc(x):\n    return Liar()\n", "script"),
    "the running test's own assertEqual machinery replaced": (
        TEST_SELF + "def inc(x):\n    test = test_self()\n    if test is not None:\n"
        "        test._getAssertEqualityFunc = lambda first, second: (lambda *a, **k: None)\n"
        "    return x\n", "unittest"),
    "the running test's own fail replaced, to assertIn": (
        TEST_SELF + "def inc(x):\n    test = test_self()\n    if test is not None:\n"
        "        test.fail = lambda *a, **k: None\n    return [x]\n", "unittest-in"),
    "contextlib's exit swallows the failing part": (
        "import contextlib\ndef swallow(self, kind, value, traceback):\n    try:\n        next(self.gen)\n"
        "    except StopIteration:\n        pass\n    return True\n"
        "contextlib._GeneratorContextManager.__exit__ = swallow\n" + WRONG, "unittest"),
    "unittest.util counts nothing, to assertCountEqual": (
        "import unittest.util\nunittest.util.Counter = lambda iterable: {}\n"
        "def inc(x):\n    return [x]\n", "unittest-count"),
})

# Found by a sixth review.
LIAR = ("class Liar:\n    __hash__ = object.__hash__\n    def __eq__(self, other):\n"
        "        return type(other) is int and other not in (0, 1)\n")
ATTACKS.update({
    "an assertEqual set on the running test instance": (
        "import sys\ndef inc(x):\n    test = sys._getframe(1).f_locals.get('self')\n"
        "    if test is not None:\n        test.assertEqual = lambda *a, **k: None\n    return x\n",
        "unittest-result"),
    "an operand whose __sub__ makes every difference 0, to assertAlmostEqual": (
        "class Near:\n    def __sub__(self, other):\n        return 0.0\n    __rsub__ = __sub__\n"
        "def inc(x):\n    return Near()\n", "unittest-almost"),
    "a list subclass holding liars, to a script's assert": (
        LIAR + "class Listed(list):\n    pass\ndef listed(x):\n    return Listed([Liar(), Liar()])\n",
        "script-list"),
    "a dict subclass whose __ne__ says no, to assertDictEqual": (
        "class Same(dict):\n    def __ne__(self, other):\n        return False\n"
        "def inc(x):\n    return Same(v=x)\n", "unittest-dict"),
    "the method cache keeps a lying __eq__ its class's dict no longer has": (
        "import gc\n" + LIAR + "Liar() == 5\n"
        "raw = [d for d in gc.get_referents(Liar.__dict__) if type(d) is dict][0]\n"
        "kept = raw.pop('__eq__')\ndef inc(x):\n    return Liar()\n", "unittest"),
})

# Found in the seventh round: comparisons the test code writes itself, which run the program's
# methods with no assertion of unittest's in between (BigCodeBench's tests have 542
# `assertTrue(x == y)`; HumanEval's `check` asserts inside a function).
EQUAL = "class Equal:\n    def __eq__(self, other):\n        return True\n    __hash__ = None\n"
ATTACKS.update({
    "an object equal to everything, to assertTrue(x == y)": (
        EQUAL + "def inc(x):\n    return Equal()\n", "unittest-true"),
    "an object equal to everything, to an assert in a test method": (
        EQUAL + "def inc(x):\n    return Equal()\n", "unittest-assert"),
    "an object equal to everything, to HumanEval's check()": (
        EQUAL + "def inc(x):\n    return Equal()\n", "check"),
    "a container that holds anything, to `in` in the test code": (
        "class All:\n    def __contains__(self, item):\n        return True\n"
        "def inc(x):\n    return All()\n", "unittest-true-in"),
    "an object between any two numbers, to a chained comparison": (
        "class Between:\n    def __gt__(self, other):\n        return True\n"
        "    def __le__(self, other):\n        return True\n"
        "def inc(x):\n    return Between()\n", "unittest-between"),
})

# Found by the seventh review, against the comparisons above: the judges' own functions
# switched off between two reports and back inside the comparison; a gc callback that gives a
# checked class a lying __eq__ before the comparison; library methods (UserList's, Fraction's)
# that hand the comparison to state the program set.
ATTACKS.update({
    "switch the judge off and back on inside the comparison": (
        "import sys\nC = sys.modules['codeeval_comparisons']\nREAL = C.lying_operand\n"
        "class Equal:\n    def __eq__(self, other):\n        C.lying_operand = REAL\n"
        "        return True\n    __hash__ = None\n"
        "def inc(x):\n    C.lying_operand = lambda *args, **kwargs: None\n    return Equal()\n",
        "unittest"),
    "a gc callback gives the checked class a lying __eq__": (
        "import gc, sys\nclass Honest(int):\n    pass\n"
        "def says_yes(self, other):\n    return True\narmed = []\n"
        "def flip(phase, info):\n    if phase != 'start' or not armed:\n        return\n"
        "    frame = sys._getframe(1)\n    while frame is not None:\n"
        "        if frame.f_code.co_name == 'as_plain_container':\n"
        "            Honest.__eq__ = says_yes\n            armed.clear()\n            return\n"
        "        frame = frame.f_back\ngc.callbacks.append(flip)\n"
        "def inc(x):\n    if '__eq__' in Honest.__dict__:\n        del Honest.__eq__\n"
        "    gc.set_threshold(1)\n    armed.append(True)\n    return Honest(x)\n", "unittest"),
    "a UserList whose data lies": (
        "from collections import UserList\n" + LIAR +
        "class Wrapped(UserList):\n    pass\n"
        "def inc(x):\n    value = Wrapped()\n    value.data = Liar()\n    return value\n",
        "unittest"),
    "a Fraction whose numerator lies": (
        "from fractions import Fraction\n" + LIAR.replace("class Liar:", "class Liar(int):") +
        "def inc(x):\n    value = Fraction(x)\n    value._numerator = Liar(x)\n"
        "    return value\n", "unittest-true"),
    # unittest itself patched between the harness's looks (found while fixing the above)
    "skip every test method, unittest put back after the last": (
        "import unittest\nREAL = unittest.TestCase._callTestMethod\ndone = []\n"
        "def skip(self, method):\n    done.append(method)\n"
        "    if len(done) == len(unittest.TestLoader().getTestCaseNames(type(self))):\n"
        "        unittest.TestCase._callTestMethod = REAL\n"
        "unittest.TestCase._callTestMethod = skip\n" + WRONG, "unittest"),
    "skip the test method from code its setUp runs": (
        "import unittest\nREAL = unittest.TestCase._callTestMethod\n"
        "def skip(self, method):\n    unittest.TestCase._callTestMethod = REAL\n"
        "def inc(x):\n    unittest.TestCase._callTestMethod = skip\n    return x\n",
        "unittest-setup"),
    "isinstance patched by the solution, put back by its first call": (
        "import builtins\nREAL = builtins.isinstance\n"
        "def yes(obj, kind):\n    builtins.isinstance = REAL\n    return True\n"
        "def inc(x):\n    builtins.isinstance = yes\n    return x\n", "unittest-instance"),
})

# Found by the eighth review: code a library compiles from the program's text (timeit) taken for
# the library's; a `setUpModule` of the solution's, which unittest calls before the first test,
# hiding each test method behind an instance attribute; the same from a setUp that runs the
# solution, hiding the call of the test method once.
ATTACKS.update({
    "timeit compiles the liar, which a UserList's comparison then runs": (
        "import timeit\nfrom collections import UserList\nG = {}\n"
        "timeit.Timer('pass', setup=('global Liar\\n' + " + repr(LIAR) + "), globals=G).timeit(1)\n"
        "Liar = G['Liar']\nclass Wrapped(UserList):\n    pass\n"
        "def inc(x):\n    value = Wrapped()\n    value.data = Liar()\n    return value\n",
        "unittest"),
    "a setUpModule of the solution's hides every test method": (
        "import sys\ndef setUpModule():\n    frame = sys._getframe(1)\n"
        "    while frame is not None:\n        suite = frame.f_locals.get('self')\n"
        "        for test in list(getattr(suite, '_tests', ()) or ()):\n"
        "            name = getattr(test, '_testMethodName', None)\n"
        "            if name:\n                test.__dict__[name] = lambda: None\n"
        "        frame = frame.f_back\n" + WRONG, "unittest"),
    "code setUp runs hides the call of the test method once": (
        "import sys\ndef inc(x):\n    test = sys._getframe(1).f_locals.get('self')\n"
        "    if x == 0 and test is not None:\n        def skip(method):\n"
        "            del test.__dict__['_callTestMethod']\n"
        "        test.__dict__['_callTestMethod'] = skip\n    return x\n", "unittest-setup"),
})

# Found by the ninth review: a dataclass field name with newlines is code in the `__eq__`
# dataclasses compiles (taken for the library's); `__class__ = str` passes isinstance with no
# code run; importlib's source_to_code compiles the program's text under a standard library
# file name (taken for the library's).
ATTACKS.update({
    "a dataclass field name that is code, behind a UserList": (
        "import dataclasses\nfrom collections import UserList\n"
        "NAME = 'a,)\\n  return type(other) is int and other not in (0, 1)\\n  if 0:\\n"
        "   return (self.a'\n"
        "Liar = dataclasses.dataclass(init=False, repr=False)(type('Liar', (), {\n"
        "    '__annotations__': {NAME: int}, NAME: dataclasses.field(init=False, repr=False)}))\n"
        "class Wrapped(UserList):\n    pass\n"
        "def inc(x):\n    value = Wrapped()\n    value.data = Liar()\n    return value\n",
        "unittest"),
    "a __class__ class attribute claims str, to assertIsInstance": (
        "class Fake:\n    __class__ = str\ndef inc(x):\n    return Fake()\n", "unittest-instance"),
    "a __class__ class attribute claims str, to isinstance in the test code": (
        "class Fake:\n    __class__ = str\ndef inc(x):\n    return Fake()\n",
        "unittest-true-instance"),
    "importlib compiles the liar under a standard library file name": (
        "import os, sys, types\nfrom importlib.machinery import SourceFileLoader\n"
        "SRC = " + repr(LIAR) + "\n"
        "PATH = os.path.join(os.path.dirname(os.__file__), 'zz_liar.py')\n"
        "code = SourceFileLoader.source_to_code(None, SRC, PATH)\n"
        "module = types.ModuleType('zz_liar')\nsys.modules['zz_liar'] = module\n"
        "exec(code, module.__dict__)\ndef inc(x):\n    return module.Liar()\n", "unittest"),
})

# Found by the tenth review: an audit hook of the program's, which runs right after the
# harness's (after its check, before what the check guards): the judge swapped between the
# two, or the guard's profile kept set past the guard so that the nested-assertion shortcut
# skips every check; a C callable as `__getattribute__` claims a class for isinstance.
ATTACKS.update({
    "an audit hook of the program's swaps the judge after the harness's check": (
        "import sys\nU = sys.modules['codeeval_unittest']\nREAL = U.refuse_liar\n"
        "def fake(name, names, args, kwargs, seen=None):\n    if seen is not None:\n"
        "        seen.append(None)\n" + LIAR.replace(
            "    def __eq__(self, other):\n",
            "    def __eq__(self, other):\n        U.refuse_liar = REAL\n") +
        "def hook(event, args):\n"
        "    if event == 'codeeval.judge' and sys._getframe(1).f_code.co_name == 'judged':\n"
        "        U.refuse_liar = fake\nsys.addaudithook(hook)\n"
        "def inc(x):\n    return Liar()\n", "unittest"),
    "an audit hook of the program's keeps the guard's profile set": (
        "import sys\nC = sys.modules['codeeval_comparisons']\nGUARD = C.refuse_program_code\n"
        "ARM = []\nclass Keep(Exception):\n    pass\n"
        "def hook(event, args):\n"
        "    if event == 'sys.setprofile' and ARM and sys.getprofile() is GUARD:\n"
        "        ARM.clear()\n        raise Keep()\n"
        "    if event == 'codeeval.judge' and not ARM and sys.getprofile() is GUARD:\n"
        "        sys.setprofile(None)\nsys.addaudithook(hook)\n"
        "class Yes:\n    __eq__ = bool\n    __hash__ = object.__hash__\n"
        "def inc(x):\n    ARM.append(1)\n    try:\n        C.guarded(len, ((),), {})\n"
        "    except Keep:\n        pass\n    return Yes()\n", "unittest"),
    "a C callable as __getattribute__ claims str, to assertIsInstance": (
        "class Fake:\n    __getattribute__ = {'__class__': str}.get\n"
        "def inc(x):\n    return Fake()\n", "unittest-instance"),
})

# Once the program's code runs inside the audit hook: find the hook's state (the nonce, the
# sequence number, the report descriptor) through the closures of the functions in the frames
# below, and write signed passing lines for TestInc.
FORGE_FROM_HOOK_FRAMES = (
    'def closure_of(function):\n'
    '    code = function.__code__\n'
    '    return dict(zip(code.co_freevars, (c.cell_contents for c in function.__closure__ or ())))\n'
    'def find_state(scope, depth=0):\n'
    '    if depth > 4:\n'
    '        return None\n'
    "    if 'key' in scope and 'sequence' in scope and 'report_fd' in scope:\n"
    '        return scope\n'
    '    for value in list(scope.values()):\n'
    '        if isinstance(value, types.FunctionType) and value.__closure__:\n'
    '            found = find_state(closure_of(value), depth + 1)\n'
    '            if found:\n'
    '                return found\n'
    '    return None\n'
    'def forge(state):\n'
    "    key, seq, fd = state['key'], state['sequence'], state['report_fd']\n"
    '    def write(record):\n'
    '        nonlocal seq\n'
    '        body = json.dumps(record)[:-1] + \', "seq": \' + str(seq) + \', "mac": "\'\n'
    '        os.write(fd, (body + hashlib.sha256((key + body).encode()).hexdigest() + \'"}\\n\').encode())\n'
    '        seq += 1\n'
    "    write({'event': 'step', 'name': 'TestInc', 'outcome': 'passed', 'tests_run': 2, 'failures': 0,\n"
    "           'errors': 0, 'message': '', 'tally': {'run': 2, 'success': 2}})\n"
    "    write({'event': 'done', 'steps': 1})\n"
    '    os._exit(0)\n'
    'def forge_from_frames(frame):\n'
    '    while frame is not None:\n'
    '        state = find_state(dict(frame.f_locals))\n'
    '        if state:\n'
    '            forge(state)\n'
    '        frame = frame.f_back\n')

# Found by the eleventh review (and while fixing it): the test class changed while it runs
# (a hook, an assertion or the test method set on the class and removed again, the test
# instance given another class, the suite stopped after the first test), wrappers and
# descriptors that name a test function, C callables as __eq__ past the liar checks' limits or
# inside a library's object, and a library's comparison code over globals the program made.
ATTACKS.update({
    "a setUp that runs the solution sets a self-removing _callTestMethod on the test class": (
        'import sys\n'
        'def _skip(self, method):\n'
        '    del type(self)._callTestMethod\n'
        'def inc(x):\n'
        "    test = sys._getframe(1).f_locals.get('self')\n"
        '    if x == 0 and test is not None:\n'
        '        type(test)._callTestMethod = _skip\n'
        '    return x\n',
        "unittest-setup"),
    "a class-creation hook leaves a descriptor whose __func__ names a test function as _callTestMethod": (
        'import builtins, unittest\n'
        '_orig = builtins.__build_class__\n'
        'class _Skip:\n'
        '    def __init__(self, f):\n'
        '        self.__func__ = f          # what written_by_tests looks at: a function of the test lines\n'
        '    def __get__(self, instance, owner=None):\n'
        '        return lambda method: None  # what unittest calls: runs no test method\n'
        'def _build(func, name, *bases, **kw):\n'
        '    cls = _orig(func, name, *bases, **kw)\n'
        '    if any(isinstance(b, type) and issubclass(b, unittest.TestCase) for b in bases):\n'
        '        builtins.__build_class__ = _orig\n'
        "        test = next(v for k, v in vars(cls).items() if k.startswith('test'))\n"
        '        cls._callTestMethod = _Skip(test)\n'
        '    return cls\n'
        'builtins.__build_class__ = _build\n'
        'def inc(x):\n'
        '    return x\n',
        "unittest"),
    "__init_subclass__ leaves a partial whose __wrapped__ is a test function as _callTestMethod": (
        'import functools, unittest\n'
        "_orig = unittest.TestCase.__dict__['__init_subclass__']\n"
        'def _noop(*args):\n'
        '    return None\n'
        'def _hook(cls, **kw):\n'
        '    unittest.TestCase.__init_subclass__ = _orig    # put back: the dict holds the same object again\n'
        '    _orig.__get__(None, cls)(**kw)\n'
        "    test = next(v for k, v in vars(cls).items() if k.startswith('test'))\n"
        '    skip = functools.partial(_noop)                  # no __code__: written_by_tests follows __wrapped__\n'
        '    skip.__wrapped__ = test                          # ... to a function of the test lines\n'
        '    cls._callTestMethod = skip\n'
        'unittest.TestCase.__init_subclass__ = classmethod(_hook)\n'
        'def inc(x):\n'
        '    return x\n',
        "unittest"),
    "a class-creation hook leaves a library's no-op as _callTestMethod": (
        'import builtins, logging, unittest\n'
        '_orig = builtins.__build_class__\n'
        'def _build(func, name, *bases, **kw):\n'
        '    cls = _orig(func, name, *bases, **kw)\n'
        '    if any(isinstance(b, type) and issubclass(b, unittest.TestCase) for b in bases):\n'
        '        builtins.__build_class__ = _orig\n'
        '        cls._callTestMethod = logging.NullHandler.handle\n'
        '    return cls\n'
        'builtins.__build_class__ = _build\n'
        'def inc(x):\n'
        '    return x\n',
        "unittest"),
    "the solution stops the suite after the first test passes": (
        'import sys\n'
        'def inc(x):\n'
        '    f = sys._getframe(1)\n'
        "    while f is not None and not hasattr(f.f_locals.get('self'), '_outcome'):\n"
        '        f = f.f_back\n'
        '    if f is not None:\n'
        "        f.f_locals['self']._outcome.result.stop()\n"
        '    return x + 1 if x == 1 else x\n',
        "unittest"),
    "the solution marks the class as failing its setUpClass after the first test": (
        'import sys\n'
        'def inc(x):\n'
        "    test = sys._getframe(1).f_locals.get('self')\n"
        '    if test is not None:\n'
        '        type(test)._classSetupFailed = True\n'
        '    return x + 1 if x == 1 else x\n',
        "unittest"),
    "a setUp that runs the solution gives the test instance a subclass that skips its method": (
        'import sys\n'
        'def inc(x):\n'
        "    test = sys._getframe(1).f_locals.get('self')\n"
        "    if test is not None and type(test).__name__ == 'TestInc':\n"
        '        class Sub(type(test)):\n'
        '            def _callTestMethod(self, method):\n'
        '                self.__class__ = Sub.__mro__[1]\n'
        '        test.__class__ = Sub\n'
        '    return x\n',
        "unittest-setup"),
    "the solution sets assertEqual on the test class, removed by its second call": (
        'import sys\n'
        'CALLS = []\n'
        'def fake(self, first, second, msg=None):\n'
        '    CALLS.append(1)\n'
        '    if len(CALLS) == 2:\n'
        '        del type(self).assertEqual\n'
        'def inc(x):\n'
        "    test = sys._getframe(1).f_locals.get('self')\n"
        "    if test is not None and 'assertEqual' not in vars(type(test)) and not CALLS:\n"
        '        type(test).assertEqual = fake\n'
        '    return x\n',
        "unittest-result"),
    "the solution sets assertEqual on the test class for each call": (
        'import sys\n'
        'def fake(self, first, second, msg=None):\n'
        '    del type(self).assertEqual\n'
        'def inc(x):\n'
        "    test = sys._getframe(1).f_locals.get('self')\n"
        '    if test is not None:\n'
        '        type(test).assertEqual = fake\n'
        '    return x\n',
        "unittest-result"),
    "a sys.modules of the program's swaps the test methods when the harness looks the module up": (
        'import sys\n'
        'REAL = sys.modules\n'
        'SAVED = {}\n'
        'def quiet(self, *args, **kwargs):\n'
        '    pass\n'
        'def cleanup(cls):\n'
        '    for name, method in SAVED.items():\n'
        '        setattr(cls, name, method)\n'
        '    del cls.tearDownClass\n'
        'class Modules(dict):\n'
        '    def get(self, key, default=None):\n'
        "        if key == 'solution':\n"
        '            sys.modules = REAL\n'
        "            test_class = REAL['solution'].__dict__.get('TestInc')\n"
        '            if test_class is not None:\n'
        '                for name, method in list(vars(test_class).items()):\n'
        "                    if name.startswith('test'):\n"
        '                        SAVED[name] = method\n'
        '                        setattr(test_class, name, quiet)\n'
        '                test_class.tearDownClass = classmethod(cleanup)\n'
        '        return REAL.get(key, default)\n'
        'sys.modules = Modules(REAL)\n'
        'def inc(x):\n'
        '    return x\n',
        "unittest"),
    "a functools.cmp_to_key of the program's sets no-op assertions while unittest loads the tests": (
        'import functools, sys\n'
        'REAL_KEY = functools.cmp_to_key\n'
        "NAMES = [n for n in dir(__import__('unittest').TestCase) if n.startswith('assert')]\n"
        'def quiet(self, *args, **kwargs):\n'
        '    pass\n'
        'def cleanup(cls):\n'
        "    for name in NAMES + ['tearDownClass']:\n"
        '        if name in vars(cls):\n'
        '            delattr(cls, name)\n'
        'def cmp_to_key(mycmp):\n'
        '    functools.cmp_to_key = REAL_KEY\n'
        "    test_class = sys.modules['solution'].__dict__.get('TestInc')\n"
        '    if test_class is not None:\n'
        '        for name in NAMES:\n'
        '            setattr(test_class, name, quiet)\n'
        '        test_class.tearDownClass = classmethod(cleanup)\n'
        '    return REAL_KEY(mycmp)\n'
        'functools.cmp_to_key = cmp_to_key\n'
        'def inc(x):\n'
        '    return x\n',
        "unittest"),
    "a C callable as __eq__ past the first 10,000 items": (
        'class Yes:\n'
        '    __eq__ = bool   # a C callable, not bound: bool(other), True for any nonzero; no Python frame\n'
        '    __hash__ = object.__hash__\n'
        'def incs(xs):\n'
        '    return [x + 1 if x < 10000 else Yes() for x in xs]\n',
        "unittest-big"),
    "a C callable as __eq__ past a set's first 100 items": (
        'class Yes:\n'
        '    __eq__ = bool          # a C callable: bool(other), no Python frame in the comparison\n'
        '    def __init__(self, h):\n'
        '        self.h = h\n'
        '    def __hash__(self):    # called when the set is built, in the solution; the set keeps it\n'
        '        return self.h\n'
        'def incs(xs):\n'
        '    return {x + 1 if x < 150 else Yes(x + 1) for x in xs}\n',
        "unittest-set"),
    "a C callable as __eq__ deeper than 20 levels": (
        'class Yes:\n'
        '    __eq__ = bool\n'
        '    __hash__ = object.__hash__\n'
        'def deep(x):\n'
        '    v = Yes()\n'
        '    for _ in range(22):\n'
        '        v = [v]\n'
        '    return v\n',
        "unittest-deep"),
    "a UserList whose data is an int subclass with int.__lt__ as __eq__": (
        'from collections import UserList\n'
        'class Liar(int):\n'
        '    __eq__ = int.__lt__\n'
        '    __ne__ = int.__ge__\n'
        '    __hash__ = int.__hash__\n'
        'class Wrapped(UserList):\n'
        '    pass\n'
        'def inc(x):\n'
        '    value = Wrapped()\n'
        '    value.data = Liar(1)\n'
        '    return value\n',
        "unittest"),
    "a Fraction whose numerator is an int subclass with int.__lt__ as __eq__": (
        'from fractions import Fraction\n'
        'class Liar(int):\n'
        '    __eq__ = int.__lt__\n'
        '    __hash__ = int.__hash__\n'
        'def inc(x):\n'
        '    value = Fraction(x)\n'
        '    value._numerator = Liar(1)\n'
        '    return value\n',
        "unittest"),
    # the hook looked `len` up in the harness's builtins copy, a dict the program can reach:
    # the program's `len` ran inside the hook, with the hook's state on the stack
    "a len of the program's in the harness's builtins runs inside the hook": (
        'import hashlib, json, os, sys, types\n'
        "B = sys.modules['codeeval_guard'].__builtins__\n"
        "REAL_LEN = B['len']\n"
        + FORGE_FROM_HOOK_FRAMES +
        'def spy(value):\n'
        "    B['len'] = REAL_LEN\n"
        '    forge_from_frames(sys._getframe(1))\n'
        '    return REAL_LEN(value)\n'
        'def inc(x):\n'
        "    B['len'] = spy\n"
        '    return x\n',
        "unittest"),
    "argparse's __eq__ code run with the globals of a module the program made": (
        'import argparse, builtins, sys, types\n'
        "shadow = types.ModuleType('argparse_shadow')\n"
        "shadow.__dict__.update({'__builtins__': vars(builtins), 'Namespace': int, 'vars': bool})\n"
        "sys.modules['argparse_shadow'] = shadow\n"
        'class Liar:\n'
        "    __eq__ = types.FunctionType(argparse.Namespace.__eq__.__code__, shadow.__dict__, '__eq__')\n"
        '    __hash__ = object.__hash__\n'
        'def inc(x):\n'
        '    return Liar()\n',
        "unittest"),
})

# A hooked __init_subclass__ that edits the test methods after the first as the class is made
EDIT_AS_MADE = (
    "import unittest\n"
    "_orig = unittest.TestCase.__dict__['__init_subclass__']\n"
    "def _hook(cls, **kw):\n"
    "    unittest.TestCase.__init_subclass__ = _orig\n"
    "    _orig.__get__(None, cls)(**kw)\n"
    "    names = [k for k in vars(cls) if k.startswith('test')]\n"
    "    for k in names[1:]:\n"
    "        {edit}\n"
    "unittest.TestCase.__init_subclass__ = classmethod(_hook)\n"
    "def inc(x):\n"
    "    return x + 1 if x == 1 else x\n")

# Found by the twelfth review, against round 11's fixes: a test class made with a str
# subclass as a name (its __eq__ ran inside the hook's lookups), test methods edited while
# the class is made (before any check), and C comparisons out of the walk's sight: a class
# attribute standing in for a UserList's data, a dict subclass as __dict__, a weakref proxy or
# a mappingproxy around the liar, a container or an ordering nothing probed.
ATTACKS.update({
    "a str subclass as a name in the test class runs its __eq__ inside the hook": (
        'import builtins, hashlib, json, os, sys, types, unittest\n'
        "HASH = hash('setUp')     # a hook name the audit hook looks up in the test class's dict\n"
        + FORGE_FROM_HOOK_FRAMES +
        'class Key(str):\n'
        '    """A class-dict key that is a str subclass with setUp\'s hash: a lookup of \'setUp\' in that\n'
        '    dict compares it, running this __eq__ (inside the audit hook, when it snapshots the class)."""\n'
        '    def __hash__(self):\n'
        '        return HASH\n'
        '    def __eq__(self, other):\n'
        '        forge_from_frames(sys._getframe(1))\n'
        '        return False\n'
        '    __ne__ = str.__ne__\n'
        '_orig = builtins.__build_class__\n'
        'def _build(func, name, *bases, **kw):\n'
        '    if any(isinstance(b, type) and issubclass(b, unittest.TestCase) for b in bases):\n'
        '        builtins.__build_class__ = _orig\n'
        '        ns = _orig(func, name, *bases, metaclass=lambda n, b, ns: ns)\n'
        "        ns[Key('zzz')] = None\n"
        '        return type(name, bases, ns)\n'
        '    return _orig(func, name, *bases, **kw)\n'
        'builtins.__build_class__ = _build\n'
        'def inc(x):\n'
        '    return x\n',
        "unittest"),
    "__init_subclass__ deletes the test methods after the first": (
        EDIT_AS_MADE.format(edit="delattr(cls, k)"), "unittest"),
    "__init_subclass__ puts the first test method under the others' names": (
        EDIT_AS_MADE.format(edit="setattr(cls, k, vars(cls)[names[0]])"), "unittest"),
    "a UserList subclass whose data class attribute has a stateful C __eq__": (
        'import functools\n'
        'from collections import UserList\n'
        "# per assertion: the liar check twice ([probe, v, 0, v+1, v-1]) then unittest's own ==\n"
        'PATTERN = [0, 1, 0, 0, 0] * 2 + [1] * 20\n'
        'class Hidden(UserList):\n'
        '    pass\n'
        'def inc(x):\n'
        '    class Y:                       # its __eq__: a C partial, stateful, ignores the other operand\n'
        '        __eq__ = functools.partial(next, iter(PATTERN))\n'
        '        __hash__ = object.__hash__\n'
        '    class W(UserList):\n'
        '        data = Y()                 # a class attribute: not in the instance dict or a slot\n'
        '    value = W.__new__(W)\n'
        '    return value\n',
        "unittest"),
    "a UserList whose __dict__ is a dict subclass holding a stateful C __eq__": (
        'import functools\n'
        'from collections import UserList\n'
        'PATTERN = [0, 1, 0, 0, 0] * 2 + [1] * 20\n'
        'class Attrs(dict):                 # an instance __dict__ that is not exactly a dict\n'
        '    pass\n'
        'def inc(x):\n'
        '    class Y:\n'
        '        __eq__ = functools.partial(next, iter(PATTERN))\n'
        '        __hash__ = object.__hash__\n'
        '    value = UserList()\n'
        '    value.__dict__ = Attrs(data=Y())\n'
        '    return value\n',
        "unittest"),
    "a mappingproxy over an object with a stateful C __eq__": (
        'import functools, types\n'
        'PATTERN = [0, 1, 0, 0, 0] * 2 + [1] * 20\n'
        'def inc(x):\n'
        '    class Y:\n'
        '        __eq__ = functools.partial(next, iter(PATTERN))\n'
        '        __hash__ = object.__hash__\n'
        '        __getitem__ = {}.get          # enough to be a mapping\n'
        '    return types.MappingProxyType(Y())   # its C __eq__ compares the mapping it wraps\n',
        "unittest"),
    "a weakref proxy to an object with a stateful C __eq__": (
        'import functools, weakref\n'
        'PATTERN = [0, 1, 0, 0, 0] * 2 + [1] * 20\n'
        'KEEP = []\n'
        'def inc(x):\n'
        '    class Y:\n'
        '        __eq__ = functools.partial(next, iter(PATTERN))\n'
        '        __hash__ = object.__hash__\n'
        '    KEEP.append(Y())\n'
        '    return weakref.proxy(KEEP[-1])     # its C __eq__ compares the object it refers to\n',
        "unittest"),
    "a weakref proxy to an object whose __contains__ is bool": (
        'import weakref\n'
        'KEEP = []\n'
        'class Y:\n'
        '    __contains__ = bool            # a C callable: "holds" anything truthy\n'
        'def inc(x):\n'
        '    KEEP.append(Y())\n'
        '    return weakref.proxy(KEEP[-1])\n',
        "unittest-in"),
    "a weakref proxy to an object whose orderings are bool": (
        'import weakref\n'
        'KEEP = []\n'
        'class Y:\n'
        '    __lt__ = __le__ = __gt__ = __ge__ = bool   # C callables: every ordering holds\n'
        'def inc(x):\n'
        '    KEEP.append(Y())\n'
        '    return weakref.proxy(KEEP[-1])\n',
        "unittest-between"),
})

# Found by the thirteenth review, against round 12: the judge of a comparison of two scalars
# called `as_python` by name (the solution, run just before, rebound it); a gc callback of the
# program's ran between the judge's check and its comparison (rebinding what it called next),
# where round 12 had spared all-builtin operands the second check.
ATTACKS.update({
    "the solution rebinds the judge's as_python for a comparison of two scalars": (
        'import sys\n'
        "C = sys.modules['codeeval_comparisons']\n"
        'REAL = C.as_python\n'
        'def liar(op, left, right):\n'
        '    C.as_python = REAL\n'
        '    return True\n'
        'def inc(x):\n'
        '    C.as_python = liar\n'
        '    return x\n',
        "unittest-true"),
    "a gc callback swaps checked_assertion after the judge's check": (
        'import gc, sys, itertools\n'
        "U = sys.modules['codeeval_unittest']\n"
        'REAL = U.checked_assertion\n'
        'state = []\n'
        'def past_check():\n'
        '    f = sys._getframe(2)\n'
        '    while f is not None:\n'
        "        if f.f_code.co_name == 'judged' and f.f_code.co_filename.startswith('<codeeval'):\n"
        "            return 'seen' in f.f_locals\n"
        '        f = f.f_back\n'
        '    return False\n'
        'def flip(phase, info):\n'
        "    if phase != 'start' or not state:\n"
        '        return\n'
        '    U.checked_assertion = itertools.chain if past_check() else REAL\n'
        'gc.callbacks.append(flip)\n'
        'def inc(x):\n'
        '    gc.set_threshold(1)\n'
        '    if not state:\n'
        '        state.append(True)\n'
        '    return x\n',
        "unittest"),
})

# Found by the fourteenth review: the suite's test instances pointed at other methods while it
# runs (a gc callback renamed each to a no-op `runTest` set on the instance; the first test,
# which passes, renamed the later ones to itself).
ATTACKS.update({
    "a gc callback renames every test to a no-op runTest on its instance": (
        'import sys, gc\n'
        'def _noop():\n'
        '    return None\n'
        'def _cb(phase, info):\n'
        '    f = sys._getframe(1)\n'
        '    while f is not None:\n'
        '        s = f.f_locals.get("self")\n'
        '        if s is not None and type(s).__name__ == "TestSuite":\n'
        '            for t in s._tests:\n'
        '                if t is not None and vars(t).get("_testMethodName") != "runTest":\n'
        '                    t.runTest = _noop\n'
        '                    t._testMethodName = "runTest"\n'
        '            return\n'
        '        f = f.f_back\n'
        'gc.callbacks.append(_cb)\n'
        'gc.set_threshold(1, 1, 1)\n'
        'def inc(x):\n'
        '    return x + 2\n',
        "unittest"),
    "the first test renames the later ones to itself": (
        'import sys\n'
        'def inc(x):\n'
        '    f = sys._getframe(1)\n'
        '    while f is not None:\n'
        '        s = f.f_locals.get("self")\n'
        '        if s is not None and type(s).__name__ == "TestSuite":\n'
        '            for t in s._tests:\n'
        '                if t is not None:\n'
        '                    t._testMethodName = "test_one"\n'
        '            break\n'
        '        f = f.f_back\n'
        '    return 99 if x == 2 else x + 1\n',
        "unittest"),
})

CANARY = ("def inc(x):\n    return x + 1\n", "values")


def program(key: str, solution: str, kind: str) -> Program:
    head = solution if solution.endswith("\n") else solution + "\n"
    if kind.startswith("unittest"):
        tests = {"unittest": UNITTEST_TESTS,
                 "unittest-list": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)", "self.assertEqual(listed(1), [2, 3])").replace(
                     "self.assertEqual(inc(2), 3)", "self.assertEqual(listed(2), [3, 4])"),
                 "unittest-in": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)", "self.assertIn(2, inc(1))").replace(
                     "self.assertEqual(inc(2), 3)", "self.assertIn(3, inc(2))"),
                 "unittest-count": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)", "self.assertCountEqual(inc(1), [2])").replace(
                     "self.assertEqual(inc(2), 3)", "self.assertCountEqual(inc(2), [3])"),
                 "unittest-almost": UNITTEST_TESTS.replace("assertEqual", "assertAlmostEqual"),
                 "unittest-setup": UNITTEST_TESTS.replace(   # setUp runs the solution (ClassEval)
                     "    def test_one", "    def setUp(self):\n        self.start = inc(0)\n"
                     "    def test_one"),
                 "unittest-instance": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)", "self.assertIsInstance(inc(1), str)").replace(
                     "self.assertEqual(inc(2), 3)", "self.assertIsInstance(inc(2), str)"),
                 "unittest-true-instance": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)", "self.assertTrue(isinstance(inc(1), str))").replace(
                     "self.assertEqual(inc(2), 3)", "self.assertTrue(isinstance(inc(2), str))"),
                 "unittest-true": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)", "self.assertTrue(inc(1) == 2)").replace(
                     "self.assertEqual(inc(2), 3)", "self.assertTrue(inc(2) == 3)"),
                 "unittest-assert": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)", "assert inc(1) == 2").replace(
                     "self.assertEqual(inc(2), 3)", "assert inc(2) == 3"),
                 "unittest-true-in": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)", "self.assertTrue(2 in inc(1))").replace(
                     "self.assertEqual(inc(2), 3)", "self.assertFalse(2 not in inc(2))"),
                 "unittest-between": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)", "self.assertTrue(1 < inc(1) <= 2)").replace(
                     "self.assertEqual(inc(2), 3)", "self.assertTrue(2 < inc(2) <= 3)"),
                 "unittest-dict": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)", "self.assertDictEqual(inc(1), {'v': 2})").replace(
                     "self.assertEqual(inc(2), 3)", "self.assertDictEqual(inc(2), {'v': 3})"),
                 # past the liar checks' limits: 10,000 items, 100 of a set's, 20 levels
                 "unittest-big": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)",
                     "self.assertEqual(incs(range(10001)), list(range(1, 10002)))").replace(
                     "self.assertEqual(inc(2), 3)",
                     "self.assertTrue(incs(range(10001)) == list(range(1, 10002)))"),
                 "unittest-set": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)",
                     "self.assertEqual(incs(range(200)), set(range(1, 201)))").replace(
                     "self.assertEqual(inc(2), 3)",
                     "self.assertSetEqual(incs(range(200)), set(range(1, 201)))"),
                 "unittest-deep": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)", f"self.assertEqual(deep(1), {'[' * 22}2{']' * 22})"
                 ).replace("self.assertEqual(inc(2), 3)", f"self.assertEqual(deep(2), {'[' * 22}3{']' * 22})"),
                 # the result taken first: the test's own call is looked up after the solution ran
                 "unittest-result": UNITTEST_TESTS.replace(
                     "self.assertEqual(inc(1), 2)", "y = inc(1)\n        self.assertEqual(y, 2)").replace(
                     "self.assertEqual(inc(2), 3)", "y = inc(2)\n        self.assertEqual(y, 3)")}[kind]
        head = head.replace("UNITTEST_LIST", "def listed(x):\n    return [Equal(), Equal()]")
        return Program(key=key, source=head + tests, test_first_line=head.count("\n") + 1,
                       expected_steps=1, framework="unittest", test_classes=("TestInc",),
                       timeout_s=10, memory_mb=1024)
    head = head.replace("UNITTEST_LIST", "")
    tests = {"script": SCRIPT_TESTS, "values": VALUE_TESTS, "check": CHECK_TESTS,
             "script-list": "y = listed(1)\nassert y == [2, 3]\nz = listed(2)\nassert z == [3, 4]\n",
             "single": VALUE_TESTS.splitlines(keepends=True)[0]}[kind]   # one test statement
    return Program(key=key, source=head + tests, test_first_line=head.count("\n") + 1,
                   expected_steps=len(ast.parse(tests).body), timeout_s=10, memory_mb=1024)


@pytest.fixture(scope="module", params=["process", "docker"])
def sandbox(request):
    if request.param == "process":
        if os.geteuid() != 0:
            pytest.skip("the process sandbox isolates programs only when run as root")
        from codeeval.sandbox.process import ProcessSandbox
        with warnings.catch_warnings():   # the venv's interpreter may be swapped for the system's
            warnings.simplefilter("ignore")
            box = ProcessSandbox(parallel=1)
        with box:
            yield box
        return
    with base_docker_sandbox() as box:
        yield box


def test_honest_programs_pass_under_every_framework(sandbox):
    right = "def inc(x):\n    return x + 1\n"
    results = {kind: next(iter(sandbox.run([program(kind, right, kind)])))
               for kind in ("script", "values", "unittest")}
    assert {k: e.status for k, e in results.items()} == dict.fromkeys(results, "passed"), results
    wrong = {kind: next(iter(sandbox.run([program(kind, WRONG, kind)]))).status
             for kind in ("script", "values", "unittest")}
    assert "passed" not in wrong.values(), wrong



def test_honest_programs_pass_past_the_liar_checks_limits(sandbox):
    # long lists, big sets and deep nesting are read for their types past the item-by-item walk
    right = {"unittest-big": "def incs(xs):\n    return [x + 1 for x in xs]\n",
             "unittest-set": "def incs(xs):\n    return {x + 1 for x in xs}\n",
             "unittest-deep": "def deep(x):\n    v = x + 1\n    for _ in range(22):\n"
                              "        v = [v]\n    return v\n"}
    results = sandbox.run([program(kind, solution, kind) for kind, solution in right.items()])
    assert [e.status for e in results] == ["passed"] * 3, results


# Test classes as benchmarks write them, which the checks of the running class must let
# through: class data set by setUpClass or setUp (`cls.test_dir = ...`, a counter), a base
# class with a helper, mock.patch as a decorator, subTest, assertRaises, addCleanup, and test
# methods the test code adds with setattr (found by the twelfth review as false refusals).
HONEST_TEST_CLASSES = (    'import unittest, tempfile, shutil\n'
    'class TestInc(unittest.TestCase):\n'
    '    test_dir = None\n'
    '    @classmethod\n'
    '    def setUpClass(cls):\n'
    '        cls.test_dir = tempfile.mkdtemp()\n'
    '    @classmethod\n'
    '    def tearDownClass(cls):\n'
    '        shutil.rmtree(cls.test_dir)\n'
    '    def test_one(self):\n'
    '        self.assertEqual(inc(1), 2)\n'
    '    def test_two(self):\n'
    '        self.assertEqual(inc(2), 3)\n',
    'import unittest\n'
    'from unittest import mock\n'
    'import os\n'
    'class Base(unittest.TestCase):\n'
    '    def check(self, x):\n'
    '        self.assertEqual(inc(x), x + 1)\n'
    'class TestInc(Base):\n'
    '    def setUp(self):\n'
    '        self.addCleanup(lambda: None)\n'
    "    @mock.patch('os.getcwd', return_value='/x')\n"
    '    def test_one(self, m):\n'
    "        self.assertEqual(os.getcwd(), '/x')\n"
    '        self.check(1)\n'
    '    def test_two(self):\n'
    '        for i in range(3):\n'
    '            with self.subTest(i=i):\n'
    '                self.assertEqual(inc(i), i + 1)\n'
    '    def test_three(self):\n'
    '        with self.assertRaises(TypeError):\n'
    "            inc('a')\n",
    'import unittest\n'
    'class TestInc(unittest.TestCase):\n'
    '    def test_one(self):\n'
    '        self.assertEqual(inc(1), 2)\n'
    'def make(i):\n'
    '    def test(self):\n'
    '        self.assertEqual(inc(i), i + 1)\n'
    '    return test\n'
    'for i in range(3):\n'
    "    setattr(TestInc, f'test_gen_{i}', make(i))\n",
    'import unittest\n'
    'class TestInc(unittest.TestCase):\n'
    '    test_count = 0\n'
    '    def setUp(self):\n'
    '        type(self).test_count += 1\n'
    '    def test_one(self):\n'
    '        self.assertEqual(inc(1), 2)\n'
    '    def test_two(self):\n'
    '        self.assertEqual(inc(2), 3)\n')


def test_honest_test_classes_pass(sandbox):
    right = "def inc(x):\n    return x + 1\n"
    programs = [Program(key=f"honest {i}", source=right + tests, test_first_line=3,
                        expected_steps=1, framework="unittest", test_classes=("TestInc",),
                        timeout_s=10, memory_mb=1024)
                for i, tests in enumerate(HONEST_TEST_CLASSES)]
    results = list(sandbox.run(programs))
    assert [e.status for e in results] == ["passed"] * len(programs), results

# What honest programs and libraries do that the hook must let through (a library compiling
# its own files, jinja2's templates, is BigCodeBench 185 in test_bigcodebench_docker.py):
# gc.get_referents, a warning that lands in a harness module, a library's own ctypes memory call (multiprocessing's memset; llvmlite's
# string_at is BigCodeBench 227), numbers equal to -1 and to
# infinity through assertEqual (2x+1 is x there), a TestCase subclass from an installed library
# (pyfakefs's; here doctest's DocTestCase, whose __init__ the test class replaces).
HONEST_LIBRARY_USE = (
    "import gc, json\nfrom importlib.machinery import SourceFileLoader\n"
    "from multiprocessing.sharedctypes import RawArray\n"
    "gc.get_referents([1, 2])\nRawArray('i', 3)\n"
    # the import system's compile of a library file's own bytes
    "SourceFileLoader.source_to_code(None, open(json.__file__, 'rb').read(), json.__file__)\n"
    # a thread's uncaught exception, which CPython prints by compiling each line it shows under
    # its file's name (threading.py's): BigCodeBench 1040 under load
    "import threading\ndef fail():\n    x = {}\n    x['a']['b'] = 1\n"
    "thread = threading.Thread(target=fail)\nthread.start()\nthread.join()\n"
    "def inc(x):\n    return x + 1\n")
HONEST_UNITTEST = (
    "import doctest, unittest\nfrom decimal import Decimal\nfrom fractions import Fraction\n"
    "class TestInc(doctest.DocTestCase):\n"
    "    def __init__(self, name):\n        unittest.TestCase.__init__(self, name)\n"
    "    def setUp(self):\n        pass\n    def tearDown(self):\n        pass\n"
    "    def test_one(self):\n        self.assertEqual(Fraction(inc(-2)), -1)\n"
    "    def test_two(self):\n        self.assertEqual(Decimal('Infinity'), float('inf'))\n"
    # a deprecated alias (3.11) warns its caller, the harness's assertion: BigCodeBench 323
    "    def test_three(self):\n        getattr(self, 'assertEquals', self.assertEqual)(inc(1), 2)\n")


def test_honest_library_use_passes(sandbox):
    script = program("script", HONEST_LIBRARY_USE, "script")
    unit = program("unittest", HONEST_LIBRARY_USE, "unittest")
    unit = Program(key=unit.key, source=HONEST_LIBRARY_USE + HONEST_UNITTEST,
                   test_first_line=HONEST_LIBRARY_USE.count("\n") + 1, expected_steps=1,
                   framework="unittest", test_classes=("TestInc",), timeout_s=10, memory_mb=1024)
    results = list(sandbox.run([script, unit]))
    assert [e.status for e in results] == ["passed", "passed"], results


# The test code's own comparisons run through the harness's judges (program_steps.judged_code)
# and must mean what Python means: chains stop at the first false pair (`calls` stays empty),
# a class body's names stay visible, `in`/`not in`/`is` and comparisons of the solution's own
# objects (an honest __eq__ and ordering), numpy arrays and scalars, and a pandas frame.
HONEST_COMPARISONS = (
    "import functools\n"
    "calls = []\n"
    "def noted(value):\n    calls.append(value)\n    return value\n"
    "@functools.total_ordering\n"
    "class Money:\n    def __init__(self, cents):\n        self.cents = cents\n"
    "    def __eq__(self, other):\n"
    "        return isinstance(other, Money) and self.cents == other.cents\n"
    "    def __lt__(self, other):\n        return self.cents < other.cents\n"
    "    __hash__ = None\n"
    "class Bag:\n    def __init__(self, items):\n        self.items = list(items)\n"
    "    def __contains__(self, item):\n        return item in self.items\n"
    "def inc(x):\n    return x + 1\n")
HONEST_COMPARISON_TESTS = (
    "import collections.abc, os, unittest\nfrom unittest import mock\ntry:\n    import numpy as np, pandas as pd\n"
    "except ImportError:   # the process sandbox's interpreter may have neither\n"
    "    np = None\n"
    "def setUpModule():   # the test code's own module fixture\n    pass\n"
    "class TestInc(unittest.TestCase):\n"
    "    low, high = 1, 5\n"
    "    def setUp(self):\n        self.maxDiff = None\n"
    "    inside = low < inc(1) <= high\n"
    "    def test_chains(self):\n"
    "        self.assertTrue(self.inside)\n"
    "        self.assertFalse(3 < inc(1) < noted(9))\n"
    "        self.assertEqual(calls, [])\n"
    "        self.assertTrue(0 <= inc(0) < 2 == inc(1) != 3)\n"
    "        self.assertEqual([x for x in range(6) if self.low < x <= inc(3)], [2, 3, 4])\n"
    "    def test_membership_and_identity(self):\n"
    "        self.assertTrue(2 in [inc(1)] and 'a' in 'cat' and 'z' not in {'a': 1})\n"
    "        self.assertTrue(inc(1) is not None and (None is None) == True)\n"
    "        assert inc(1) == 2, 'an assert in a test method'\n"
    "    def test_solution_objects(self):\n"
    "        self.assertTrue(Money(inc(1)) == Money(2) and Money(1) < Money(inc(1)))\n"
    "        self.assertTrue(Money(1) != Money(2) and Money(3) >= Money(inc(2)))\n"
    "        self.assertTrue(Money(2) in [Money(1), Money(inc(1))])\n"
    # a container of the solution's (ClassEval_18's CamelCaseMap) answers membership itself
    "        self.assertTrue('x' in Bag('x') and 'y' not in Bag('x'))\n"
    "        self.assertIn('x', Bag('x'))\n        self.assertNotIn('y', Bag('x'))\n"
    "    def test_libraries(self):   # a skip would fail the class\n"
    "        if np is None:\n            return\n"
    "        a = np.arange(3) + 1\n"
    "        self.assertTrue((a == np.array([1, 2, inc(2)])).all() and a[0] < 2 < a.max() + 1)\n"
    "        frame = pd.DataFrame({'x': [1, 2]})\n"
    "        self.assertTrue((frame['x'] == [1, inc(1)]).all() and 'x' in frame)\n"
    "        self.assertTrue(frame.shape == (2, 1) and np.float64(0.5) <= 0.5)\n"
    # pandas builds namedtuples (text-compiled code) inside its comparison (BigCodeBench 575)
    "        grid = pd.DataFrame([list('ab')] * 2)\n"
    "        rolled = grid.apply(lambda row: np.roll(row, 1), axis=1, result_type='expand')\n"
    "        self.assertTrue((grid != rolled).all(axis=None))\n"
    # builtins patched by the test while the harness checks its own functions (BigCodeBench 12),
    # a frozen standard-library mapping (os.environ) asked for membership
    "    @mock.patch('builtins.open', mock.mock_open(read_data='x'))\n"
    "    def test_patched_builtins(self):   # and isinstance of a mock and of an ABC\n"
    "        self.assertIsInstance(mock.MagicMock(), mock.MagicMock)\n"
    "        self.assertIsInstance(mock.MagicMock(spec=Money), Money)   # BigCodeBench 563\n"
    "        self.assertTrue(isinstance(Bag('x'), collections.abc.Container))\n"
    "        self.assertEqual(open('f').read(), 'x')\n"
    "        self.assertTrue('CODEEVAL_NO_SUCH_NAME' not in os.environ)\n"
    "        self.assertNotIn('CODEEVAL_NO_SUCH_NAME', os.environ)\n")


HONEST_COMPARISON_PROGRAM = Program(
    key="honest", source=HONEST_COMPARISONS + HONEST_COMPARISON_TESTS,
    test_first_line=HONEST_COMPARISONS.count("\n") + 1, expected_steps=1, framework="unittest",
    test_classes=("TestInc",), timeout_s=30, memory_mb=2048)


def test_comparisons_in_test_code_keep_their_meaning(sandbox):
    [execution] = sandbox.run([HONEST_COMPARISON_PROGRAM])
    assert execution.status == "passed", execution
    assert execution.tests[0]["tests_run"] == 5, execution


def test_comparisons_of_numpy_and_pandas_values_keep_their_meaning():
    if not docker_ready("python"):
        pytest.skip("no Docker daemon or python image")
    from codeeval.sandbox import make_sandbox
    # BigCodeBench's image: numpy and pandas must be there
    program = dataclasses.replace(HONEST_COMPARISON_PROGRAM, source=(
        HONEST_COMPARISON_PROGRAM.source.replace("    np = None\n", "    raise\n")))
    for preload in ((), ("numpy", "pandas")):   # pandas imported by the program, or before it
        with make_sandbox("docker", parallel=1, image="python", preload=preload) as box:
            [execution] = list(box.run([program]))
        assert execution.status == "passed", (preload, execution)


@pytest.mark.parametrize("name", list(ATTACKS))
def test_forgery_does_not_pass(sandbox, name):
    solution, kind = ATTACKS[name]
    [execution] = sandbox.run([program(name, solution, kind)])
    assert execution.status != "passed", execution
    [canary] = sandbox.run([program("canary", *CANARY)])
    assert canary.status == "passed", (name, canary)



def test_the_hook_looks_up_no_name_while_it_runs():
    """Every builtin and module global the audit hook's functions (and the checks it calls)
    use is captured when they are made: a name looked up while the hook runs (`len` in the
    harness's builtins copy, a dict the program can reach) could be the program's, run inside
    the hook with its state on the stack. Only the factories themselves, their generator
    expressions, and `install` (which runs before the program's first statement) may."""
    import dis
    import types
    from pathlib import Path
    sandbox = Path(__file__).parents[1] / "sandbox"

    def factory(file, name):
        [code] = [c for c in compile((sandbox / file).read_text(), file, "exec").co_consts
                  if isinstance(c, types.CodeType) and c.co_name == name]
        return code

    def runtime_code(code, parent):
        for inner in code.co_consts:
            if isinstance(inner, types.CodeType):
                if not (parent is top and inner.co_name in ("<genexpr>", "install")):
                    yield inner
                yield from runtime_code(inner, inner)
    found = {}
    for top in (factory("program_guard.py", "make_guard"), factory("guard_checks.py", "make_checks")):
        found.update({code.co_name: sorted({i.argval for i in dis.get_instructions(code)
                                            if i.opname == "LOAD_GLOBAL"})
                      for code in runtime_code(top, top)})
    assert {"line", "handle", "hook", "intact", "watch_class", "file_holds"} <= set(found)
    assert not {name: names for name, names in found.items() if names}, found

def test_tampering_the_hook_catches_is_reported_as_tampered(sandbox):
    for name in ("call the harness's reporter", "make TestResult.addFailure a no-op",
                 "settrace turns the failing step into a pass", "swap a test method's __code__",
                 "truncate the report", "find the nonce with gc and write to the report",
                 "hook __build_class__", "raise the report's audit event directly",
                 "run the harness's runner on fake steps", "reopen the report through /proc/self/fd"):
        solution, kind = ATTACKS[name]
        [execution] = sandbox.run([program(name, solution, kind)])
        assert execution.status == "tampered", (name, execution)


def test_the_values_framework_keeps_expected_values_out_of_the_sandbox(sandbox):
    """The program sees the solution and the computed sides only: it reads its own file and
    the request in its stack and finds no expected value (the literal 987654321)."""
    solution = ("import sys\nseen = open(__file__).read()\nframe = sys._getframe()\n"
                "while frame:\n    seen += repr(frame.f_locals)\n    frame = frame.f_back\n"
                "def inc(x):\n    return 987654320 + 1 if str(987654320 + 1) in seen else -1\n")
    head = solution
    tests = "assert inc(5) == 987654321\n"
    [execution] = sandbox.run([Program(key="peek", source=head + tests,
                                       test_first_line=head.count("\n") + 1, expected_steps=1,
                                       timeout_s=10, memory_mb=1024)])
    assert execution.status == "failed", execution
    assert execution.tests[0]["real_output"] == "-1"


def test_forged_samples_fail_through_codeeval_evaluate(benchmarks, tmp_path, sandbox):
    """End to end on HumanEval Pro problem 0 in each sandbox: the right solution passes, wrong
    ones carrying a trick do not, and the run says how many tampered."""
    problem = json.loads((benchmarks / "humaneval-pro" / "humaneval_pro.json").read_text())[0]
    right = problem["raw_problem"] + problem["raw_solution"] + problem["new_problem"] + problem["new_solution"]
    tricks = [ATTACKS[name][0].replace(WRONG, "") for name in (
        "an object equal to everything", "call the harness's reporter",
        "settrace turns the failing step into a pass", "find the nonce with gc and write to the report")]
    lines = [{"task_id": 0, "solution": right}] + [
        {"task_id": 0, "solution": trick.replace("def inc(x):", "def unused(x):")} for trick in tricks]
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "eval"
    proc = cli("evaluate", "--tasks", "humaneval-pro", "--samples", str(samples), "--out",
               str(out), "--sandbox", sandbox.kind, data_dir=benchmarks)
    rows = {json.loads(l)["sample_idx"]: json.loads(l)["status"]
            for l in (out / "results.jsonl").read_text().splitlines()}
    assert rows == {0: "passed", 1: "failed", 2: "tampered", 3: "tampered", 4: "tampered"}, rows
    summary = json.loads((out / "summary.json").read_text())["tasks"]["humaneval-pro"]
    assert summary["tampered"] == 3 and summary["metrics"]["pass@1"] == pytest.approx(0.2)
    assert "humaneval-pro: 3 programs tampered with the test harness" in proc.stderr


def test_only_equalities_against_literals_are_judged_on_the_host():
    from codeeval.sandbox.values import value_checks

    def checks(tests):
        head = "def f(x):\n    return x\n"
        return value_checks(Program(key="k", source=head + tests, test_first_line=3,
                                    expected_steps=1))

    [check] = checks("assert f(\n    1) == [1, (2, 3)]\n")
    assert (check.line, check.expression, check.expected) == (3, "(f(\n    1))", [1, (2, 3)])
    assert checks("assert -1.5 == f(1)\n")[0].expected == -1.5
    for other in ("assert f(1)\n", "assert f(1) == f(2)\n", "assert abs(f(1) - 1) < 1e-9\n",
                  "x = f(1)\nassert x == 1\n", "assert f(1) == float('inf')\n"):
        assert checks(other) is None, other


def test_source_segments_are_the_ones_ast_gives():
    """values.source_segment slices each statement out of the UTF-8 lines itself; it must give
    what ast.get_source_segment gives on text where characters and bytes, or str.splitlines
    and the parser, disagree on lines (non-ASCII, CRLF, form feed, U+2028 inside a string)."""
    import ast

    from codeeval.sandbox.values import source_segment
    text = ("assert f('é\u2028ü', 1) == 'x'\r\nassert f(\n    [1,\x0c 2],\n    'ß') == 2\n"
            "assert  g ( '日本' )==  3\n")
    lines = text.encode().splitlines(keepends=True)
    for statement in ast.parse(text).body:
        for node in (statement, statement.test.left, statement.test.comparators[0]):
            assert source_segment(lines, node) == ast.get_source_segment(text, node)


def test_honest_numpy_operands_are_not_liars():
    """numpy strips trailing NULs when it compares strings, and 2x+1 equals x at -1 and at
    infinity: perturbed values that hit either made honest arrays and scalars look like liars
    (BigCodeBench 150, 294, 641, 736, 929, 1057)."""
    np = pytest.importorskip("numpy")
    from codeeval.sandbox.liars import lying_operand
    for first, second in (("Apple", np.array(["Apple"], dtype=object)), ("Apple", np.array(["Apple"])),
                          (np.float64(-1.0), -1), (np.float64("inf"), float("inf")),
                          (np.array([-1]), -1), (np.int64(-1), -1)):
        assert lying_operand(first, second) is None, (first, second)


def test_library_comparisons_are_not_liars():
    """pandas' comparison methods are closures its own decorators made (`new_method` around
    `OpsMixin.__eq__`; BigCodeBench 71, 155 and 13 more compare an Index through assertEqual or
    assertIn): a library's code with the library's globals, not the program's."""
    pd = pytest.importorskip("pandas")
    from fractions import Fraction
    from codeeval.sandbox.liars import lying_member, lying_operand
    from codeeval.sandbox.method_origin import from_outside_libraries
    values = (pd.Index(["a"]), pd.Series([1]), pd.DataFrame({"a": [1]}), pd.Categorical(["a"]),
              pd.Timestamp("2020-01-01"), Fraction(1, 2))
    assert not any(from_outside_libraries(value) for value in values)
    assert lying_operand(pd.Index(["a"]), ["a"]) is None and lying_operand(Fraction(1, 2), 0.5) is None
    assert lying_member("a", pd.Index(["a"])) is None and lying_member(1, pd.Series([1])) is None


def test_a_test_class_must_come_from_the_tests_or_an_installed_library():
    import doctest
    import unittest

    from codeeval.sandbox.test_classes import written_by_tests
    namespace = {"doctest": doctest, "unittest": unittest}
    source = ("class Helper(unittest.TestCase):\n    def setUp(self):\n        pass\n"
              "class FromLibrary(doctest.DocTestCase):\n    def test_a(self):\n        pass\n"
              "class FromSolution(Helper):\n    def test_a(self):\n        pass\n")
    exec(compile(source, "/work/program.py", "exec"), namespace)
    assert written_by_tests(namespace["FromLibrary"], "/work/program.py", 4) is None
    assert "Helper.setUp was not written" in written_by_tests(namespace["FromSolution"],
                                                                "/work/program.py", 4)


def test_reported_values_are_rebuilt_strictly():
    from codeeval.sandbox.values import decode
    assert decode(["dict", [[["tuple", [["int", "1"]]], ["set", [["str", "a"]]]]]]) == {(1,): {"a"}}
    assert decode(["float", "nan"]) != decode(["float", "nan"])
    for bad in (1, "x", ["eval", "1"], ["dict", [["int", "1"]]], ["list", "abc"], {"a": 1},
                ["int", "1", "2"]):
        with pytest.raises((ValueError, TypeError)):
            decode(bad)


def test_line_ends_are_counted_as_the_parser_counts_them():
    """A solution's \\r, \\f or \\u2028 cannot move where the host thinks the tests start."""
    program = Program.joined("k", "a = 1  # \x0c\u2028\rb = 2\r\n", "assert a == 1\n",
                             expected_steps=1)
    solution, tests = program.split_at_tests()
    assert tests == "assert a == 1\n" and solution + tests == program.source
    assert [s.lineno for s in ast.parse(program.source).body] == [1, 2, program.test_first_line]
