"""HumanEval Pro, MBPP Pro and BigCodeBench-Lite Pro: self-invoking code generation.

Paper: Yu, Zhao, Cohan, Zhang, "HumanEval Pro and MBPP Pro: Evaluating Large Language Models
on Self-invoking Code Generation", arXiv 2412.21199 (official code: CodeEval-Pro/CodeEval-Pro).

What it measures: whether a model can solve a base problem and then a harder problem whose
solution must call the base solution. How: the prompt shows both signatures; the model's
response starts after the base problem (the response prefix repeats it), the completion is
cut at the first code fence, and the program `raw_problem + completion + "\\n" + test_code`
must run every top-level assert of `test_code`. Chat models return a whole program
(`solution`): the text after the first ```python fence, cut at the next fence; the official
chat path (`run_api.py`) sends no stop strings, so none cut a chat answer here either.
Metric: pass@k (unbiased estimator), headline greedy pass@1. The paper reports the better of
the raw and the sanitized completion (cut at `if __name__`, else `# Test`, else `# Example `):
`--sanitize both` does exactly that.
"""

from __future__ import annotations

import ast
import dataclasses
from typing import ClassVar

from codeeval.records import Problem, Program, Request, Sample
from codeeval.tasks.base import ExecutedTask, Repairable
from codeeval.tasks.sources import DataSource

SYSTEM = ("You are an exceptionally intelligent coding assistant that consistently delivers "
          "accurate and reliable responses to user instructions.")
INSTRUCTION = ("Write a solution of python file to the following problems, the solution of the "
               "second problem requires single or multiple calls to the first solution.")
FIELDS = ("id", "raw_problem", "raw_solution", "new_problem", "new_solution", "test_code")
STOP = ("<|endoftext|>", "<|endofmask|>", "</s>", "<|EOT|>")
SANITIZE_MARKERS = ("if __name__", "# Test", "# Example ")


def cut_at_fence(text: str) -> str:
    index = text.find("```")
    return text if index == -1 else text[:index]


def sanitize(code: str) -> str:
    """The official sanitizer: cut at the first marker found, in the markers' priority order."""
    for marker in SANITIZE_MARKERS:
        index = code.find(marker)
        if index != -1:
            return code[:index]
    return code


class CodeEvalProTask(ExecutedTask, Repairable):
    """One of the three CodeEval-Pro datasets; subclasses name the file and the hub id."""

    filename: ClassVar[str]
    hub_id: ClassVar[str]
    example_line: ClassVar[int | None]   # which test_code line the 1shot variant shows
    code_tail: ClassVar[str] = ""        # what follows the two problems inside the fence
    prompt_variants = ("default", "cot", "1shot")
    image = "base"   # the tests need the standard library only
    # The ground truth was validated in UTC+8: BigCodeBench/551 expects 28801 s from
    # 2023-12-31 23:59:59 to the new year, which holds only in that zone.
    timezone = "Asia/Shanghai"
    program_timeout_s: ClassVar[float] = 10.0

    def load(self, source: DataSource) -> list[Problem]:
        rows = source.json_rows("humaneval-pro", self.filename, self.hub_id, "train", FIELDS)
        return [Problem(task_id=str(row["id"]), data=row) for row in rows]

    def instruction(self, problem: Problem, variant: str) -> str:
        data = problem.data
        code = f"{data['raw_problem'].strip()}\n{data['new_problem'].strip()}{self.code_tail}"
        if variant == "1shot":
            code += "\n\n" + data["test_code"].split("\n")[self.example_line]
        return f"{INSTRUCTION}\n```python\n{code}\n```"

    def response_prefix(self, problem: Problem, variant: str) -> str:
        prefix = f"```python\n{problem.data['raw_problem'].strip()}\n"
        return ("Let's think step by step.\n" + prefix) if variant == "cot" else prefix

    def request(self, problem: Problem, sample_idx: int,
                previous: tuple[str, ...] = ()) -> Request:
        instruction = self.instruction(problem, self.prompt_variant)
        prompt = (f"{SYSTEM}\n@@ Instruction\n{instruction}\n\n@@ Response\n"
                  f"{self.response_prefix(problem, self.prompt_variant)}")
        messages = ({"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"\n@@ Instruction\n{instruction}\n@@ Response\n"})
        data = problem.data
        return Request(task=self.name, task_id=problem.task_id, sample_idx=sample_idx,
                       prompt=prompt, messages=messages, stop=STOP, chat_stop=(),
                       reference=data["raw_solution"] + data["new_problem"] + data["new_solution"])

    def sample_from_output(self, problem: Problem, request: Request, text: str, *,
                           chat: bool) -> Sample:
        if chat:
            solution = cut_at_fence(text.split("```python", 1)[-1])
            return Sample(request.task, request.task_id, request.sample_idx,
                          solution=solution, raw=text, prompt_hash=request.prompt_hash)
        return Sample(request.task, request.task_id, request.sample_idx,
                      completion=cut_at_fence(text), raw=text, prompt_hash=request.prompt_hash)

    def sample_code(self, problem: Problem, sample: Sample) -> str:
        if sample.solution is not None:
            return sample.solution
        return problem.data["raw_problem"] + (sample.completion or "")

    def program(self, problem: Problem, sample: Sample, *, sanitized: bool) -> Program:
        code = self.sample_code(problem, sample)
        return self._program(sample.key, sanitize(code) if sanitized else code,
                             problem.data["test_code"])

    def visible_test(self, problem: Problem) -> str | None:
        """No test is shown in the default prompt: debugging uses the first assertion (the
        one the official 1shot variant shows), as LDB does for benchmarks without them."""
        test_code = problem.data["test_code"]
        for statement in ast.parse(test_code).body:
            if isinstance(statement, ast.Assert):
                return ast.get_source_segment(test_code, statement)
        return None

    def debug_program(self, problem: Problem, code: str, granularity: str) -> Program:
        return dataclasses.replace(self._program("debug", code, self.visible_test(problem)),
                                   trace=granularity)

    def instruction_for_debug(self, problem: Problem) -> str:
        return self.instruction(problem, "default")

    def _program(self, key: str, code: str, test_code: str) -> Program:
        head = code + "\n"
        return Program.joined(key, head, test_code,
                              expected_steps=len(ast.parse(test_code).body), image=self.image,
                              timezone=self.timezone,
                              timeout_s=self.limit(self.program_timeout_s),
                              memory_mb=self.memory_mb)


class HumanEvalPro(CodeEvalProTask):
    name = "humaneval-pro"
    description = "HumanEval Pro: 164 self-invoking problems built on HumanEval (pass@k)"
    filename = "humaneval_pro.json"
    hub_id = "CodeEval-Pro/humaneval-pro"
    example_line = 1   # test_code starts with a newline


class MBPPPro(CodeEvalProTask):
    name = "mbpp-pro"
    description = "MBPP Pro: 378 self-invoking problems built on MBPP (pass@k)"
    filename = "mbpp_pro.json"
    hub_id = "CodeEval-Pro/mbpp-pro"
    example_line = 0


class BigCodeBenchLitePro(CodeEvalProTask):
    name = "bigcodebench-lite-pro"
    description = ("BigCodeBench-Lite Pro: 57 self-invoking problems on BigCodeBench tasks, "
                   "needing its third-party libraries (pass@k)")
    filename = "bigcodebench_lite_pro.json"
    hub_id = "CodeEval-Pro/bigcodebench-lite-pro"
    example_line = None
    # the official map_bigcodebench_lite_pro_problem leaves a blank line before the closing
    # fence (where its unused 1-shot example would go)
    code_tail = "\n"
    prompt_version = "2"
    prompt_variants = ("default",)
    # pandas/sklearn imports and plots: the BigCodeBench-style budget, not HumanEval's
    image = "python"
    program_timeout_s = 60.0
    memory_mb = 16384
    preload = ("numpy", "pandas", "matplotlib.pyplot", "scipy", "sklearn", "seaborn")
