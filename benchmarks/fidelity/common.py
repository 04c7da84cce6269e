"""What every harness module gives the check, and what the check reports.

A harness module (one per official harness) exposes TASKS and
- rows(task, data_dir, options) -> {task_id: the official data row}, read from the data files
  as the official loader sees them (never through codeeval.tasks);
- prompt(task, row, variant, options) -> Official: the completion prompt a base model
  continues and the chat messages a chat model gets (None where the harness has no such form);
- stops(task, chat, options) -> the stop strings of that form (None: no such form);
- extract(task, row, official, raw, chat, options) -> the stored sample ({"completion": ...}
  or {"solution": ...}) the harness makes of the model's text `raw`;
LOCAL_CHAT (whether a local model with a chat template gets the chat form officially), and
optionally render(task, messages, tokenizer) -> the text the harness feeds a local chat
model (None: the harness leaves rendering to a server).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Official:
    completion: str | None
    messages: tuple[dict, ...] | None


@dataclass(frozen=True)
class Difference:
    task: str
    check: str            # "prompt", "stops", "render" or "extraction"
    task_id: str
    code: str             # short name; known differences are listed under it in KNOWN
    detail: str

    @property
    def known(self) -> str | None:
        return KNOWN.get((self.task, self.check, self.code))


@dataclass
class TaskReport:
    task: str
    problems: int = 0
    checked: dict[str, int] = field(default_factory=dict)
    agreed: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def count(self, check: str, difference: Difference | None) -> None:
        self.checked[check] = self.checked.get(check, 0) + 1
        if difference is None:
            self.agreed[check] = self.agreed.get(check, 0) + 1
        else:
            self.differences.append(difference)

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if d.known is None]


# (task, check, code) -> why codeeval differs from the official harness on purpose, or why
# the official side has nothing to compare. Anything not listed fails the check.
LOCAL_COMPLETION_ONLY = (
    "codeeval gives a local model with a chat template the chat form (README: Models; "
    "provenance backend.chat records it); the authors' inference.py gives every local model the "
    "completion prompt and keeps the chat form (run_api.py) for API models. Use a model "
    "without a chat template, or openai:, for the official form")

KNOWN: dict[tuple[str, str, str], str] = {
    **{(task, "form", "local-model-chat-form"): LOCAL_COMPLETION_ONLY
       for task in ("humaneval-pro", "mbpp-pro", "bigcodebench-lite-pro")},
    ("classeval", "form", "local-model-chat-form"):
        "codeeval gives a local model with a chat template the chat form; the official "
        "pipeline does that for DeepSeekCoder_inst only and gives other local models the "
        "instruction wrapper as a completion prompt",
    ("bigcodebench", "prompt", "no-official-completion-form"):
        "--split instruct has no base-model form officially (codegen refuses a direct-"
        "completion model); codeeval lets a base model continue the user text",
    ("bigcodebench", "stops", "no-official-completion-form"):
        "--split instruct has no base-model form officially; codeeval stops its completion "
        "form at the official EOS list",
}


def first_difference(ours: str, theirs: str) -> str:
    """Where two texts part, shown briefly."""
    index = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b),
                 min(len(ours), len(theirs)))
    return (f"at char {index}: codeeval {ours[index:index + 40]!r} vs official "
            f"{theirs[index:index + 40]!r} (lengths {len(ours)} / {len(theirs)})")
