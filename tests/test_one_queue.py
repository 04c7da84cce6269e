"""One queue for a run's programs: every image's, the ground truth's beside the samples that do
not wait for it and each checked problem's samples once its ground truth is in, the longest
known first."""

from __future__ import annotations

from types import SimpleNamespace

from codeeval import ground_truth
from codeeval.execution import ExecutionService, Sandboxes
from codeeval.pipeline import RunConfig
from codeeval.records import Execution, Problem, Program
from codeeval.sandbox.pool import run_all
from codeeval.sandbox.program_queue import ProgramQueue
from codeeval.store import RunStore


def program(key: str, tests: str, image: str = "python", expected_s: float | None = None):
    return Program(key=key, source=f"name = {key!r}\n" + tests, test_first_line=2, expected_steps=1,
                   image=image, timeout_s=10.0, memory_mb=1024, expected_s=expected_s)


def test_the_programs_of_every_image_share_one_queue_and_its_slots():
    """Before, each image's programs ran after the previous image's were all done, so one long
    program of the first image held the run while the other slot idled. Now a slot freed by one
    image's programs takes the next program whatever its image, and the images' sandboxes share
    one set of slots (two here: never three programs at once)."""
    tasks = [SimpleNamespace(name=image, image=image, preload=(), memory_mb=1024)
             for image in ("first", "second")]
    long = program("long", "import time\ntime.sleep(3)\n", image="first")
    quick = [program(f"quick{i}", "assert True\n", image="second") for i in range(4)]
    with Sandboxes(tasks, RunConfig("reference", (), sandbox="process"), 2, None) as sandboxes:
        order = [e.key for e in sandboxes.run([long, *quick])]
        first, second = sandboxes.opened["first"], sandboxes.opened["second"]
        assert first.admission is second.admission and first.admission.peak == 2
    assert order == [p.key for p in quick] + ["long"]


class Recorder:
    """A runner that passes every program, recording the order it was given them in."""

    def __init__(self):
        self.order = []

    def run(self, programs):
        for p in programs:
            self.order.append(p.key)
            yield Execution(key=p.key, status="passed", duration_s=1.0)


def test_the_longest_known_programs_start_first(tmp_path):
    runner = Recorder()
    service = ExecutionService(RunStore(tmp_path), runner)
    runs = {"unknown": None, "short": 1.0, "longest": 50.0, "long": 5.0, "unknown too": None}
    service.run([(("t", name, 0, "raw"), program(name, "assert True\n", expected_s=seconds))
                 for name, seconds in runs.items()])
    assert [key.split("/")[1] for key in runner.order] == ["longest", "long", "short", "unknown",
                                                           "unknown too"]


def test_each_checked_problems_samples_follow_its_ground_truth_in_the_same_queue(tmp_path):
    """One service call runs the ground truth, the samples of the task without one from the
    start, and each checked problem's samples as soon as its ground truth is in, with its
    runtime (which sets their limits): before, they all waited for the whole check, so one
    long ground truth held back every sample of its task."""
    checked = SimpleNamespace(name="checked", ground_truth_program=lambda p: program(
        f"gt{p.task_id}", "assert True\n"))
    unchecked = SimpleNamespace(name="unchecked", ground_truth_program=lambda p: None)
    problems = {name: [Problem(str(i), {}) for i in range(2)] for name in ("checked", "unchecked")}
    asked = []

    def samples_of(tasks, chosen):
        asked.append({t.name: [(p.task_id, p.ground_truth_s) for p in chosen[t.name]]
                      for t in tasks})
        return [((t.name, p.task_id, 0, "raw"),
                 program(f"s{t.name}{p.task_id}", "assert True\n", expected_s=p.ground_truth_s))
                for t in tasks for p in chosen[t.name]]

    runner = Recorder()
    rows = ground_truth.check_ground_truth([checked, unchecked], problems,
                                           ExecutionService(RunStore(tmp_path), runner), samples_of)
    assert asked == [{"unchecked": [("0", None), ("1", None)]},
                     {"checked": [("0", 1.0)]}, {"checked": [("1", 1.0)]}]
    # a sample whose ground truth ran 1 s goes before the programs of unknown length waiting
    assert runner.order == ["checked/0/0/ground_truth", "checked/0/0/raw",
                            "checked/1/0/ground_truth", "checked/1/0/raw",
                            "unchecked/0/0/raw", "unchecked/1/0/raw"]
    assert set(rows["checked"]) == {"0", "1"} and rows["unchecked"] == {}


def test_a_program_queued_while_others_wait_takes_its_place_by_expected_time():
    """run_all takes the next program only when a slot frees: a long program queued late (a
    sample whose ground truth just finished) starts before the short ones still waiting, and
    one queued by the last result still runs."""
    started = []

    def run_one(p):
        started.append(p.key)
        return Execution(key=p.key, status="passed", duration_s=0.0)

    waiting = ProgramQueue(program(f"short{i}", "assert True\n") for i in range(3))
    for execution in run_all(waiting, run_one, threads=1):
        if execution.key == "short0":
            waiting.put(program("long", "assert True\n", expected_s=60.0))
        if execution.key == "short2":
            waiting.put(program("last", "assert True\n"))
    assert started == ["short0", "long", "short1", "short2", "last"]


def test_a_contended_failures_follow_ups_run_after_it_runs_again_alone():
    """A failure that waited for a CPU runs again alone once nothing else is left; what its
    final verdict queues (its samples, for a ground truth) runs in a next round."""
    runs = []

    def run_one(p):
        runs.append(p.key)
        first = p.key == "gt" and runs.count("gt") == 1
        return Execution(key=p.key, status="failed" if first else "passed", duration_s=1.0,
                         cpu_wait_s=5.0 if first else 0.0)

    waiting = ProgramQueue([program("gt", "assert True\n"), program("other", "assert True\n")])
    verdicts = {}
    for execution in run_all(waiting, run_one, threads=2):
        verdicts[execution.key] = execution
        if execution.key == "gt":
            waiting.put(program("sample", "assert True\n"))
    assert runs[-2:] == ["gt", "sample"] and sorted(runs) == ["gt", "gt", "other", "sample"]
    assert verdicts["gt"].status == "passed" and verdicts["gt"].first_run["status"] == "failed"
    assert verdicts["sample"].status == "passed"


def test_a_program_already_run_in_the_call_is_not_run_again_for_a_later_job(tmp_path):
    """A job queued by `then` whose program already ran in this call (same content hash) gets
    that verdict, under its own key, without a second run."""
    runner = Recorder()
    same = program("same", "assert True\n")

    def then(key, row):
        return [(("t", "copy", 0, "raw"), same)] if key[1] == "first" else []

    rows = ExecutionService(RunStore(tmp_path), runner).run([(("t", "first", 0, "raw"), same)],
                                                            then=then)
    assert runner.order == ["t/first/0/raw"]
    assert rows[("t", "copy", 0, "raw")]["status"] == "passed"
    assert rows[("t", "copy", 0, "raw")]["program_hash"] == same.content_hash
