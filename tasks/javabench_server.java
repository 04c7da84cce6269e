// JavaBench's warm JVM: one per sandbox slot, kept by the worker across programs (a service,
// sandbox/service.py), so that javac and the JUnit Platform are started once instead of once per
// program. The driver (javabench_driver.py) sends it one job per program over a Unix socket:
// the project's files, the class paths and JUnit configuration; it answers javac's exit code and
// output for main and for tests, then the tests' XML reports, as the one-JVM-per-program runner
// did: javac --release 17 in process (javax.tools), then the tests through the JUnit Platform
// Launcher API with the console launcher's discovery request (a class-path scan of build/test
// with every class name, or one class with the console's default name pattern beside the quoted
// class name) and its legacy XML report listener.
//
// Started as `java -cp <JUnit console jar> javabench_server.java SOCKET JUNIT_JARS` in its
// working directory, which is the project directory of every job (tests open relative paths and
// a JVM cannot change directory): filled for each job, emptied after it.
//
// Isolation between programs, the code under test running in this JVM:
// - JUnit and the project are loaded per job in fresh class loaders whose parent is the platform
//   loader: no JUnit state and no project class outlives its job, and nothing a test can name
//   reaches this class (its loader is not among theirs, and the tests run on a thread started
//   through a JDK proxy, so no frame of this class is on their stack).
// - After each job this JVM compares what a program could leave behind with what it was before
//   the first job (live threads, system properties, default locale and time zone, the default
//   uncaught-exception handler; System.in/out/err are put back), checks that the program's
//   class loader can be collected, and empties the project directory; if anything is left or
//   the tests passed their time limit, it answers and exits, and the worker starts a fresh JVM
//   for the next program.
//   System.exit in a test ends the JVM: the driver reads the lost connection as a failed run.
// - The worker runs it as its own uid (programs cannot signal it), kills whatever processes the
//   tests started and removes their files after each program, and kills it when a program
//   passes its limit. It is started with -XX:+DisableAttachMechanism (no agent can rewrite its
//   classes) and without --add-opens (JDK internals stay closed to reflection).
// - The XML reports are files the tests could write: the driver checks them against the
//   launcher's own counts, which this JVM sends beside them.
// Not closed: code that reads memory through sun.misc.Unsafe could reach this JVM's objects.
//
// Wire format, both ways: a sequence of fields, each a 4-byte big-endian length and its bytes
// (a COUNT field is its decimal text). Job: MAIN_CLASSPATH TEST_CLASSPATH RUN_CLASSPATH
// SELECT_CLASS|- COUNT (KEY=VALUE)*COUNT COUNT (PATH BYTES)*COUNT (a PATH ending in "/" is a
// directory). Answer: EXIT OUTPUT of javac on main, then on tests if main compiled, then if
// both did, RUN ("ran" or "timed out") and the run's output, then if it ran, the launcher's
// counts of tests run or skipped and of tests that succeeded, COUNT (XML report)*COUNT; last,
// RETIRED: why this JVM ends after this job, or "".

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandleProxies;
import java.lang.invoke.MethodHandles;
import java.lang.ref.WeakReference;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.net.StandardProtocolFamily;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TimeZone;
import java.util.TreeMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

public class JavaBenchServer {
    static final long TEST_RUN_LIMIT_MS = 60_000;   // Gradle's 1-minute test task timeout
    static final int JOBS_PER_JVM = 500;            // bounds what loaders might leak
    static final Path PROJECT = Paths.get("").toAbsolutePath();
    static final PrintStream OUT = System.out, ERR = System.err;
    static final InputStream IN = System.in;
    // the last job's project class loader: once it is collected, nothing of that program can
    // run again (no thread, finalizer, cleaner or pool task holds one of its classes)
    static WeakReference<ClassLoader> lastProgram = new WeakReference<>(null);

    public static void main(String[] args) throws Exception {
        Path socket = Paths.get(args[0]);
        List<URL> junit = urls(args[1]);
        // threads this one starts inherit the platform loader, not the one holding this class
        Thread.currentThread().setContextClassLoader(ClassLoader.getPlatformClassLoader());
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
        // System.exit in a test runs the shutdown hooks: the socket goes before the JVM, so the
        // worker never hands the next program a socket that no one will answer
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                ERR.println("socket left: " + e);
            }
        }));
        State before = State.now();
        OUT.println("listening");
        OUT.flush();
        String retired = "";
        for (int jobs = 1; retired.isEmpty(); jobs++) {
            try (SocketChannel channel = server.accept()) {
                DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
                DataOutputStream out = new DataOutputStream(Channels.newOutputStream(channel));
                boolean answered = false;
                try {
                    retired = serve(in, junit, out, before);
                    answered = true;
                } catch (Exception e) {   // the driver sees the connection close unanswered
                    retired = "a job failed: " + e;
                }
                if (retired.isEmpty() && jobs == JOBS_PER_JVM) {
                    retired = "served " + jobs + " programs";
                }
                if (!retired.isEmpty()) {   // gone before the answer: the worker sees it retire
                    server.close();
                    Files.deleteIfExists(socket);
                }
                if (answered) {
                    send(out, bytes(retired));
                }
            } catch (IOException e) {   // a driver that went away before the last field
                ERR.println("answer lost: " + e);
            }
        }
        ERR.println("retired: " + retired);
        Runtime.getRuntime().halt(0);   // threads a test left cannot hold it
    }

    static void send(DataOutputStream out, byte[]... fields) throws IOException {
        for (byte[] field : fields) {
            out.writeInt(field.length);
            out.write(field);
        }
        out.flush();
    }

    /** One job, answered as it goes (each compile as it ends: the driver tells a JVM that died
     *  in the tests from one that died before them); returns why this JVM must end after it
     *  ("" when it is as it was). */
    static String serve(DataInputStream in, List<URL> junit, DataOutputStream out, State before)
            throws Exception {
        String mainClasspath = text(in), testClasspath = text(in), runClasspath = text(in);
        String selectClass = text(in);
        List<String> configuration = new ArrayList<>();
        for (int i = count(in); i > 0; i--) {
            configuration.add(text(in));
        }
        unpack(in);
        if (!compile(mainClasspath, "build/main", "src/main/java", out)
                || !compile(testClasspath, "build/test", "src/test/java", out)) {
            return before.changes();
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        long[] counts;   // tests run or skipped, tests that succeeded; null: out of time
        try {
            counts = runTests(junit, urls(runClasspath), selectClass, configuration, output);
        } finally {
            System.setIn(IN);
            System.setOut(OUT);
            System.setErr(ERR);
        }
        if (counts == null) {
            send(out, bytes("timed out"), output.toByteArray());
            return "the tests passed their time limit";
        }
        List<Path> reports = reports();
        send(out, bytes("ran"), output.toByteArray(), bytes(String.valueOf(counts[0])),
             bytes(String.valueOf(counts[1])), bytes(String.valueOf(reports.size())));
        for (Path report : reports) {
            send(out, Files.readAllBytes(report));
        }
        return before.changes();
    }

    /** Remove everything in the project directory. */
    static void emptyProject() throws IOException {
        try (Stream<Path> paths = Files.walk(PROJECT)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
                if (!path.equals(PROJECT)) {
                    Files.delete(path);
                }
            }
        }
    }

    /** Write the job's files into the (empty) project directory. */
    static void unpack(DataInputStream in) throws IOException {
        for (int i = count(in); i > 0; i--) {
            String name = text(in);
            byte[] content = field(in);
            Path path = PROJECT.resolve(name).normalize();
            if (!path.startsWith(PROJECT)) {
                throw new IOException("a path outside the project: " + name);
            }
            if (name.endsWith("/")) {
                Files.createDirectories(path);
            } else {
                Files.createDirectories(path.getParent());
                Files.write(path, content);
            }
        }
    }

    /** javac --release 17 over every source under `root`, as the console-era driver ran it. */
    static boolean compile(String classpath, String destination, String root, DataOutputStream out)
            throws IOException {
        List<String> arguments = new ArrayList<>(List.of(
                "--release", "17", "-encoding", "UTF-8", "-nowarn", "-proc:none",
                "-d", destination, "-cp", classpath));
        Files.createDirectories(Paths.get(destination));
        if (Files.isDirectory(Paths.get(root))) {
            try (Stream<Path> files = Files.walk(Paths.get(root))) {
                arguments.addAll(files.map(Path::toString).filter(p -> p.endsWith(".java"))
                                 .sorted().collect(Collectors.toList()));
            }
        }
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int exit = javac.run(null, diagnostics, diagnostics, arguments.toArray(new String[0]));
        send(out, bytes(String.valueOf(exit)), diagnostics.toByteArray());
        return exit == 0;
    }

    /**
     * The tests, through the Launcher of a fresh JUnit loaded beside the project, on a thread of
     * their own: the launcher's own counts {tests run or skipped, tests that succeeded} (the
     * driver checks the XML reports, files the program could write, against them), or null
     * when they passed the limit.
     * Called by reflection: this class is compiled against no JUnit, so it loads none into its
     * own loader.
     */
    static long[] runTests(List<URL> junitJars, List<URL> project, String selectClass,
                           List<String> configuration, ByteArrayOutputStream output)
            throws Exception {
        ClassLoader platform = ClassLoader.getPlatformClassLoader();
        URLClassLoader junitLoader = new URLClassLoader(junitJars.toArray(new URL[0]), platform);
        URLClassLoader projectLoader = new URLClassLoader(project.toArray(new URL[0]), junitLoader);
        lastProgram = new WeakReference<>(projectLoader);
        JUnit junit = new JUnit(junitLoader);
        PrintStream captured = new PrintStream(output, true, StandardCharsets.UTF_8);
        System.setIn(InputStream.nullInputStream());
        System.setOut(captured);
        System.setErr(captured);
        // as the console launcher: the project's loader is the context loader, in which JUnit
        // looks for its engines, and the tests' thread's
        Thread.currentThread().setContextClassLoader(projectLoader);
        try (junitLoader; projectLoader) {
            Object request = discoveryRequest(junit, selectClass, configuration);
            Object launcher = junit.type("launcher.core.LauncherFactory").getMethod("create")
                    .invoke(null);
            PrintWriter writer = new PrintWriter(captured, true);
            Object summary = junit.type("launcher.listeners.SummaryGeneratingListener")
                    .getConstructor().newInstance();
            Object xml = junit.type("reporting.legacy.xml.LegacyXmlReportGeneratingListener")
                    .getConstructor(Path.class, PrintWriter.class)
                    .newInstance(Paths.get("build/reports"), writer);
            Object listeners = junit.array("launcher.TestExecutionListener", summary, xml);
            Method execute = junit.type("launcher.Launcher").getMethod("execute",
                    junit.type("launcher.LauncherDiscoveryRequest"), listeners.getClass());
            MethodHandle run = MethodHandles.publicLookup().unreflect(execute).asFixedArity()
                    .bindTo(launcher).bindTo(request).bindTo(listeners);
            Thread tests = new Thread(MethodHandleProxies.asInterfaceInstance(Runnable.class, run),
                                      "junit");
            tests.setContextClassLoader(projectLoader);
            tests.start();
            tests.join(TEST_RUN_LIMIT_MS);
            if (tests.isAlive()) {
                return null;
            }
            Object result = summary.getClass().getMethod("getSummary").invoke(summary);
            Class<?> resultType = junit.type("launcher.listeners.TestExecutionSummary");
            if ((long) resultType.getMethod("getTotalFailureCount").invoke(result) > 0) {
                resultType.getMethod("printFailuresTo", PrintWriter.class).invoke(result, writer);
            }
            resultType.getMethod("printTo", PrintWriter.class).invoke(result, writer);
            writer.flush();
            long[] counts = new long[2];
            for (String count : List.of("getTestsStartedCount", "getTestsSkippedCount")) {
                counts[0] += (long) resultType.getMethod(count).invoke(result);
            }
            counts[1] = (long) resultType.getMethod("getTestsSucceededCount").invoke(result);
            return counts;
        } finally {
            Thread.currentThread().setContextClassLoader(platform);
        }
    }

    static Object discoveryRequest(JUnit junit, String selectClass, List<String> configuration)
            throws Exception {
        Class<?> builderType = junit.type("launcher.core.LauncherDiscoveryRequestBuilder");
        Class<?> selectors = junit.type("engine.discovery.DiscoverySelectors");
        Class<?> nameFilter = junit.type("engine.discovery.ClassNameFilter");
        Object builder = builderType.getMethod("request").invoke(null);
        Object selector;
        String[] patterns;
        if (selectClass.equals("-")) {
            selector = ((List<?>) selectors.getMethod("selectClasspathRoots", Set.class)
                        .invoke(null, Set.of(Paths.get("build/test")))).get(0);
            patterns = new String[] {".*"};
        } else {
            selector = selectors.getMethod("selectClass", String.class).invoke(null, selectClass);
            patterns = new String[] {
                (String) nameFilter.getField("STANDARD_INCLUDE_PATTERN").get(null),
                Pattern.quote(selectClass)};
        }
        Object filter = nameFilter.getMethod("includeClassNamePatterns", String[].class)
                .invoke(null, (Object) patterns);
        Object selectorArray = junit.array("engine.DiscoverySelector", selector);
        builderType.getMethod("selectors", selectorArray.getClass()).invoke(builder, selectorArray);
        Object filterArray = junit.array("engine.Filter", filter);
        builderType.getMethod("filters", filterArray.getClass()).invoke(builder, filterArray);
        for (String pair : configuration) {
            int split = pair.indexOf('=');
            builderType.getMethod("configurationParameter", String.class, String.class)
                    .invoke(builder, pair.substring(0, split), pair.substring(split + 1));
        }
        return builderType.getMethod("build").invoke(builder);
    }

    /** The JUnit Platform of one job, reached by reflection. */
    static final class JUnit {
        final ClassLoader loader;

        JUnit(ClassLoader loader) {
            this.loader = loader;
        }

        /** A class under org.junit.platform. */
        Class<?> type(String name) throws ClassNotFoundException {
            return loader.loadClass("org.junit.platform." + name);
        }

        /** An array of that class (what JUnit's varargs methods take). */
        Object array(String name, Object... items) throws ClassNotFoundException {
            Object array = Array.newInstance(type(name), items.length);
            for (int i = 0; i < items.length; i++) {
                Array.set(array, i, items[i]);
            }
            return array;
        }
    }

    static List<Path> reports() throws IOException {
        Path folder = Paths.get("build/reports");
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> p.getFileName().toString().matches("TEST-.*\\.xml"))
                        .sorted().collect(Collectors.toList());
        }
    }

    /** What a program could leave behind in this JVM that would change a later program's run. */
    static final class State {
        final Set<Thread> threads;
        final Map<String, String> properties;
        final List<Object> settings;

        State(Set<Thread> threads, Map<String, String> properties, List<Object> settings) {
            this.threads = threads;
            this.properties = properties;
            this.settings = settings;
        }

        static State now() {
            Map<String, String> properties = new TreeMap<>();
            System.getProperties().forEach(
                    (k, v) -> properties.put(String.valueOf(k), String.valueOf(v)));
            List<Object> settings = new ArrayList<>();
            for (Locale.Category category : Locale.Category.values()) {
                settings.add(Locale.getDefault(category));
            }
            settings.add(Locale.getDefault());
            settings.add(TimeZone.getDefault().getID());
            settings.add(Thread.getDefaultUncaughtExceptionHandler());
            return new State(new HashSet<>(Thread.getAllStackTraces().keySet()), properties,
                             settings);
        }

        /** Why the JVM differs from `this` now ("" when it does not). Threads a test started
         *  get a moment to end first; the common pool's idle workers may stay (JDK threads
         *  that run no code of the program once the pool is quiescent), and the program's
         *  class loader must be collectable. */
        String changes() throws InterruptedException {
            ForkJoinPool.commonPool().awaitQuiescence(1, TimeUnit.SECONDS);
            for (Thread thread : Thread.getAllStackTraces().keySet()) {
                if (!threads.contains(thread) && !idlePoolWorker(thread)) {
                    thread.join(500);
                }
            }
            State now = now();
            Set<Thread> left = new HashSet<>(now.threads);
            left.removeAll(threads);
            left.removeIf(thread -> !thread.isAlive() || idlePoolWorker(thread));
            if (!left.isEmpty()) {
                return "threads left running: " + left.stream().map(Thread::getName).sorted()
                        .collect(Collectors.joining(", "));
            }
            for (int i = 0; i < 3 && lastProgram.get() != null; i++) {
                System.gc();
                System.runFinalization();
            }
            if (lastProgram.get() != null) {
                return "the program's classes are still reachable";
            }
            try {
                emptyProject();
            } catch (IOException e) {
                return "the project folder could not be emptied: " + e;
            }
            if (!now.properties.equals(properties)) {
                return "system properties changed";
            }
            for (int i = 0; i < settings.size(); i++) {
                if (!Objects.equals(settings.get(i), now.settings.get(i))) {
                    return "the default locale, time zone or uncaught-exception handler changed";
                }
            }
            return "";
        }
    }

    static boolean idlePoolWorker(Thread thread) {
        return thread instanceof ForkJoinWorkerThread
                && ((ForkJoinWorkerThread) thread).getPool() == ForkJoinPool.commonPool()
                && ForkJoinPool.commonPool().isQuiescent();
    }

    static List<URL> urls(String classpath) throws IOException {
        List<URL> urls = new ArrayList<>();
        for (String entry : classpath.split(":")) {
            // as the console launcher, existing entries only
            if (!entry.isEmpty() && Files.exists(Paths.get(entry))) {
                urls.add(Paths.get(entry).toAbsolutePath().toUri().toURL());
            }
        }
        return urls;
    }

    static byte[] field(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > (256 << 20)) {
            throw new IOException("a field of " + length + " bytes");
        }
        return in.readNBytes(length);
    }

    static int count(DataInputStream in) throws IOException {
        return Integer.parseInt(text(in));
    }

    static String text(DataInputStream in) throws IOException {
        return new String(field(in), StandardCharsets.UTF_8);
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
