"""CoderEval's protocol on mini layouts like the authors' image (/home/travis/builds).

Python: a mini image, the base sandbox image plus what is made here: a class method whose
validation file imports a sibling module and runs with the project's venv interpreter, a
self-contained function under repos/standalone, and made-up validation files for the
benchmark's first two tasks, so that a whole reference `codeeval run` passes. Java: a
one-class project with its prepared test class, the records file and the path tables, in a
mini image on top of the `java` image, and in a folder of this machine run with its JDK by the
process sandbox. In all, the canonical solution (the original function left in place) and right
samples pass, wrong ones fail, through the same sandbox and driver a run uses. An image
without a usable python3 (the sandbox's worker runs in the image) is refused before a run.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from codeeval.records import Problem, Sample
from codeeval.tasks.codereval import CANONICAL, CoderEval
from conftest import codeeval_cmd

BUILDS = "/home/travis/builds"
TEMPORAL = "repos/neo4j---neo4j-python-driver/src/neo4j/_codec/hydration/v1/temporal"
FILES = {
    # project tiny/calc, file calc/ops.py, method Scaler.scale: a class-level task
    "repos/tiny---calc/calc/helpers.py": "def double(x):\n    return 2 * x\n",
    "repos/tiny---calc/calc/ops_scale_passk_validte.py": '''\
from helpers import double


class Scaler:
    def __init__(self, factor):
        self.factor = factor

    def scale(self, value):
        """Scale value by the factor, then double it."""
        return double(value * self.factor)


if __name__ == "__main__":
    import os
    import sys
    # run as the original file, with the project's interpreter
    assert os.path.basename(__file__) == "ops_scale_passk_validte.py"
    assert sys.prefix.endswith("tiny---calc/venv"), sys.prefix
    if Scaler(3).scale(2) != 12:
        sys.exit(1)
''',
    "repos/tiny---calc/venv/pyvenv.cfg": "home = /usr/bin\ninclude-system-site-packages = true\n",
    # the first two Python tasks of the benchmark (made-up bodies), for a whole `codeeval run`
    f"{TEMPORAL}_hydrate_time_passk_validte.py": '''\
def hydrate_time(nanoseconds, tz=None):
    return divmod(nanoseconds, 1000000000)


if __name__ == "__main__":
    import sys
    if hydrate_time(3000000005) != (3, 5):
        sys.exit(1)
''',
    f"{TEMPORAL}_dehydrate_timedelta_passk_validte.py": '''\
def dehydrate_timedelta(value):
    return value * 2


if __name__ == "__main__":
    assert dehydrate_timedelta(4) == 8
''',
    # project tiny/strs, file strs/util.py, function shout: self-contained
    "repos/standalone/strs-util-shout.py": '''\
def shout(text):
    """Upper-case the text and add an exclamation mark."""
    return text.upper() + "!"


if __name__ == "__main__":
    import sys
    if shout("hi") != "HI!":
        sys.exit(1)
''',
}
# The entrypoint stands for whatever a loaded image starts with: the sandbox must bypass it.
DOCKERFILE = (f"ARG BASE\nFROM $BASE\nCOPY builds {BUILDS}\nENTRYPOINT [\"/bin/false\"]\n"
              f"RUN mkdir -p {BUILDS}/repos/tiny---calc/venv/bin && "
              f"ln -s /usr/bin/python3 {BUILDS}/repos/tiny---calc/venv/bin/python\n")
SCALE = Problem("calc-scale", {"language": "python", "level": "class_runnable",
                               "project": "tiny/calc", "name": "scale",
                               "file_path": "calc/ops.py",
                               "prompts": {
                                   "raw": "def scale(self, value):\n\t\"\"\"Scale.\"\"\"\n\t",
                                   "human-label": "def scale(self, value):\n\t"}},
                {"level": "class_runnable"})
SHOUT = Problem("strs-shout", {"language": "python", "level": "self_contained",
                               "project": "tiny/strs", "name": "shout",
                               "file_path": "strs/util.py",
                               "prompts": {"raw": "def shout(text):\n\t", "human-label": ""}},
                {"level": "self_contained"})


def mini_image_tag(base_name: str, dockerfile: str, files: dict[str, str],
                   tmp_path_factory) -> str:
    """A mini image (`dockerfile` with `files` under builds/ in its context) on top of the
    sandbox image `base_name`, built once per recipe; skips without Docker or that image."""
    from codeeval.sandbox.engine import daemon_available, docker_client
    from codeeval.sandbox.images import IMAGES, image_exists
    base = IMAGES[base_name]().tag
    if not (daemon_available() and image_exists(base)):
        if os.environ.get("CODEEVAL_REQUIRE_DOCKER") == "1":
            pytest.fail(f"CODEEVAL_REQUIRE_DOCKER=1 but no Docker daemon or {base_name} image")
        pytest.skip(f"no Docker daemon or {base_name} image")
    recipe = hashlib.sha256(repr((base, dockerfile, sorted(files.items()))).encode())
    tag = f"codeeval-test-codereval-{base_name}:{recipe.hexdigest()[:12]}"
    if not image_exists(tag):
        context = tmp_path_factory.mktemp("codereval-image")
        (context / "Dockerfile").write_text(dockerfile)
        write_files(context / "builds", files)
        docker_client().images.build(path=str(context), tag=tag, buildargs={"BASE": base},
                                     rm=True, forcerm=True)
    return tag


@pytest.fixture(scope="module")
def mini_image(tmp_path_factory):
    return mini_image_tag("base", DOCKERFILE, FILES, tmp_path_factory)


def verdicts(tag, cases):
    from codeeval.sandbox import make_sandbox
    task = CoderEval(codereval_image=tag)
    task.check_environment()
    programs = {}
    for name, (problem, fields) in cases.items():
        sample = Sample("codereval", problem.task_id, 0, **fields)
        programs[name] = task.build_program(name, problem, task.function(problem, sample))
    with make_sandbox("docker", parallel=2, image=task.image) as box:
        return {e.key: e for e in box.run(list(programs.values()))}


def test_reference_passes_and_wrong_samples_fail_in_the_image(mini_image):
    results = verdicts(mini_image, {
        "scale-canonical": (SCALE, {"solution": CANONICAL}),
        "scale-right": (SCALE, {"solution": "def scale(self, value):\n"
                                            "    return double(value) * self.factor"}),
        "scale-completion": (SCALE, {"completion": "return 2 * self.factor * value\n"}),
        "scale-wrong": (SCALE, {"solution": "def scale(self, value):\n"
                                            "    return value * self.factor"}),
        "scale-broken": (SCALE, {"solution": "def scale(self, value):\n    return (\n"}),
        "shout-canonical": (SHOUT, {"solution": CANONICAL}),
        "shout-wrong": (SHOUT, {"solution": "def shout(text):\n    return text + '!'"}),
    })
    statuses = {key: e.status for key, e in results.items()}
    assert statuses == {"scale-canonical": "passed", "scale-right": "passed",
                        "scale-completion": "passed", "scale-wrong": "failed",
                        "scale-broken": "failed", "shout-canonical": "passed",
                        "shout-wrong": "failed"}, {k: e.message for k, e in results.items()}
    assert "SyntaxError" in results["scale-broken"].tests[0]["message"]


def test_a_reference_run_passes_per_level(mini_image, benchmarks, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(codeeval_cmd("run", "--tasks", "codereval", "--codereval-image",
                                       mini_image, "--limit", "2", "--data-dir",
                                       str(benchmarks), "--out", str(out)),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())["tasks"]["codereval"]
    assert summary["metrics"]["pass@1"] == 1.0
    assert summary["breakdowns"]["level"] == {
        "plib_runnable": {"n_problems": 1, "pass@1": 1.0},
        "project_runnable": {"n_problems": 1, "pass@1": 1.0}}
    assert summary["options"] == {"prompt_variant": "raw", "language": "python",
                                  "codereval_image": mini_image}


def test_a_task_missing_from_the_image_is_an_error_that_names_the_image(mini_image):
    absent = Problem("absent", {**SHOUT.data, "project": "tiny/none", "name": "nothing"})
    [execution] = verdicts(mini_image, {"absent": (absent, {"solution": CANONICAL})}).values()
    assert execution.status == "failed"
    assert "is the sandbox image the CoderEval evaluation image?" in execution.tests[0]["message"]


CALC = """package demo.util;

public class Calc {
    private int base = 0;
    public int twice(int x) {
        return 2 * x + base;
    }
}
"""
CALC_TEST = """package demo.util;

public class Calc_twice {
    public static void main(String[] args) {
        System.out.println(new Calc().twice(21) == 42);
    }
}
"""
TWICE = Problem("java-twice", {"language": "java", "level": "class_runnable",
                               "project": "demo", "name": "twice", "file_path": None,
                               "prompts": {"raw": "public int twice(int x) {",
                                           "human-label": "public int twice(int x) {"}},
                {"level": "class_runnable"})


PACKAGE_DIR = "CoderEval-Java-projects/demo/src/main/java/demo/util"


def java_files(root: str) -> dict[str, str]:
    """One project with its prepared test class, the records and the path tables, by path
    under the builds folder `root`."""
    source_root = f"{root}/CoderEval-Java-projects/demo/src/main/java"
    tables = (f"project_name_path_dict = {{'demo.util': {source_root!r}}}\n"
              "dictt_comile_path = {}\ndictt_path = {}\n")
    records = {"RECORDS": [{"_id": "java-twice", "package": "demo.util",
                            "file_name": "Calc.java", "name": "twice", "lineno": "5",
                            "end_lineno": "7"}]}
    return {f"{PACKAGE_DIR}/Calc.java": CALC, f"{PACKAGE_DIR}/Calc_twice.java": CALC_TEST,
            "CoderEval-Java-projects-backready/demo/src/main/java/demo/util/Calc.java": CALC,
            "java/CoderEval4Java.json": json.dumps(records),
            "java/new_new_constsave.py": tables}


# the prepared test class, compiled in advance next to its source, as in the image
PRECOMPILE = ["javac", "-cp", "../..", "Calc.java", "Calc_twice.java"]


def write_files(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


@pytest.fixture(scope="module", params=["docker", "process"])
def java_setup(request, tmp_path_factory):
    """(task, sandbox kind): the layout in a mini image built from the `java` image, or in a
    folder of this machine run with its JDK by the process sandbox."""
    if request.param == "process":
        if shutil.which("javac") is None:
            pytest.skip("no JDK on this machine")
        # under /tmp itself: pytest's own temporary folders are closed to the programs' uid
        root = Path(tempfile.mkdtemp(prefix="codereval-builds-"))
        write_files(root, java_files(str(root)))
        subprocess.run(PRECOMPILE, cwd=root / PACKAGE_DIR, check=True)
        for path in [root, *root.rglob("*")]:   # the programs' uid reads the layout
            path.chmod(0o755 if path.is_dir() else 0o644)
        task = CoderEval(language="java")
        task.builds_root = str(root)
        yield task, "process"
        shutil.rmtree(root)
        return
    dockerfile = (f"ARG BASE\nFROM $BASE\nCOPY builds {BUILDS}\n"
                  f"RUN cd {BUILDS}/{PACKAGE_DIR} && {' '.join(PRECOMPILE)}\n")
    tag = mini_image_tag("java", dockerfile, java_files(BUILDS), tmp_path_factory)
    yield CoderEval(language="java", codereval_image=tag), "docker"


def test_java_method_is_replaced_recompiled_and_its_test_run(java_setup):
    from codeeval.sandbox import make_sandbox
    task, kind = java_setup
    cases = {
        "canonical": {"solution": CANONICAL},
        "right": {"completion": "\n        return x + x + base;\n    }\n    int extra() {}"},
        "uses-private-field": {"solution": "public int twice(int x) {\n"
                                           "        return new Calc().base + 2 * x;\n    }"},
        "wrong": {"solution": "public int twice(int x) {\n        return x;\n    }"},
        "broken": {"solution": "public int twice(int x) {\n        return x\n    }"},
    }
    programs = [task.build_program(name, TWICE, task.function(TWICE, Sample(
        "codereval", TWICE.task_id, 0, **fields))) for name, fields in cases.items()]
    with make_sandbox(kind, parallel=2, image=task.image) as box:
        results = {e.key: e for e in box.run(programs)}
    assert {k: e.status for k, e in results.items()} == {
        "canonical": "passed", "right": "passed", "uses-private-field": "passed",
        "wrong": "failed", "broken": "failed"}, {k: e.tests for k, e in results.items()}
    assert results["broken"].tests[0]["compiled"] is False
    assert "false" in results["wrong"].tests[0]["message"]


def test_an_image_without_a_usable_python3_is_refused_before_the_run(tmp_path):
    from codeeval.errors import UserError
    from codeeval.sandbox.engine import daemon_available, docker_client
    if not daemon_available():
        pytest.skip("no Docker daemon")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY marker /marker\n")
    (tmp_path / "marker").write_text("no python here\n")
    tag = "codeeval-test-codereval-nopython:1"
    docker_client().images.build(path=str(tmp_path), tag=tag, rm=True, forcerm=True)
    with pytest.raises(UserError, match="has no python3 3.9 or newer"):
        CoderEval(codereval_image=tag).check_environment()
