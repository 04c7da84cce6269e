"""From what the worker reported to an Execution status: the one verdict every runner uses.

A pass needs positive evidence: the worker started the program, every expected test step
reported "passed" in a line the audit hook signed with this run's nonce (for `values`
programs: every reported value equals the expected one, compared here; for unittest classes:
unittest's own count, taken by the audit hook, agrees), the program reported "done", and its
process exited cleanly. Exit code 0 alone proves nothing.
A program the audit hook caught tampering with the harness is `tampered`, whatever else it
reported.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from codeeval.records import Execution
from codeeval.sandbox.values import Check, judge_values

TAMPERED_EXIT = 87   # program_guard.TAMPERED_EXIT: the audit hook caught the program tampering


MAC_FIELD = ', "mac": "'   # program_guard.MAC_FIELD
ALTERED = {"event": "tampered", "what": "the test report was altered (a line written, rewritten "
                                        "or removed by the program)"}


def parse_report(text: str, nonce: str) -> list[dict]:
    """The audit hook's lines, in order. Each ends with its sequence number and a MAC keyed by
    this run's nonce (program_guard's `line`); a complete line that fails either check was
    written or altered by the program, which is tampering (an honest program never writes to
    its report). A last line without its newline was cut by a kill mid-write: left out."""
    events = []
    for line in text.split("\n")[:-1]:
        at = line.rfind(MAC_FIELD) + len(MAC_FIELD)
        body, mac = line[:at], line[at:-2]
        expected = hashlib.sha256((nonce + body).encode()).hexdigest()
        try:
            record = json.loads(line) if at > len(MAC_FIELD) and line.endswith('"}') else None
        except ValueError:
            record = None
        if not (isinstance(record, dict) and hmac.compare_digest(mac.encode(), expected.encode())
                and record.get("seq") == len(events)):
            return events + [ALTERED]
        events.append({k: v for k, v in record.items() if k not in ("seq", "mac")})
    return events


def judge(key: str, events: list[dict], *, expected_steps: int, exit_code: int | None,
          timed_out: bool, duration_s: float, stdout: str, stderr: str,
          checks: list[Check] | None = None, cpu_wait_s: float | None = None) -> Execution:
    if checks is not None:
        tests = judge_values(checks, events)
    else:
        tests = [agreed({k: v for k, v in e.items() if k not in ("event", "exception")})
                 for e in events if e.get("event") == "step"]
    tampered = next((e for e in events if e.get("event") == "tampered"), None)
    kinds = {e.get("event") for e in events}
    error = next((e for e in events if e.get("event") == "error"), None)
    failed = next((t for t in tests if t["outcome"] != "passed"), None)

    trace = next(({k: v for k, v in e.items() if k != "event"}
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
    (`tally`) says so too: every test that started ended in a success (not a skip, which
    code the solution runs can raise)."""
    tally = step.pop("tally", None)
    if tally is None or step.get("outcome") != "passed":
        return step
    started = tally.get("run", 0)
    if started and set(tally) <= {"run", "success"} and tally.get("success", 0) >= started:
        return step
    return {**step, "outcome": "failed",
            "message": f"unittest counted {tally} but the class reported a pass"}


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""
