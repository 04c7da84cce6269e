"""The attack suite: hostile programs run through the Docker sandbox.

None may pass; none may harm the host, the sandbox or the next program. Each attack is a
program whose tests would pass only if the attack had worked; after each, a canary program must
pass in the same sandbox and a host canary file must be intact.

Docker is required where CODEEVAL_REQUIRE_DOCKER=1 (CI); elsewhere these tests skip without a
daemon or image.
"""

from __future__ import annotations

import os

import pytest

from codeeval.records import Program
from conftest import base_docker_sandbox

ATTACKS = {
    "infinite loop": ("while True:\n    pass\n", "assert True\n"),
    "fork bomb": ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
                  "assert True\n"),
    "daemon outlives its program": (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        while True:\n            open('/tmp/daemon-alive', 'w').write(str(time.time()))\n"
        "            time.sleep(0.05)\n    os._exit(0)\n",
        "import time\ntime.sleep(0.3)\nassert False, 'the daemon is the attack; this run fails'\n"),
    "10 GB allocation": ("x = bytearray(10 * 1024 ** 3)\n", "assert len(x) > 0\n"),
    "many processes allocating": (
        "import os\npids = []\nfor _ in range(8):\n    pid = os.fork()\n    if pid == 0:\n"
        "        block = bytearray(900 * 1024 ** 2)\n        for i in range(0, len(block), 4096):\n"
        "            block[i] = 1\n        os._exit(0)\n    pids.append(pid)\n"
        "codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]\n",
        "assert codes == [0] * 8\n"),
    "huge file": ("written = 0\nwith open('/tmp/huge', 'wb') as f:\n    for _ in range(2048):\n"
                  "        f.write(b'x' * (1 << 20))\n        written += 1 << 20\n",
                  "assert written >= 1 << 30\n"),
    "many files": ("import os\nfor i in range(64):\n    with open(f'/tmp/fill{i}', 'wb') as f:\n"
                   "        f.write(b'x' * (63 << 20))\n", "assert True\n"),
    "read host files": (
        "import os\nfound = []\nfor path in ['/etc/shadow', '/proc/1/environ', '/var/run/docker.sock',"
        " '/run/docker.sock', HOST_CANARY]:\n    try:\n        open(path, 'rb').read(1)\n"
        "        found.append(path)\n    except OSError:\n        pass\n",
        "assert found\n"),
    "rm -rf / (shell)": ("import os\nos.system('rm -rf / 2>/dev/null')\n",
                         "import os\nassert not os.path.exists('/usr/bin/python3')\n"),
    "rm -rf --no-preserve-root /*": (
        "import os\nos.system('rm -rf --no-preserve-root /* /.* 2>/dev/null')\n",
        "import os\nassert not os.path.exists('/usr/lib')\n"),
    "shutil.rmtree('/')": ("import shutil\nshutil.rmtree('/', ignore_errors=True)\n",
                           "import os\nassert not os.path.exists('/etc/passwd')\n"),
    "kill the worker and PID 1": (
        "import os, signal\nkilled = []\nfor pid in [1] + [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    if pid in (os.getpid(), os.getppid()):\n        continue\n    try:\n"
        "        os.kill(pid, signal.SIGKILL)\n        killed.append(pid)\n    except OSError:\n        pass\n",
        "assert 1 in killed  # the worker is PID 1\n"),
    "output flood": ("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", "assert True\n"),
    # a fake answer line on any pipe the program holds (the worker's answer pipe, once inherited)
    "forged answer on an inherited pipe": (
        "import os\npipes = []\nfor fd in os.listdir('/proc/self/fd'):\n    try:\n"
        "        if os.readlink(f'/proc/self/fd/{fd}').startswith('pipe:'):\n"
        "            os.write(int(fd), b'{\"exit_code\": 0, \"report\": \"\"}\\n')\n"
        "            pipes.append(fd)\n    except OSError:\n        pass\n",
        "assert pipes\n"),
    # 60 MiB of junk in its own report (reached through /proc/self/fd), then honest passes
    "report flood": (
        "import os\nfor fd in os.listdir('/proc/self/fd'):\n    try:\n"
        "        if os.readlink(f'/proc/self/fd/{fd}').endswith('/report'):\n"
        "            for _ in range(60):\n                os.write(int(fd), b'x' * (1 << 20) + b'\\n')\n"
        "    except OSError:\n        pass\n",
        "assert True\n"),
    "network TCP": ("import socket\ns = socket.create_connection(('192.0.2.1', 80), timeout=2)\n",
                    "assert s\n"),
    "network UDP": ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    "sent = s.sendto(b'x', ('192.0.2.1', 53))\n", "assert sent == 1\n"),
    "network DNS": ("import socket\naddress = socket.gethostbyname('example.com')\n",
                    "assert address\n"),
    "early os._exit(0)": ("import os\nos._exit(0)\n", "assert False\n"),
    "sys.modules and builtins tampering": (
        "import sys, builtins\nsys.modules['json'] = None\nbuiltins.len = lambda x: 0\n"
        "builtins.AssertionError = type('Nope', (Exception,), {})\n",
        "assert len([1]) == 1\n"),
}

# Run after every attack: the next program sees a clean, working sandbox.
CANARY = ("import os, json, shutil\n"
          "leftovers = [p for p in ('/tmp/daemon-alive', '/tmp/huge', '/tmp/fill0', '/tmp/planted',"
          " '/dev/shm/planted') if os.path.exists(p)]\n",
          "assert leftovers == []\nassert len([1, 2]) == 2 and json.dumps(1) == '1'\n"
          "assert shutil.disk_usage('/tmp').free > 400 << 20\n")


def make(key: str, solution: str, tests: str, timeout_s: float = 5.0, memory_mb: int = 1024):
    head = solution + "\n"
    steps = [line for line in tests.splitlines() if line and not line[0].isspace()]
    return Program(key=key, source=head + tests, test_first_line=head.count("\n") + 1,
                   expected_steps=len(steps), timeout_s=timeout_s, memory_mb=memory_mb)


@pytest.fixture(scope="module")
def docker_sandbox():
    with base_docker_sandbox() as box:
        yield box


@pytest.fixture(scope="module")
def host_canary(tmp_path_factory):
    path = tmp_path_factory.mktemp("host") / "canary"
    path.write_text("host data")
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o644)
    return path


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_contained(docker_sandbox, host_canary, name):
    solution, tests = ATTACKS[name]
    solution = solution.replace("HOST_CANARY", repr(str(host_canary)))
    [execution] = docker_sandbox.run([make(name, solution, tests)])
    assert execution.status != "passed", execution
    assert len(execution.stdout) <= 4200
    [after] = docker_sandbox.run([make("canary", *CANARY)])
    assert after.status == "passed", (name, after)
    assert host_canary.read_text() == "host data"


def test_files_planted_for_the_next_run_are_gone(docker_sandbox):
    plant = ("import os\nfor p in ('/tmp/planted', '/dev/shm/planted', 'planted'):\n"
             "    open(p, 'w').write('x')\n")
    [first] = docker_sandbox.run([make("plant", plant, "assert True\n")])
    assert first.status == "passed", first
    check = make("check", "import os\n", "assert not any(os.path.exists(p) for p in "
                 "('/tmp/planted', '/dev/shm/planted', 'planted'))\n")
    [second] = docker_sandbox.run([check])
    assert second.status == "passed", second


def test_sysv_ipc_objects_are_gone_before_the_next_program(docker_sandbox):
    """Programs of one container share its IPC namespace: what one leaves, the worker removes."""
    plant = ("import ctypes\nlibc = ctypes.CDLL(None)\n"
             "made = [libc.shmget(0x5EED, 4096, 0o1666), libc.msgget(0x5EED, 0o1666),"
             " libc.semget(0x5EED, 1, 0o1666)]\n")
    [first] = docker_sandbox.run([make("plant-ipc", plant, "assert min(made) >= 0, made\n")])
    assert first.status == "passed", first
    look = ("import ctypes\nlibc = ctypes.CDLL(None)\n"
            "found = [libc.shmget(0x5EED, 0, 0), libc.msgget(0x5EED, 0), libc.semget(0x5EED, 0, 0)]\n")
    [second] = docker_sandbox.run([make("look-ipc", look, "assert max(found) == -1, found\n")])
    assert second.status == "passed", second


def test_container_has_no_network_interface_but_loopback(docker_sandbox):
    program = make("interfaces", "names = {l.split(':')[0].strip() for l in "
                   "open('/proc/net/dev').read().splitlines()[2:]}\n", "assert names == {'lo'}\n")
    [execution] = docker_sandbox.run([program])
    assert execution.status == "passed", execution


def test_program_runs_unprivileged(docker_sandbox):
    program = make("uid", "import os\n", "assert os.getuid() == 10001 and os.geteuid() == 10001\n")
    [execution] = docker_sandbox.run([program])
    assert execution.status == "passed", execution


def test_fork_bombs_leave_no_zombies_holding_the_pids_limit(docker_sandbox):
    bomb = make("bomb", ATTACKS["fork bomb"][0], "assert True\n", timeout_s=2.0)
    for _ in range(3):
        docker_sandbox.run([bomb])
    forks = make("forks", "import os\npids = [os.fork() or os._exit(0) for _ in range(100)]\n",
                 "assert len(pids) == 100\n")
    [execution] = docker_sandbox.run([forks])
    assert execution.status == "passed", execution
