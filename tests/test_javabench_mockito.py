"""PA22's test JVMs against code that reaches into their memory. PA22's tests use Mockito, whose
Objenesis makes objects without running their constructors through `sun.reflect.ReflectionFactory`
(jdk.unsupported), so its test runtime cannot simply leave jdk.unsupported out as the others'
does (sandbox/images.py). With the JDK's module the program's code reached everything: it took
`sun.misc.Unsafe`, or a fully trusted `MethodHandles.Lookup` (the JDK factory makes any
constructor accessible), and swapped the stream under the runner's kept `System.out` for one
that rewrote the nonce-marked counts line, so a failing class passed (found by a hostile review,
stop 31; both attacks below passed the wrong class on that runtime). The runtime now has no
jdk.unsupported: a module of the image's own offers Objenesis the one call it makes, for classes
off the JDK only."""

import re

import pytest

from codeeval.records import Sample
from codeeval.tasks.javabench import JavaBench
from codeeval.tasks.sources import DataSource
from test_javabench import java_sandbox

# An OutputStream around the runner's own stdout stream (`inner`) that rewrites its counts line
# ("NONCE counts RUN SUCCEEDED UNREPORTED TIMED_OUT") to all passing: what the attacks install.
REWRITER = r"""
  final java.io.OutputStream inner = (java.io.OutputStream) current;
  Object rewriter = new java.io.OutputStream() {
    final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
    public void write(int b) throws java.io.IOException {
      if (b != '\n') { line.write(b); return; }
      String text = line.toString(java.nio.charset.StandardCharsets.UTF_8);
      line.reset();
      text = text.replaceAll("^([0-9a-f]{32}) counts (\\d+) \\d+ \\d+ \\d+$", "$1 counts $2 $2 0 0");
      inner.write((text + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    public void flush() throws java.io.IOException { inner.flush(); }
  };
"""
# sun.misc.Unsafe (jdk.unsupported): the field under System.out swapped in place
THROUGH_UNSAFE = r"""
try {
  java.lang.reflect.Field out = java.io.FilterOutputStream.class.getDeclaredField("out");
  Class<?> type = Class.forName("sun.misc.Unsafe");
  java.lang.reflect.Field field = type.getDeclaredField("theUnsafe");
  field.setAccessible(true);
  Object unsafe = field.get(null);
  long offset = (Long) type.getMethod("objectFieldOffset", java.lang.reflect.Field.class).invoke(unsafe, out);
  Object current = type.getMethod("getObject", Object.class, long.class).invoke(unsafe, System.out, offset);
""" + REWRITER + r"""
  type.getMethod("putObject", Object.class, long.class, Object.class).invoke(unsafe, System.out, offset, rewriter);
} catch (Throwable e) { e.printStackTrace(); }
"""
# sun.reflect.ReflectionFactory (jdk.unsupported): Lookup's private constructor made accessible,
# a TRUSTED lookup made with it, and the field set through a VarHandle
THROUGH_TRUSTED_LOOKUP = r"""
try {
  Class<?> type = Class.forName("sun.reflect.ReflectionFactory");
  Object factory = type.getMethod("getReflectionFactory").invoke(null);
  java.lang.reflect.Constructor<?> constructor = java.lang.invoke.MethodHandles.Lookup.class
      .getDeclaredConstructor(Class.class, Class.class, int.class);
  java.lang.reflect.Constructor<?> opened = (java.lang.reflect.Constructor<?>) type.getMethod(
      "newConstructorForSerialization", Class.class, java.lang.reflect.Constructor.class)
      .invoke(factory, java.lang.invoke.MethodHandles.Lookup.class, constructor);
  java.lang.invoke.MethodHandles.Lookup trusted =
      (java.lang.invoke.MethodHandles.Lookup) opened.newInstance(Object.class, null, -1);
  java.lang.invoke.VarHandle handle = trusted.findVarHandle(
      java.io.FilterOutputStream.class, "out", java.io.OutputStream.class);
  Object current = handle.get(System.out);
""" + REWRITER + r"""
  handle.set(System.out, rewriter);
} catch (Throwable e) { e.printStackTrace(); }
"""
# Objenesis's own way to sun.misc.Unsafe (a public method of the library on the class path)
THROUGH_OBJENESIS = THROUGH_UNSAFE.replace(
    """java.lang.reflect.Field field = type.getDeclaredField("theUnsafe");
  field.setAccessible(true);
  Object unsafe = field.get(null);""",
    """Object unsafe = Class.forName("org.objenesis.instantiator.util.UnsafeUtils")
      .getMethod("getUnsafe").invoke(null);""")
ATTACKS = {"sun.misc.Unsafe": THROUGH_UNSAFE,
           "a trusted Lookup from sun.reflect.ReflectionFactory": THROUGH_TRUSTED_LOOKUP,
           "sun.misc.Unsafe from Objenesis": THROUGH_OBJENESIS}
assert THROUGH_OBJENESIS != THROUGH_UNSAFE


@pytest.fixture(scope="module")
def engine(benchmarks):
    """PA22's TerminalRenderingEngine: its tests mock GameState with Mockito."""
    problems = JavaBench().load(DataSource(benchmarks))
    return next(p for p in problems if p.task_id == "PA22/TerminalRenderingEngine.java")


def wrong(source: str) -> str:
    broken = source.replace("charToPrint = '#';", "charToPrint = '?';")
    assert broken != source
    return broken


def with_static_block(source: str, statements: str) -> str:
    head = re.search(r"public class TerminalRenderingEngine\b[^{]*\{", source)
    return source[:head.end()] + "\n    static {\n" + statements + "\n    }\n" + source[head.end():]


def program(problem, text: str, index: int):
    return JavaBench().program(problem, Sample("javabench", problem.task_id, index, solution=text),
                               sanitized=False)


def test_code_in_mockitos_test_jvm_cannot_forge_its_counts(engine):
    canonical = engine.data["canonical"]
    programs = [program(engine, canonical, 0), program(engine, wrong(canonical), 1)]
    programs += [program(engine, wrong(with_static_block(canonical, statements)), 2 + index)
                 for index, statements in enumerate(ATTACKS.values())]
    with java_sandbox(parallel=2) as box:
        executions = {e.key: e for e in box.run(programs)}
    canonical_run, wrong_run, *attacked = (executions[p.key] for p in programs)
    # Mockito works in the runtime (the tests mock and spy GameState), and the wrong class
    # fails some of its tests and passes others
    assert canonical_run.status == "passed", canonical_run.message
    wrong_step = next(s for s in wrong_run.tests if s["name"] == "tests")
    assert wrong_run.status == "failed" and 0 < wrong_step["successes"] < wrong_step["tests"]
    for name, execution in zip(ATTACKS, attacked):
        step = next(s for s in execution.tests if s["name"] == "tests")
        assert execution.status == "failed", (name, execution.message)
        assert (step["tests"], step["successes"]) == (wrong_step["tests"],
                                                      wrong_step["successes"]), (name, step)
