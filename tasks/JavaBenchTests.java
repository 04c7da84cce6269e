// JavaBench's test run: one fresh JVM per program, started by the driver (javabench_driver.py)
// as the program's own uid in the project directory, after the slot's compile server
// (javabench_server.java) compiled main and tests. The server compiles this file once when it
// starts; the code under test never runs in the server, so nothing a program does in its JVM
// reaches the server or a later program.
//
// It runs the tests as the JUnit console launcher does: the same discovery request (a class-path
// scan of build/test with every class name, or one class with the console's default name
// pattern beside the quoted class name), the project's class path in a child URLClassLoader set
// as the context class loader. It writes no report files (the tests could write over them): it
// prints its verdicts on lines that start with a nonce the driver writes on its stdin (read
// before any test runs, kept in a local variable; stdin is empty afterwards), the first
// failures ("NONCE failure TEXT", one line each) and then "NONCE counts RUN SUCCEEDED
// UNREPORTED TIMED_OUT" (tests run or skipped, tests that succeeded, tests of the plan no
// listener heard of: a test whose class ends by an error JUnit lets through vanishes from every
// count; tests that failed by passing a time limit, whose verdict the machine's load can move:
// JUnit's assertTimeout failures, or a TimeoutException among the causes, as @Timeout's). It
// counts with a listener of its own (`Counts`) that holds its counts in an instance no static
// field leads to and tests a result's status by identity: JUnit's classes share the tests'
// unnamed module, and their static state is the tests' to change (the SummaryGeneratingListener's
// enum switch is a static int[] that reflection can rewrite to count every failure as a
// success). It halts after the tests whatever they did: threads and shutdown hooks a test left
// cannot hold it or write after those lines. Before anything of the project's loads, it installs
// JavaBenchSecurity's security manager and policy: only the JDK's own classes load native
// libraries, and the project's main code, the program under test, cannot reach the tests',
// JUnit's or Mockito's classes, which share its class loader.
//
// Arguments: RUN_CLASSPATH SELECT_CLASS|- [KEY=VALUE ...] (JUnit configuration parameters). The
// class path is ':'-separated.

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

public class JavaBenchTests {
    public static void main(String[] args) throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : args[0].split(":")) {
            if (Files.exists(Paths.get(entry))) {   // as the console keeps only existing entries
                urls.add(Paths.get(entry).toUri().toURL());
            }
        }
        Thread thread = Thread.currentThread();
        JavaBenchSecurity.ProjectClasses project = new JavaBenchSecurity.ProjectClasses(
                urls.toArray(new URL[0]), thread.getContextClassLoader());
        JavaBenchSecurity.install(project);   // before any of the project's code
        String nonce = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                .readLine();
        System.setIn(java.io.InputStream.nullInputStream());
        PrintStream out = System.out;
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
        String selectClass = args[1];
        if (selectClass.equals("-")) {
            request.selectors(DiscoverySelectors.selectClasspathRoots(
                            Set.of(Paths.get("build/test"))))
                   .filters(ClassNameFilter.includeClassNamePatterns(".*"));
        } else {
            request.selectors(DiscoverySelectors.selectClass(selectClass))
                   .filters(ClassNameFilter.includeClassNamePatterns(
                           ClassNameFilter.STANDARD_INCLUDE_PATTERN, Pattern.quote(selectClass)));
        }
        for (String pair : List.of(args).subList(2, args.length)) {
            int split = pair.indexOf('=');
            request.configurationParameter(pair.substring(0, split), pair.substring(split + 1));
        }
        thread.setContextClassLoader(project);
        loadEveryClass(ClassLoader.getSystemClassLoader(), System.getProperty("java.class.path"));
        loadEveryClass(project, args[0]);
        project.complete();
        Launcher launcher = LauncherFactory.create();
        Counts counts = new Counts();
        launcher.execute(request.build(), counts);
        out.println();   // the tests' output may end in the middle of a line
        for (String failure : counts.failures) {
            out.println(nonce + " failure " + failure);
        }
        out.println(nonce + " counts " + counts.run + " " + counts.succeeded + " "
                    + counts.unreported.size() + " " + counts.timedOut);
        out.flush();
        Runtime.getRuntime().halt(0);
    }

    /**
     * Loads, without initializing, every class of these class-path entries (':'-separated
     * folders and jars): the runner's, JUnit's, Mockito's, the tests' and the project's. Their
     * packages are open to the tests' code (unnamed modules), and a class not yet loaded is one
     * it may define first under the same name (`MethodHandles.privateLookupIn(...).defineClass`):
     * a hostile review, stop 32, defined JUnit's AssertionFailureBuilder with a `buildAndThrow`
     * that returns, and every failed assertion passed. A class loaded here cannot be defined
     * again. Loading runs none of the project's code; a class that does not load now fails
     * where it is used, as before.
     */
    static void loadEveryClass(ClassLoader loader, String classPath) throws IOException {
        for (String entry : classPath.split(":")) {
            Path root = Paths.get(entry);
            if (Files.isDirectory(root)) {
                try (Stream<Path> files = Files.walk(root)) {
                    for (Path file : (Iterable<Path>) files::iterator) {
                        load(loader, root.relativize(file).toString().replace(File.separatorChar, '/'));
                    }
                }
            } else if (entry.endsWith(".jar") && Files.isRegularFile(root)) {
                try (JarFile jar = new JarFile(root.toFile())) {
                    for (JarEntry file : Collections.list(jar.entries())) {
                        load(loader, file.getName());
                    }
                }
            }
        }
    }

    static void load(ClassLoader loader, String path) {
        if (path.endsWith(".class") && !path.startsWith("META-INF/")
                && !path.endsWith("module-info.class") && !path.endsWith("package-info.class")) {
            try {
                Class.forName(path.substring(0, path.length() - 6).replace('/', '.'), false, loader);
            } catch (LinkageError | ClassNotFoundException e) {
                // not loadable now (a missing dependency): it fails where it is used
            }
        }
    }

    /** Tests run or skipped, tests that succeeded, the plan's tests not yet heard of, tests
     *  that failed a time limit, and the first failures (test, outcome, the exception's first
     *  line), a line each. */
    static final class Counts implements TestExecutionListener {
        static final int FAILURES_SHOWN = 20;
        long run, succeeded, timedOut;
        final Set<String> unreported = new java.util.HashSet<>();
        final List<String> failures = new ArrayList<>();

        @Override
        public void testPlanExecutionStarted(TestPlan plan) {
            for (TestIdentifier root : plan.getRoots()) {
                for (TestIdentifier found : plan.getDescendants(root)) {
                    if (found.isTest()) {
                        unreported.add(found.getUniqueId());
                    }
                }
            }
        }

        @Override
        public void executionSkipped(TestIdentifier test, String reason) {
            if (test.isTest()) {
                run++;
                unreported.remove(test.getUniqueId());
                failed(test, "SKIPPED " + reason);
            }
        }

        @Override
        public void executionFinished(TestIdentifier test, TestExecutionResult result) {
            if (test.isTest()) {
                run++;
                unreported.remove(test.getUniqueId());
                if (result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
                    succeeded++;
                } else {
                    Throwable thrown = result.getThrowable().orElse(null);
                    String text = thrown == null ? "" : thrown.toString();
                    if (timeLimit(thrown)) {
                        timedOut++;
                    }
                    failed(test, result.getStatus() + " " + text);
                }
            }
        }

        /** JUnit's own time-limit failures, or a TimeoutException among the first causes
         *  (@Timeout throws one, as does a Future.get with a limit). assertTimeout and
         *  assertTimeoutPreemptively fail with an AssertionFailedError whose message ends
         *  "execution exceeded timeout of N ms by M ms" / "execution timed out after N ms"
         *  (JUnit 5.9), not as assertEquals' "... but was: <VALUE>" does. */
        static boolean timeLimit(Throwable thrown) {
            for (int depth = 0; thrown != null && depth < 10; depth++, thrown = thrown.getCause()) {
                if (thrown instanceof java.util.concurrent.TimeoutException) {
                    return true;
                }
                if (thrown instanceof org.opentest4j.AssertionFailedError) {
                    String message = String.valueOf(thrown.getMessage());
                    if (ASSERTED_TIME_LIMIT.matcher(message).find()) {
                        return true;
                    }
                }
            }
            return false;
        }

        static final Pattern ASSERTED_TIME_LIMIT = Pattern.compile(
                "execution (timed out after \\d+ ms|exceeded timeout of \\d+ ms by \\d+ ms)$");

        void failed(TestIdentifier test, String what) {
            if (failures.size() < FAILURES_SHOWN) {
                String name = test.getSource().filter(MethodSource.class::isInstance)
                        .map(s -> ((MethodSource) s).getClassName() + "."
                                  + test.getLegacyReportingName())
                        .orElse(test.getDisplayName());
                String line = name + ": " + what;
                failures.add(line.substring(0, Math.min(line.length(), 300))
                                 .replaceAll("\\s+", " "));
            }
        }
    }
}
