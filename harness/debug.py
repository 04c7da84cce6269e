"""LDB-style repair rounds (`codeeval run ... --debug-rounds N`).

After plain generation (round 0), every sample whose program failed and whose task has a
visible test (`Task.visible_test`) is debugged: the visible test is run traced in the sandbox
(sandbox/tracer.py: the program's execution split into basic blocks with variable values at
each block's entry and exit, every function traced), the model gets the failing test with the
value the program really produced, the block trace, and the request to judge each block as
JSON and return a fixed program; the fixed program is run against the hidden tests. Each round
is one batch across all problems. Rounds are stored in `debug.jsonl` (trace, prompt hash,
reply, block verdicts, fixed code) and results in `results.jsonl` with form `debug<r>`, so a
resumed run redoes nothing. The summary reports pass@1 per round (a sample counts from the
round its program first passed).
"""

from __future__ import annotations

import dataclasses
import json
import re

from tqdm import tqdm

from codeeval.execution import result_row
from codeeval.records import Program, Request, Sample
from codeeval.store import DEBUG, RESULTS, RunStore

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
                     code: str, test: str, execution) -> Request:
    failed = next((t for t in execution.tests if t.get("outcome") != "passed"), {})
    output = failed.get("real_output") or execution.message or "(no output)"
    feedback = (f"The code above fails the given unit test:\n{test.strip()} "
                f"# Real Execution Output: {output}\n{JUDGE_BLOCKS}\n"
                f"{render_trace(execution.trace, code)}\n\n{FIX}")
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


def debug_rounds(store: RunStore, backend, tasks, problems, samples: dict, config,
                 run: callable) -> None:
    """Run `config.debug_rounds` repair rounds; `run(programs)` executes programs in the
    sandbox and yields their Executions."""
    base = "sanitized" if config.sanitize == "sanitized" else "raw"
    by_name = {t.name: t for t in tasks}
    problem_of = {(t.name, p.task_id): p for t in tasks for p in problems[t.name]}
    for round_no in range(1, config.debug_rounds + 1):
        results = {(r["task"], r["task_id"], r["sample_idx"], r["form"]): r
                   for r in store.read(RESULTS)}
        history: dict[tuple, list[dict]] = {}
        for row in store.read(DEBUG):
            history.setdefault((row["task"], row["task_id"], row["sample_idx"]), []).append(row)
        todo = []
        for key, sample_row in samples.items():
            task, problem = by_name.get(key[0]), problem_of.get(key[:2])
            if task is None or problem is None or task.visible_test(problem) is None:
                continue
            rows = history.get(key, [])
            if any(r["round"] >= round_no for r in rows):
                continue  # done before a resume
            earlier = [results.get((*key, f))
                       for f in (base, *(f"debug{r}" for r in range(1, round_no)))]
            if earlier[-1] is None or any(r and r["status"] == "passed" for r in earlier):
                continue
            todo.append((task, problem, key, latest_code(task, problem, sample_row, rows)))
        if not todo:
            return
        traced = {f"{'/'.join(map(str, key))}/trace{round_no}":
                  task.debug_program(problem, code, config.trace_granularity)
                  for task, problem, key, code in todo}
        traced = {k: _with_key(p, k) for k, p in traced.items()}
        executions = {e.key: e for e in run(list(traced.values()))}
        requests, context = [], {}
        for task, problem, key, code in todo:
            execution = executions[f"{'/'.join(map(str, key))}/trace{round_no}"]
            request = feedback_request(task, problem, key[2], round_no,
                                       task.instruction_for_debug(problem), code,
                                       task.visible_test(problem), execution)
            requests.append(request)
            context[request.key] = (task, problem, key, execution)
        fixed_programs, feedback = {}, {}
        with store.appender(DEBUG) as out, tqdm(total=len(requests), unit="request",
                                                desc=f"debug round {round_no}") as bar:
            for request, text in backend.generate(requests):
                task, problem, key, execution = context[request.key]
                verdicts, code = parse_reply(text)
                code = code if code is not None else latest_code(
                    task, problem, samples[key], history.get(key, []))
                out.append({"task": key[0], "task_id": key[1], "sample_idx": key[2],
                            "round": round_no, "prompt_hash": request.prompt_hash,
                            "trace": execution.trace, "test_message": execution.message,
                            "reply": text, "verdicts": verdicts, "code": code})
                feedback[key] = {"trace": execution.trace, "verdicts": verdicts}
                program = task.program(problem, Sample(*key, solution=code), sanitized=False)
                fixed_programs[key] = _with_key(program, f"{'/'.join(map(str, key))}/debug{round_no}")
                bar.update()
        with store.appender(RESULTS) as out:
            for execution in run(list(fixed_programs.values())):
                task_name, task_id, idx, _ = execution.key.rsplit("/", 3)
                key = (task_name, task_id, int(idx))
                # The trace and verdicts that led to this program, for reports' drill-down.
                out.append({**result_row(*key, f"debug{round_no}",
                                         fixed_programs[key].content_hash, execution),
                            **feedback[key]})


def _with_key(program: Program, key: str) -> Program:
    return dataclasses.replace(program, key=key)


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
            scored = [r for r in rows if r[0] is not None and r[0]["status"] != "infra_error"]
            if scored:
                per_problem.append(sum(any(x and x["status"] == "passed" for x in r)
                                       for r in scored) / len(scored))
        values.append(round(sum(per_problem) / len(per_problem), 6) if per_problem else 0.0)
    return values

