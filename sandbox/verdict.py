"""From what the worker reported to an Execution status: the one verdict every runner uses.

A pass needs positive evidence: the worker started the program, every expected test step reported
"passed" under this run's nonce (for `values` programs: every reported value equals the expected
one, compared here; for unittest classes: unittest's own count, taken by the audit hook, agrees),
the program reported "done", and its process exited cleanly. Exit code 0 alone proves nothing.
A program the audit hook caught tampering with the harness is `tampered`, whatever else it
reported.
"""

from __future__ import annotations

import json

from codeeval.records import Execution
from codeeval.sandbox.values import Check, judge_values

TAMPERED_EXIT = 87   # program_guard.TAMPERED_EXIT: the audit hook caught the program tampering


def parse_report(text: str, nonce: str) -> list[dict]:
    """The report lines that carry this run's nonce; anything else is ignored."""
    events = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("nonce") == nonce:
            events.append(record)
    return events


def judge(key: str, events: list[dict], *, expected_steps: int, exit_code: int | None,
          timed_out: bool, duration_s: float, stdout: str, stderr: str,
          checks: list[Check] | None = None, cpu_wait_s: float | None = None) -> Execution:
    if checks is not None:
        tests = judge_values(checks, events)
    else:
        tests = [agreed({k: v for k, v in e.items() if k not in ("event", "nonce", "exception")})
                 for e in events if e.get("event") == "step"]
    tampered = next((e for e in events if e.get("event") == "tampered"), None)
    kinds = {e.get("event") for e in events}
    error = next((e for e in events if e.get("event") == "error"), None)
    failed = next((t for t in tests if t["outcome"] != "passed"), None)

    trace = next(({k: v for k, v in e.items() if k not in ("event", "nonce")}
                  for e in events if e.get("event") == "trace"), None)

    def result(status: str, message: str) -> Execution:
        return Execution(key=key, status=status, message=message, tests=tests,
                         duration_s=round(duration_s, 4), exit_code=exit_code,
                         stdout=stdout, stderr=stderr, trace=trace, cpu_wait_s=cpu_wait_s)

    if tampered is not None or exit_code == TAMPERED_EXIT:
        what = tampered.get("what") if tampered else f"it was stopped (exit code {TAMPERED_EXIT})"
        return result("tampered", f"the program tampered with the test harness: {what}")
    if timed_out:
        return result("timeout", "wall-clock limit reached; killed the program and its children")
    if "started" not in kinds:
        return result("infra_error", f"the sandbox worker did not start the program (exit code {exit_code})")
    if error is not None:
        # the one-line message cuts a multi-line exception (nltk's LookupError names the
        # missing resource mid-message): its traceback stays in `tests`, as the failed phase
        tests.append({"name": error.get("phase", "program"), "outcome": "error",
                      "message": error.get("message", "")})
        return result("error", last_line(error.get("message", "")))
    if failed is not None:
        return result("failed", f"{failed['name']}: {last_line(failed['message'])}")
    if "done" not in kinds:
        return result("failed", f"the program ended before its tests finished (exit code {exit_code})")
    if exit_code != 0:
        return result("failed", f"the program's process (or its monitor) was killed or exited with code {exit_code}")
    if len(tests) != expected_steps:
        return result("failed", f"{len(tests)} test steps ran, {expected_steps} expected")
    return result("passed", "")


def agreed(step: dict) -> dict:
    """A unittest class's step passes only if the audit hook's count of unittest's outcomes
    (`tally`) says so too: every test that started ended in a success or a skip."""
    tally = step.pop("tally", None)
    if tally is None or step.get("outcome") != "passed":
        return step
    started, good = tally.get("run", 0), tally.get("success", 0) + tally.get("skip", 0)
    if started and not tally.get("failure") and not tally.get("error") and good >= started:
        return step
    return {**step, "outcome": "failed",
            "message": f"unittest counted {tally} but the class reported a pass"}


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""
