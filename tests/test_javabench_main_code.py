"""JavaBench's main code against the tests' classes: the project's main code (the program under
test) shares a class loader with the tests, JUnit and Mockito, so it can name their classes,
and their public API is state it can change. A fourth hostile review (stop 32) took Mockito's
public `ThreadSafeMockingProgress.mockingProgress()` by reflection through the context class
loader and set a verification strategy under which every `verify` passes: PA22's
AbstractSokobanGame without its `checkpoint()` call passed 70 of 70 instead of 68.

The runner's policy (MainCodePolicy in tasks/JavaBenchSecurity.java) now gives build/main's code
no reflection on JUnit's and Mockito's packages, no access checks suppressed, no class defined
from bytes that links to theirs, and no class loader of its own; any domain but the JDK's, the
runner class path's and the project's other code sources is held as the main code's (a class
of URLClassLoader.newInstance's, a loader the JDK makes in its own doPrivileged, forged a pass);
and the project's loader defines no class once the tests begin (a class file the main code
writes into the class path would have the tests' domain). Each way in below passed the
wrong class 70 of 70 on the previous runner (checked, stop 33) and now changes nothing: the
wrong class fails as without it."""

import base64
import re

import pytest

from codeeval.tasks.javabench import JavaBench
from codeeval.tasks.sources import DataSource
from test_javabench import java_sandbox
from test_javabench_memory import assert_attacks_change_nothing, compiled, in_java_image
from test_javabench_server import program

MOCKITO = "org.mockito.internal.progress"

# The forged strategy, given `progress` (the test thread's MockingProgress) and `loader` (one
# that sees Mockito): every verification mode it is asked for becomes one that checks nothing
FORGE = r"""
    Class<?> mode = Class.forName("org.mockito.verification.VerificationMode", false, loader);
    Class<?> strategy = Class.forName("org.mockito.verification.VerificationStrategy", false, loader);
    java.lang.reflect.InvocationHandler nothing = (p, m, a) -> m.getName().equals("hashCode")
        ? System.identityHashCode(p) : m.getName().equals("equals") ? p == a[0] : m.getName().equals("verify") ? null : p;
    Object noop = java.lang.reflect.Proxy.newProxyInstance(loader, new Class<?>[] {mode}, nothing);
    Object forged = java.lang.reflect.Proxy.newProxyInstance(loader, new Class<?>[] {strategy},
        (p, m, a) -> m.getName().equals("maybeVerifyLazily") ? noop : nothing.invoke(p, m, a));
"""


def running_forger(defining: str) -> str:
    """Statements that run Forger (below), which the first construction defines by `defining`
    (statements that set `forger`); later ones find it by name."""
    return """
    Class<?> forger;
    try {
        forger = Class.forName("assignment.game.Forger");
    } catch (ClassNotFoundException first) {
""" + defining + """
    }
    ((Runnable) forger.getDeclaredConstructor().newInstance()).run();
"""


# Defines Forger in the class's package, from its bytes, with the class's own lookup
DEFINE_FORGER = running_forger("""
        forger = java.lang.invoke.MethodHandles.lookup().defineClass(
            java.util.Base64.getDecoder().decode("@@FORGER@@"));
""")

# Each attack: statements run on the test's thread (from the class's constructor) that end the
# same way, `progress.setVerificationStrategy(forged)`; any exception is swallowed
ATTACKS = {
    "reflection through the context class loader": """
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    Object progress = Class.forName("%(m)s.ThreadSafeMockingProgress", true, loader)
        .getMethod("mockingProgress").invoke(null);
    %(forge)s
    progress.getClass().getMethod("setVerificationStrategy", strategy).invoke(progress, forged);
""",
    "method handles through its own loader": """
    ClassLoader loader = AbstractSokobanGame.class.getClassLoader();
    java.lang.invoke.MethodHandles.Lookup lookup = java.lang.invoke.MethodHandles.publicLookup();
    Class<?> progressType = Class.forName("%(m)s.MockingProgress", false, loader);
    Object progress = lookup.findStatic(Class.forName("%(m)s.ThreadSafeMockingProgress", true, loader),
        "mockingProgress", java.lang.invoke.MethodType.methodType(progressType)).invoke();
    %(forge)s
    lookup.findVirtual(progressType, "setVerificationStrategy",
        java.lang.invoke.MethodType.methodType(void.class, strategy)).invoke(progress, forged);
""",
    "a private lookup in Mockito's class": """
    ClassLoader loader = AbstractSokobanGame.class.getClassLoader();
    Class<?> type = Class.forName("%(m)s.ThreadSafeMockingProgress", true, loader);
    java.lang.invoke.MethodHandles.Lookup lookup = java.lang.invoke.MethodHandles.privateLookupIn(
        type, java.lang.invoke.MethodHandles.lookup());
    Class<?> progressType = Class.forName("%(m)s.MockingProgress", false, loader);
    Object progress = lookup.findStatic(type, "mockingProgress",
        java.lang.invoke.MethodType.methodType(progressType)).invoke();
    %(forge)s
    lookup.findVirtual(progressType, "setVerificationStrategy",
        java.lang.invoke.MethodType.methodType(void.class, strategy)).invoke(progress, forged);
""",
    "a class of its package that links to Mockito": DEFINE_FORGER,
    "a class that links to Mockito, after looking its classes up": """
    for (String name : new String[] {"%(m)s.ThreadSafeMockingProgress", "%(m)s.MockingProgress",
            "org.mockito.verification.VerificationMode", "org.mockito.verification.VerificationStrategy",
            "org.mockito.internal.verification.api.VerificationData"}) {
        try { Class.forName(name); } catch (Throwable refused) { }
    }
""" + DEFINE_FORGER,
    "a class file it writes into the class path": running_forger("""
        // in the first class-path folder it may write to
        for (String root : new String[] {"build/test", "src/test/resources", "src/main/resources"}) {
            try {
                java.nio.file.Path file = java.nio.file.Paths.get(root, "assignment/game/Forger.class");
                java.nio.file.Files.createDirectories(file.getParent());
                java.nio.file.Files.write(file, java.util.Base64.getDecoder().decode("@@FORGER@@"));
                break;
            } catch (java.io.IOException notThere) { }
        }
        forger = Class.forName("assignment.game.Forger");
"""),
    # the constructor runs for a subclass of the tests' (SokobanGameForTesting), in this
    # package: a lookup in it keeps package access, and a class it defines gets its domain
    "a class defined through a lookup in the test's subclass": running_forger("""
        Class<?> test = java.lang.invoke.MethodHandles.lookup().lookupClass();
        for (StackWalker.StackFrame frame : StackWalker.getInstance(
                StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(f -> f.collect(
                    java.util.stream.Collectors.toList()))) {
            if (frame.getDeclaringClass().getName().startsWith("assignment.game.AbstractSokobanGameTest")) {
                test = frame.getDeclaringClass();
                break;
            }
        }
        forger = java.lang.invoke.MethodHandles.lookup().in(test).defineClass(
            java.util.Base64.getDecoder().decode("@@FORGER@@"));
"""),
    "a class of a loader the JDK makes for it (URLClassLoader.newInstance)": """
    java.nio.file.Path folder = java.nio.file.Files.createTempDirectory("classes");
    java.nio.file.Files.write(folder.resolve("PrivilegedForger.class"),
        java.util.Base64.getDecoder().decode("@@PRIVILEGED_FORGER@@"));
    ClassLoader own = java.net.URLClassLoader.newInstance(new java.net.URL[] {folder.toUri().toURL()},
        AbstractSokobanGame.class.getClassLoader());
    ((Runnable) own.loadClass("PrivilegedForger").getConstructor().newInstance()).run();
""",
    "a hidden class that links to Mockito": """
    byte[] bytes = java.util.Base64.getDecoder().decode("@@FORGER@@");
    java.lang.invoke.MethodHandles.Lookup hidden =
        java.lang.invoke.MethodHandles.lookup().defineHiddenClass(bytes, true);
    ((Runnable) hidden.findConstructor(hidden.lookupClass(),
        java.lang.invoke.MethodType.methodType(void.class)).invoke()).run();
""",
}

# The defined classes' source: compiled against Mockito, it calls its API directly
FORGER = """package assignment.game;
import org.mockito.internal.progress.ThreadSafeMockingProgress;
import org.mockito.internal.verification.api.VerificationData;
import org.mockito.verification.VerificationMode;
import org.mockito.verification.VerificationStrategy;
public class Forger implements Runnable, VerificationStrategy, VerificationMode {
    public void run() { ThreadSafeMockingProgress.mockingProgress().setVerificationStrategy(this); }
    public VerificationMode maybeVerifyLazily(VerificationMode mode) { return this; }
    public void verify(VerificationData data) { }
    public VerificationMode description(String text) { return this; }
}
"""


# A class of its own loader's (the JDK makes the loader in its own doPrivileged, and its classes
# have a code source of their own): the first reflective forge, in a doPrivileged of its own,
# which takes the main code's frames below it out of the checks
PRIVILEGED_FORGER = """
public class PrivilegedForger implements Runnable {
    public void run() {
        java.security.AccessController.doPrivileged((java.security.PrivilegedAction<Void>) () -> {
            try {
                ClassLoader loader = PrivilegedForger.class.getClassLoader();
                Object progress = Class.forName("%(m)s.ThreadSafeMockingProgress", true, loader)
                    .getMethod("mockingProgress").invoke(null);
                %(forge)s
                progress.getClass().getMethod("setVerificationStrategy", strategy).invoke(progress, forged);
            } catch (Throwable refused) {
                throw new RuntimeException(refused);
            }
            return null;
        });
    }
}
""" % {"m": MOCKITO, "forge": FORGE}


@pytest.fixture(scope="module")
def game(benchmarks):
    """PA22's AbstractSokobanGame: its tests verify GameState's `checkpoint()` with Mockito."""
    problems = {p.task_id: p for p in JavaBench().load(DataSource(benchmarks))}
    return problems["PA22/AbstractSokobanGame.java"]


def without_checkpoint(source: str) -> str:
    broken = source.replace("this.state.checkpoint();", "")
    assert broken != source
    return broken


def in_constructor(source: str, statements: str) -> str:
    """AbstractSokobanGame with `statements` first in its constructor."""
    changed = re.sub(r"(protected AbstractSokobanGame\([^)]*\)\s*\{)",
                     lambda head: head.group(1) + statements, source)
    assert changed != source
    return changed


def attacked(source: str, statements: str) -> str:
    """The class with `statements` run from its constructor, exceptions swallowed."""
    source = in_constructor(source, " attack();")
    head = re.search(r"public abstract class AbstractSokobanGame\b[^{]*\{", source)
    method = ("\n    static void attack() {\n    try {" + statements
              + "    } catch (Throwable swallowed) { }\n    }\n")
    return source[:head.end()] + method + source[head.end():]


def test_main_code_cannot_reach_mockitos_state(game):
    classes = compiled({"assignment/game/Forger": FORGER, "PrivilegedForger": PRIVILEGED_FORGER},
                       classpath="/usr/share/java/mockito-core.jar")
    canonical = game.data["canonical"]

    def text(statements: str) -> str:
        statements = (statements.replace("@@FORGER@@", classes["assignment/game/Forger"])
                      .replace("@@PRIVILEGED_FORGER@@", classes["PrivilegedForger"]))
        return without_checkpoint(attacked(canonical, statements % {"m": MOCKITO, "forge": FORGE}))

    assert_attacks_change_nothing(game, canonical, without_checkpoint(canonical),
                                  {name: text(statements) for name, statements in ATTACKS.items()})


# What honest main code does with loaders, domains, frames and threads, from the constructor of
# the canonical class (no exception swallowed: each must work for its tests to pass). A hostile
# review (stop 33) found the first policy refused several (getClassLoader, getProtectionDomain,
# class references from a stack walk, security properties, and the context class loader on a
# common-pool thread, where a parallel stream may run).
HONEST = """
    java.net.URL own = AbstractSokobanGame.class.getResource("AbstractSokobanGame.class");
    if (own == null || ClassLoader.getSystemClassLoader() == null
            || AbstractSokobanGame.class.getClassLoader().getParent() == null
            || AbstractSokobanGame.class.getProtectionDomain().getCodeSource().getLocation() == null
            || Thread.currentThread().getContextClassLoader().getResource("map00.map") == null
            || java.security.Security.getProperty("securerandom.source") == null) {
        throw new IllegalStateException("a lookup found nothing");
    }
    Class<?> caller = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
        .getCallerClass();
    long loaders = java.util.stream.IntStream.range(0, 64).parallel()
        .mapToObj(i -> Thread.currentThread().getContextClassLoader()).distinct().count();
    record Point(int x, int y) { }
    if (caller == null || loaders == 0 || !new Point(1, 2).equals(new Point(1, 2))
            || java.util.concurrent.TimeUnit.valueOf("SECONDS") == null) {
        throw new IllegalStateException("unexpected");
    }
"""


def test_honest_main_code_keeps_its_loaders_domains_and_threads(game):
    canonical = game.data["canonical"]
    honest = in_constructor(canonical, HONEST)
    with java_sandbox(parallel=1) as box:
        [execution] = box.run([program(game, honest, 0)])
    assert execution.status == "passed", execution.message


# JUnit's and Mockito's classes are not deserialized in a test JVM (the runner's serial filter):
# a program's own stream resolves them through the project's loader without a package check.
# From the canonical class's constructor: one of opentest4j's exceptions (serialized in the java
# image) is refused, a list of the JDK's still round-trips
DESERIALIZE = """
    try {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(new java.util.ArrayList<>(java.util.List.of("own")));
        }
        Object own = new java.io.ObjectInputStream(
            new java.io.ByteArrayInputStream(bytes.toByteArray())).readObject();
        if (!own.equals(java.util.List.of("own"))) {
            throw new IllegalStateException("no round trip");
        }
        try {
            new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(
                java.util.Base64.getDecoder().decode("@@SERIALIZED@@"))).readObject();
            throw new IllegalStateException("opentest4j's class deserialized");
        } catch (java.io.InvalidClassException refused) { }
    } catch (java.io.IOException | ClassNotFoundException unexpected) {
        throw new IllegalStateException(unexpected);
    }
"""

SERIALIZER = """
public class Serialize {
    public static void main(String[] args) throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(new org.opentest4j.AssertionFailedError("forged"));
        }
        System.out.println(java.util.Base64.getEncoder().encodeToString(bytes.toByteArray()));
        System.out.flush();
    }
}
"""


def test_main_code_cannot_deserialize_junits_classes(game):
    source = base64.b64encode(SERIALIZER.encode()).decode()
    serialized = in_java_image(f"cd /tmp && echo {source} | base64 -d > Serialize.java && "
                               "java -cp /usr/share/java/opentest4j.jar Serialize.java")
    assert serialized.strip(), "the java image printed no serialized exception"
    canonical = game.data["canonical"]
    checked = in_constructor(canonical, DESERIALIZE.replace("@@SERIALIZED@@", serialized.strip()))
    with java_sandbox(parallel=1) as box:
        [execution] = box.run([program(game, checked, 0)])
    assert execution.status == "passed", execution.message
