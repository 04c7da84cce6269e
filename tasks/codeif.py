"""CodeIF: instruction following in code generation, scored by an LLM judge.

Paper: "CodeIF: Benchmarking the Instruction-Following Capabilities of Large Language Models
for Code Generation", arXiv 2502.19166 (official code: lin-rany/codeIF, snapshot d48dd79).
1200 tasks (600 easy, 600 hard; Java, Python, C++, Go), each a coding question with a list of
instructions (8 categories: global, structural control, variable, function, class, file,
interface, combination) and the dependencies between them.

Generation: the official English prompt (`src/prompts/CODEIF_instruction.py`) as one user
message; the answer is kept as written (the judge reads the raw answer). Judging (no sandbox):
a judge model (any backend, `--judge-model`) gets the official English judge prompt
(`src/prompts/CODEIF_judge.py`) and answers a list of 'Yes'/'No', one per instruction. The
official parser (`model_result.py:extract_list`): the first `[` up to the next `]`; bare words
get quoted; a list that does not parse counts as ['No']; a list whose length differs from the
instruction count is excluded from every metric (status `excluded`, counted in the summary's
`breakdowns.status`). Where the official parser would crash (a literal that parses but is not a
plain value, e.g. `[1+x]`), codeeval counts ['No'] instead.
Metrics, each averaged over judged samples: CSR (every instruction Yes), SSR (share of Yes),
RSR (an instruction counts only if it and all instructions it depends on are Yes), CCSR
(longest run of consecutive Yes, over the count). Breakdowns per language, subset, and
instruction category (share of Yes among that category's instructions).
Official judge: gpt-4o-2024-11-20, temperature 0.5, max_tokens 4096; generation temperature
0.5, max_tokens 4096 (pass `--temperature 0.5` to match).
"""

from __future__ import annotations

import ast
import re
from typing import ClassVar

from codeeval.generation.base import GenerationConfig
from codeeval.records import Problem, Request, Sample
from codeeval.tasks.base import JudgedTask, Option
from codeeval.tasks.sources import DataSource

GENERATION_PROMPT = """
As a programming assistant, your task is to generate code snippets based on the user question and instructions given below:

## Please consider the following points while generating the code snippet:

- Make sure you follow the user instructions word to word. If the instruction says to use a specific language or a specific method, use exactly that.

- Your output should be a valid code snippet in the programming language indicated in the question or the instructions.

- Pay close attention to the syntax and formatting rules of the programming language that you are using. The code should be well-formatted and easy to read. 

- Make sure that the code snippet you are generating is efficient and is not overly complicated.

## Output Format:
The output should be a valid, well-formatted, and efficient code snippet that adheres to the above question and instructions.

## Task information

User Question:
{question}

Instructions:
{instructions_str}

Please generate the code snippet based on the above information:
"""  # noqa: W291 (the official text has a trailing space)

JUDGE_PROMPT = """
As a programming assistant, your task is to evaluate if the model-generated code adheres to the user instructions and question stated below. You need to return a list whose length is that of the instructions, containing only the terms 'Yes' or 'No', indicating if the model has followed each instruction respectively.

## Please consider the following points while evaluating:

- You must judge strictly based on the user's instruction. If a specific language or method is asked for in the instructions, you must specifically check if it has been used in the code.

- Your output should be a list the same length as the instructions, containing only 'Yes' or 'No'.

- Be mindful of the syntax and formatting rules of the programming language you are using. The codes should be neatly formatted and easy to read.

- The list you generate should be valid and not overly complex.

## Task information

User question:
{question}

Instructions:
{instructions_str}

Model-generated code:
{generated_code}

Please, based on the above information, judge if the model has followed the instructions, and return a list of the same length as the instructions, containing only 'Yes' or 'No'. such ['No', 'No', 'No', 'No', 'No', 'No', 'No', 'No', 'No']
Please note!!! Your output should only be a list, without any other content. The list should only contain 'Yes' and 'No', do not include any other words.
Please note!!! Your output should be a list the same length as the instructions, containing only 'Yes' or 'No'.
"""

FIELDS = ("question_id", "question", "meta_info", "instruction_list", "instruction_dependence")
SUBSETS = ("all", "easy", "hard")
METRICS = ("CSR", "SSR", "RSR", "CCSR")


def instructions_text(instructions: list[dict]) -> str:
    return "\n".join(f"{i + 1}. {item['instruction']}" for i, item in enumerate(instructions))


def parse_verdicts(reply: str):
    """The official `extract_list`: the first [...] of the reply, bare words quoted."""
    start = reply.find("[")
    text = reply[start:reply.find("]", start) + 1]
    if '"' not in text and "'" not in text:
        text = re.sub(r"([a-zA-Z]+)", r'"\1"', text)
    try:
        return ast.literal_eval(text)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return ["No"]


def sample_scores(verdicts: list, dependence: dict[str, list[int]]) -> dict[str, float]:
    """The four per-sample rates of one judged sample (verdicts as long as instructions)."""
    n = len(verdicts)
    yes = [v == "Yes" for v in verdicts]
    rigorous = sum(ok and all(yes[d] for d in dependence.get(str(i), ())) for i, ok
                   in enumerate(yes))
    longest = run = 0
    for ok in yes:
        run = run + 1 if ok else 0
        longest = max(longest, run)
    return {"CSR": float(all(yes)), "SSR": sum(yes) / n, "RSR": rigorous / n,
            "CCSR": longest / n}


class CodeIF(JudgedTask):
    name = "codeif"
    description = ("CodeIF: 1200 tasks with 15k instructions in Java, Python, C++, Go; an LLM "
                   "judge checks each instruction (CSR/SSR/RSR/CCSR, no sandbox)")
    headline = "CSR"
    scores = METRICS
    options = (Option("subset", "the easy or hard half, or all", SUBSETS),)
    prompt_version = "1"
    # the official judge call: temperature 0.5, max_tokens 4096, one reply
    judge_generation: ClassVar[GenerationConfig] = GenerationConfig(
        n_samples=1, temperature=0.5, max_new_tokens=4096)

    def __init__(self, subset: str | None = None, **common: str | None):
        super().__init__(**common)
        self.subset = self.option("subset", subset)

    def describe(self) -> dict:
        return {**super().describe(), "subset": self.subset}

    def load(self, source: DataSource) -> list[Problem]:
        rows = source.local_rows("codeif", "question/final_release_1200.jsonl", FIELDS)
        return [Problem(task_id=str(row["question_id"]), data=row, meta={
                    "language": row["meta_info"]["programming_language"],
                    "subset": row["meta_info"]["item_set"]})
                for row in rows if self.subset in ("all", row["meta_info"]["item_set"])]

    def request(self, problem: Problem, sample_idx: int,
                previous: tuple[str, ...] = ()) -> Request:
        prompt = GENERATION_PROMPT.format(
            question=problem.data["question"],
            instructions_str=instructions_text(problem.data["instruction_list"]))
        return Request(task=self.name, task_id=problem.task_id, sample_idx=sample_idx,
                       prompt=prompt, messages=({"role": "user", "content": prompt},))

    def sample_from_output(self, problem: Problem, request: Request, text: str, *,
                           chat: bool) -> Sample:
        return Sample(request.task, request.task_id, request.sample_idx, completion=text,
                      raw=text, prompt_hash=request.prompt_hash)

    # -- judging --------------------------------------------------------------------------

    def judge_request(self, problem: Problem, sample: Sample) -> Request:
        answer = sample.solution if sample.solution is not None else (sample.completion or "")
        prompt = JUDGE_PROMPT.format(
            question=problem.data["question"],
            instructions_str=instructions_text(problem.data["instruction_list"]),
            generated_code=answer)
        return Request(task=self.name, task_id=problem.task_id, sample_idx=sample.sample_idx,
                       prompt=prompt, messages=({"role": "user", "content": prompt},))

    def score_reply(self, problem: Problem, reply: str) -> dict:
        """The result row fields for one judge reply."""
        verdicts = parse_verdicts(reply)
        n = len(problem.data["instruction_list"])
        if not isinstance(verdicts, (list, tuple)) or len(verdicts) != n:
            return {"status": "excluded", "n_instructions": n,
                    "verdicts": verdicts if isinstance(verdicts, (list, tuple)) else None}
        verdicts = list(verdicts)
        return {"status": "scored", "n_instructions": n, "verdicts": verdicts,
                "scores": sample_scores(verdicts, problem.data["instruction_dependence"])}

    def extra_metrics(self, problems: list[Problem], rows: dict[str, list[dict]]):
        """The share of Yes per instruction category."""
        counts: dict[str, list[int]] = {}
        for problem in problems:
            for row in rows[problem.task_id]:
                for item, verdict in zip(problem.data["instruction_list"], row["verdicts"]):
                    seen = counts.setdefault(item["type"], [0, 0])
                    seen[0] += 1
                    seen[1] += verdict == "Yes"
        return {}, {"category": {category: {"n_instructions": n, "satisfied": round(yes / n, 6)}
                                 for category, (n, yes) in sorted(counts.items())}}
