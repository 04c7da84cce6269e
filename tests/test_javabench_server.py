"""JavaBench against hostile classes: the slot's warm compile server (javabench_server.java, a
service the worker keeps per slot) only compiles, and the tests run in a fresh JVM per program
(JavaBenchTests.java), so what one program's code does must change neither its own verdict (by
writing over its test reports) nor any later program's. Each hostile class is PA19's Wall with
code in a static initializer (it runs when the tests load the class); the programs after it,
in the same slot, are a Wall that fails its tests and the canonical one."""

import re

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
}


@pytest.fixture(scope="module")
def wall(benchmarks):
    problems = JavaBench().load(DataSource(benchmarks))
    return next(p for p in problems if p.task_id == "PA19/Wall.java")


def with_static_block(source: str, statements: str) -> str:
    head = re.search(r"public class Wall\b[^{]*\{", source)
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
    # the program forges its own reports while its tests run: the launcher's own count of
    # passing tests caps what the files claim
    forging = wrong_wall(with_static_block(
        wall.data["canonical"], HOSTILE["a thread that writes passing reports"]))
    with java_sandbox(parallel=1) as box:
        [execution] = box.run([program(wall, forging, 0)])
    step = the_tests_step(execution)
    assert execution.status == "failed" and step["successes"] < step["tests"], step
    assert "written over" in step["message"]   # the forgery happened, and was caught
