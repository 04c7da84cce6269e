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

import base64
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


# What the runtime's ReflectionFactory makes (Objenesis's way in: its instantiator for HotSpot),
# one line a case: an object of a class-path class without its constructor run, and a refusal
# for a JDK class, for a class-path class that extends one, and for a constructor other than
# Object's (the JDK's factory made Lookup's private one accessible)
FACTORY_PROBE = r"""
public class Probe {
    public static class Plain { public boolean built; public Plain() { built = true; } }
    public static class OwnThread extends Thread { }
    static void attempt(String name, java.util.concurrent.Callable<Object> make) {
        try {
            Object made = make.call();
            System.out.println(name + " made " + made.getClass().getName());
        } catch (Throwable e) {
            while (e.getCause() != null) e = e.getCause();   // Objenesis wraps what it met
            System.out.println(name + " refused " + e.getClass().getSimpleName());
        }
    }
    public static void main(String[] args) throws Exception {
        org.objenesis.Objenesis objenesis = new org.objenesis.ObjenesisStd(false);
        attempt("class-path", () -> objenesis.newInstance(Plain.class));
        System.out.println("constructor ran " + ((Plain) objenesis.newInstance(Plain.class)).built);
        attempt("jdk", () -> objenesis.newInstance(java.util.ArrayList.class));
        attempt("extends-jdk", () -> objenesis.newInstance(OwnThread.class));
        attempt("lookup-constructor", () -> {
            Class<?> type = Class.forName("sun.reflect.ReflectionFactory");
            Object factory = type.getMethod("getReflectionFactory").invoke(null);
            return type.getMethod("newConstructorForSerialization", Class.class,
                                  java.lang.reflect.Constructor.class).invoke(factory,
                java.lang.invoke.MethodHandles.Lookup.class,
                java.lang.invoke.MethodHandles.Lookup.class.getDeclaredConstructor(
                    Class.class, Class.class, int.class));
        });
        attempt("unsafe", () -> Class.forName("sun.misc.Unsafe"));
    }
}
"""


def test_the_runtimes_reflection_factory_makes_only_class_path_objects():
    from codeeval.sandbox.engine import docker_client
    from codeeval.sandbox.images import IMAGES, MOCKITO_RUNTIME
    from test_javabench import require_java_image
    require_java_image()
    source = base64.b64encode(FACTORY_PROBE.encode()).decode()
    script = (f"mkdir /tmp/probe && cd /tmp/probe && echo {source} | base64 -d > Probe.java && "
              "javac -cp /usr/share/java/objenesis.jar Probe.java && "
              f"{MOCKITO_RUNTIME}/bin/java -cp /usr/share/java/objenesis.jar:. Probe")
    output = docker_client().containers.run(IMAGES["java"]().tag, ["sh", "-c", script],
                                            network_mode="none", remove=True).decode()
    assert output.splitlines() == [
        "class-path made Probe$Plain", "constructor ran false",
        "jdk refused UnsupportedOperationException",
        "extends-jdk refused UnsupportedOperationException",
        "lookup-constructor refused UnsupportedOperationException",
        "unsafe refused ClassNotFoundException"], output
