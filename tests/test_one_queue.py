"""One queue for a run's programs: every image's, the ground truth's beside the samples that do
not wait for it, the longest known first."""

from __future__ import annotations

from types import SimpleNamespace

from codeeval import ground_truth
from codeeval.execution import ExecutionService, Sandboxes
from codeeval.pipeline import RunConfig
from codeeval.records import Execution, Program
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


def test_samples_that_do_not_wait_for_the_ground_truth_run_beside_it(tmp_path):
    """One service call runs the checked task's ground truth and the samples of the task without
    one; the checked task's samples are left for after it (their limits read its runtimes)."""
    checked = SimpleNamespace(name="checked", ground_truth_program=lambda p: program(
        f"gt{p.task_id}", "assert True\n"))
    unchecked = SimpleNamespace(name="unchecked", ground_truth_program=lambda p: None)
    problems = {name: [SimpleNamespace(task_id=str(i)) for i in range(2)]
                for name in ("checked", "unchecked")}
    asked = []

    def samples_of(tasks):
        asked.append([t.name for t in tasks])
        return [((t.name, p.task_id, 0, "raw"), program(f"s{t.name}{p.task_id}", "assert True\n"))
                for t in tasks for p in problems[t.name]]

    runner = Recorder()
    rows = ground_truth.check_ground_truth([checked, unchecked], problems,
                                           ExecutionService(RunStore(tmp_path), runner), samples_of)
    assert asked == [["unchecked"]]
    assert sorted(runner.order) == ["checked/0/0/ground_truth", "checked/1/0/ground_truth",
                                    "unchecked/0/0/raw", "unchecked/1/0/raw"]
    assert set(rows["checked"]) == {"0", "1"} and rows["unchecked"] == {}
