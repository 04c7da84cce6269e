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
// a security manager (`TestJvmSecurity`) that lets only the JDK's own classes load native
// libraries (native code reads and writes any address) and a policy (`MainCodePolicy`) under
// which the project's main code, the program under test, cannot reach the tests', JUnit's or
// Mockito's classes, which share its class loader (the tests use its package-private members).
//
// Arguments: RUN_CLASSPATH SELECT_CLASS|- [KEY=VALUE ...] (JUnit configuration parameters). The
// class path is ':'-separated.

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.Permission;
import java.security.Policy;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
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
        // (not URLClassLoader.newInstance's, whose loadClass checks package access for the
        // caller: a mock of a main class, with the main code's domain, links to Mockito's)
        ClassLoader project = new URLClassLoader(urls.toArray(new URL[0]),
                                                 thread.getContextClassLoader());
        PrintStream err = System.err;
        System.setErr(new PrintStream(OutputStream.nullOutputStream()));
        try {   // before any of the project's code, without the JDK's deprecation warning
            Policy.setPolicy(new MainCodePolicy(Paths.get("build/main").toUri().toURL(), project));
            System.setSecurityManager(new TestJvmSecurity(project));
        } catch (UnsupportedOperationException e) {
            // a JDK without security managers (18+ unless allowed, 24+): a host's `java` in the
            // process sandbox, which has none of the image's defences; the image's JDK is 17
        } finally {
            System.setErr(err);
        }
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

    /**
     * What the project's main code may do. Its classes (build/main's code source; the classes
     * it makes hidden, its lambdas, and Mockito's mocks of its types share their protection
     * domain) hold every permission but those that reach the tests', JUnit's and Mockito's
     * classes, which share their class loader: suppressing access checks (setAccessible,
     * privateLookupIn), defining a class (its bytes could link to any of theirs), a class
     * loader of its own, a package that is not the JDK's or its loader's (reflection on
     * JUnit's and Mockito's classes), class references from a stack walk, and any security or
     * management permission. A fourth hostile review (stop 32) reached Mockito's public
     * `mockingProgress()` by reflection and set a verification strategy under which every
     * `verify` passed. What a program did before stays allowed (files, properties, threads,
     * System.exit, reflection on its own classes and the JDK's public API), so an honest
     * program runs as it did.
     */
    static final class MainCodePolicy extends Policy {
        final String mainClasses;
        final ClassLoader project;

        MainCodePolicy(URL mainClasses, ClassLoader project) {
            this.mainClasses = mainClasses.toString();
            this.project = project;
        }

        /** Whether a domain is the main code's, by the domain (one a code source). */
        final java.util.Map<ProtectionDomain, Boolean> mainCode =
                new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public boolean implies(ProtectionDomain domain, Permission permission) {
            if (domain == null || allowed(permission) || !mainCode.computeIfAbsent(domain, d ->
                    d.getCodeSource() != null && d.getCodeSource().getLocation() != null
                    && mainClasses.equals(d.getCodeSource().getLocation().toString()))) {
                return true;
            }
            String name = permission.getName();
            if (permission instanceof RuntimePermission && name.startsWith(PACKAGE_ACCESS)) {
                // the project's packages (Mockito's mocks of its classes share their names),
                // and none that a jar of the runner's has (a program names its packages)
                String pkg = name.substring(PACKAGE_ACCESS.length());
                return project.getDefinedPackage(pkg) != null
                       && ClassLoader.getSystemClassLoader().getDefinedPackage(pkg) == null;
            }
            return false;
        }

        static final String PACKAGE_ACCESS = "accessClassInPackage.";

        static final Set<String> RUNTIME_PERMISSIONS = Set.of(
                "modifyThread", "modifyThreadGroup", "stopThread", "setIO", "shutdownHooks",
                "readFileDescriptor", "writeFileDescriptor", "accessDeclaredMembers",
                "setDefaultUncaughtExceptionHandler", "preferences", "getStackTrace",
                "manageProcess", "getFileSystemAttributes", "localeServiceProvider",
                "charsetProvider", "accessUserInformation");

        /** The permissions the main code holds. */
        static boolean allowed(Permission permission) {
            String name = permission.getName();
            if (permission instanceof RuntimePermission) {
                return RUNTIME_PERMISSIONS.contains(name) || name.startsWith("exitVM")
                       || name.startsWith("getenv.");
            }
            return permission instanceof java.io.FilePermission
                   || permission instanceof java.util.PropertyPermission
                   || permission instanceof java.net.SocketPermission
                   || permission instanceof java.util.logging.LoggingPermission
                   || permission instanceof java.lang.reflect.ReflectPermission
                      && name.startsWith("newProxyInPackage.");
        }
    }

    /**
     * The test JVM's security manager. The permissions MainCodePolicy withholds are checked
     * over the whole stack as the JDK checks them (every frame's domain must hold it, up to a
     * `doPrivileged`); every other check passes at once, as with no manager, and a package
     * that is not the JDK's is checked as the JDK checks its own internal ones, so the main
     * code reflects on its own classes and the JDK's alone. Native libraries are the JDK's
     * alone: a library loaded for a project class (any readable .so: the test runtime's own
     * not yet loaded, or another JDK's in the image) binds the native methods of classes it
     * defines to the JDK's C functions, which take raw file descriptors and addresses (libnio's
     * setfdVal and write0 let a hostile review, stop 32, swap the runner's stdout and read the
     * nonce from memory). So `System.load`/`loadLibrary` is refused unless the class asking,
     * as the JDK finds it (the first frame below them that is not reflection or method-handle
     * machinery), is the JDK's own, and the manager cannot be replaced.
     */
    static final class TestJvmSecurity extends SecurityManager {
        static final StackWalker FRAMES = StackWalker.getInstance(Set.of(
                StackWalker.Option.RETAIN_CLASS_REFERENCE, StackWalker.Option.SHOW_HIDDEN_FRAMES));
        static final Set<String> JDK_PACKAGES = ModuleLayer.boot().modules().stream()
                .flatMap(module -> module.getPackages().stream())
                .collect(java.util.stream.Collectors.toUnmodifiableSet());

        @Override
        public void checkLink(String library) {
            Class<?> asking = FRAMES.walk(frames -> frames.map(StackWalker.StackFrame::getDeclaringClass)
                    .dropWhile(c -> c != Runtime.class)   // this manager's own frames
                    .filter(c -> !callMachinery(c)).findFirst()).orElse(null);
            if (asking == null || !jdk(asking)) {
                throw new SecurityException("native libraries are the JDK's alone: " + library);
            }
        }

        final ClassLoader project;

        TestJvmSecurity(ClassLoader project) {
            this.project = project;
        }

        @Override
        public void checkPackageAccess(String pkg) {
            if (JDK_PACKAGES.contains(pkg)) {
                super.checkPackageAccess(pkg);   // the JDK's internal ones
                return;
            }
            try {
                checkPermission(new RuntimePermission(MainCodePolicy.PACKAGE_ACCESS + pkg));
            } catch (SecurityException refused) {
                if (linkedFrom().map(this::project).orElse(true)) {
                    throw refused;
                }
            }
        }

        boolean project(Class<?> c) {
            return java.security.AccessController.doPrivileged(
                    (java.security.PrivilegedAction<Boolean>) () -> c.getClassLoader() == project);
        }

        /** When the JVM asks (ClassLoader's private checkPackageAccess, with the protection
         *  domain of the class that links or looks up a class of another loader), the first
         *  class below that is not the JDK's: the project's are checked (a class the main code
         *  defines from bytes links to any class the project's loader sees, and Lookup's
         *  defineClass and defineHiddenClass check nothing; a lookup by Class.forName would
         *  let it link unchecked later), others are not (Mockito's mocks of the main classes,
         *  defined by Byte Buddy's loaders with the main code's domain, link to Mockito's). */
        static Optional<Class<?>> linkedFrom() {
            // privileged: the JVM asks in the linking class's domain, which may not hold
            // getClassLoader
            return java.security.AccessController.doPrivileged(
                    (java.security.PrivilegedAction<Optional<Class<?>>>) () -> FRAMES.walk(frames -> {
                java.util.Iterator<StackWalker.StackFrame> up = frames
                        .dropWhile(frame -> frame.getDeclaringClass() != TestJvmSecurity.class
                                            || !frame.getMethodName().equals("checkPackageAccess"))
                        .iterator();
                // this frame, ClassLoader$1's two and doPrivileged's, then checkPackageAccess
                for (int depth = 0; depth < 8 && up.hasNext(); depth++) {
                    StackWalker.StackFrame frame = up.next();
                    if (frame.getDeclaringClass() == ClassLoader.class
                            && frame.getMethodName().equals("checkPackageAccess")) {
                        while (up.hasNext()) {
                            Class<?> below = up.next().getDeclaringClass();
                            if (!jdk(below)) {
                                return Optional.of(below);
                            }
                        }
                        return Optional.of(Object.class);   // the JDK's own
                    }
                }
                return Optional.empty();
            }));
        }

        @Override
        public void checkPermission(Permission permission) {
            if (permission instanceof RuntimePermission
                    && permission.getName().equals("setSecurityManager")) {
                throw new SecurityException("the test runner's security manager stays");
            }
            if (!MainCodePolicy.allowed(permission)) {
                java.security.AccessController.checkPermission(permission);
            }
        }

        @Override
        public void checkPermission(Permission permission, Object context) {
            if (!(context instanceof java.security.AccessControlContext)) {
                throw new SecurityException("not an access control context: " + context);
            }
            if (!MainCodePolicy.allowed(permission)) {
                ((java.security.AccessControlContext) context).checkPermission(permission);
            }
        }

        static final ClassLoader PLATFORM = ClassLoader.getPlatformClassLoader();

        static boolean jdk(Class<?> c) {
            ClassLoader loader = c.getClassLoader();
            return loader == null || loader == PLATFORM;
        }

        /** Frames between a load and the class asking for it: Runtime's and System's, and the
         *  JDK's reflection and method-handle frames (a method handle's caller is a class of
         *  its lookup's loader, which is not the JDK's unless the lookup was). */
        static boolean callMachinery(Class<?> c) {
            if (!jdk(c)) {
                return false;
            }
            String pkg = c.getPackageName();
            return c == Runtime.class || c == System.class || c.isHidden()
                   || pkg.equals("java.lang.invoke") || pkg.equals("java.lang.reflect")
                   || pkg.equals("jdk.internal.reflect");
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
