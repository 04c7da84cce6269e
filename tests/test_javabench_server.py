"""JavaBench against hostile classes: the slot's warm compile server (javabench_server.java, a
service the worker keeps per slot) only compiles, and the tests run in a fresh JVM per program
(JavaBenchTests.java), so what one program's code does must change neither its own verdict (by
writing over its test reports, or from inside its test JVM: an agent, the nonce that marks the
launcher's counts read from memory) nor any later program's. Each hostile class is PA19's Wall with
code in a static initializer (it runs when the tests load the class); the programs after it,
in the same slot, are a Wall that fails its tests and the canonical one."""

import base64
import re
import shutil
import subprocess

import pytest

from codeeval.records import Sample
from codeeval.tasks.javabench import JavaBench
from codeeval.tasks.sources import DataSource
from test_javabench import java_sandbox

# Java statements that write a passing report over every XML report in the current project,
# again and again (the project directory is the JVM's working directory for every job)
FORGE_REPORTS = (
    'while (true) { try { java.nio.file.Path d = java.nio.file.Path.of("build/reports"); '
    'if (java.nio.file.Files.isDirectory(d)) { try (var s = java.nio.file.Files.list(d)) { '
    'for (var f : (Iterable<java.nio.file.Path>) s::iterator) java.nio.file.Files.writeString('
    'f, "<testsuite><testcase classname=\\"x\\" name=\\"y\\"/></testsuite>"); } } '
    'Thread.sleep(5); } catch (Throwable e) { } }')
SHELL_FORGE = ("while true; do for f in build/reports/TEST-*.xml; do "
               "echo '<testsuite><testcase classname=\"x\" name=\"y\"/></testsuite>' > \"$f\"; "
               "done; sleep 0.005; done")

# Java statements that pass a failing class from inside its own test JVM, each checked to pass
# the wrong Wall before the java image's test runtimes (sandbox/images.py) and the JVM flags
# of tasks/javabench.py: a Byte Buddy agent (self-attached, its jars in /usr/share/java) that
# stubs JUnit's failures; the driver's nonce read from the JVM's memory, through
# /proc/self/mem or sun.misc.Unsafe, printed with passing counts beside a passing report.
ATTACH_AGENT = r"""
try {
  java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("forge");
  java.nio.file.Files.writeString(dir.resolve("Forge.java"), String.join("\n",
    "public class Forge { public static void run() throws Exception {",
    "  net.bytebuddy.agent.ByteBuddyAgent.install();",
    "  Class<?> c = org.junit.jupiter.api.AssertionFailureBuilder.class;",
    "  new net.bytebuddy.ByteBuddy().redefine(c).method(net.bytebuddy.matcher.ElementMatchers.named(\"buildAndThrow\"))",
    "    .intercept(net.bytebuddy.implementation.StubMethod.INSTANCE).make()",
    "    .load(c.getClassLoader(), net.bytebuddy.dynamic.loading.ClassReloadingStrategy.fromInstalledAgent());",
    "} }"));
  String jars = "/usr/share/java/byte-buddy.jar:/usr/share/java/byte-buddy-agent.jar:/usr/share/java/junit-jupiter-api.jar:/usr/share/java/opentest4j.jar";
  javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-cp", jars, "-d", dir.toString(), dir.resolve("Forge.java").toString());
  java.net.URL[] urls = { dir.toUri().toURL(), java.nio.file.Path.of("/usr/share/java/byte-buddy.jar").toUri().toURL(),
                          java.nio.file.Path.of("/usr/share/java/byte-buddy-agent.jar").toUri().toURL() };
  ClassLoader loader = new java.net.URLClassLoader(urls, Thread.currentThread().getContextClassLoader());
  loader.loadClass("Forge").getMethod("run").invoke(null);
} catch (Throwable e) { e.printStackTrace(); }
"""
PASSING_COUNTS = r"""
  java.nio.file.Files.createDirectories(java.nio.file.Path.of("build/reports"));
  java.nio.file.Files.writeString(java.nio.file.Path.of("build/reports/TEST-forged.xml"),
      "<testsuite><testcase classname=\"x\" name=\"y\"/></testsuite>");
  for (String nonce : found) System.out.println(nonce + " counts 1 1");
  System.out.flush();
  Runtime.getRuntime().halt(0);
} catch (Throwable e) { e.printStackTrace(); }
"""
NONCE_FROM_PROC_MEM = r"""
try {
  java.util.Set<String> found = new java.util.LinkedHashSet<>();
  try (java.io.RandomAccessFile mem = new java.io.RandomAccessFile("/proc/self/mem", "r")) {
    for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
      String[] f = l.split(" +");
      if (!f[1].startsWith("rw")) continue;
      String[] r = f[0].split("-");
      long a = Long.parseUnsignedLong(r[0], 16), b = Long.parseUnsignedLong(r[1], 16);
      byte[] buf = new byte[1 << 20];
      for (long p = a; p < b; p += buf.length) {
        int n = (int) Math.min(buf.length, b - p);
        try { mem.seek(p); mem.readFully(buf, 0, n); } catch (java.io.IOException e) { continue; }
        int run = 0;
        for (int i = 0; i < n; i++) {
          byte c = buf[i];
          if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
            run++;
            if (run == 32 && i + 1 < n && !((buf[i+1] >= '0' && buf[i+1] <= '9') || (buf[i+1] >= 'a' && buf[i+1] <= 'f')))
              found.add(new String(buf, i - 31, 32, java.nio.charset.StandardCharsets.ISO_8859_1));
          } else run = 0;
        }
      }
    }
  }
""" + PASSING_COUNTS
NONCE_FROM_UNSAFE = r"""
try {
  java.lang.reflect.Field field = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
  field.setAccessible(true);
  Object unsafe = field.get(null);
  java.lang.reflect.Method getByte = unsafe.getClass().getMethod("getByte", long.class);
  java.util.Set<String> found = new java.util.LinkedHashSet<>();
  for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
    String[] f = l.split(" +");
    if (!f[1].startsWith("rw") || f.length > 5 && f[5].startsWith("[")) continue;
    String[] r = f[0].split("-");
    long a = Long.parseUnsignedLong(r[0], 16), b = Long.parseUnsignedLong(r[1], 16);
    if (b - a > (256L << 20)) continue;
    int run = 0; byte[] last = new byte[32];
    for (long p = a; p < b; p++) {
      byte c = (Byte) getByte.invoke(unsafe, p);
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) { last[run % 32] = c; run++; if (run == 32) { byte[] s = new byte[32]; for (int k = 0; k < 32; k++) s[k] = last[k]; found.add(new String(s, java.nio.charset.StandardCharsets.ISO_8859_1)); } }
      else run = 0;
    }
  }
""" + PASSING_COUNTS

# A process the tests start (python3 is in the image), its stdout the test JVM's: it reopens
# that output through /proc/self/fd/1 (a pipe's read end, when the driver read a pipe), stops
# the driver (the same uid) so that it reads first, takes the nonce line, strips the reports'
# failures and prints the counts again as all passing. Found by a hostile review.
PIPE_READER = r"""
import os, re, glob, signal
import sys
signal.alarm(40)
driver = int(sys.argv[1])
r = os.open("/proc/self/fd/1", os.O_RDONLY)
os.kill(driver, signal.SIGSTOP)   # the driver (same uid) stops reading the pipe: no race
open("build/child-ready", "w").close()
buf = b""
nonce = None
while nonce is None:
    d = os.read(r, 65536)
    if not d:
        break
    buf += d
    m = re.search(rb"(?m)^([0-9a-f]{32}) counts (\d+) (\d+)$", buf)
    if m:
        nonce, run = m.group(1).decode(), m.group(2).decode()
os.close(r)
if nonce:
    for path in glob.glob("build/reports/TEST-*.xml"):
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"<(failure|error|skipped)\b[^>]*?(/>|>[\s\S]*?</\1>)", "", text)
        open(path, "w", encoding="utf-8").write(text)
    os.write(1, ("\n" + nonce + " counts " + run + " " + run + "\n").encode())
os.kill(driver, signal.SIGCONT)
"""
PIPE_READER_STATEMENTS = (
    'try { String py = new String(java.util.Base64.getDecoder().decode("'
    + base64.b64encode(PIPE_READER.encode()).decode() + '"), '
    'java.nio.charset.StandardCharsets.UTF_8); '
    'new ProcessBuilder("python3", "-c", py, String.valueOf(ProcessHandle.current().parent()'
    '.get().pid())).redirectOutput(ProcessBuilder.Redirect.INHERIT)'
    '.redirectError(ProcessBuilder.Redirect.INHERIT).start(); '
    'java.nio.file.Path ready = java.nio.file.Path.of("build/child-ready"); '
    'for (int i = 0; i < 1000 && !java.nio.file.Files.exists(ready); i++) Thread.sleep(10); '
    '} catch (Exception e) { e.printStackTrace(); }')

# An XMLOutputFactory of the program's, its class opening as far as where its writer rewrites
# a finished test report (the JDK looks the factory up through a system property)
XML_FACTORY_HEAD = r"""    public static class XF extends javax.xml.stream.XMLOutputFactory {
        final javax.xml.stream.XMLOutputFactory real = javax.xml.stream.XMLOutputFactory.newDefaultFactory();
        public XF() {}
        public javax.xml.stream.XMLStreamWriter createXMLStreamWriter(java.io.Writer w) throws javax.xml.stream.XMLStreamException {
            return real.createXMLStreamWriter(new java.io.Writer() {
                final StringBuilder sb = new StringBuilder();
                public void write(char[] c, int o, int n) { sb.append(c, o, n); }
                public void flush() throws java.io.IOException {
                    String s = sb.toString();
                    if (s.contains("</testsuite>")) {
"""
# The methods of an XMLOutputFactory of the program's that hand everything to the real one
XML_FACTORY_DELEGATES = r"""        public javax.xml.stream.XMLStreamWriter createXMLStreamWriter(java.io.OutputStream s) throws javax.xml.stream.XMLStreamException { return real.createXMLStreamWriter(s); }
        public javax.xml.stream.XMLStreamWriter createXMLStreamWriter(java.io.OutputStream s, String e) throws javax.xml.stream.XMLStreamException { return real.createXMLStreamWriter(s, e); }
        public javax.xml.stream.XMLStreamWriter createXMLStreamWriter(javax.xml.transform.Result r) throws javax.xml.stream.XMLStreamException { return real.createXMLStreamWriter(r); }
        public javax.xml.stream.XMLEventWriter createXMLEventWriter(javax.xml.transform.Result r) throws javax.xml.stream.XMLStreamException { return real.createXMLEventWriter(r); }
        public javax.xml.stream.XMLEventWriter createXMLEventWriter(java.io.OutputStream s) throws javax.xml.stream.XMLStreamException { return real.createXMLEventWriter(s); }
        public javax.xml.stream.XMLEventWriter createXMLEventWriter(java.io.OutputStream s, String e) throws javax.xml.stream.XMLStreamException { return real.createXMLEventWriter(s, e); }
        public javax.xml.stream.XMLEventWriter createXMLEventWriter(java.io.Writer w) throws javax.xml.stream.XMLStreamException { return real.createXMLEventWriter(w); }
        public void setProperty(String n, Object v) { real.setProperty(n, v); }
        public Object getProperty(String n) { return real.getProperty(n); }
        public boolean isPropertySupported(String n) { return real.isPropertySupported(n); }
"""
# JUnit's classes share the tests' unnamed module: the SummaryGeneratingListener's enum switch
# (a static int[]) rewritten to count every failure as a success, and the XML reports written
# by a factory of the program's (XMLOutputFactory is looked up through a system property), so
# that both sources agree on 55 of 55. Closes the static block and adds a nested class.
JUNIT_STATE = r"""
    try {
        Class<?> m = Class.forName("org.junit.platform.launcher.listeners.SummaryGeneratingListener$1");
        java.lang.reflect.Field f = m.getDeclaredField("$SwitchMap$org$junit$platform$engine$TestExecutionResult$Status");
        f.setAccessible(true);
        int[] map = (int[]) f.get(null);
        for (int i = 0; i < map.length; i++) map[i] = 1;
        System.setProperty("javax.xml.stream.XMLOutputFactory", XF.class.getName());
    } catch (Throwable e) { e.printStackTrace(); }
    }
""" + XML_FACTORY_HEAD + r"""                        s = s.replaceAll("<(failure|error|skipped)\\b[^>]*?(/>|>[\\s\\S]*?</\\1>)", "");
                        w.write(s); sb.setLength(0);
                    }
                    w.flush();
                }
                public void close() throws java.io.IOException { flush(); }
            });
        }
""" + XML_FACTORY_DELEGATES

HOSTILE = {
    "a thread that writes passing reports":
        f"Thread t = new Thread(() -> {{ {FORGE_REPORTS} }}); t.setDaemon(true); t.start();",
    "a child process that writes passing reports":
        "try { new ProcessBuilder(\"sh\", \"-c\", \"" + SHELL_FORGE.replace('"', '\\"')
        + "\").start(); } catch (Exception e) { throw new RuntimeException(e); }",
    "a task in the common pool that writes passing reports":
        f"java.util.concurrent.ForkJoinPool.commonPool().execute(() -> {{ {FORGE_REPORTS} }});",
    "a finalizer that starts a forging thread":
        "new Object() { protected void finalize() { Thread t = new Thread(() -> { "
        + FORGE_REPORTS + " }); t.setDaemon(true); t.start(); } };",
    "System.exit": "System.exit(0);",
    "Runtime.halt": "Runtime.getRuntime().halt(0);",
    "a changed system property": "System.setProperty(\"user.language\", \"tr\");",
    "a time zone with the default's name and another offset":
        "java.util.TimeZone.setDefault(new java.util.SimpleTimeZone(5 * 3600000, "
        "java.util.TimeZone.getDefault().getID()));",
    "a removed security provider": "java.security.Security.removeProvider(\"SUN\");",
    # the compile server's folder: the test runner's classes and the socket (another uid's)
    "writing over the compile server's files":
        "java.nio.file.Path run = java.nio.file.Path.of(System.getenv(\"CODEEVAL_SERVICE\"))"
        ".getParent(); for (String name : new String[] {\"classes/JavaBenchTests.class\", "
        "\"socket\"}) { try { java.nio.file.Files.delete(run.resolve(name)); } "
        "catch (Exception e) { } try { java.nio.file.Files.writeString(run.resolve(name), "
        "\"x\"); } catch (Exception e) { } }",
    "an agent attached to the test JVM that stubs JUnit's failures": ATTACH_AGENT,
    "the nonce read from the test JVM's memory through /proc/self/mem": NONCE_FROM_PROC_MEM,
    "the nonce read from the test JVM's memory through sun.misc.Unsafe": NONCE_FROM_UNSAFE,
    "a child process that reads the JVM's output before the driver": PIPE_READER_STATEMENTS,
    "JUnit's counting state rewritten, and the XML reports written by the program": JUNIT_STATE,
}


@pytest.fixture(scope="module")
def wall(benchmarks):
    problems = JavaBench().load(DataSource(benchmarks))
    return next(p for p in problems if p.task_id == "PA19/Wall.java")


def with_static_block(source: str, statements: str) -> str:
    """The class with a static initializer of `statements` (the first public class's)."""
    head = re.search(r"public class \w+\b[^{]*\{", source)
    return source[:head.end()] + "\n    static {\n" + statements + "\n    }\n" + source[head.end():]


def wrong_wall(source: str) -> str:
    broken = source.replace("return PipePatterns.WALL;", "return '?';")
    assert broken != source
    return broken


def program(problem, text: str, index: int):
    return JavaBench().program(problem, Sample("javabench", problem.task_id, index, solution=text),
                               sanitized=False)


def the_tests_step(execution) -> dict:
    return next(s for s in execution.tests if s["name"] == "tests")


def test_hostile_classes_change_neither_their_own_verdict_nor_a_later_ones(wall):
    canonical = wall.data["canonical"]
    programs, expected = [], []
    for index, (name, statements) in enumerate(HOSTILE.items()):
        # the hostile code in a Wall that fails its tests, then a Wall that fails, then the
        # canonical Wall: one slot, so all three share its compile server
        programs += [program(wall, wrong_wall(with_static_block(canonical, statements)), 3 * index),
                     program(wall, wrong_wall(canonical), 3 * index + 1),
                     program(wall, canonical, 3 * index + 2)]
        expected += [(name, "hostile"), (name, "failed"), (name, "passed")]
    with java_sandbox(parallel=1) as box:
        executions = {e.key: e for e in box.run(programs)}
    for program_, (name, role) in zip(programs, expected):
        execution = executions[program_.key]
        if role == "hostile":
            assert execution.status == "failed", (name, execution.message)
        else:
            assert execution.status == role, (name, role, execution.message)
            if role == "failed":   # the wrong Wall's own failures, not a forged report's
                step = the_tests_step(execution)
                assert 0 < step["successes"] < step["tests"], (name, step)


def test_reports_written_over_during_the_run_cannot_pass_a_failing_class(wall):
    # the program writes passing JUnit XML reports while its tests run: the driver reads no
    # file, only the runner's nonce-marked lines, which name the wrong Wall's failures
    forging = wrong_wall(with_static_block(
        wall.data["canonical"], HOSTILE["a thread that writes passing reports"]))
    with java_sandbox(parallel=1) as box:
        [execution] = box.run([program(wall, forging, 0)])
    step = the_tests_step(execution)
    assert execution.status == "failed" and 0 < step["successes"] < step["tests"], step
    assert re.search(r"cells\.\w+Test\.\w+.*: FAILED", step["message"]), step["message"]


# A native library that, loaded into the test JVM, finds the nonce in the JVM's memory (as
# native code reads any address) and prints passing counts beside a passing report.
NATIVE_FORGERY = r"""/* Loaded into a JavaBench test JVM by System.load: finds the driver's nonce (32 hex digits)
   in the JVM's memory and prints passing counts beside a passing report, then ends the JVM. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int hex(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

__attribute__((constructor)) static void forge(void) {
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    mkdir("build/reports", 0755);
    FILE *xml = fopen("build/reports/TEST-forged.xml", "w");
    if (xml) { fputs("<testsuite><testcase classname=\"x\" name=\"y\"/></testsuite>", xml); fclose(xml); }
    while (maps && fgets(line, sizeof line, maps)) {
        unsigned long a, b; char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &a, &b, perms) != 3 || perms[0] != 'r' || perms[1] != 'w') continue;
        if (strstr(line, "[vvar]") || strstr(line, "[vsyscall]")) continue;
        unsigned char *p = (unsigned char *) a, *end = (unsigned char *) b;
        int run = 0;
        for (; p < end; p++) {
            if (hex(*p)) {
                if (++run == 32 && (p + 1 >= end || !hex(p[1]))) {
                    char out[64];
                    memcpy(out, p - 31, 32);
                    memcpy(out + 32, " counts 1 1\n", 13);
                    write(1, out, 44);
                }
            } else run = 0;
        }
    }
    _exit(0);
}
"""


def test_a_native_library_the_program_writes_cannot_be_loaded(wall, tmp_path):
    # passed a failing Wall while the java image's /tmp allowed running what programs write
    # there: the library is written to /tmp and loaded with System.load
    if shutil.which("gcc") is None:
        pytest.skip("no C compiler to build the native library with")
    (tmp_path / "forge.c").write_text(NATIVE_FORGERY)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", tmp_path / "forge.so",
                    tmp_path / "forge.c"], check=True)
    library = base64.b64encode((tmp_path / "forge.so").read_bytes()).decode()
    statements = (
        "try { java.nio.file.Path library = java.nio.file.Files.createTempFile(\"forge\", \".so\");"
        f" java.nio.file.Files.write(library, java.util.Base64.getDecoder().decode(\"{library}\"));"
        " System.load(library.toString()); } catch (Throwable e) { e.printStackTrace(); }")
    canonical = wall.data["canonical"]
    programs = [program(wall, wrong_wall(with_static_block(canonical, statements)), 0),
                program(wall, canonical, 1)]
    with java_sandbox(parallel=1) as box:
        executions = {e.key: e for e in box.run(programs)}
    hostile, honest = (executions[p.key] for p in programs)
    step = the_tests_step(hostile)
    assert hostile.status == "failed" and 0 < step["successes"] < step["tests"], step
    assert honest.status == "passed", honest.message


# Tests made to vanish from every count: the wrong path interrupts its thread and throws an
# OutOfMemoryError (JUnit lets it through), and a java.util.logging handler of the program's
# on the engine's debug log swaps it in NodeTestTask's `finally` for an exception the class's
# collector takes, so the class ends before its tests are reported; an XML report writer of
# the program's drops them from the reports too. Closes the static block and adds classes.
VANISHING_TESTS = r"""        // (1) a JUL handler on JUnit's NodeTestTask logger that throws: NodeTestTask.execute's
        //     finally logs (debug) when the thread is still interrupted, after an exception
        //     JUnit never catches (OutOfMemoryError, "unrecoverable") left the test's task
        //     before its reportCompletion: the handler's exception replaces the OOM and the
        //     class's collector catches it. The test is never reported to any listener.
        java.util.logging.Logger nodeLog = java.util.logging.Logger.getLogger(
                "org.junit.platform.engine.support.hierarchical.NodeTestTask");
        H.KEEP.add(nodeLog);
        nodeLog.setLevel(java.util.logging.Level.ALL);
        nodeLog.addHandler(new java.util.logging.Handler() {
            public void publish(java.util.logging.LogRecord r) {
                if (H.armed) { H.armed = false; throw new IllegalStateException("hidden"); }
            }
            public void flush() {}
            public void close() {}
        });
        // (2) which tests started: ConditionEvaluator logs (FINER) each test's conditions
        //     before it runs
        java.util.logging.Logger condLog = java.util.logging.Logger.getLogger(
                "org.junit.jupiter.engine.execution.ConditionEvaluator");
        H.KEEP.add(condLog);
        condLog.setLevel(java.util.logging.Level.ALL);
        condLog.addHandler(new java.util.logging.Handler() {
            public void publish(java.util.logging.LogRecord r) {
                java.util.regex.Matcher m = java.util.regex.Pattern
                        .compile(" on \\[\\S+ ([\\w.$]+)\\.(\\w+\\([^)]*\\))\\]").matcher(String.valueOf(r.getMessage()));
                if (m.find()) { H.current = m.group(1) + "#" + m.group(2); H.started.add(H.current); }
            }
            public void flush() {}
            public void close() {}
        });
        // (3) the XML reports without the test cases that did not pass
        System.setProperty("javax.xml.stream.XMLOutputFactory", XF.class.getName());
    }
    static final class H {
        static final java.util.List<Object> KEEP = new java.util.ArrayList<>();
        static volatile boolean armed;
        static volatile String current;
        static final java.util.Set<String> started = new java.util.LinkedHashSet<>();
    }
    /** Call where the class knows it is wrong: this test and the rest of its class vanish. */
    static void vanish() {
        H.armed = true;
        H.started.remove(H.current);
        Thread.currentThread().interrupt();
        throw new OutOfMemoryError("vanish");
    }
""" + XML_FACTORY_HEAD + r"""                        // test cases with the vanished class's error: keep those that ran
                        // (seen starting, or with a time), without the error; drop the rest
                        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                                "<testcase name=\"([^\"]*)\" classname=\"([^\"]*)\" time=\"([^\"]*)\"[\\s\\S]*?</testcase>\\s*").matcher(s);
                        StringBuffer out = new StringBuffer();
                        while (m.find()) {
                            String kept = m.group();
                            if (kept.contains("<error message=\"hidden\"")) {
                                String key = m.group(2) + "#" + m.group(1);
                                kept = H.started.contains(key) || !m.group(3).equals("0")
                                        ? kept.replaceAll("<error message=\"hidden\"[\\s\\S]*?</error>\\s*", "") : "";
                            }
                            m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(kept));
                        }
                        m.appendTail(out);
                        s = out.toString();
                        w.write(s); sb.setLength(0);
                    }
                    w.flush();
                }
                public void close() throws java.io.IOException { flush(); }
            });
        }
""" + XML_FACTORY_DELEGATES


def test_tests_that_vanish_from_every_count_fail_the_class(wall):
    # passed a failing Wall with 50 of 50 tests before the runner counted the plan's tests
    vanishing = with_static_block(wall.data["canonical"], VANISHING_TESTS).replace(
        "return PipePatterns.WALL;", "vanish(); return '?';")
    with java_sandbox(parallel=1) as box:
        [execution] = box.run([program(wall, vanishing, 0)])
    step = the_tests_step(execution)
    assert execution.status == "failed" and step["successes"] < step["tests"] == 55, step
    assert "planned tests never finished" in step["message"]


def test_failures_past_a_time_limit_run_again_alone(wall):
    # A JavaBench program's tests run in its test JVM under wall-clock limits (JUnit's @Timeout,
    # assertTimeout, a Future.get with a limit), which the machine's load can pass: the runner
    # counts such failures and the program runs again alone at the end. Other failures do not
    # (the driver's own waits for a CPU say nothing about its tests).
    timed_out = wall.data["canonical"].replace(
        "return PipePatterns.WALL;",
        'throw new RuntimeException(new java.util.concurrent.TimeoutException("slow"));')
    programs = [program(wall, timed_out, 0), program(wall, wrong_wall(wall.data["canonical"]), 1)]
    with java_sandbox(parallel=1) as box:
        executions = {e.key: e for e in box.run(programs)}
    slow, wrong = (executions[p.key] for p in programs)
    step = the_tests_step(slow)
    assert slow.status == "failed" and 0 < step["timed_out_tests"] == step["tests"] - step[
        "successes"], step
    assert slow.first_run["status"] == "failed"
    assert slow.first_run["reason"] == "its tests hit a wall-clock time limit"
    assert the_tests_step(wrong)["timed_out_tests"] == 0 and wrong.first_run is None
