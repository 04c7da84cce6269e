"""Generation fidelity: codeeval's prompts, stop strings and answer extraction against the
official harnesses', re-implemented from their code (benchmarks/fidelity/, one module per
harness, each naming the file and commit it mirrors; none uses codeeval.tasks).

For every run store given, each task of the run with an official harness mirrored here is
checked on every problem of the run:
  prompt      the official completion prompt and chat messages equal the task's Request;
  run prompt  each stored sample was generated from that prompt (its prompt hash);
  render      (a local hf chat model only) the official harness's rendering of the chat
              messages equals the prompt codeeval's hf backend feeds, token for token;
  stops       the official stop strings of the form the run used equal Request.stops(chat);
  extraction  the official extraction of each stored raw output gives the stored sample
              (and, where the harness extracts at evaluation time, the code in the program).
and, once per task, whether a local model answered the form the official harness gives it
(form). Every difference is printed with its reason; the exit status is 1 when one is not on the
documented list of known differences (fidelity/common.py KNOWN).

    python benchmarks/generation_fidelity.py RUN_DIR [RUN_DIR ...] [--data-dir DIR]
        [--tokenizer PATH] [--chat | --completion]

Importable: check_run(run_dir, data_dir) returns one TaskReport per task checked.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fidelity import bigcodebench, classeval, codeeval_pro, javabench  # noqa: E402
from fidelity.common import Difference, Official, TaskReport, first_difference  # noqa: E402

HARNESSES = {name: module for module in (codeeval_pro, bigcodebench, classeval, javabench)
             for name in module.TASKS}


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def run_uses_chat(run_dir: Path) -> bool | None:
    """Whether the run's backend answered the chat form (summary.json provenance)."""
    backend = read_json(run_dir / "summary.json").get("provenance", {}).get("backend", {})
    return backend.get("chat")


def load_tokenizer(spec: str):
    """The tokenizer of a model spec (hf:PATH, a shipped GGUF alias, or a folder)."""
    from transformers import AutoTokenizer

    from codeeval.generation.gguf import dequantized, gguf_file
    spec = spec[3:] if spec.startswith("hf:") else spec
    gguf = gguf_file(spec)
    return AutoTokenizer.from_pretrained(dequantized(gguf).folder if gguf else spec)


def codeeval_chat_ids(tokenizer, request) -> list[int]:
    """The prompt ids codeeval's hf backend feeds for a request's chat form."""
    from codeeval.generation.hf import HFBackend
    backend = HFBackend.__new__(HFBackend)   # prompt_ids needs only the tokenizer
    backend.tokenizer, backend.chat = tokenizer, True
    return backend.prompt_ids(request)


def as_messages(messages) -> list[dict]:
    return [{"role": m["role"], "content": m["content"]} for m in messages or ()]


def compare_prompt(name: str, task_id: str, official: Official, request) -> Difference | None:
    if official.completion is None:
        return Difference(name, "prompt", task_id, "no-official-completion-form",
                          "the official harness has no completion prompt for this problem")
    if official.completion != request.prompt:
        return Difference(name, "prompt", task_id, "completion-prompt",
                          first_difference(request.prompt, official.completion))
    ours, theirs = as_messages(request.messages), as_messages(official.messages)
    if ours != theirs:
        if [m["role"] for m in ours] != [m["role"] for m in theirs]:
            return Difference(name, "prompt", task_id, "chat-roles",
                              f"codeeval {[m['role'] for m in ours]} vs official "
                              f"{[m['role'] for m in theirs]}")
        index = next(i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b)
        return Difference(name, "prompt", task_id, "chat-messages",
                          f"message {index} ({ours[index]['role']}) "
                          + first_difference(ours[index]["content"], theirs[index]["content"]))
    return None


def compare_stops(name: str, task_id: str, official: tuple | None, ours: tuple) -> Difference | None:
    if official is None:
        return Difference(name, "stops", task_id, "no-official-completion-form",
                          f"codeeval stops at {list(ours)}")
    if sorted(official) != sorted(ours):
        return Difference(name, "stops", task_id, "stop-strings",
                          f"codeeval {sorted(ours)} vs official {sorted(official)}")
    return None


def compare_render(name: str, task_id: str, harness, tokenizer, official: Official,
                   request) -> Difference | None:
    theirs = tokenizer(harness.render(name, official.messages, tokenizer),
                       add_special_tokens=False)["input_ids"]
    ours = codeeval_chat_ids(tokenizer, request)
    if ours == theirs:
        return None
    return Difference(name, "render", task_id, "chat-render",
                      first_difference(tokenizer.decode(ours), tokenizer.decode(theirs)))


def compare_extraction(name: str, row: dict, harness, official: Official, sample_row: dict,
                       chat: bool, options: dict, task, problem) -> Difference | None:
    from codeeval.records import Sample
    expected = harness.extract(name, row, official, sample_row["raw"], chat, options)
    key = f"{sample_row['task_id']}/{sample_row['sample_idx']}"
    for field, value in expected.items():
        if field == "program":
            program = task.program(problem, Sample.from_row(sample_row), sanitized=False)
            stored = harness.from_program(program, row)
        else:
            stored = sample_row.get(field)
        if stored != value:
            if stored is None or value is None:
                detail = f"codeeval {stored!r:.80} vs official {value!r:.80}"
            else:
                detail = first_difference(stored, value)
            return Difference(name, "extraction", key, f"{field}-differs", detail)
    return None


def check_task(name: str, identity: dict, samples: list[dict], data_dir: Path, chat: bool,
               tokenizer, local: bool = True) -> TaskReport:
    from codeeval.tasks import task_of_run
    from codeeval.tasks.sources import DataSource
    harness = HARNESSES[name]
    report = TaskReport(name)
    task = task_of_run(name, identity)
    variant = task.prompt_variant
    if variant not in getattr(harness, "VARIANTS", (variant,)):
        report.skipped.append(f"prompt variant {variant!r} is not mirrored")
        return report
    problems = task.load(DataSource.from_option(str(data_dir)))[:identity.get("limit") or None]
    options = task.describe()
    official_rows = harness.rows(name, data_dir, options)
    # the reference backend's text is the canonical answer, not a model's
    extract = identity.get("model") != "reference"
    if not extract:
        report.skipped.append("extraction: the reference backend's samples are no model output")
    by_problem: dict[str, list[dict]] = {}
    for row in samples:
        by_problem.setdefault(row["task_id"], []).append(row)
    if chat and local and not harness.LOCAL_CHAT:
        report.count("form", Difference(
            name, "form", "*", "local-model-chat-form",
            "a local model answered the chat form; the official harness gives every local "
            "model the completion prompt"))
    for problem in problems:
        report.problems += 1
        row = official_rows.get(problem.task_id)
        if row is None:
            report.skipped.append(f"{problem.task_id}: not in the official data")
            continue
        request = task.request(problem, 0)
        official = harness.prompt(name, row, variant, options)
        report.count("prompt", compare_prompt(name, problem.task_id, official, request))
        report.count("stops", compare_stops(name, problem.task_id,
                                            harness.stops(name, chat, options),
                                            request.stops(chat)))
        if chat and tokenizer is not None and hasattr(harness, "render"):
            report.count("render", compare_render(name, problem.task_id, harness, tokenizer,
                                                  official, request))
        for sample_row in by_problem.get(problem.task_id, ()):
            report.count("run prompt", None if sample_row.get("prompt_hash") in (
                None, request.prompt_hash) else Difference(
                    name, "run prompt", f"{problem.task_id}/{sample_row['sample_idx']}",
                    "generated-from-another-prompt", "the stored sample's prompt hash is not "
                    "the prompt checked here: the run was made by another codeeval version"))
            if not extract or sample_row.get("raw") is None or (
                    not chat and official.completion is None):   # no official form: nothing to mirror
                continue
            report.count("extraction", compare_extraction(
                name, row, harness, official, sample_row, chat, options, task, problem))
    return report


def check_run(run_dir: Path, data_dir: Path, *, chat: bool | None = None,
              tokenizer=None) -> list[TaskReport]:
    """One report per task of the run that has a mirrored official harness. `chat`: which
    form the run's model answered (default: what summary.json records); `tokenizer`: the
    run's hf tokenizer, for the render check (default: loaded from the run's model when it
    is an hf: model that answered the chat form; False: no render check)."""
    from codeeval.records import read_jsonl
    from codeeval.rundata import current_config
    run_dir = Path(run_dir)
    identity = current_config(read_json(run_dir / "config.json").get("identity", {}))
    if not identity:
        raise SystemExit(f"error: {run_dir} is not a run store (no config.json)")
    chat = run_uses_chat(run_dir) if chat is None else chat
    if chat is None:
        raise SystemExit(f"error: {run_dir} has no summary.json saying whether the model "
                         "answered the chat form: pass --chat or --completion")
    model, unrendered = identity.get("model", ""), None
    if tokenizer is None and chat and model.startswith("hf:"):
        try:
            tokenizer = load_tokenizer(model)
        except Exception as exc:   # any loading failure: the other checks still run
            unrendered = f"render: the tokenizer of {model} did not load ({type(exc).__name__})"
    samples = read_jsonl(run_dir / "samples.jsonl")
    local = not model.startswith("openai:")
    reports = [check_task(name, identity, [s for s in samples if s["task"] == name],
                          Path(data_dir), chat, tokenizer or None, local)
               for name in identity.get("tasks", []) if name in HARNESSES]
    for report in reports if unrendered else ():
        report.skipped.append(unrendered)
    return reports


def print_report(run_dir: Path, reports: list[TaskReport]) -> None:
    print(f"== {run_dir}")
    for report in reports:
        counts = ", ".join(f"{check} {report.agreed.get(check, 0)}/{n}"
                           for check, n in report.checked.items())
        print(f"{report.task}: {report.problems} problems; agree: {counts or 'nothing checked'}")
        for skipped in report.skipped:
            print(f"  skipped: {skipped}")
        for d in report.differences:
            fate = f"known: {d.known}" if d.known else "UNEXPLAINED"
            print(f"  {d.check} {d.task_id} [{d.code}] {d.detail}\n      -> {fate}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("CODEEVAL_DATA_DIR", "../shared/benchmarks")))
    parser.add_argument("--tokenizer", help="tokenizer for the render check (default: the "
                        "run's hf model)")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--chat", dest="chat", action="store_true", default=None,
                      help="the run's model answered the chat form (default: summary.json)")
    form.add_argument("--completion", dest="chat", action="store_false")
    args = parser.parse_args(argv)
    tokenizer = load_tokenizer(args.tokenizer) if args.tokenizer else None
    unexplained = 0
    for run_dir in args.runs:
        reports = check_run(run_dir, args.data_dir, chat=args.chat, tokenizer=tokenizer)
        print_report(run_dir, reports)
        unexplained += sum(len(r.unexplained) for r in reports)
    print(f"{unexplained} unexplained difference(s)")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
