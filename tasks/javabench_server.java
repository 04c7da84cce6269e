// JavaBench's compile server: one warm JVM per sandbox slot, kept by the worker across programs
// (a service, sandbox/service.py), so that javac starts once per slot instead of once per
// program: a warm javac compiles a PA20 project in a fraction of a cold one's time. It only ever
// compiles: javac runs no code of the program (annotation processing is off, no plugin is
// named), so nothing a program's code does can reach this JVM or a later program. The tests run
// afterwards in a fresh JVM per program, started by the driver as the program's own uid
// (JavaBenchTests.java with JavaBenchSecurity.java, which this server compiles once when it
// starts).
//
// Started as `java -cp <JUnit console jar> javabench_server.java SOCKET FILES_DIR RUNTIMES
// FLAGS...` (RUNTIMES: the test JVMs' Java homes, each as HOME=JARS, the jars its test JVMs add
// to their class path, ':'-separated, ','-separated; FLAGS: their flags), it
// compiles FILES_DIR/JavaBenchTests.java and JavaBenchSecurity.java into
// `classes/JavaBenchTests.jar` beside the socket (a folder of this uid, which the programs' uid
// may read), archives the test JVMs' classes there for each runtime (`archiveTestClasses`),
// binds the Unix socket and prints "listening". The driver
// (javabench_driver.py) sends one job per connection; fields both ways are a 4-byte big-endian
// length and its bytes. Job: PROJECT_DIR MAIN_CLASSPATH TEST_CLASSPATH (the project's sources in
// PROJECT_DIR/src/{main,test}/java, the classes to PROJECT_DIR/build/{main,test}, folders the
// driver lets this uid write). Answer: EXIT OUTPUT of javac --release 17 on main, then, if main
// compiled, on tests, as compileJava/compileTestJava did (paths in OUTPUT relative to the
// project, as javac prints them when run in it).

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
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
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

public class JavaBenchServer {
    static final JavaCompiler JAVAC = ToolProvider.getSystemJavaCompiler();
    // every compile: Java 17 sources in UTF-8, no annotation processing (javac runs no code)
    static final List<String> JAVAC_OPTIONS = List.of(
            "--release", "17", "-encoding", "UTF-8", "-nowarn", "-proc:none");

    public static void main(String[] args) throws Exception {
        Path socket = Paths.get(args[0]);
        Path classes = Files.createDirectories(socket.resolveSibling("classes"));
        String junit = System.getProperty("java.class.path");
        Path runner = Files.createDirectories(Paths.get("runner"));
        compileOrFail(junit, runner, Paths.get(args[1], "JavaBenchTests.java"),
                      Paths.get(args[1], "JavaBenchSecurity.java"));
        // a jar: a class-path folder that is not empty rules out a class archive
        Path jar = classes.resolve("JavaBenchTests.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
             Stream<Path> compiled = Files.list(runner)) {
            for (Path file : (Iterable<Path>) compiled.sorted()::iterator) {   // and its nested
                out.putNextEntry(new JarEntry(file.getFileName().toString()));   // classes
                out.write(Files.readAllBytes(file));
            }
        }
        archiveTestClasses(args[2].split(","), junit + ":" + jar, classes,
                           List.of(args).subList(3, args.length));
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
        System.out.println("listening");
        System.out.flush();
        while (true) {
            try (SocketChannel channel = server.accept()) {
                DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
                DataOutputStream out = new DataOutputStream(Channels.newOutputStream(channel));
                Path project = Paths.get(text(in));
                String mainClasspath = text(in), testClasspath = text(in);
                if (compile(project, mainClasspath, "main", out)) {
                    compile(project, testClasspath, "test", out);
                }
            } catch (IOException e) {   // a driver that went away: its program is over
                System.err.println("job lost: " + e);
            }
        }
    }

    static void compileOrFail(String classpath, Path destination, Path... sources) {
        List<String> arguments = new ArrayList<>(JAVAC_OPTIONS);
        arguments.addAll(List.of("-cp", classpath, "-d", destination.toString()));
        for (Path source : sources) {
            arguments.add(source.toString());
        }
        if (JAVAC.run(null, null, null, arguments.toArray(new String[0])) != 0) {
            throw new IllegalStateException(List.of(sources) + " did not compile");
        }
    }

    /** What the archives are trained on: the JUnit features JavaBench's tests use. */
    static final String WARMUP_TEST = """
            import java.util.List;
            import org.junit.jupiter.api.*;
            import org.junit.jupiter.params.ParameterizedTest;
            import org.junit.jupiter.params.provider.*;
            import static org.junit.jupiter.api.Assertions.*;
            @Tag("warmup") @DisplayName("warm-up")
            class WarmupTest {
                List<Integer> seen;
                @BeforeEach void start() { seen = new java.util.ArrayList<>(); }
                @AfterEach void end() { seen = null; }
                @Test @DisplayName("adds") void adds() {
                    assertEquals(2, 1 + 1); assertTrue(seen.isEmpty()); }
                @Test void fails() {
                    assertThrows(IllegalStateException.class, () -> {
                        throw new IllegalStateException(); }); }
                @Test void failing() { assertEquals(List.of(1), List.of(2), "a failure"); }
                @Test @Timeout(5) void all() {
                    assertAll(() -> assertNotNull(seen), () -> assertFalse(false)); }
                @ParameterizedTest @ValueSource(ints = {1, 2}) void counts(int n) {
                    assertEquals(n, n); }
                @ParameterizedTest @EnumSource(java.time.DayOfWeek.class)
                void days(java.time.DayOfWeek d) { assertNotNull(d); }
                @ParameterizedTest @CsvSource({"a, 1", "b, 2"}) void pairs(String s, int n) {
                    assertArrayEquals(new int[] {n}, new int[] {n}); }
                @Nested class Inner { @Test void inner() { assertSame(seen, seen); } }
            }
            """;
    /** The same for a runtime whose test JVMs have Mockito (PA22's). */
    static final String MOCKITO_WARMUP_TEST = """
            import java.util.List;
            import org.junit.jupiter.api.Test;
            import org.mockito.InOrder;
            import static org.mockito.Mockito.*;
            class MockitoWarmupTest {
                interface Engine { String fetch(); void render(Object state); }
                static class State { boolean won() { return true; } int quota() { return 1; } }
                @Test void mocks() {
                    Engine engine = mock(Engine.class);
                    State state = mock(State.class);
                    when(state.won()).thenReturn(false, true);
                    when(engine.fetch()).thenReturn("a", "b");
                    engine.render(state);
                    engine.fetch();
                    state.won();
                    InOrder order = inOrder(engine);
                    order.verify(engine).render(eq(state));
                    order.verify(engine).fetch();
                    verify(state, atLeastOnce()).won();
                    verify(engine, atLeast(0)).render(any());
                    List<?> list = mock(List.class);
                    verify(list, never()).clear();
                }
            }
            """;

    /**
     * An AppCDS archive (classes/HOME_NAME.jsa) for each of the test JVMs' runtimes, of the
     * classes a test run loads from the jars on its class path (same class path, same flags):
     * it saves a test JVM a fifth to a third of its time. Dumped at the exit of one run of
     * JavaBenchTests per runtime over warm-up tests of this server's own (the Mockito one where
     * the runtime's class path has jars of its own), in this uid's folder: a program's uid can
     * read the archives, never write them (an archive is code for every JVM that maps it).
     */
    static void archiveTestClasses(String[] runtimes, String classpath, Path classes,
                                   List<String> flags) throws Exception {
        List<Process> runs = new ArrayList<>();
        for (String entry : runtimes) {
            String[] parts = entry.split("=", 2);
            Path runtime = Paths.get(parts[0]), java = runtime.resolve("bin/java");
            String jars = parts[1];
            String runClasspath = jars.isEmpty() ? classpath : classpath + ":" + jars;
            Path warmup = Paths.get("warmup-" + runs.size()), tests = warmup.resolve("build/test");
            Files.createDirectories(tests);
            List<Path> sources = new ArrayList<>(List.of(
                    Files.writeString(warmup.resolve("WarmupTest.java"), WARMUP_TEST)));
            if (!jars.isEmpty()) {
                sources.add(Files.writeString(warmup.resolve("MockitoWarmupTest.java"),
                                              MOCKITO_WARMUP_TEST));
            }
            compileOrFail(runClasspath, tests, sources.toArray(new Path[0]));   // one javac
            if (!Files.isExecutable(java)) {   // no such runtime here: the test JVMs run `java`
                java = Paths.get(System.getProperty("java.home"), "bin", "java");
            }
            List<String> command = new ArrayList<>(List.of(java.toString()));
            command.addAll(flags);
            command.addAll(List.of(
                    "-XX:ArchiveClassesAtExit=" + classes.resolve(runtime.getFileName() + ".jsa"),
                    "-cp", runClasspath, "JavaBenchTests",
                    jars.isEmpty() ? "build/test" : "build/test:" + jars, "-",
                    "junit.jupiter.execution.timeout.testable.method.default=2000 ms"));
            Process run = new ProcessBuilder(command).directory(warmup.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            run.getOutputStream().close();   // its nonce: none
            runs.add(run);
        }
        for (Process run : runs) {
            if (!run.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
                run.destroyForcibly();   // no archive: its test JVMs start without one
            }
        }
    }

    /** javac over every source under src/NAME/java into build/NAME; answers EXIT OUTPUT. */
    static boolean compile(Path project, String classpath, String name, DataOutputStream out)
            throws IOException {
        Path sources = project.resolve("src/" + name + "/java");
        List<String> arguments = new ArrayList<>(JAVAC_OPTIONS);
        arguments.addAll(List.of("-d", project.resolve("build/" + name).toString(),
                                 "-cp", absolute(project, classpath)));
        if (Files.isDirectory(sources)) {
            try (Stream<Path> files = Files.walk(sources)) {
                arguments.addAll(files.map(Path::toString).filter(p -> p.endsWith(".java"))
                                 .sorted().collect(Collectors.toList()));
            }
        }
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int exit = JAVAC.run(null, diagnostics, diagnostics, arguments.toArray(new String[0]));
        String output = diagnostics.toString(StandardCharsets.UTF_8)
                .replace(project.toString() + "/", "");
        for (String field : List.of(String.valueOf(exit), output)) {
            byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
            out.writeInt(bytes.length);
            out.write(bytes);
        }
        out.flush();
        return exit == 0;
    }

    /** A ':'-separated class path with its relative entries made relative to `project`. */
    static String absolute(Path project, String classpath) {
        return Stream.of(classpath.split(":")).map(e -> project.resolve(e).toString())
                .collect(Collectors.joining(":"));
    }

    static String text(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > (1 << 20)) {
            throw new IOException("a field of " + length + " bytes");
        }
        return new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }
}
