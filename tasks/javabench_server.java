// JavaBench's compile server: one warm JVM per sandbox slot, kept by the worker across programs
// (a service, sandbox/service.py), so that javac starts once per slot instead of once per
// program: a warm javac compiles a PA20 project in a fraction of a cold one's time. It only ever
// compiles: javac runs no code of the program (annotation processing is off, no plugin is
// named), so nothing a program's code does can reach this JVM or a later program. The tests run
// afterwards in a fresh JVM per program, started by the driver as the program's own uid
// (JavaBenchTests.java, which this server compiles once when it starts).
//
// Started as `java -cp <JUnit console jar> javabench_server.java SOCKET FILES_DIR RUNTIMES
// FLAGS...` (RUNTIMES: the test JVMs' Java homes, ':'-separated; FLAGS: their flags), it
// compiles FILES_DIR/JavaBenchTests.java into `classes/JavaBenchTests.jar` beside the socket (a
// folder of this uid, which the programs' uid may read), archives the test JVMs' classes there
// for each runtime (`archiveTestClasses`), binds the Unix socket
// and prints "listening". The driver
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
        compileOrFail(junit, runner, Paths.get(args[1], "JavaBenchTests.java"));
        // a jar: a class-path folder that is not empty rules out a class archive
        Path jar = classes.resolve("JavaBenchTests.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
             Stream<Path> compiled = Files.list(runner)) {
            for (Path file : (Iterable<Path>) compiled.sorted()::iterator) {   // and its nested
                out.putNextEntry(new JarEntry(file.getFileName().toString()));   // classes
                out.write(Files.readAllBytes(file));
            }
        }
        archiveTestClasses(args[2].split(":"), junit + ":" + jar, classes,
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

    static void compileOrFail(String classpath, Path destination, Path source) {
        List<String> arguments = new ArrayList<>(JAVAC_OPTIONS);
        arguments.addAll(List.of("-cp", classpath, "-d", destination.toString(),
                                 source.toString()));
        if (JAVAC.run(null, null, null, arguments.toArray(new String[0])) != 0) {
            throw new IllegalStateException(source + " did not compile");
        }
    }

    /**
     * An AppCDS archive (classes/RUNTIME.jsa) for each of the test JVMs' runtimes, of the classes
     * a test run loads from the JUnit jar (same class path, same flags): it saves a test JVM a
     * fifth of its time. Dumped at the exit of one JUnit console run per runtime over a small
     * test of this server's own, in this uid's folder: a program's uid can read the archives,
     * never write them (an archive is code for every JVM that maps it).
     */
    static void archiveTestClasses(String[] runtimes, String classpath, Path classes,
                                   List<String> flags) throws Exception {
        Path warmup = Files.createDirectories(Paths.get("warmup"));
        Files.writeString(warmup.resolve("WarmupTest.java"), String.join("\n",
                "import org.junit.jupiter.api.Test;",
                "import org.junit.jupiter.params.ParameterizedTest;",
                "import org.junit.jupiter.params.provider.ValueSource;",
                "import static org.junit.jupiter.api.Assertions.assertEquals;",
                "class WarmupTest {",
                "    @Test void adds() { assertEquals(2, 1 + 1); }",
                "    @ParameterizedTest @ValueSource(ints = {1, 2}) void counts(int n) {",
                "        assertEquals(n, n); }",
                "}", ""));
        compileOrFail(classpath, warmup, warmup.resolve("WarmupTest.java"));
        List<Process> runs = new ArrayList<>();
        for (String name : runtimes) {
            Path runtime = Paths.get(name), java = runtime.resolve("bin/java");
            if (!Files.isExecutable(java)) {   // no such runtime here: the test JVMs run `java`
                java = Paths.get(System.getProperty("java.home"), "bin", "java");
            }
            List<String> command = new ArrayList<>(List.of(java.toString()));
            command.addAll(flags);
            command.addAll(List.of(
                    "-XX:ArchiveClassesAtExit=" + classes.resolve(runtime.getFileName() + ".jsa"),
                    "-cp", classpath, "org.junit.platform.console.ConsoleLauncher",
                    "--disable-banner", "--details=none", "--class-path", warmup.toString(),
                    "--scan-class-path",
                    "--reports-dir", warmup.resolve("reports-" + runs.size()).toString(),
                    "--config", "junit.jupiter.execution.timeout.testable.method.default=2000 ms"));
            runs.add(new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
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
