"""The Task contract: what a benchmark adapter provides to the pipeline, in small parts.

`Task` is the part every benchmark has: its options, loading its problems, and the prompting
strategy that turns a problem into generation requests and the model's texts into a sample.
A benchmark then inherits the one scoring part that fits it:
- `ExecutedTask` (`scoring = "execution"`): assembles a program from a problem and a sample
  exactly as the official harness does, and names the sandbox image, libraries and limits its
  programs need; programs run in a sandbox, pass@k;
- `SimilarityTask` (`"similarity"`): `score` compares each sample with the reference;
- `JudgedTask` (`"judge"`): a judge model reads each sample (`judge_request`, `score_reply`);
and, where LDB repair rounds apply (`--debug-rounds`), `Repairable`. Whatever the scoring,
every sample becomes one score row and one summarizer (`codeeval.scoring`) makes the task's
summary. Running programs and computing pass@k are not a task's job.
"""

from __future__ import annotations

import ast
import base64
import json
import math
import sys
import zlib
from abc import ABC, abstractmethod
from collections.abc import Generator
from dataclasses import dataclass
from typing import ClassVar

from codeeval.errors import UserError
from codeeval.records import Problem, Program, Request, Sample
from codeeval.tasks.sources import DataSource


def seconds(task: str, option: str, given: str | float) -> float:
    """`given` as a number of seconds; a UserError unless it is one, from 0.1 up."""
    try:
        value = float(given)
    except ValueError:
        value = 0.0
    if not (math.isfinite(value) and value >= 0.1):
        raise UserError(f"the {option} of {task} must be a number of seconds, at least 0.1, "
                        f"got {given!r}")
    return value


@dataclass(frozen=True)
class Option:
    """A task option: the constructor argument `name`, set from the CLI with
    `-T TASK.NAME=VALUE` (or its alias flag). With `choices` (the first is the default, which
    `default` names too) a value outside them is a UserError; with `seconds`, anything but a
    number of seconds from 0.1 up; otherwise any text."""

    name: str
    help: str
    choices: tuple[str, ...] = ()
    seconds: bool = False

    def value(self, task: str, given: str | float | None) -> str | None:
        """`given` checked (None: not set, which for choices is the first)."""
        if self.seconds:
            return None if given is None else repr(seconds(task, self.name, given))
        if not self.choices:
            return given
        if given is None or given == "default":
            return self.choices[0]
        if given not in self.choices:
            raise UserError(f"{task} has no {self.name} {given!r}; choose one of: "
                            f"{', '.join(self.choices)}")
        return given

    def canonical(self, task: str, given: str) -> str | None:
        """`given` as a run store records it: checked, in one form, and None for the default,
        so that equal settings compare equal however they were written."""
        value = self.value(task, given)
        return None if self.choices and value == self.choices[0] else value


def driver_head(driver: str, spec: dict) -> str:
    """The head of a `driver` program: the driver's source, then its spec as `SPEC`, packed
    (base64 of zlib of JSON) so that whole projects travel in the program text; every driver
    defines `load_spec` to unpack it inside the sandbox."""
    packed = base64.b64encode(zlib.compress(json.dumps(spec).encode())).decode()
    return f"{driver}\n\nSPEC = load_spec({packed!r})\n"


def imported_modules(source: str) -> set[str]:
    """Top-level names of the absolute imports anywhere in a Python source (none if it does
    not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


# A prompting strategy: yields Requests, is sent (text, chat) for each, returns the Sample.
Prompting = Generator[Request, tuple[str, bool], Sample]


class Task(ABC):
    """Options, loading and prompting: what every benchmark has."""

    name: ClassVar[str]
    description: ClassVar[str]
    scoring: ClassVar[str]   # set by the scoring part: "execution", "similarity" or "judge"
    # The prompts it can build (`-T TASK.prompt_variant=...`, alias --prompt-variant); the
    # first is the default.
    prompt_variants: ClassVar[tuple[str, ...]] = ("default",)
    prompt_version: ClassVar[str] = "1"     # bump whenever a prompt's text changes
    ks: ClassVar[tuple[int, ...]] = (1, 5, 10)
    # Problems whose ground truth fails here for a documented reason (task_id -> reason):
    # summary.json attaches the reason to such failures, so a reference run names each one.
    known_failures: ClassVar[dict[str, str]] = {}
    # The metric leaderboards, gates and tables show first. Tasks that score each sample with
    # values (`scores`, named in each row's `scores`) report their means instead of pass@k.
    headline: ClassVar[str] = "pass@1"
    scores: ClassVar[tuple[str, ...]] = ()
    # The full scale of a metric that is not a 0-1 fraction (CodeBLEU: 100): the gate's
    # tolerance is --max-drop of the scale, so 0.02 means 2 CodeBLEU points.
    metric_scales: ClassVar[dict[str, float]] = {}
    breakdown_ks: ClassVar[tuple[int, ...]] = (1,)   # the pass@k of each metadata breakdown
    # The task's own options (`-T multicodebench.domain=Game`, ...), beside the ones every
    # task has (`all_options`); all are constructor arguments.
    options: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, prompt_variant: str | None = None) -> None:
        """The options every task has; a task with options of its own takes them first and
        passes these on."""
        self.prompt_variant = self.option("prompt_variant", prompt_variant)

    @classmethod
    def common_options(cls) -> tuple[Option, ...]:
        """The options of every task of this kind (each scoring part may add some)."""
        return (Option("prompt_variant", "which prompts to build", cls.prompt_variants),)

    @classmethod
    def all_options(cls) -> tuple[Option, ...]:
        return cls.common_options() + cls.options

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return tuple(o.name for o in cls.all_options())

    @classmethod
    def declared(cls, name: str) -> Option:
        """The option `name` (a KeyError when the task has none)."""
        return {o.name: o for o in cls.all_options()}[name]

    def option(self, name: str, given: str | None) -> str | None:
        """The value of option `name` given `given` (None: not set), checked."""
        return self.declared(name).value(self.name, given)

    def describe(self) -> dict:
        """The task's resolved options, recorded in summary.json."""
        return {"prompt_variant": self.prompt_variant}

    @abstractmethod
    def load(self, source: DataSource) -> list[Problem]:
        """All problems, in the benchmark's order."""

    @abstractmethod
    def request(self, problem: Problem, sample_idx: int,
                previous: tuple[str, ...] = ()) -> Request:
        """The generation request (of the task's prompt variant) for one sample of one
        problem, in round `len(previous)` given the model's texts of the earlier rounds
        (multi-round strategies only)."""

    @abstractmethod
    def sample_from_output(self, problem: Problem, request: Request, text: str, *,
                           chat: bool) -> Sample:
        """Extract the sample from a model's text for `request`, as the official pipeline
        does; `chat` says whether the text answers the chat form of the request."""

    def prompting(self, problem: Problem, sample_idx: int) -> Prompting:
        """The prompting strategy of one sample: a generator that yields each round's
        Request, is sent (the model's text, whether it answered the chat form) for it, and
        returns the Sample. One round by default; multi-round strategies (ClassEval
        incremental: one round per method) yield more, each round one batch across all
        problems."""
        request = self.request(problem, sample_idx)
        text, chat = yield request
        return self.sample_from_output(problem, request, text, chat=chat)

    def extra_metrics(self, problems: list[Problem], rows: dict[str, list[dict]]
                      ) -> tuple[dict, dict]:
        """Benchmark-specific (metrics, breakdowns) from each problem's counted score rows
        (the headline's form); their names must differ from the summary's own. None by
        default."""
        return {}, {}


class ExecutedTask(Task):
    """Scored by running programs: the program that judges a sample, assembled as the
    official harness does, and what running it needs."""

    scoring = "execution"

    def __init__(self, timeout: str | float | None = None, **common: str | None) -> None:
        super().__init__(**common)
        given = self.option("timeout", timeout)
        # None: each program keeps the limit its task gives it (`limit`)
        self.timeout_s = None if given is None else float(given)

    @classmethod
    def common_options(cls) -> tuple[Option, ...]:
        return super().common_options() + (
            Option("timeout", "per-program wall-clock limit in seconds (default: the task's)",
                   seconds=True),)

    def describe(self) -> dict:
        given = {} if self.timeout_s is None else {"timeout_s": self.timeout_s}
        return {**super().describe(), **given}

    # The sandbox image whose libraries the programs need (see codeeval.sandbox.images), and
    # the modules its workers import once, so that programs fork with them loaded.
    image: ClassVar[str] = "python"
    preload: ClassVar[tuple[str, ...]] = ()
    timezone: ClassVar[str] = "UTC"
    # The memory cap of a Docker container running this task's programs (and, for Python
    # programs, their address-space limit); a sandbox is sized for the largest of its tasks.
    memory_mb: ClassVar[int] = 4096

    @abstractmethod
    def program(self, problem: Problem, sample: Sample, *, sanitized: bool) -> Program:
        """The program that judges `sample`, assembled as the official harness does; its
        limits come from `limit`."""

    def limit(self, default_s: float) -> float:
        """A program's wall-clock limit: `-T TASK.timeout` (alias --timeout) where given, else
        the task's `default_s`."""
        return default_s if self.timeout_s is None else self.timeout_s

    def ground_truth_program(self, problem: Problem) -> Program | None:
        """The canonical solution as the benchmark's own ground-truth check runs it, for
        `--check-ground-truth`; None when the benchmark has no such check."""
        return None

    def required_modules(self, problems: list[Problem]) -> list[str]:
        """The top-level modules outside the standard library that the sandbox must have for
        these problems: what the benchmark's own Python programs (canonical solution and tests,
        assembled as a sample's would be) import, and `preload`. Read from the data, so a
        library a benchmark adds is never missed."""
        modules = {name.split(".")[0] for name in self.preload}
        for problem in problems:
            request = self.request(problem, 0)
            if request.reference is None:
                continue
            sample = self.sample_from_output(problem, request, request.reference, chat=False)
            program = self.program(problem, sample, sanitized=False)
            if program.language == "python":
                modules |= imported_modules(program.source)
        return sorted(m for m in modules if m not in sys.stdlib_module_names)

    def check_environment(self) -> None:
        """Raise a UserError when something that running this task's programs needs is
        missing (CoderEval: the authors' evaluation image), before anything is generated."""


class SimilarityTask(Task):
    """Scored by comparing each sample with the reference (no sandbox)."""

    scoring = "similarity"

    @abstractmethod
    def score(self, problem: Problem, sample: Sample) -> dict:
        """The sample's values, named as `scores` names them."""


class JudgedTask(Task):
    """Scored by a judge model reading each sample (no sandbox)."""

    scoring = "judge"

    @abstractmethod
    def judge_request(self, problem: Problem, sample: Sample) -> Request:
        """What the judge is asked about `sample`."""

    @abstractmethod
    def score_reply(self, problem: Problem, reply: str) -> dict:
        """The score row's fields for one judge reply: `scored` with the sample's values, or
        `excluded` when the reply cannot be read (never a pass or a fail)."""


class Repairable(ABC):
    """What LDB repair rounds (`--debug-rounds`) need of an executed task that supports them."""

    @abstractmethod
    def visible_test(self, problem: Problem) -> str | None:
        """The test a debugging round shows the model (LDB: the tests given in the prompt,
        else the first assertion); None where this problem has none."""

    @abstractmethod
    def sample_code(self, problem: Problem, sample: Sample) -> str:
        """The whole program text of a sample, as a debugging round shows it."""

    @abstractmethod
    def debug_program(self, problem: Problem, code: str, granularity: str) -> Program:
        """`code` run on the visible test only, traced at `granularity`."""

    @abstractmethod
    def instruction_for_debug(self, problem: Problem) -> str:
        """The task as a repair round states it."""
