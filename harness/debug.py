"""LDB-style repair rounds (`codeeval run ... --debug-rounds N`).

After plain generation (round 0), every sample whose program failed and whose task has a
visible test (`Repairable.visible_test`) is debugged: the visible test is run traced in the
sandbox (sandbox/tracer.py: the program's execution split into basic blocks with variable
values at each block's entry and exit, every function traced), the model gets the failing test
with the value the program really produced, the block trace, and the request to judge each block as
JSON and return a fixed program; the fixed program is run against the hidden tests. Each round
is one batch across all problems. Rounds are stored in `debug.jsonl` (trace, prompt hash,
reply, block verdicts, fixed code) and results in `results.jsonl` with form `debug<r>` (the
traced runs as `trace<r>`), so a resumed run redoes nothing. The summary reports pass@1 per round (a sample counts from the
round its program first passed).
"""

from __future__ import annotations

import json
import re

from tqdm import tqdm

from codeeval.execution import stored_results
from codeeval.records import NOT_COUNTED, Request, Sample
from codeeval.store import DEBUG, RunStore
from codeeval.tasks.base import Repairable

SYSTEM = "You are an expert programming assistant."
JUDGE_BLOCKS = (
    "Help me debug this. Here is the code execution trace block by block with the "
    "intermediate variable values. Please explain the execution FOR EACH BLOCK and answer "
    "whether this block is correct or not. If not, give an explanation on what is wrong. "
    "Please wrap your response into a JSON object that contains keys `block` with the name "
    "of each block, key `correct` for the correctness of the block, and key `explanation` "
    "with an explanation on the bug.\nExample Answers:\n"
    '{"block": "BLOCK-1", "correct": "True", "explanation": "The block initializes '
    'variable `a` and `b`."}\n'
    '{"block": "BLOCK-2", "correct": "False", "explanation": "The block is incorrect because '
    'the code does not add the two integers together, but instead subtracts the second '
    'integer from the first. To fix this issue, we should change the operator from `-` to '
    '`+` in the return statement. This will ensure that the function returns the correct '
    'output for the given input."}\n')
FIX = ("After the JSON objects, write the whole fixed program in one ```python code block.")
CODE_BLOCK = re.compile(r"```(?:python|py)?\n(.*?)(?:```|\Z)", re.S)
JSON_OBJECT = re.compile(r"\{[^{}]*\}")


def render_trace(trace: dict | None, code: str) -> str:
    """The trace as LDB shows it: per block, the state before, the executed lines, the state
    after; long traces say how many blocks were skipped in the middle."""
    if not trace or not trace.get("blocks"):
        return "(no trace: the program did not reach the traced code)"
    lines = code.splitlines()
    out = []
    for index, block in enumerate(trace["blocks"]):
        if trace.get("skipped") and index == trace.get("skipped_after"):
            out.append(f"[... {trace['skipped']} blocks skipped ...]")
        executed = list(dict.fromkeys(block.get("executed") or []))
        source = "\n".join(lines[n - 1] for n in executed if 0 < n <= len(lines))
        state = lambda values: ", ".join(f"{k}={v}" for k, v in values.items())  # noqa: E731
        tail = [f"# returns {block['return']}"] if "return" in block else []
        tail += [f"# raises {block['exception']}"] if "exception" in block else []
        out.append(f"[BLOCK-{index}] in {block['function']}\n# state before: "
                   f"{state(block.get('entry', {}))}\n{source}\n# state after: "
                   f"{state(block.get('exit', {}))}" + "".join("\n" + t for t in tail))
    return "\n".join(out)


def feedback_request(task, problem, sample_idx: int, round_no: int, instruction: str,
                     code: str, test: str, traced: dict) -> Request:
    """The repair request for `code`, given the result row of its traced visible test."""
    failed = next((t for t in traced["tests"] if t.get("outcome") != "passed"), {})
    output = failed.get("real_output") or traced["message"] or "(no output)"
    feedback = (f"The code above fails the given unit test:\n{test.strip()} "
                f"# Real Execution Output: {output}\n{JUDGE_BLOCKS}\n"
                f"{render_trace(traced.get('trace'), code)}\n\n{FIX}")
    messages = ({"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Complete the following task in Python:\n{instruction}"},
                {"role": "assistant", "content": f"```python\n{code}\n```"},
                {"role": "user", "content": feedback})
    prompt = (f"{SYSTEM}\n\n### Task\n{instruction}\n\n### Program\n```python\n{code}\n```\n\n"
              f"### Feedback\n{feedback}\n\n### Response\n")
    return Request(task=task.name, task_id=problem.task_id, sample_idx=sample_idx,
                   prompt=prompt, messages=messages, round=round_no, stage="debug")


def parse_reply(text: str) -> tuple[list[dict], str | None]:
    """(block verdicts, fixed program): every JSON object with a `block` key, and the last
    python code block (the fixed program follows the verdicts)."""
    verdicts = []
    for candidate in JSON_OBJECT.findall(text):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict) and "block" in value:
            verdicts.append(value)
    blocks = CODE_BLOCK.findall(text)
    return verdicts, (blocks[-1] if blocks else None)


def latest_code(task, problem, sample_row: dict, debug_rows: list[dict]) -> str:
    if debug_rows:
        return debug_rows[-1]["code"]
    return task.sample_code(problem, Sample.from_row(sample_row))


def to_debug(store: RunStore, problem_of: dict, samples: dict, base: str, round_no: int):
    """(task, problem, sample key, latest code) of every sample whose program failed up to
    this round, whose task has a visible test, and that this round has not debugged yet;
    `problem_of`: (task name, task_id) -> (task, problem)."""
    results = stored_results(store)
    history: dict[tuple, list[dict]] = {}
    for row in store.read(DEBUG):
        history.setdefault((row["task"], row["task_id"], row["sample_idx"]), []).append(row)
    for key, sample_row in samples.items():
        task, problem = problem_of.get(key[:2], (None, None))
        if not isinstance(task, Repairable) or task.visible_test(problem) is None:
            continue
        rows = history.get(key, [])
        if any(r["round"] >= round_no for r in rows):
            continue  # done before a resume
        earlier = [results.get((*key, f))
                   for f in (base, *(f"debug{r}" for r in range(1, round_no)))]
        if earlier[-1] is None or any(r and r["status"] == "passed" for r in earlier):
            continue
        yield task, problem, key, latest_code(task, problem, sample_row, rows)


def debug_rounds(store: RunStore, backend, tasks, problems, samples: dict, config,
                 service) -> None:
    """Run `config.debug_rounds` repair rounds, every program through `service` (the
    run's ExecutionService): the traced visible tests as form `trace<r>`, the fixed programs
    as `debug<r>`."""
    base = "sanitized" if config.sanitize == "sanitized" else "raw"
    problem_of = {(t.name, p.task_id): (t, p) for t in tasks for p in problems[t.name]}
    for round_no in range(1, config.debug_rounds + 1):
        todo = list(to_debug(store, problem_of, samples, base, round_no))
        traced = service.run([((*key, f"trace{round_no}"),
                               task.debug_program(problem, code, config.trace_granularity))
                              for task, problem, key, code in todo],
                             desc=f"trace round {round_no}")
        requests, context = [], {}
        for task, problem, key, code in todo:
            row = traced[(*key, f"trace{round_no}")]
            request = feedback_request(task, problem, key[2], round_no,
                                       task.instruction_for_debug(problem), code,
                                       task.visible_test(problem), row)
            requests.append(request)
            context[request.key] = (key, code, row)
        with store.appender(DEBUG) as out, tqdm(total=len(requests), unit="request",
                                                desc=f"debug round {round_no}",
                                                disable=not requests) as bar:
            for request, answer in backend.generate(requests):
                key, code, row = context[request.key]
                verdicts, fixed = parse_reply(answer.text)
                out.append({"task": key[0], "task_id": key[1], "sample_idx": key[2],
                            "round": round_no, "prompt_hash": request.prompt_hash,
                            "trace": row.get("trace"), "test_message": row["message"],
                            "reply": answer.text, "tokens": answer.tokens,
                            "finish_reason": answer.finish_reason, "verdicts": verdicts,
                            "code": fixed if fixed is not None else code})
                bar.update()
        # every fixed program of this round, those stored before a resume included
        jobs, feedback = [], {}
        for row in store.read(DEBUG):
            key = (row["task"], row["task_id"], row["sample_idx"], f"debug{round_no}")
            if row["round"] == round_no and key[:2] in problem_of:
                task, problem = problem_of[key[:2]]
                sample = Sample(*key[:3], solution=row["code"])
                jobs.append((key, task.program(problem, sample, sanitized=False)))
                # the trace and verdicts that led to this program, for reports' drill-down
                feedback[key] = {"trace": row["trace"], "verdicts": row["verdicts"]}
        service.run(jobs, desc=f"run round {round_no}", extra=feedback)


def pass_at_1_by_round(task, problems, results: dict, rounds: int, n_samples: int,
                       base: str = "raw") -> list[float]:
    """pass@1 after each round: a sample counts from the first round its program passed."""
    values = []
    for round_no in range(rounds + 1):
        forms = (base, *(f"debug{r}" for r in range(1, round_no + 1)))
        per_problem = []
        for problem in problems:
            rows = [[results.get((task.name, problem.task_id, i, f)) for f in forms]
                    for i in range(n_samples)]
            scored = [r for r in rows if r[0] is not None and r[0]["status"] not in NOT_COUNTED]
            if scored:
                per_problem.append(sum(any(x and x["status"] == "passed" for x in r)
                                       for r in scored) / len(scored))
        values.append(round(sum(per_problem) / len(per_problem), 6) if per_problem else 0.0)
    return values

