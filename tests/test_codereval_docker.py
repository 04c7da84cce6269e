"""CoderEval's protocol on a mini image with the authors' layout (/home/travis/builds/repos).

The image is the base sandbox image plus two tiny projects made here: a class method whose
validation file imports a sibling module and runs with the project's venv interpreter, and a
self-contained function under repos/standalone. The canonical solution (the original function
left in place) and right samples pass, wrong ones fail, through the same sandbox a run uses.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from codeeval.records import Problem, Sample
from codeeval.tasks.codereval import CANONICAL, CoderEval

BUILDS = "/home/travis/builds"
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
DOCKERFILE = (f"ARG BASE\nFROM $BASE\nCOPY builds {BUILDS}\n"
              f"RUN mkdir -p {BUILDS}/repos/tiny---calc/venv/bin && "
              f"ln -s /usr/bin/python3 {BUILDS}/repos/tiny---calc/venv/bin/python\n")
SCALE = Problem("calc-scale", {"language": "python", "level": "class_runnable",
                               "project": "tiny/calc", "name": "scale",
                               "file_path": "calc/ops.py",
                               "prompts": {"raw": "def scale(self, value):\n\t\"\"\"Scale.\"\"\"\n\t",
                                           "human-label": "def scale(self, value):\n\t"}},
                {"level": "class_runnable"})
SHOUT = Problem("strs-shout", {"language": "python", "level": "self_contained",
                               "project": "tiny/strs", "name": "shout",
                               "file_path": "strs/util.py",
                               "prompts": {"raw": "def shout(text):\n\t", "human-label": ""}},
                {"level": "self_contained"})


@pytest.fixture(scope="module")
def mini_image(tmp_path_factory):
    from codeeval.sandbox.engine import daemon_available, docker_client
    from codeeval.sandbox.images import IMAGES, image_exists
    base = IMAGES["base"]().tag
    if not (daemon_available() and image_exists(base)):
        if os.environ.get("CODEEVAL_REQUIRE_DOCKER") == "1":
            pytest.fail("CODEEVAL_REQUIRE_DOCKER=1 but no Docker daemon or base image")
        pytest.skip("no Docker daemon or base image")
    recipe = hashlib.sha256(repr((base, DOCKERFILE, sorted(FILES.items()))).encode())
    tag = f"codeeval-test-codereval:{recipe.hexdigest()[:12]}"
    if not image_exists(tag):
        context = tmp_path_factory.mktemp("codereval-image")
        (context / "Dockerfile").write_text(DOCKERFILE)
        for path, text in FILES.items():
            (context / "builds" / path).parent.mkdir(parents=True, exist_ok=True)
            (context / "builds" / path).write_text(text)
        docker_client().images.build(path=str(context), tag=tag, buildargs={"BASE": base},
                                     rm=True, forcerm=True)
    return tag


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


def test_a_task_missing_from_the_image_is_an_error_that_names_the_image(mini_image):
    absent = Problem("absent", {**SHOUT.data, "project": "tiny/none", "name": "nothing"})
    [execution] = verdicts(mini_image, {"absent": (absent, {"solution": CANONICAL})}).values()
    assert execution.status == "failed"
    assert "is the sandbox image the CoderEval evaluation image?" in execution.tests[0]["message"]
