"""Plain records passed between the pipeline's stages, and their JSON-lines form.

Every stage reads and writes these as JSON lines, so each stage can run alone on the
previous stage's files (evaluate samples made elsewhere, re-score without re-running).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def utf8_text(text: str | None) -> str | None:
    """Text from outside (a server's JSON, a samples file) made encodable: JSON may escape half
    a surrogate pair, and a lone surrogate cannot be hashed, stored or run; it becomes U+FFFD."""
    if text is None:
        return None
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def text_hash(text: str) -> str:
    """Short, stable content hash used in keys and provenance."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: its id, the benchmark's own fields, and breakdown metadata."""

    task_id: str
    data: dict[str, Any]
    # field -> value, or a tuple of values: the problem then counts once per value listed
    meta: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    # seconds its canonical solution took to pass, when this run checked it
    # (--check-ground-truth); None: not checked, or it failed
    ground_truth_s: float | None = None


@dataclass(frozen=True)
class Request:
    """One sample to generate. One request per (problem, sample index): backends group
    requests with equal prompts themselves (the prefix tree, or `n` on an API). A final
    assistant message in `messages` is a prefill: the model continues it."""

    task: str
    task_id: str
    sample_idx: int
    prompt: str                      # completion form: the full text the model continues
    messages: tuple[dict, ...] = ()  # chat form, when the task defines one
    stop: tuple[str, ...] = ()
    chat_stop: tuple[str, ...] | None = None   # stop strings of the chat form (None: `stop`)
    reference: str | None = None     # the canonical completion, for the reference backend
    round: int = 0                   # multi-round strategies: which round this request is
    stage: str = "generate"          # or "debug": a repair round's feedback request

    @property
    def key(self) -> str:
        key = sample_key(self.task, self.task_id, self.sample_idx)
        if self.stage != "generate":
            return f"{key}/{self.stage}{self.round}"
        return f"{key}/round{self.round}" if self.round else key

    @property
    def prompt_hash(self) -> str:
        return text_hash(self.prompt + json.dumps(self.messages))

    def stops(self, chat: bool) -> tuple[str, ...]:
        """The stop strings of the form the backend sends: a chat answer is cut at
        `chat_stop` (where given), a completion at `stop`."""
        return self.chat_stop if chat and self.chat_stop is not None else self.stop


@dataclass(frozen=True)
class Generation:
    """One model answer as a backend returns it: the text (stop strings applied), the tokens
    the model produced for it, and why it ended: "stop" (end of turn or a stop string) or
    "length" (`max_new_tokens`, or the model's context). None where the backend cannot say
    (the reference answers; an API call that returned several choices counts tokens for all)."""

    text: str
    tokens: int | None = None
    finish_reason: str | None = None


def ending(row: dict) -> str:
    """How a stored answer (a sample, a repair reply) ended, in words, e.g. "length after 512
    tokens (the --max-new-tokens cap)"; "" where its backend did not say."""
    reason, tokens = row.get("finish_reason"), row.get("tokens")
    if reason is None and tokens is None:
        return ""
    return (f"{reason or '?'} after {tokens if tokens is not None else '?'} tokens"
            + (" (the --max-new-tokens cap)" if reason == "length" else ""))


def sample_key(task: str, task_id: str, sample_idx: int) -> str:
    return f"{task}/{task_id}/{sample_idx}"


@dataclass(frozen=True)
class Sample:
    """What a model produced for one request. `completion` continues the prompt;
    `solution` (external samples only) is a whole program that replaces it."""

    task: str
    task_id: str
    sample_idx: int
    completion: str | None = None
    solution: str | None = None
    raw: str | None = None           # the model's text before extraction
    prompt_hash: str | None = None
    tokens: int | None = None        # generated for it, every round of its strategy together
    finish_reason: str | None = None  # of its last round: "stop" or "length" (cut at the cap)

    @property
    def key(self) -> str:
        return sample_key(self.task, self.task_id, self.sample_idx)

    @classmethod
    def from_row(cls, row: dict) -> Sample:
        """The sample a stored `samples.jsonl` row holds."""
        return cls(**{f.name: row.get(f.name) for f in dataclasses.fields(cls)})


def stored_samples(tasks, problems: dict, samples: dict):
    """(task, problem, Sample) for each stored sample row (`samples`: the rows by key) of
    these tasks' problems, in task, problem and storage order."""
    by_problem: dict[tuple, list[dict]] = {}
    for row in samples.values():
        by_problem.setdefault((row["task"], row["task_id"]), []).append(row)
    for task in tasks:
        for problem in problems[task.name]:
            for row in by_problem.get((task.name, problem.task_id), ()):
                yield task, problem, Sample.from_row(row)


@dataclass(frozen=True)
class Program:
    """A runnable program and how to judge it. Python programs are run by the sandbox's
    worker: the statements before line `test_first_line` are the solution; with the `script`
    framework every later top-level statement is a test step that must run and succeed, with
    `unittest` each of `test_classes` is one step, limited to `class_timeout_s`; with `driver`
    the test statements run an outside tool (javac, JUnit) and report its outcomes as steps."""

    key: str
    source: str
    test_first_line: int
    expected_steps: int
    framework: str = "script"
    test_classes: tuple[str, ...] = ()
    class_timeout_s: float | None = None
    language: str = "python"
    image: str = "python"            # the sandbox image whose libraries the program needs
    timezone: str = "UTC"            # TZ of the program: some tests encode their authors' zone
    trace: str | None = None         # record an LDB-style trace: "line", "block" or "function"
    timeout_s: float = 10.0
    memory_mb: int = 4096            # address-space limit; 0: none (JVMs; the container caps memory)
    # A long-lived helper the program talks to, kept by the sandbox's worker across programs
    # (JavaBench's compile server): JSON {"argv": [...], "files": {name: text}}; sandbox/service.py.
    service: str = ""
    # seconds it is expected to run (its problem's ground truth's): the longest start first.
    # Not part of what the program is (content_hash).
    expected_s: float | None = None

    @classmethod
    def joined(cls, key: str, head: str, tests: str, **fields) -> Program:
        """The program `head + tests`: `head` (the solution, newline-terminated) is everything
        before the tests' first line. Line ends become \\n: Python's parser also ends a line at
        \\r, so a solution with a lone \\r would otherwise start the tests at another line than
        the one counted here."""
        head, tests = (text.replace("\r\n", "\n").replace("\r", "\n") for text in (head, tests))
        return cls(key=key, source=head + tests, test_first_line=head.count("\n") + 1, **fields)

    def split_at_tests(self) -> tuple[str, str]:
        """(solution, tests): the source cut before line `test_first_line`, lines counted at
        \\n only, as the parser counts them (str.splitlines also cuts at \\f, \\x1c, \\u2028...)."""
        lines = self.source.split("\n")
        solution = lines[:self.test_first_line - 1]
        return "".join(line + "\n" for line in solution), "\n".join(lines[len(solution):])

    @property
    def content_hash(self) -> str:
        return text_hash(f"{self.language}\0{self.image}\0{self.test_first_line}\0"
                         f"{self.framework}\0{self.test_classes}\0{self.class_timeout_s}\0{self.timezone}\0"
                         f"{self.trace}\0"
                         f"{self.timeout_s}\0{self.memory_mb}\0{self.source}"
                         + (f"\0{self.service}" if self.service else ""))


# One vocabulary for every score row: a program's verdict, or "scored" (the sample has
# values: similarity, judge) and "excluded" (left out of every metric, e.g. a judge reply
# that cannot be read). Infra errors (the sandbox broke, twice) count as failures, so they can
# never raise a score (a program that crashes its worker when it fails would otherwise launder
# its failure); the run then exits non-zero, and a rerun retries them.
STATUSES = ("passed", "failed", "timeout", "error", "compile_error", "infra_error", "tampered",
            "scored", "excluded")
NOT_COUNTED = ("excluded",)
# Statuses of stores written before the vocabulary was one (CodeIF's judge rows).
RENAMED_STATUSES = {"judged": "scored", "length_mismatch": "excluded"}


@dataclass
class Execution:
    """The sandbox's account of one program run. `tests` holds per-step outcomes
    ({"name", "outcome", "message"}) as far as the program got."""

    key: str
    status: str
    message: str = ""
    tests: list[dict] = field(default_factory=list)
    duration_s: float = 0.0
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    trace: dict | None = None        # the block trace, when the program was run traced
    cpu_wait_s: float | None = None  # time its main thread was ready but waited for a CPU
    # a failure the machine's load may have caused is run again with no other program beside
    # it: the first run's {"status", "message", "duration_s", "cpu_wait_s", "reason"}
    first_run: dict | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown execution status {self.status!r}")


def cpu_wait_reason(waited: float | None) -> str:
    """`first_run["reason"]` of a failure that ran again because it waited for a CPU (also
    said of rows stored before first runs kept a reason)."""
    return f"it waited {waited:.2f} s for a CPU" if waited else "it waited for a CPU"


def results_by_key(rows) -> dict[tuple, dict]:
    """Score rows by (task, task_id, sample_idx, form); later rows (retried infra errors)
    win; statuses of older stores renamed."""
    out = {}
    for row in rows:
        if row["status"] in RENAMED_STATUSES:
            row = {**row, "status": RENAMED_STATUSES[row["status"]]}
        out[(row["task"], row["task_id"], row["sample_idx"], row["form"])] = row
    return out


def to_json(record: Any) -> str:
    data = dataclasses.asdict(record) if dataclasses.is_dataclass(record) else record
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def parse_jsonl(text: str) -> list[Any]:
    """The records of a JSON-lines text. Lines end at "\n" only: `str.splitlines` also breaks
    at U+2028, U+0085 and other separators that JSON leaves unescaped inside strings, so a
    model's completion holding one would tear its record in two."""
    return [json.loads(line) for line in text.split("\n") if line.strip()]


def read_jsonl(path: Path) -> list[Any]:
    """A JSON-lines file's records, read only; a torn last line (a run killed mid-write) is
    skipped. A missing file has none."""
    if not Path(path).is_file():
        return []
    text = Path(path).read_text(encoding="utf-8")
    return parse_jsonl(text[:text.rfind("\n") + 1])
