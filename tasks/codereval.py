"""CoderEval: pragmatic code generation, functions taken from real open-source projects.

Paper: Yu et al., "CoderEval: A Benchmark of Pragmatic Code Generation with Generative
Pre-trained Models", ICSE 2024 (official data: CoderEval/CoderEval, snapshot edd43a9).

What it measures: whether a model can write a function that works inside its project: 230
Python functions from 43 projects and 230 Java methods from 10 projects, each labelled with
how much of its context it needs to run (six levels: self_contained, slib_runnable,
plib_runnable, class_runnable, file_runnable, project_runnable). pass@k overall and per level.

How: the prompts are the official model inputs (`Input4Models`: signature plus the original
docstring, `--prompt-variant raw`, or one rewritten by engineers, `human-label`). A sample is
the whole function: the prompt plus the model's completion (Python: cut at the first top-level
line; Java: at the brace that closes the method), or the first fenced code block of a chat
answer, or an external sample's `solution`. Execution is the authors' protocol inside their
evaluation image (Docker image from the release linked in the official README, loaded with
`docker load`, named with `--codereval-image`): the sample replaces the original function in
the task's validation file, which runs with the project interpreter (Python, 30 s), or the
method is replaced, the file recompiled and the prepared test run (Java); see
codereval_driver.py, which runs inside the image.

Data here: the Input4Models prompts and the levels (with project and file of each Python task)
from the official ChatGPT result files (`reference_results`), since the full task files are not
in the repository snapshot. The canonical solutions live in the image: the reference backend's
sample keeps the original function in place, which is what the authors' ground-truth check runs.
The Java prompt files list 239 methods; the 230 the benchmark evaluates are those in the result
files.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from codeeval.errors import UserError
from codeeval.records import Problem, Program, Request, Sample
from codeeval.tasks.base import ExecutedTask, Option, Task, driver_head
from codeeval.tasks.sources import DataSource

LANGUAGES = ("python", "java")
LEVELS = ("self_contained", "slib_runnable", "plib_runnable", "class_runnable",
          "file_runnable", "project_runnable")
VARIANT_FILES = {"raw": "Raw", "human-label": "HumanLabel"}
RESULTS = "reference_results/{language}/ChatGPT_Raw_Input_out.jsonl"
DRIVER = (Path(__file__).with_name("codereval_driver.py")).read_text(encoding="utf-8")
# The reference backend's sample: the function as the project has it (kept in place).
CANONICAL = "<the original function, as the CoderEval image holds it>"
# A completion ends where the function does: at the next line in column 0 (codeeval's
# stop strings; the authors' base-model settings are not published).
PYTHON_STOP = ("\ndef ", "\nclass ", "\nif __name__", "\n@", "\nprint(", "\n#", "\nimport ",
               "\nfrom ")
FENCE = re.compile(r"```[\w+-]*\r?\n(.*?)```", re.S)
# Inside the image: the validation's own limit plus the interpreter's start; Java compiles
# then runs the test, 60 s limit each.
PROGRAM_TIMEOUT_S = {"python": 45.0, "java": 150.0}
WORKER_PYTHON_PROBE = "import sys; print('ok' if sys.version_info >= (3, 9) else sys.version)"
GET_THE_IMAGE = ("download the CoderEval evaluation image from the release linked in the "
                 "CoderEval/CoderEval README (Google Drive), `docker load -i <file>`, then pass "
                 "its name with --codereval-image NAME[:TAG]")


def close_java_method(prompt: str, completion: str) -> str:
    """The method: prompt plus completion up to the brace that balances the signature's."""
    text = prompt + completion
    depth = 0
    for i, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "}" and depth == 0:
            return text[:i + 1]
    return text + "\n}" * max(depth, 0)


class CoderEval(ExecutedTask):
    name = "codereval"
    description = "CoderEval: 230 Python / 230 Java functions from real projects, 6 context levels"
    prompt_variants = ("raw", "human-label")
    options = (Option("language", "the Python or the Java half", LANGUAGES),
               Option("codereval_image", "the authors' evaluation image as loaded in Docker "
                      "(`docker load -i` the file from the CoderEval release), NAME[:TAG]"))
    breakdown_ks = Task.ks   # pass@k per context level, as the paper's table
    builds_root = "/home/travis/builds"    # where the image holds projects and records

    def __init__(self, language: str | None = None, codereval_image: str | None = None,
                 **common: str | None):
        super().__init__(**common)
        self.language = self.option("language", language)
        self.codereval_image = codereval_image
        # Programs run in the user's image itself (codeeval.sandbox.images.external_image);
        # without one, check_environment stops a run before any program is assembled.
        self.image = f"external:{codereval_image}" if codereval_image else "codereval"

    def describe(self) -> dict:
        return {**super().describe(), "language": self.language,
                "codereval_image": self.codereval_image}

    def check_environment(self) -> None:
        if not self.codereval_image:
            raise UserError(f"codereval runs its programs in the authors' evaluation image: "
                            f"{GET_THE_IMAGE}")
        from codeeval.sandbox.images import image_exists
        if not image_exists(self.codereval_image):
            raise UserError(f"--codereval-image {self.codereval_image} is not loaded in Docker: "
                            f"{GET_THE_IMAGE}")
        # The sandbox's worker runs in the image with its python3: say so now if it cannot.
        probe = subprocess.run(["docker", "run", "--rm", "--network", "none", "--entrypoint=",
                                self.codereval_image, "python3", "-c", WORKER_PYTHON_PROBE],
                               capture_output=True, text=True)
        if probe.stdout.strip() != "ok":
            raise UserError(f"{self.codereval_image} has no python3 3.9 or newer on its PATH, "
                            "which the sandbox's worker needs inside the image ("
                            f"{(probe.stdout + probe.stderr).strip()[-200:] or 'no output'})")

    def load(self, source: DataSource) -> list[Problem]:
        name = self.language.capitalize()
        prompts = {variant: {row["question_id"]: row for row in source.local_rows(
            "codereval", f"Input4Models/CE{name}{stem}.jsonl", ("question_id", "input"))}
            for variant, stem in VARIANT_FILES.items()}
        evaluated = source.local_rows("codereval", RESULTS.format(language=self.language),
                                      ("_id",))
        problems = []
        for row in evaluated:
            task_id = row["_id"]
            if any(task_id not in rows for rows in prompts.values()):
                raise UserError(f"codereval: task {task_id} of the result file has no prompt in "
                                f"Input4Models/CE{name}*.jsonl")
            level = row.get("level") or row.get("code_level")
            data = {"language": self.language, "level": level,
                    "prompts": {v: rows[task_id]["input"] for v, rows in prompts.items()},
                    "project": row.get("project") or row.get("project_name"),
                    "name": row.get("name") or row.get("method_name"),
                    "file_path": row.get("file_path")}
            problems.append(Problem(task_id=task_id, data=data, meta={"level": level}))
        return problems

    def request(self, problem: Problem, sample_idx: int,
                previous: tuple[str, ...] = ()) -> Request:
        prompt = problem.data["prompts"][self.prompt_variant]
        # The chat form is the same text as the user's message (the authors' ChatGPT prompt
        # is not published); its answer is the whole function, as their ChatGPT samples are.
        return Request(task=self.name, task_id=problem.task_id, sample_idx=sample_idx,
                       prompt=prompt, messages=({"role": "user", "content": prompt},),
                       stop=PYTHON_STOP if self.language == "python" else (), chat_stop=(),
                       reference=CANONICAL)

    def sample_from_output(self, problem: Problem, request: Request, text: str, *,
                           chat: bool) -> Sample:
        made = dict(task=request.task, task_id=request.task_id, sample_idx=request.sample_idx,
                    raw=text, prompt_hash=request.prompt_hash)
        if text == request.reference:
            return Sample(**made, solution=CANONICAL)
        if chat:
            found = FENCE.search(text)
            return Sample(**made, solution=found.group(1) if found else text)
        return Sample(**made, completion=text)

    def function(self, problem: Problem, sample: Sample) -> str | None:
        """The code that replaces the original function; None keeps the original."""
        if sample.solution == CANONICAL:
            return None
        if sample.solution is not None:
            return sample.solution
        prompt = problem.data["prompts"][self.prompt_variant]
        completion = sample.completion or ""
        if self.language == "java":
            return close_java_method(prompt, completion)
        return prompt + completion

    def program(self, problem: Problem, sample: Sample, *, sanitized: bool) -> Program:
        return self.build_program(sample.key, problem, self.function(problem, sample))

    def required_modules(self, problems: list[Problem]) -> list[str]:
        # its programs import their own projects' modules, which exist only in the authors'
        # image: check_environment requires that image instead
        return []

    def ground_truth_program(self, problem: Problem) -> Program:
        return self.build_program(f"{self.name}/{problem.task_id}/ground_truth", problem, None)

    def build_program(self, key: str, problem: Problem, code: str | None) -> Program:
        data = problem.data
        spec = {"language": self.language, "root": self.builds_root,
                "task_id": problem.task_id, "code": code,
                "project": data["project"], "name": data["name"], "file_path": data["file_path"]}
        head = driver_head(DRIVER, spec)
        return Program.joined(key, head, "run_codereval(SPEC)\n", expected_steps=1,
                              framework="driver", language=self.language, image=self.image,
                              timeout_s=self.limit(PROGRAM_TIMEOUT_S[self.language]),
                              memory_mb=0)
