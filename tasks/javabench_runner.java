// JavaBench's build-and-test step in one JVM (the driver, javabench_driver.py, starts it in
// Java's source-file mode: `java -cp <JUnit console jar> javabench_runner.java ARGS`).
//
// The old driver started three JVMs per program (javac for main, javac for tests, the JUnit
// console launcher), 1.8-3.8 s each; here javac runs in process (javax.tools) and its classes
// are warm for the second compile, and the tests run through the JUnit Platform Launcher API
// as the console launcher runs them: the same discovery request (class-path scan with every
// class name, or one class with the console's default name pattern beside the quoted class
// name), the project's class path in a child URLClassLoader set as the context class loader,
// and the same legacy XML report listener, whose files the driver counts.
//
// Arguments: NONCE MAIN_CLASSPATH TEST_CLASSPATH RUN_CLASSPATH SELECT_CLASS|- REPORTS_DIR
// [KEY=VALUE ...] (JUnit configuration parameters). Class paths are ':'-separated. Progress
// lines start with NONCE, which no source text or test can know in advance, so that javac's
// echo of a source line can never pass for one: "NONCE compiled main|test EXIT_CODE" after
// each compile (javac's output before it), "NONCE tests" when the tests start. It exits 0
// after the tests whatever they did, so that threads a test left running cannot hold it.

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.reporting.legacy.xml.LegacyXmlReportGeneratingListener;

public class JavaBenchRunner {
    public static void main(String[] args) throws Exception {
        String nonce = args[0];
        PrintStream out = System.out;
        if (compile(nonce, "main", args[1], "build/main", "src/main/java", out)
                && compile(nonce, "test", args[2], "build/test", "src/test/java", out)) {
            out.println(nonce + " tests");
            out.flush();
            runTests(args[3], args[4], Paths.get(args[5]), List.of(args).subList(6, args.length),
                     out);
        }
        out.flush();
        System.exit(0);
    }

    /** javac --release 17 over every source under `root`, as the driver ran it before. */
    static boolean compile(String nonce, String name, String classpath, String destination,
                           String root, PrintStream out) throws IOException {
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
        String text = diagnostics.toString(StandardCharsets.UTF_8);
        out.print(text.isEmpty() || text.endsWith("\n") ? text : text + "\n");
        out.println(nonce + " compiled " + name + " " + exit);
        return exit == 0;
    }

    static void runTests(String classpath, String selectClass, Path reports,
                         List<String> configuration, PrintStream out) throws Exception {
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
        if (selectClass.equals("-")) {
            request.selectors(DiscoverySelectors.selectClasspathRoots(Set.of(Paths.get("build/test"))))
                   .filters(ClassNameFilter.includeClassNamePatterns(".*"));
        } else {
            request.selectors(DiscoverySelectors.selectClass(selectClass))
                   .filters(ClassNameFilter.includeClassNamePatterns(
                           ClassNameFilter.STANDARD_INCLUDE_PATTERN, Pattern.quote(selectClass)));
        }
        for (String pair : configuration) {
            int split = pair.indexOf('=');
            request.configurationParameter(pair.substring(0, split), pair.substring(split + 1));
        }
        List<URL> urls = new ArrayList<>();
        for (String entry : classpath.split(":")) {
            if (Files.exists(Paths.get(entry))) {   // as the console keeps only existing entries
                urls.add(Paths.get(entry).toUri().toURL());
            }
        }
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        ClassLoader project = URLClassLoader.newInstance(urls.toArray(new URL[0]), previous);
        thread.setContextClassLoader(project);
        try {
            LauncherDiscoveryRequest discovery = request.build();
            Launcher launcher = LauncherFactory.create();
            SummaryGeneratingListener summary = new SummaryGeneratingListener();
            PrintWriter writer = new PrintWriter(out, true);
            launcher.execute(discovery, summary, new LegacyXmlReportGeneratingListener(reports, writer));
            if (summary.getSummary().getTotalFailureCount() > 0) {
                summary.getSummary().printFailuresTo(writer);
            }
            summary.getSummary().printTo(writer);
            writer.flush();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }
}
