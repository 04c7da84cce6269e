"""Scoring that needs no sandbox: similarity to the reference, or a judge model's verdict.

A task declares what its scoring needs (`Task.scoring`). Similarity tasks (MultiCodeBench)
score each stored sample directly; judge tasks (CodeIF) first ask the judge, a Backend like
any other, about every sample, and store each reply in `judgements.jsonl` (appended and
flushed like samples), so re-scoring or resuming never asks the judge twice. Both write one
`results.jsonl` row per sample (form "raw"), skipping what the store already holds.
"""

from __future__ import annotations

from tqdm import tqdm

from codeeval.records import Sample, stored_samples
from codeeval.store import JUDGEMENTS, RESULTS, RunStore


def _pending(store: RunStore, tasks, problems, samples: dict, done: set):
    """(task, problem, Sample) for every stored sample of these tasks not in `done`."""
    for task, problem, sample in stored_samples(tasks, problems, samples):
        if (task.name, problem.task_id, sample.sample_idx) not in done:
            yield task, problem, sample


def _result_keys(store: RunStore) -> set:
    return {(r["task"], r["task_id"], r["sample_idx"]) for r in store.read(RESULTS)}


def _result(task, problem, sample: Sample, fields: dict) -> dict:
    return {"task": task.name, "task_id": problem.task_id, "sample_idx": sample.sample_idx,
            "form": "raw", **fields}


def score_similarity(store: RunStore, tasks, problems, samples: dict) -> None:
    """One result row per sample: the task's similarity scores."""
    todo = list(_pending(store, tasks, problems, samples, _result_keys(store)))
    with store.appender(RESULTS) as out, tqdm(total=len(todo), desc="score", unit="sample",
                                              disable=not todo) as bar:
        for task, problem, sample in todo:
            out.append(_result(task, problem, sample,
                               {"status": "scored", "scores": task.score(problem, sample)}))
            bar.update()


def score_by_judge(store: RunStore, backend, tasks, problems, samples: dict,
                   judge_model: str) -> None:
    """Ask the judge (`judge_model`, as the user named it) about every sample it has not
    seen, then score the replies."""
    judged = {(j["task"], j["task_id"], j["sample_idx"]) for j in store.read(JUDGEMENTS)}
    requests = [task.judge_request(problem, sample)
                for task, problem, sample in _pending(store, tasks, problems, samples, judged)]
    with store.appender(JUDGEMENTS) as out, tqdm(total=len(requests), desc="judge",
                                                 unit="sample", disable=not requests) as bar:
        for request, reply in backend.generate(requests):
            out.append({"task": request.task, "task_id": request.task_id,
                        "sample_idx": request.sample_idx, "judge": judge_model,
                        "prompt_hash": request.prompt_hash, "reply": reply.text,
                        "tokens": reply.tokens, "finish_reason": reply.finish_reason})
            bar.update()
    replies = {(j["task"], j["task_id"], j["sample_idx"]): j["reply"]
               for j in store.read(JUDGEMENTS)}
    with store.appender(RESULTS) as out:
        for task, problem, sample in _pending(store, tasks, problems, samples,
                                              _result_keys(store)):
            reply = replies.get((task.name, problem.task_id, sample.sample_idx))
            if reply is not None:
                out.append(_result(task, problem, sample, task.score_reply(problem, reply)))
