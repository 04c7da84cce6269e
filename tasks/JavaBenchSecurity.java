// The defences of JavaBench's test JVM (JavaBenchTests) against the code under test, installed
// before anything of the project's loads: a security manager (TestJvmSecurity), a policy
// (MainCodePolicy), a serial filter, and the project's class loader (ProjectClasses), which
// defines nothing once the tests begin. The project's main classes (the program under test)
// share that loader with its tests, which use their package-private members (so they must
// share runtime packages), and it sees JUnit's and Mockito's classes, whose public API is
// state anyone can change; the policy keeps the main code from them. Native libraries are the
// JDK's alone. tests/test_javabench_main_code.py and tests/test_javabench_memory.py hold the
// attacks each defence closes.

import java.io.ObjectInputFilter;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Paths;
import java.security.AccessControlContext;
import java.security.AccessController;
import java.security.Permission;
import java.security.Policy;
import java.security.PrivilegedAction;
import java.security.ProtectionDomain;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

final class JavaBenchSecurity {
    /** The runner's class path's loader (JUnit's, Mockito's, the runner's) and the JDK's. */
    static final ClassLoader SYSTEM = ClassLoader.getSystemClassLoader();
    static final ClassLoader PLATFORM = ClassLoader.getPlatformClassLoader();

    /** Classes no program deserializes: JUnit's, Mockito's and their libraries' (a program's
     *  own stream resolves them through the project's loader, with no package check, and
     *  their objects could be built field by field), and XSLT's compiled stylesheets (which
     *  carry bytecode of their own to define). A stream's own filter needs a permission the
     *  main code does not hold. */
    static final String SERIAL_FILTER = "!org.junit.**;!org.opentest4j.**;!org.apiguardian.**;"
            + "!org.mockito.**;!net.bytebuddy.**;!org.objenesis.**;!com.sun.org.apache.xalan.**";

    /** The policy, the security manager and the serial filter, for a project whose classes
     *  `project` loads. */
    static void install(ClassLoader project) throws MalformedURLException {
        ObjectInputFilter.Config.setSerialFilter(
                ObjectInputFilter.Config.createFilter(SERIAL_FILTER));
        PrintStream err = System.err;
        System.setErr(new PrintStream(OutputStream.nullOutputStream()));
        try {   // without the JDK's deprecation warning
            Policy.setPolicy(new MainCodePolicy(Paths.get("build/main").toUri().toURL(), project));
            System.setSecurityManager(new TestJvmSecurity(project));
        } catch (UnsupportedOperationException e) {
            // a JDK without security managers (18+ unless allowed, 24+): a host's `java` in the
            // process sandbox, which has none of the image's defences; the image's JDK is 17
        } finally {
            System.setErr(err);
        }
    }

    /**
     * The project's class loader (its class path: the tests, the main classes, their resources
     * and jars), which defines no class once the runner has loaded them all (`complete`): the
     * program's uid may write to the project's folders, and a class file the main code wrote
     * into build/test, then loaded, had the tests' protection domain and called Mockito's
     * API directly (stop 33). It is not URLClassLoader.newInstance's, whose loadClass checks
     * package access for the class asking: a mock of a main class, with the main code's
     * domain, links to Mockito's classes through it.
     */
    static final class ProjectClasses extends URLClassLoader {
        private volatile boolean complete;

        ProjectClasses(URL[] urls, ClassLoader parent) {
            super(urls, parent);
        }

        void complete() {
            complete = true;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            if (complete) {
                throw new ClassNotFoundException(
                        name + " (not in the project when its tests began)");
            }
            return super.findClass(name);
        }
    }

    /**
     * What the project's main code may do. Its classes (build/main's code source; the classes
     * it makes hidden, its lambdas, and Mockito's mocks of its types share their protection
     * domain) hold every permission but those that reach the tests', JUnit's and Mockito's
     * classes, which share their class loader: a package of another loader that is neither the
     * JDK's nor the project's (reflection and method handles on JUnit's and Mockito's
     * classes; and TestJvmSecurity checks the JVM's links from project classes, so a class
     * the main code defines from bytes cannot call them), suppressed access checks
     * (setAccessible, privateLookupIn: the tests' private state), a class loader of its own
     * (its classes would have domains of their own), another context class loader, and
     * security and management permissions but reading security properties. A fourth hostile
     * review (stop 32) reached Mockito's public `mockingProgress()` by reflection and set a
     * verification strategy under which every `verify` passed. Everything else stays allowed
     * (files, properties, threads, System.exit, class loaders and reflection on its own
     * classes and the JDK's public API), so an honest program runs as it did unless it
     * suppresses access checks.
     */
    static final class MainCodePolicy extends Policy {
        final String mainClasses;
        final ClassLoader project;
        /** Whether a domain is held as the main code's, by domain (one a code source). */
        final Map<ProtectionDomain, Boolean> held = new ConcurrentHashMap<>();

        MainCodePolicy(URL mainClasses, ClassLoader project) {
            this.mainClasses = mainClasses.toString();
            this.project = project;
        }

        @Override
        public boolean implies(ProtectionDomain domain, Permission permission) {
            if (domain == null || allowed(permission)
                    || !held.computeIfAbsent(domain, this::held)) {
                return true;
            }
            String name = permission.getName();
            if (permission instanceof RuntimePermission && name.startsWith(PACKAGE_ACCESS)) {
                // the project's packages (Mockito's mocks of its classes share their names),
                // and none that a jar of the runner's has (a program names its packages)
                String pkg = name.substring(PACKAGE_ACCESS.length());
                return project.getDefinedPackage(pkg) != null
                       && SYSTEM.getDefinedPackage(pkg) == null;
            }
            return false;
        }

        /** The JDK's domains, the runner's class path's and the project loader's are trusted
         *  but build/main's; any other is held as the main code's: a loader the JDK makes for
         *  it (URLClassLoader.newInstance, in the JDK's own doPrivileged, RMI's, XSLT's for
         *  translets) defines its classes in domains of their own, and a review (stop 33)
         *  forged a pass with a class of URLClassLoader.newInstance's. */
        boolean held(ProtectionDomain domain) {
            ClassLoader loader = domain.getClassLoader();
            if (loader == null || loader == SYSTEM || loader == PLATFORM) {
                return false;
            }
            java.security.CodeSource source = domain.getCodeSource();
            return loader != project || source == null || source.getLocation() == null
                   || mainClasses.equals(source.getLocation().toString());
        }

        static final String PACKAGE_ACCESS = "accessClassInPackage.";

        static final Set<String> RUNTIME_PERMISSIONS = Set.of(
                "modifyThread", "modifyThreadGroup", "stopThread", "setIO", "shutdownHooks",
                "readFileDescriptor", "writeFileDescriptor", "accessDeclaredMembers",
                "setDefaultUncaughtExceptionHandler", "preferences", "getStackTrace",
                "manageProcess", "getFileSystemAttributes", "localeServiceProvider",
                "charsetProvider", "accessUserInformation",
                // what these give (loaders, domains, classes) reaches nothing unchecked: the
                // package and link checks hold for any class the main code holds
                "getClassLoader", "getProtectionDomain", "getStackWalkerWithClassReference");

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
                      && name.startsWith("newProxyInPackage.")
                   || permission instanceof java.security.SecurityPermission
                      && name.startsWith("getProperty.");
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
                .collect(Collectors.toUnmodifiableSet());

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
                if (!linkedFrom().map(this::mockito).orElse(false)) {
                    throw refused;
                }
            }
        }

        /** Whether a class is Mockito's (Byte Buddy's): of the runner's class path (defining
         *  a mock), or of a loader a class of it made (a mock), not the project's or the JDK's
         *  (URLClassLoader.newInstance's). */
        boolean mockito(Class<?> c) {
            return AccessController.doPrivileged((PrivilegedAction<Boolean>) () -> {
                ClassLoader loader = c.getClassLoader();
                return loader == SYSTEM || loader != null && loader != project
                       && loader.getClass().getClassLoader() == SYSTEM;
            });
        }

        /** When the JVM asks (ClassLoader's private checkPackageAccess, with the protection
         *  domain of the class that links or looks up a class of another loader), the first
         *  class below that is not the JDK's. Its check holds for every class but Mockito's
         *  (Byte Buddy defines the mocks of the main classes with the main code's domain, in
         *  loaders of its own, and they link to Mockito's): a class the main code defines
         *  from bytes links to any class the project's loader sees (Lookup's defineClass and
         *  defineHiddenClass check nothing for a full-privilege lookup), and a lookup by
         *  Class.forName would let it link unchecked later. */
        static Optional<Class<?>> linkedFrom() {
            // privileged: the JVM asks in the linking class's domain, which may not hold
            // getClassLoader
            return AccessController.doPrivileged(
                    (PrivilegedAction<Optional<Class<?>>>) () -> FRAMES.walk(frames -> {
                Iterator<StackWalker.StackFrame> up = frames
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
                AccessController.checkPermission(permission);
            }
        }

        @Override
        public void checkPermission(Permission permission, Object context) {
            if (!(context instanceof AccessControlContext)) {
                throw new SecurityException("not an access control context: " + context);
            }
            if (!MainCodePolicy.allowed(permission)) {
                ((AccessControlContext) context).checkPermission(permission);
            }
        }

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
}
