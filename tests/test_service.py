"""Services (sandbox/service.py): a long-lived helper the worker keeps for programs, here a
small Python echo server in the process sandbox. It is kept across programs, started again
when a program passes its limit, when it ends, or when its spec changes; what a program
started through it dies with the program; a program that finds it failing is the sandbox's
infra error, not a verdict."""

import json
import os

import pytest

from codeeval.records import Program
from codeeval.sandbox import make_sandbox

SERVER = """
import os, socket, subprocess, sys
server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
server.listen()
print("listening", flush=True)
while True:
    connection, _ = server.accept()
    with connection:
        what = connection.makefile().readline().strip()
        if what == "spawn":
            answer = subprocess.Popen(["sleep", "300"], start_new_session=True).pid
        elif what == "exit":
            os._exit(0)
        else:
            answer = f"{os.getpid()} {os.getuid()}"
        connection.sendall(f"{answer}\\n".encode())
"""
ASK = """import os, socket
def ask(what):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(os.environ["CODEEVAL_SERVICE"])
        s.sendall(what.encode() + b"\\n")
        return s.makefile().readline().strip()
"""


def service(version=1):
    return json.dumps({"argv": ["python3", "{files}/server.py", "{socket}"],
                       "files": {"server.py": SERVER + f"# version {version}\n"}})


def program(key, test, spec=None, timeout_s=10.0):
    return Program.joined(key, ASK, test + "\n", expected_steps=1, timeout_s=timeout_s,
                          service=spec or service())


def answers(box, programs):
    executions = {e.key: e for e in box.run(programs)}
    return [executions[p.key] for p in programs]


def printed(execution):
    assert execution.status == "passed", (execution.status, execution.message, execution.stderr)
    return execution.stdout.split()


@pytest.fixture
def box():
    if os.geteuid() != 0:
        pytest.skip("the service's own uid needs the process sandbox run as root")
    with make_sandbox("process", parallel=1) as sandbox:
        yield sandbox


def test_a_service_is_kept_across_programs_as_its_own_uid(box):
    first, second = answers(box, [program("a", "print(ask('pid'))"),
                                  program("b", "print(ask('pid'), os.getuid())")])
    pid, uid = printed(first)
    assert printed(second)[:2] == [pid, uid]
    assert printed(second)[2] != uid   # the program's uid is not the service's


def test_what_a_program_started_through_the_service_dies_with_the_program(box):
    [spawned] = answers(box, [program("a", "print(ask('spawn'))")])
    child = int(printed(spawned)[0])
    [after] = answers(box, [program("b", "print(ask('pid'))")])
    printed(after)
    assert not os.path.exists(f"/proc/{child}") or \
        open(f"/proc/{child}/stat").read().split()[2] == "Z"


def test_a_service_is_started_again_after_a_timeout_an_exit_or_a_new_spec(box):
    def pid(key):
        [execution] = answers(box, [program(key, "print(ask('pid'))")])
        return printed(execution)[0]

    seen = [pid("first")]
    [slow] = answers(box, [program("slow", "ask('pid'); import time; time.sleep(30)",
                                   timeout_s=1.0)])
    assert slow.status == "timeout"
    seen.append(pid("after the timeout"))
    answers(box, [program("ended", "ask('exit')")])
    seen.append(pid("after the exit"))
    [changed] = answers(box, [program("v2", "print(ask('pid'))", spec=service(2))])
    seen.append(printed(changed)[0])
    assert len(set(seen)) == 4, seen


def test_a_program_that_finds_its_service_failing_is_an_infra_error(box):
    # exit status 75: the driver's word that the service stopped answering (the sandbox's
    # fault); the program runs again once on a fresh service, then counts as infra_error
    [failing] = answers(box, [program("gone", "ask('pid'); os._exit(75)")])
    assert failing.status == "infra_error"
    assert "service" in failing.message
