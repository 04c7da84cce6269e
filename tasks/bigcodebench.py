"""BigCodeBench: practical Python tasks that call 139 libraries, judged by unittest classes.

Paper: Zhuo et al., "BigCodeBench: Benchmarking Code Generation with Diverse Function Calls and
Complex Instructions", arXiv 2406.15877 (official code: bigcode-project/bigcodebench).

What it measures: whether a model writes a working `task_func` for a realistic task (pandas,
numpy, matplotlib, sklearn, requests, os, ...) from a docstring (`--split complete`) or from a
natural-language instruction (`--split instruct`, chat models only in the official harness), on
all 1140 tasks (`--subset full`) or the 148-task hard subset (`--subset hard`).

How, as the official harness does it:
- Prompts: a base model continues `complete_prompt`, stopped at the official stop strings; a
  chat model gets the official instruction prefix with the prompt, and an assistant turn
  prefilled with the response prefix and an open ```python fence (the last message of the
  request's chat form), stopped at the closing fence.
- Extraction: the official sanitizer (codeeval.tasks.bigcodebench_sanitize) keeps the entry
  point with what it depends on; for a base model it runs on prompt + completion. The sample's
  `solution` is the sanitized program, as the official generator stores it; `raw` keeps the
  text. `codeeval evaluate` takes `solution` as given, or `complete_prompt + completion`, like
  the official evaluator; `--sanitize sanitized` runs the sanitizer over those too.
- Calibrated assembly: `code_prompt + "\\n    pass\\n" + solution`, then the test module; the
  program passes when its `TestCases` class ran with no failure or error.
- Limits: the test class may run max(default 240 s, the ground-truth runtime) + 1 s, the
  program 1 s more (`--timeout` replaces the 240 s default, as BIGCODEBENCH_TIMEOUT_PER_TASK
  does); without a ground-truth check the runtime counts as 20 s, the official value for an
  unknown one. 30 GiB address space, TZ=UTC, one BLAS/OpenMP thread, matplotlib's Agg backend;
  every program forks from a worker that imported the common libraries once (`preload`), so
  no figure or library state carries from one program to the next.
- Ground truth (`--check-ground-truth`): `complete_prompt + "\\n" + canonical_solution` with the
  tests, run before scoring; its runtimes set the limits above (the whole program's wall time
  here, the test run alone officially: the limits are never tighter).
Deliberate difference: the official harness replaces `os.kill` and `subprocess` with guards in
the test process; codeeval kills the program's whole process group and uid instead, so task
363 (a multiprocessing pool that the guard deadlocks) passes. Smaller ones: output goes to
capture files rather than a write-only buffer, stdin is /dev/null, the module is named
`solution` rather than `__test__`, and subprocesses keep their default (unpiped) output.

Data: `bigcodebench/BigCodeBench-<version>.jsonl[.gz]` in the data dir (the shared copy is
`v0.1.0_hf`), else the hub dataset `bigcode/bigcodebench` with split = version, default v0.1.4
as the official loader; `bigcode/bigcodebench-hard` (or `BigCodeBench-Hard-<version>.jsonl`)
for the hard subset. Breakdowns: pass@1 per domain from `task2domain.json` (a task counts once
per library it uses, as the paper's analysis weighs it).
Metric: pass@k (unbiased estimator); headline calibrated greedy pass@1.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import ClassVar

from codeeval.errors import UserError
from codeeval.records import Problem, Program, Request, Sample
from codeeval.tasks.base import ExecutedTask, Option
from codeeval.tasks.bigcodebench_sanitize import sanitize
from codeeval.tasks.sources import DataSource

FIELDS = ("task_id", "complete_prompt", "instruct_prompt", "canonical_solution", "code_prompt",
          "test", "entry_point")
HUB_ID = "bigcode/bigcodebench"
DEFAULT_VERSION = "v0.1.4"   # the official loader's BIGCODEBENCH_VERSION
VERSION_NAMES = {"v0.1.0": "v0.1.0_hf"}   # the first release's published split name
SPLITS = ("complete", "instruct")
SUBSETS = ("full", "hard")

INSTRUCTION_PREFIX = ("Please provide a self-contained Python script that solves the following "
                      "problem in a markdown code block:")
RESPONSE_PREFIX = ("Below is a Python script with a self-contained function that solves the "
                   "problem and passes corresponding tests:")
EOS = ("<|endoftext|>", "<|endofmask|>", "</s>", "\nif __name__", "\ndef main(", "\nprint(")
BASE_STOP = EOS + ("\ndef ", "\nclass ", "\nimport ", "\nfrom ", "\nassert ")
CHAT_STOP = EOS + ("\n```\n",)

# The official test module starts with `os`, `sys` and `environ` defined, exit() and quit()
# disabled, and TensorFlow's oneDNN rewrites and logs off (reliability_guard); one line, so
# that tracebacks are off by one line only.
PRELUDE = ("import os, sys, builtins; environ = os.environ; builtins.exit = builtins.quit = None; "
           "os.environ.update(TF_CPP_MIN_LOG_LEVEL='3', TF_ENABLE_ONEDNN_OPTS='0'); del builtins")

DEFAULT_TIMEOUT_S = 240.0     # TIMEOUT_LIMIT, BIGCODEBENCH_TIMEOUT_PER_TASK
UNKNOWN_GT_TIME_S = 20.0      # what the official evaluator assumes without a ground-truth time
MIN_TIME_LIMIT_S = 1.0
MEMORY_MB = 30 * 1024         # max_as_limit


class BigCodeBench(ExecutedTask):
    name = "bigcodebench"
    description = ("BigCodeBench: 1140 library-heavy Python tasks, unittest-judged; "
                   "--split complete|instruct, --subset full|hard (pass@k, per domain)")
    image = "python"
    # what most tasks import: forked programs start with these loaded (seconds each otherwise)
    preload = ("numpy", "pandas", "matplotlib", "matplotlib.pyplot", "seaborn", "scipy",
               "scipy.stats", "sklearn", "sklearn.preprocessing", "sklearn.model_selection",
               "sklearn.linear_model", "sklearn.decomposition", "sklearn.cluster",
               "sklearn.metrics", "sklearn.feature_extraction.text", "sklearn.ensemble",
               "unittest", "unittest.mock", "doctest", "requests", "faker", "nltk", "pytz",
               "dateutil.parser", "bs4", "PIL", "cv2")
    options = (Option("split", "docstring completion or instruction", SPLITS),
               Option("subset", "all tasks, or the hard ones", SUBSETS),
               Option("dataset_version", "the version to load, e.g. v0.1.0_hf (default: the "
                      "official loader's; a data dir's only version)"))
    memory_mb = MEMORY_MB
    known_failures: ClassVar[dict[str, str]] = {
        # causes traced by hand with the official evaluator on the nearest Python 3.11 builds
        # of its pins (shared/docs/bigcodebench-gt.md), where the failure itself does not say
        "BigCodeBench/176": "network needed: reverse DNS of public resolvers gives nothing "
                            "offline (the canonical solution fails too)",
        "BigCodeBench/1006": "network needed: the test downloads real ZIP files (the "
                             "canonical solution fails too)",
        "BigCodeBench/111": "library version: numpy >= 1.22 keeps the heatmap's masked cells "
                            "masked where the test expects 0.0 (the canonical solution fails "
                            "too)",
        "BigCodeBench/276": "library version: scipy >= 1.9 gives nan for skew/kurtosis of "
                            "constant input where the test expects a number (the canonical "
                            "solution fails too)",
        # failed once in a load sweep's idle runs; five unseeded Faker file names collide in
        # 1.1 % of 20,000 draws in the python image
        "BigCodeBench/286": "random test: two of the five files Faker names can get one name "
                            "(80 words counted, not 100), in about 1% of runs (the canonical "
                            "solution fails too)",
    }

    def __init__(self, split: str | None = None, subset: str | None = None,
                 dataset_version: str | None = None, **common: str | None) -> None:
        super().__init__(**common)
        self.split = self.option("split", split)
        self.subset = self.option("subset", subset)
        self.version = VERSION_NAMES.get(dataset_version, dataset_version)
        # `-T bigcodebench.timeout` replaces the official default, as
        # BIGCODEBENCH_TIMEOUT_PER_TASK does; a sample's limit is at least its ground truth's
        # runtime (`program`)
        self.default_timeout_s = self.limit(DEFAULT_TIMEOUT_S)

    # -- data --------------------------------------------------------------------------------

    def load(self, source: DataSource) -> list[Problem]:
        version = self.version or self._default_version(source)
        if self.subset == "hard":
            rows = self._hard_rows(source, version)
        else:
            filename = self._local_file(source, "BigCodeBench", version)
            if source.data_dir is not None and filename is None:
                raise UserError(f"bigcodebench {version} is not in {source.data_dir}/bigcodebench "
                                f"(expected BigCodeBench-{version}.jsonl[.gz]); pass "
                                "--dataset-version for a version that is there, or unset "
                                "--data-dir to load it from the hub")
            rows = source.json_rows("bigcodebench", filename, HUB_ID, version, FIELDS)
        self.version = version
        domains = self._domains(source)
        return [Problem(task_id=row["task_id"], data=row,
                        meta={"domain": tuple(domains[row["task_id"]])}
                        if row["task_id"] in domains else {})
                for row in rows]

    @staticmethod
    def _local_versions(source: DataSource, stem: str) -> dict[str, str]:
        """{version: file name} of the `<stem>-<version>.jsonl[.gz]` files in the data dir."""
        folder = source.data_dir / "bigcodebench" if source.data_dir else None
        if folder is None or not folder.is_dir():
            return {}
        pattern = re.compile(rf"^{re.escape(stem)}-(v[0-9][\w.]*?)\.jsonl(\.gz)?$")
        found: dict[str, str] = {}
        for path in sorted(folder.iterdir()):
            match = pattern.match(path.name)
            if match:
                found.setdefault(match.group(1), path.name)
        return found

    def _local_file(self, source: DataSource, stem: str, version: str) -> str | None:
        return self._local_versions(source, stem).get(version)

    def _default_version(self, source: DataSource) -> str:
        """The official default on the hub; in a data dir, the one version it holds."""
        local = self._local_versions(source, "BigCodeBench")
        if source.data_dir is None or DEFAULT_VERSION in local or not local:
            return DEFAULT_VERSION
        if len(local) > 1:
            raise UserError(f"{source.data_dir}/bigcodebench holds versions "
                            f"{', '.join(sorted(local))}: choose one with --dataset-version")
        version = next(iter(local))
        warnings.warn(f"bigcodebench: loading {version} from {source.data_dir} (the official "
                      f"default is {DEFAULT_VERSION}; ten tasks differ)", stacklevel=2)
        return version

    def _hard_rows(self, source: DataSource, version: str) -> list[dict]:
        filename = self._local_file(source, "BigCodeBench-Hard", version)
        try:
            return source.json_rows("bigcodebench", filename, f"{HUB_ID}-hard", version, FIELDS)
        except UserError as exc:
            if filename is not None:
                raise
            raise UserError(f"--subset hard: {exc} (the hard task list comes from the hub, or "
                            f"from BigCodeBench-Hard-{version}.jsonl in the data dir's "
                            "bigcodebench/ folder)") from None

    @staticmethod
    def _domains(source: DataSource) -> dict[str, list[str]]:
        path = source.data_dir / "bigcodebench" / "task2domain.json" if source.data_dir else None
        if path is None or not path.is_file():
            return {}
        try:
            domains = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"{path} is not valid JSON ({exc})") from None
        return domains if isinstance(domains, dict) else {}

    # -- prompts and extraction ----------------------------------------------------------------

    def chat_message(self, problem: Problem) -> str:
        data = problem.data
        if self.split == "complete":
            return f"{INSTRUCTION_PREFIX}\n```\n{data['complete_prompt'].strip()}\n```\n"
        return f"{INSTRUCTION_PREFIX}\n{data['instruct_prompt'].strip()}\n"

    def request(self, problem: Problem, sample_idx: int,
                previous: tuple[str, ...] = ()) -> Request:
        data = problem.data
        user = self.chat_message(problem)
        messages = ({"role": "user", "content": user},
                    {"role": "assistant", "content": f"{RESPONSE_PREFIX}\n```python\n"})
        if self.split == "complete":
            prompt, stop, reference = data["complete_prompt"], BASE_STOP, data["canonical_solution"]
        else:   # no base-model form officially: the completion form carries the user text
            prompt, stop = user, EOS
            reference = data["complete_prompt"] + "\n" + data["canonical_solution"]
        return Request(task=self.name, task_id=problem.task_id, sample_idx=sample_idx,
                       prompt=prompt, messages=messages, stop=stop, chat_stop=CHAT_STOP,
                       reference=reference)

    def sample_from_output(self, problem: Problem, request: Request, text: str, *,
                           chat: bool) -> Sample:
        text = text.replace("\t", "    ")   # as the official vLLM and HF providers do
        code = text if chat or self.split == "instruct" else request.prompt + text
        return Sample(request.task, request.task_id, request.sample_idx,
                      solution=sanitize(code, problem.data["entry_point"]), raw=text,
                      prompt_hash=request.prompt_hash)

    def describe(self) -> dict:
        return {**super().describe(), "split": self.split, "subset": self.subset,
                "dataset_version": self.version}

    # -- programs ------------------------------------------------------------------------------

    def program(self, problem: Problem, sample: Sample, *, sanitized: bool) -> Program:
        data = problem.data
        if sample.solution is not None:
            code = sample.solution
        else:
            code = data["complete_prompt"] + (sample.completion or "")
        if sanitized:
            code = sanitize(code, data["entry_point"])
        limit = max(self.default_timeout_s, problem.ground_truth_s or UNKNOWN_GT_TIME_S,
                    MIN_TIME_LIMIT_S) + 1
        return self.unittest_program(sample.key, data["code_prompt"] + "\n    pass\n" + code,
                                      data["test"], limit)

    def ground_truth_program(self, problem: Problem) -> Program:
        data = problem.data
        return self.unittest_program(f"{self.name}/{problem.task_id}/ground_truth",
                                      data["complete_prompt"] + "\n" + data["canonical_solution"],
                                      data["test"], self.default_timeout_s)

    def unittest_program(self, key: str, code: str, test: str, class_limit: float) -> Program:
        head = PRELUDE + "\n" + code + "\n"
        return Program.joined(key, head, test, expected_steps=1, framework="unittest",
                              test_classes=("TestCases",), class_timeout_s=class_limit,
                              image=self.image, timeout_s=class_limit + 1,
                              memory_mb=self.memory_mb)
