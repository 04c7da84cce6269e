"""JavaBench's in-sandbox driver: build one project copy and run its JUnit tests (stdlib only).

The task sends this file's text as the head of every JavaBench program; the sandbox worker's
`driver` framework runs it in the `java` image and gives it `report_step`. It replaces the
official Gradle build (unreachable offline) with what Gradle does for these projects, measured
step for step against the official results (shared/docs/javabench-offline.md): javac
--release 17 for main, then for tests (separately, as compileJava/compileTestJava), resources
on the class path, then the JUnit Platform's tests as its console launcher runs them from
Debian's jars, with the project root as working directory, PA21/PA22's 2000 ms default
per-test timeout, and a 60 s limit on the test run (Gradle's 1-minute test task timeout).
All of it happens in one JVM, javabench_runner.java (its source travels in the spec), which
reports each compile on its stdout. Steps reported: `compile` (errors = javac error lines) and
`tests` (tests, successes, from the XML reports).
"""

import base64
import glob
import io
import json
import os
import re
import secrets
import subprocess
import tarfile
import zlib
import xml.etree.ElementTree as ElementTree

JARS = "/usr/share/java/"
ANNOTATION_JARS = ["org.jetbrains.annotations-java8.jar"]
TEST_JARS = ["junit-jupiter-api.jar", "junit-jupiter-params.jar", "junit-platform-commons.jar",
             "opentest4j.jar", "apiguardian-api.jar"]
# PA22: its Grader uses the launcher API, its tests Mockito (byte-buddy is not in
# mockito-core's manifest class path and must be named).
MOCKITO_JARS = ["junit-platform-launcher.jar", "junit-platform-engine.jar", "mockito-core.jar",
                "byte-buddy.jar", "byte-buddy-agent.jar", "objenesis.jar"]
JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData"]
COMPILE_ERROR = re.compile(r"^\S.*:\d+: error:", re.M)
TEST_RUN_LIMIT_S = 60


def unpack(spec):
    """A fresh copy of the project in ./project, the generated files written over it."""
    archive = zlib.decompress(base64.b64decode(spec["project"]))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall("project")   # our own archive of the Solution project
    for path, text in spec["files"].items():
        with open(os.path.join("project", path), "w", encoding="utf-8") as f:
            f.write(text)
    os.chdir("project")


def junit_counts(reports):
    """(tests, successes, failure lines) over the launcher's XML reports."""
    tests, successes, failures = 0, 0, []
    for path in sorted(glob.glob(f"{reports}/TEST-*.xml")):
        for case in ElementTree.parse(path).getroot().iter("testcase"):
            tests += 1
            bad = [c for c in case if c.tag in ("failure", "error", "skipped")]
            if not bad:
                successes += 1
            elif len(failures) < 20:
                failures.append(f"{case.get('classname')}.{case.get('name')}: {bad[0].tag} "
                                f"{(bad[0].get('message') or '')[:200]}")
    return tests, successes, failures


def run_javabench(spec):
    unpack(spec)
    with open("../runner.java", "w", encoding="utf-8") as f:
        f.write(spec["runner"])
    jars = [JARS + j for j in ANNOTATION_JARS]
    test_jars = jars + [JARS + j for j in TEST_JARS + (MOCKITO_JARS if spec["mockito"] else [])]
    run_classpath = ["build/test", "src/test/resources", "build/main", "src/main/resources"]
    config = []
    if spec.get("test_timeout_ms"):
        config.append("junit.jupiter.execution.timeout.testable.method.default="
                      f"{spec['test_timeout_ms']} ms")
        if spec.get("separate_thread"):   # robust mode: a looping test cannot hang the run
            config.append("junit.jupiter.execution.timeout.thread.mode.default=SEPARATE_THREAD")
    nonce = secrets.token_hex(16)
    runner = subprocess.Popen(
        ["java", *JVM_FLAGS, "-Xmx512m", "-Dfile.encoding=UTF-8",
         "-cp", JARS + "junit-platform-console-standalone.jar", "../runner.java", nonce,
         ":".join(jars), ":".join(["build/main"] + test_jars),
         ":".join(run_classpath + test_jars), spec.get("select_class") or "-", "build/reports",
         *config],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, errors="replace")
    for _ in ("main", "test"):
        exit_code, output = read_compile(runner, nonce)
        if exit_code != 0:
            errors = len(COMPILE_ERROR.findall(output)) or 1
            report_step("compile", "failed", errors=errors, message=output[-3000:])
            runner.kill()
            runner.communicate()
            return
    report_step("compile", "passed", errors=0, message=output[-3000:])
    started = runner.stdout.readline()   # "NONCE tests", or nothing when the JVM died
    try:
        output = started + runner.communicate(timeout=TEST_RUN_LIMIT_S)[0]
    except subprocess.TimeoutExpired:
        runner.kill()
        runner.communicate()
        report_step("tests", "failed", tests=0, successes=0, timed_out=True,
                    message=f"the test run passed its {TEST_RUN_LIMIT_S} s limit")
        return
    tests, successes, failures = junit_counts("build/reports")
    passed = bool(tests) and successes == tests
    message = "" if passed else "\n".join(failures) or output[-2000:]
    report_step("tests", "passed" if passed else "failed", tests=tests, successes=successes,
                message=message)


def read_compile(runner, nonce):
    """(javac's exit code, its output) from the runner's next "NONCE compiled NAME EXIT"
    line and the lines before it; exit code None when the JVM ended first."""
    lines = []
    for line in runner.stdout:
        if line.startswith(nonce + " compiled "):
            return int(line.split()[-1]), "".join(lines)
        lines.append(line)
    return None, "".join(lines)


def load_spec(packed):
    return json.loads(zlib.decompress(base64.b64decode(packed)))
