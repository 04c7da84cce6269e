"""JavaBench's in-sandbox driver: build one project copy and run its JUnit tests (stdlib only).

The task sends this file's text as the head of every JavaBench program; the sandbox worker's
`driver` framework runs it in the `java` image and gives it `report_step`. It replaces the
official Gradle build (unreachable offline) with what Gradle does for these projects, measured
step for step against the official results (shared/docs/javabench-offline.md): javac
--release 17 for main, then for tests (separately, as compileJava/compileTestJava), resources
on the class path, then the JUnit Platform's tests as its console launcher runs them from
Debian's jars, with the project root as working directory, PA21/PA22's 2000 ms default
per-test timeout, and a 60 s limit on the test run (Gradle's 1-minute test task timeout).
The compiles happen in the slot's warm compile server (javabench_server.java, a service the
worker keeps across programs, found at $CODEEVAL_SERVICE), the tests in a fresh JVM of this
program's own (JavaBenchTests, compiled by the server into `classes` beside its socket, with a class
archive for the test JVMs).
Steps reported: `compile` (errors = javac error lines) and `tests` (tests, successes,
timed_out_tests: the runner's own counts, on lines marked with a nonce only this driver and the
runner know; `timed_out` when the run passed its limit).
"""

import base64
import io
import json
import os
import re
import secrets
import select
import socket
import struct
import subprocess
import tarfile
import time
import zlib

JARS = "/usr/share/java/"
ANNOTATION_JARS = ["org.jetbrains.annotations-java8.jar"]
TEST_JARS = ["junit-jupiter-api.jar", "junit-jupiter-params.jar", "junit-platform-commons.jar",
             "opentest4j.jar", "apiguardian-api.jar"]
COMPILE_ERROR = re.compile(r"^\S.*:\d+: error:", re.M)
TEST_RUN_LIMIT_S = 60
# The exit status that tells the worker its service failed this program (the sandbox's fault:
# the program is run again with a fresh service); codeeval_service.UNAVAILABLE_EXIT.
SERVICE_UNAVAILABLE = 75


def unpack(spec):
    """A fresh copy of the project in ./project, the generated files written over it; its
    build folders writable by the compile server (another uid)."""
    archive = zlib.decompress(base64.b64decode(spec["project"]))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall("project")   # our own archive of the Solution project
    for path, text in spec["files"].items():
        with open(os.path.join("project", path), "w", encoding="utf-8") as f:
            f.write(text)
    os.chmod(".", 0o755)
    os.chdir("project")
    for folder in ("build/main", "build/test"):
        os.makedirs(folder)
        os.chmod(folder, 0o777)


def field(stream):
    """The next length-prefixed field from the server, or None when it closed the connection."""
    head = stream.read(4)
    if len(head) < 4:
        return None
    return stream.read(struct.unpack(">i", head)[0]).decode("utf-8", "replace")


def compile_project(main_classpath, test_classpath):
    """(passed, javac's output) of the compile server's javac on main, then on tests."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
            server.connect(os.environ["CODEEVAL_SERVICE"])
            server.sendall(b"".join(struct.pack(">i", len(f)) + f for f in (
                s.encode() for s in (os.getcwd(), main_classpath, test_classpath))))
            answers = server.makefile("rb")
            for _ in ("main", "test"):
                exit_code, output = field(answers), field(answers)
                if output is None:   # javac runs no code of the program: the server failed
                    os._exit(SERVICE_UNAVAILABLE)
                if exit_code != "0":
                    return False, output
            return True, output
    except OSError:
        os._exit(SERVICE_UNAVAILABLE)


def test_run_output(command, nonce):
    """What the test JVM printed (stdout and stderr) and its exit status, or None when it
    passed TEST_RUN_LIMIT_S.
    It gets the nonce on stdin, and a socket for its output, not a pipe: a process its tests
    start could reopen a pipe's read end through /proc/self/fd/1 and take the nonce line
    before this driver does (a socket cannot be opened there). Read until the JVM ends, then
    what it left: a process it started may hold the socket open after it. The driver sleeps
    until output comes or the JVM ends (its pidfd): no polling, so on a loaded machine its
    main thread does not pile up waits for a CPU that are not the program's."""
    ours, theirs = socket.socketpair()
    with ours:
        try:
            run = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=theirs, stderr=theirs)
        finally:
            theirs.close()
        try:
            run.stdin.write((nonce + "\n").encode())
            run.stdin.close()
        except OSError:   # a JVM that did not start: its output says why
            pass
        chunks, deadline, ended = [], time.monotonic() + TEST_RUN_LIMIT_S, False
        exited = os.pidfd_open(run.pid)
        try:
            while True:
                wait = 0 if ended else max(0.0, deadline - time.monotonic())
                ready = select.select([ours, exited], [], [], wait)[0]
                ended = ended or exited in ready
                data = ours.recv(1 << 16) if ours in ready else b""
                chunks.append(data)
                if (ours in ready and not data) or (ended and ours not in ready):
                    break
                if time.monotonic() > deadline:
                    run.kill()
                    run.wait()
                    return None
        finally:
            os.close(exited)
        run.wait()
    return b"".join(chunks).decode("utf-8", "replace"), run.returncode


def run_javabench(spec):
    unpack(spec)
    jars = [JARS + j for j in ANNOTATION_JARS]
    # the runner's jars (PA22's Mockito) are on the test JVM's own class path too (the archive's)
    test_jars = jars + [JARS + j for j in TEST_JARS] + spec["runner_jars"]
    run_classpath = ["build/test", "src/test/resources", "build/main", "src/main/resources"]
    config = []
    if spec.get("test_timeout_ms"):
        config.append("junit.jupiter.execution.timeout.testable.method.default="
                      f"{spec['test_timeout_ms']} ms")
        if spec.get("separate_thread"):   # robust mode: a looping test cannot hang the run
            config.append("junit.jupiter.execution.timeout.thread.mode.default=SEPARATE_THREAD")
    compiled, output = compile_project(":".join(jars), ":".join(["build/main"] + test_jars))
    if not compiled:
        errors = len(COMPILE_ERROR.findall(output)) or 1
        report_step("compile", "failed", errors=errors, message=output[-3000:])
        return
    report_step("compile", "passed", errors=0, message=output[-3000:])
    classes = os.path.join(os.path.dirname(os.environ["CODEEVAL_SERVICE"]), "classes")
    runtime = spec["java_home"]   # the java image's, which no program's code can read
    java = os.path.join(runtime, "bin", "java")
    archive = os.path.join(classes, os.path.basename(runtime) + ".jsa")   # the server's
    flags = spec["jvm_flags"] + ([f"-XX:SharedArchiveFile={archive}"]
                                 if os.path.exists(archive) else [])
    classpath = ":".join([spec["console_jar"], f"{classes}/JavaBenchTests.jar",   # the archive's
                          *spec["runner_jars"]])
    nonce = secrets.token_hex(16)
    ran = test_run_output(
        [java if os.path.exists(java) else "java", *flags, "-cp", classpath, "JavaBenchTests",
         ":".join(run_classpath + test_jars), spec.get("select_class") or "-", *config], nonce)
    if ran is None:
        report_step("tests", "failed", tests=0, successes=0, timed_out=True,
                    message=f"the test run passed its {TEST_RUN_LIMIT_S} s limit")
        return
    output, status = ran
    # lines as the runner ends them ("\n" only: other line breaks a test's text may carry)
    lines = output.split("\n")
    counts = [line.split()[2:] for line in lines if line.startswith(nonce + " counts ")]
    # the runner halts with 0 after its counts; a JVM that crashed or was killed has no
    # verdict, whatever was printed (a hostile review read the nonce from a crash report)
    if not counts or status != 0:
        report_step("tests", "failed", tests=0, successes=0,
                    message=f"the test JVM ended before the end of the tests (exit status "
                            f"{status}: System.exit, a crash or a signal)\n" + output[-2000:])
        return
    run, successes, unreported, timed_out = (int(n) for n in counts[-1])
    failures = [line[len(nonce) + 9:] for line in lines if line.startswith(nonce + " failure ")]
    if unreported:   # a class ended by an error JUnit let through, its tests heard of by no one
        failures.insert(0, f"{unreported} of the planned tests never finished")
    tests = run + unreported
    passed = bool(tests) and successes == tests
    message = "" if passed else "\n".join(failures) or output[-2000:]
    report_step("tests", "passed" if passed else "failed", tests=tests, successes=successes,
                timed_out_tests=timed_out, message=message)


def load_spec(packed):
    return json.loads(zlib.decompress(base64.b64decode(packed)))
