"""JavaBench's in-sandbox driver: build one project copy and run its JUnit tests (stdlib only).

The task sends this file's text as the head of every JavaBench program; the sandbox worker's
`driver` framework runs it in the `java` image and gives it `report_step`. It replaces the
official Gradle build (unreachable offline) with what Gradle does for these projects, measured
step for step against the official results (shared/docs/javabench-offline.md): javac
--release 17 for main, then for tests (separately, as compileJava/compileTestJava), resources
on the class path, then the JUnit Platform console launcher from Debian's jars with the
project root as working directory, PA21/PA22's 2000 ms default per-test timeout, and a
60 s limit on the test run (Gradle's 1-minute test task timeout). Steps reported:
`compile` (errors = javac error lines) and `tests` (tests, successes, from the XML reports).
"""

import base64
import glob
import io
import json
import os
import re
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


def javac(out, classpath, root):
    sources = sorted(glob.glob(f"{root}/**/*.java", recursive=True))
    os.makedirs(out, exist_ok=True)
    with open(f"{out}.sources", "w", encoding="utf-8") as f:
        f.write("\n".join(f'"{s}"' for s in sources))
    done = subprocess.run(
        ["javac", *(f"-J{flag}" for flag in JVM_FLAGS), "-J-Xmx512m", "--release", "17",
         "-encoding", "UTF-8", "-nowarn", "-proc:none", "-d", out, "-cp", ":".join(classpath),
         f"@{out}.sources"], capture_output=True, text=True, errors="replace")
    output = done.stdout + done.stderr
    return len(COMPILE_ERROR.findall(output)) or (done.returncode != 0), output


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
    jars = [JARS + j for j in ANNOTATION_JARS]
    test_jars = jars + [JARS + j for j in TEST_JARS + (MOCKITO_JARS if spec["mockito"] else [])]
    errors, output = javac("build/main", jars, "src/main/java")
    if not errors:
        errors, output = javac("build/test", ["build/main"] + test_jars, "src/test/java")
    report_step("compile", "failed" if errors else "passed", errors=int(errors),
                message=output[-3000:])
    if errors:
        return
    classpath = ["build/test", "src/test/resources", "build/main", "src/main/resources"]
    select = (["--select-class", spec["select_class"]] if spec.get("select_class") else
              ["--scan-class-path", "build/test", "--include-classname", ".*"])
    config = []
    if spec.get("test_timeout_ms"):
        config.append("--config=junit.jupiter.execution.timeout.testable.method.default="
                      f"{spec['test_timeout_ms']} ms")
        if spec.get("separate_thread"):   # robust mode: a looping test cannot hang the run
            config.append("--config=junit.jupiter.execution.timeout.thread.mode.default="
                          "SEPARATE_THREAD")
    command = ["java", *JVM_FLAGS, "-Xmx512m", "-Dfile.encoding=UTF-8", "-jar",
               JARS + "junit-platform-console-standalone.jar",
               "--class-path", ":".join(classpath + test_jars), *select, *config,
               "--disable-banner", "--disable-ansi-colors", "--details=summary",
               "--reports-dir=build/reports"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              timeout=spec.get("run_limit_s", TEST_RUN_LIMIT_S))
    except subprocess.TimeoutExpired:
        report_step("tests", "failed", tests=0, successes=0, timed_out=True,
                    message=f"the test run passed its {TEST_RUN_LIMIT_S} s limit")
        return
    tests, successes, failures = junit_counts("build/reports")
    passed = bool(tests) and successes == tests
    message = "" if passed else "\n".join(failures) or (done.stdout + done.stderr)[-2000:]
    report_step("tests", "passed" if passed else "failed", tests=tests, successes=successes,
                message=message)


def load_spec(packed):
    return json.loads(zlib.decompress(base64.b64decode(packed)))
