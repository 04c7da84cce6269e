"""JavaBench's in-sandbox driver: build one project copy and run its JUnit tests (stdlib only).

The task sends this file's text as the head of every JavaBench program; the sandbox worker's
`driver` framework runs it in the `java` image and gives it `report_step`. It replaces the
official Gradle build (unreachable offline) with what Gradle does for these projects, measured
step for step against the official results (shared/docs/javabench-offline.md): javac
--release 17 for main, then for tests (separately, as compileJava/compileTestJava), resources
on the class path, then the JUnit Platform's tests as its console launcher runs them from
Debian's jars, with the project root as working directory, PA21/PA22's 2000 ms default
per-test timeout, and a 60 s limit on the test run (Gradle's 1-minute test task timeout).
The work happens in the slot's warm JVM (javabench_server.java, a service the worker keeps
across programs, found at $CODEEVAL_SERVICE): this driver sends it the project's files and
the class paths, and reads javac's output for each compile and the tests' XML reports back.
Steps reported: `compile` (errors = javac error lines) and `tests` (tests, successes, from the
XML reports).
"""

import base64
import io
import json
import os
import re
import socket
import struct
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
COMPILE_ERROR = re.compile(r"^\S.*:\d+: error:", re.M)
TEST_RUN_LIMIT_S = 60   # the server's TEST_RUN_LIMIT_MS
# The exit status that tells the worker its service failed this program (the sandbox's fault:
# the program is run again with a fresh service); codeeval_service.UNAVAILABLE_EXIT.
SERVICE_UNAVAILABLE = 75


def project_files(spec):
    """[(path, bytes)] of the project with the generated files written over it; a path ending
    in "/" is a folder."""
    archive = zlib.decompress(base64.b64decode(spec["project"]))
    files = {}
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:   # our own archive of the project
        for member in tar.getmembers():
            if member.isdir():
                files[member.name.rstrip("/") + "/"] = b""
            elif member.isfile():
                files[member.name] = tar.extractfile(member).read()
    for path, text in spec["files"].items():
        files[path] = text.encode("utf-8")
    return sorted(files.items())


def junit_counts(reports):
    """(tests, successes, failure lines) over the launcher's XML reports (texts)."""
    tests, successes, failures = 0, 0, []
    for report in reports:
        try:
            cases = list(ElementTree.fromstring(report).iter("testcase"))
        except ElementTree.ParseError:   # not the launcher's: its tests count as missing
            continue
        for case in cases:
            tests += 1
            bad = [c for c in case if c.tag in ("failure", "error", "skipped")]
            if not bad:
                successes += 1
            elif len(failures) < 20:
                failures.append(f"{case.get('classname')}.{case.get('name')}: {bad[0].tag} "
                                f"{(bad[0].get('message') or '')[:200]}")
    return tests, successes, failures


class Connection:
    """The server's socket, read and written as length-prefixed fields."""

    def __init__(self, path):
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket.connect(path)
        self.stream = self.socket.makefile("rb")

    def send(self, fields):
        self.socket.sendall(b"".join(struct.pack(">i", len(f)) + f for f in fields))

    def field(self):
        """The next field, or None when the server closed the connection."""
        head = self.stream.read(4)
        if len(head) < 4:
            return None
        body = self.stream.read(struct.unpack(">i", head)[0])
        return body

    def text(self):
        value = self.field()
        return None if value is None else value.decode("utf-8", "replace")


def run_javabench(spec):
    jars = [JARS + j for j in ANNOTATION_JARS]
    test_jars = jars + [JARS + j for j in TEST_JARS + (MOCKITO_JARS if spec["mockito"] else [])]
    run_classpath = ["build/test", "src/test/resources", "build/main", "src/main/resources"]
    config = []
    if spec.get("test_timeout_ms"):
        config.append("junit.jupiter.execution.timeout.testable.method.default="
                      f"{spec['test_timeout_ms']} ms")
        if spec.get("separate_thread"):   # robust mode: a looping test cannot hang the run
            config.append("junit.jupiter.execution.timeout.thread.mode.default=SEPARATE_THREAD")
    files = project_files(spec)
    try:
        server = Connection(os.environ["CODEEVAL_SERVICE"])
        server.send([s.encode() for s in (
            ":".join(jars), ":".join(["build/main"] + test_jars),
            ":".join(run_classpath + test_jars), spec.get("select_class") or "-",
            str(len(config)), *config, str(len(files)))]
            + [part for path, content in files for part in (path.encode(), content)])
    except OSError:
        os._exit(SERVICE_UNAVAILABLE)
    for _ in ("main", "test"):
        exit_code, output = server.text(), server.text()
        if output is None:   # javac runs no code of the program: the server failed
            os._exit(SERVICE_UNAVAILABLE)
        if exit_code != "0":
            errors = len(COMPILE_ERROR.findall(output)) or 1
            server.text()   # the last field: the server is ready for the next program
            report_step("compile", "failed", errors=errors, message=output[-3000:])
            return
    report_step("compile", "passed", errors=0, message=output[-3000:])
    run, output = server.text(), server.text()
    if run == "timed out":
        report_step("tests", "failed", tests=0, successes=0, timed_out=True,
                    message=f"the test run passed its {TEST_RUN_LIMIT_S} s limit")
        return
    counted, succeeded, count = server.text(), server.text(), server.text()
    reports = [server.field() for _ in range(int(count or 0))]
    retired = server.text()
    if retired is None:
        report_step("tests", "failed", tests=0, successes=0,
                    message="the JVM ended during the tests (System.exit or a crash)")
        return
    tests, successes, failures = junit_counts(reports)
    counted, succeeded = int(counted), int(succeeded)
    if tests < counted or successes > succeeded:   # files the tests' code could write
        failures.insert(0, f"the XML reports ({successes} of {tests} tests passing) disagree "
                           f"with the launcher ({succeeded} of {counted}): written over")
        tests, successes = max(tests, counted), min(successes, succeeded)
    passed = bool(tests) and successes == tests
    message = "" if passed else "\n".join(failures) or output[-2000:]
    # why the slot's JVM ends after this program (a fresh one serves the next), when it does
    details = {"server_retired": retired} if retired else {}
    report_step("tests", "passed" if passed else "failed", tests=tests, successes=successes,
                message=message, **details)


def load_spec(packed):
    return json.loads(zlib.decompress(base64.b64decode(packed)))
