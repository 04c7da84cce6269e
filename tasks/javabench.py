"""JavaBench: object-oriented, project-level Java code generation.

Paper: Cao et al., "JavaBench: A Benchmark of Object-Oriented Code Generation for Evaluating
Large Language Models", ASE 2024 (official code: java-bench/JavaBench, snapshot 0551d7b).

What it measures: whether a model can complete whole Java classes (45 classes with 160
`// TODO` bodies in four student projects, PA19..PA22) so that the project compiles and its
JUnit 5 suites (396 tests) pass. The prompt is the official one (system: the Java programmer
preamble plus the context; user: "Complete the code and give the complete class." plus the
skeleton) under one of the three context settings (`--context selective|minimum|maximum`,
default selective, which the published results use).

Generation strategies (`--prompt-variant`, upstream inference.py's modes): holistic (the whole
class in one query), independent and incremental (one query per TODO method, in document
order, each with the same prompt whose class has that method's TODO body only: every other
TODO body is emptied to `{}`; independent starts each prompt from the skeleton, incremental
from the class with the bodies generated so far). Each answer's ```java block gives the body
of the method with the same name and overload number, spliced into the class
(javabench_methods.py); a method whose answer has none keeps its TODO body. The sample is the
composed class, assembled like a holistic answer. Multi-step strategies run in rounds, one
batch across all classes per round. Upstream's incremental orders `rev` and `rand` are not
offered (`seq`, its default, is). Even perfect method answers (the canonical bodies) pass
every test in only 31 of the 45 classes: the other skeletons lack helpers, equals/hashCode or
imports the canonical bodies use, rename parameters, or keep placeholder bodies in methods
that are not TODO. The reference backend hands over the canonical file, as under holistic.

Assembly as the official evaluation: the code is the completion's first ```java block; a fresh
copy of the project's Solution, the target file replaced by the skeleton file's text up to its
first `public` followed by the code from its first `public` (so the skeleton's package and
imports are kept); then compile main and tests, and run the whole suite (class-wise: one class
replaced, the rest canonical). The official Gradle build cannot run offline: the in-sandbox
driver (javabench_driver.py) does what it does with javac 17 and Debian's JUnit Platform jars
in the `java` image (javac in the slot's warm compile server, javabench_server.java; the tests
in a fresh JVM per program, JavaBenchTests.java); replaying the official
GPT-4o results reproduces every class-wise [passed, total] and compile outcome.

Quirk, part of what the benchmark measures: 31 of the 45 canonical classes do NOT compile
through that assembly (29 skeletons drop the `org.jetbrains.annotations` imports the canonical
code uses, two drop static imports, and three canonical files have no `public`). The reference
backend therefore hands over the canonical file verbatim: a sample whose text is exactly the
reference answer becomes a whole-file `solution` and is written unchanged, as are external
samples given as `solution`.

Metrics (the official visual_table): per task, a sample counts for Completion@k when it could
be assembled and left no TODO body unimplemented; Compilation@k when it also compiled; Pass@k
with a fractional c (the sum of its passed/total test ratios), fed to the unbiased estimator.
Averaged over the tasks of each project and over all tasks. In summary.json they are
`completion@k`, `compilation@k` and `fractional_pass@k`: `pass@k` stays the summary's own
(a sample passes when every test passes), so the gate and intervals read one meaning.

Timing caveat: PA21/PA22's 2000 ms per-test timeouts measure wall time in a cold JVM (Mockito's
first mock takes about a second). On a heavily loaded machine a canonical test can pass them
(seen: 2 of 43 canonical test-wise steps at load average 7-10 on two cores, both passing on a
rerun); the official Gradle runs share that sensitivity, so the limits are kept, and a program
with a test failed by a time limit (the runner counts them: `timed_out_tests`) runs again
alone once the other programs are done (sandbox/pool.py `load_suspect`).

Options: `--mode robust` runs PA21/PA22 tests in a separate
thread, so a test that loops forever fails at its 2000 ms limit instead of hanging the whole
run (official: the run hits Gradle's 1-minute limit and every test counts as failed).
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import tarfile
import zlib
from functools import cache
from pathlib import Path
from typing import ClassVar

from codeeval.errors import UserError
from codeeval.records import Problem, Program, Request, Sample
from codeeval.sandbox.images import MOCKITO_RUNTIME, TEST_RUNTIME
from codeeval.tasks.base import ExecutedTask, Option, Prompting, driver_head
from codeeval.tasks.javabench_methods import replace_body, retain_todo, todo_methods
from codeeval.tasks.sources import DataSource

PROJECTS = ("PA19", "PA20", "PA21", "PA22")
CONTEXTS = ("selective", "minimum", "maximum")
MODES = ("official", "robust")
METHOD_STRATEGIES = ("independent", "incremental")
SYSTEM = ("You are a helpful java programmer that write the project based on the following "
          "context. \nJava is a high-level, class-based, object-oriented programming language "
          "that is designed to have as few implementation dependencies as possible.\n{context}\n")
USER = "Complete the code and give the complete class.\n{code}"
JAVA_BLOCK = re.compile(r"```java\r?\n(.*?)```", re.S)
PER_TEST_TIMEOUT_MS = {"PA21": 2000, "PA22": 2000}   # their build files' default
MOCKITO_PROJECTS = ("PA22",)
# The official class-wise metrics (name@k) and the field of `sample_outcome` each counts.
OWN_METRICS = {"completion": "completed", "compilation": "compiled", "fractional_pass": "pass_ratio"}
DRIVER = (Path(__file__).with_name("javabench_driver.py")).read_text(encoding="utf-8")
SERVER, TESTS, SECURITY = ((Path(__file__).with_name(name)).read_text(encoding="utf-8")
                           for name in ("javabench_server.java", "JavaBenchTests.java",
                                        "JavaBenchSecurity.java"))
# The test JVMs' flags (in every spec, for the driver): C1 only, with one compiler thread (a
# short run spends less on compiling), and the serial collector, and
# no attach listener: through it a program's code could load an agent into its own test JVM
# (Byte Buddy's self-attach, with its jars from /usr/share/java) and rewrite JUnit's assertions.
# A crash report or core goes nowhere: a report in the project directory holds a dump of the
# crashed thread's stack, where a hostile review, stop 32, found the runner's counts line (its
# nonce) after crashing the JVM in the middle of the write. The compile server runs with them
# too, and dumps the test JVMs' class archives with them.
TEST_JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:+UseSerialGC",
                  "-XX:-UsePerfData", "-Xmx512m", "-Dfile.encoding=UTF-8",
                  "-XX:+DisableAttachMechanism", "-XX:ErrorFile=/dev/null",
                  "-XX:-CreateCoredumpOnCrash"]
# The java image's runtimes for the test JVMs (sandbox/images.py: no module that reads a JVM's
# memory; Mockito's has the image's own ReflectionFactory for Objenesis), by whether the
# project's tests use Mockito. Where they do not exist (the process sandbox on a host with a
# JDK), the driver runs `java`.
TEST_RUNTIMES = {False: TEST_RUNTIME, True: MOCKITO_RUNTIME}
# PA22's extra jars (its Grader uses the launcher API, its tests Mockito; byte-buddy is not in
# mockito-core's manifest class path and must be named), on its test JVMs' own class path so
# that the server's class archive holds their classes (a third of such a JVM's time was
# loading them from the jars).
MOCKITO_JARS = ["/usr/share/java/" + jar for jar in (
    "junit-platform-launcher.jar", "junit-platform-engine.jar", "mockito-core.jar",
    "byte-buddy.jar", "byte-buddy-agent.jar", "objenesis.jar")]
RUNNER_JARS = {False: [], True: MOCKITO_JARS}
# The JUnit console's jar: the compile server's class path, which it archives the test JVMs'
# classes for, so the test JVMs (in every spec, for the driver) must name the same one.
CONSOLE_JAR = "/usr/share/java/junit-platform-console-standalone.jar"
# The slot's warm compile server (a service: sandbox/service.py), with the test runner it
# compiles for the programs' own JVMs.
SERVICE = json.dumps({
    "argv": ["java", *TEST_JVM_FLAGS, "-cp", CONSOLE_JAR,
             "{files}/javabench_server.java", "{socket}", "{files}",
             ",".join(f"{home}={':'.join(RUNNER_JARS[mockito])}"
                      for mockito, home in TEST_RUNTIMES.items()), *TEST_JVM_FLAGS],
    "files": {"javabench_server.java": SERVER, "JavaBenchTests.java": TESTS,
              "JavaBenchSecurity.java": SECURITY}})
# Two compiles in the slot's compile server and one test JVM (1-2 s on an idle core; the old
# three JVMs per program took 40 s on this shared machine under load), plus up to Gradle's 60 s
# for the test run.
PROGRAM_TIMEOUT_S = 300.0


def extract_java(text: str) -> str:
    """The official extraction: the first ```java block, else nothing."""
    found = JAVA_BLOCK.search(text)
    return found.group(1) if found else ""


def assemble(skeleton: str, code: str) -> str | None:
    """The official replacement: skeleton up to its first `public`, code from its first
    `public`; None where either has none (`can_replace` false)."""
    if "public" not in skeleton or "public" not in code:
        return None
    return skeleton[:skeleton.index("public")] + code[code.index("public"):]


def method_bodies(java: str) -> dict[str, list[str]]:
    """Method name -> bodies (comment lines removed, whitespace-stripped), found by matching
    braces after `name(...)` headers; good enough for the TODO check below."""
    bodies: dict[str, list[str]] = {}
    for header in re.finditer(r"(\w+)\s*\([^;{}()]*\)\s*(?:throws [\w.,\s]+)?\{", java):
        if header.group(1) in ("if", "for", "while", "switch", "catch", "synchronized"):
            continue
        depth, end = 1, header.end()
        while depth and end < len(java):
            depth += {"{": 1, "}": -1}.get(java[end], 0)
            end += 1
        body = java[header.end():end - 1]
        lines = [line.strip() for line in body.splitlines()]
        code = "".join(l for l in lines if l and not l.startswith(("//", "/*", "*")))
        bodies.setdefault(header.group(1), []).append((body, code))
    return bodies


def has_todo(skeleton: str, code: str) -> bool:
    """The official `has_todo` as described: a method that still carries a TODO comment and
    whose body is less than 10 characters longer than the skeleton's left it unimplemented."""
    original = method_bodies(skeleton)
    for name, bodies in method_bodies(code).items():
        for body, stripped in bodies:
            if "TODO" in body and name in original and any(
                    len(stripped) < len(o) + 10 for _, o in original[name]):
                return True
    return False


@cache
def packed_project(root: Path) -> str:
    """A project folder as base64(zlib(tar)), the form programs carry it in."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(root.rglob("*")):
            if path.is_file():   # writable in the copy, whatever the data dir's modes
                tar.add(path, arcname=str(path.relative_to(root)),
                        filter=lambda info: (setattr(info, "mode", 0o644), info)[1])
    return base64.b64encode(zlib.compress(buffer.getvalue(), 9)).decode()


def fractional_pass_at_k(n: int, c: float, k: int) -> float:
    """The official estimator (visual_table's estimate_pass_at_k) with a fractional c:
    1 - prod(1 - k / np.arange(n - c + 1, n + 1)). With a fractional c the arange starts
    off the integers, so even pass@1 is not the mean pass ratio (n=5, c=2.5: 0.545, not 0.5)."""
    if n - c < k:
        return 1.0
    start = n - c + 1
    value = 1.0
    for i in range(math.ceil((n + 1) - start)):   # np.arange's length
        value *= 1.0 - k / (start + i)
    return 1.0 - value


class JavaBench(ExecutedTask):
    name = "javabench"
    description = "JavaBench: 45 Java classes in 4 projects, 396 JUnit tests (class-wise)"
    prompt_variants = ("holistic",) + METHOD_STRATEGIES
    image = "java"
    ks: ClassVar[tuple[int, ...]] = (1, 5)
    options = (Option("context", "how much of the project the prompt shows", CONTEXTS),
               Option("mode", "official, or robust: PA21/PA22 tests time out in a separate "
                      "thread, so a looping test cannot hang the run", MODES))

    def __init__(self, context: str | None = None, mode: str | None = None,
                 **common: str | None):
        super().__init__(**common)
        self.context = self.option("context", context)
        self.mode = self.option("mode", mode)

    def describe(self) -> dict:
        return {**super().describe(), "context": self.context, "mode": self.mode}

    def load(self, source: DataSource) -> list[Problem]:
        problems = []
        for project in PROJECTS:
            rows = source.local_rows("javabench", f"datasets/{self.context}-context/"
                                     f"data-{project}.jsonl",
                                     ("task_id", "target", "code", "code_context"))
            root = source.data_dir / "javabench" / "projects"
            for row in rows:
                files = {name: root / f"{project}{suffix}" / "src/main/java" / row["target"]
                         for name, suffix in (("skeleton", ""), ("canonical", "-Solution"))}
                missing = [str(p) for p in files.values() if not p.is_file()]
                if missing:
                    raise UserError(f"JavaBench project file {missing[0]} not found: the data "
                                    "dir must hold javabench/projects as shared/benchmarks does")
                data = {**row, "project": project, "solution_root": str(root / f"{project}-Solution"),
                        **{name: p.read_text(encoding="utf-8") for name, p in files.items()}}
                problems.append(Problem(task_id=row["task_id"], data=data))
        return problems

    def request(self, problem: Problem, sample_idx: int,
                previous: tuple[str, ...] = ()) -> Request:
        data = problem.data
        code = data["code"]
        if self.prompt_variant in METHOD_STRATEGIES:
            target = todo_methods(code)[len(previous)]
            if self.prompt_variant == "incremental":
                code = compose(code, previous)
            code = retain_todo(code, target.name, target.seq)
        system = SYSTEM.format(context=data["code_context"])
        user = USER.format(code=code)
        return Request(task=self.name, task_id=problem.task_id, sample_idx=sample_idx,
                       prompt=system + "\n" + user,   # as the official samples record it
                       messages=({"role": "system", "content": system},
                                 {"role": "user", "content": user}),
                       reference=reference_answer(data), round=len(previous))

    def sample_from_output(self, problem: Problem, request: Request, text: str, *,
                           chat: bool) -> Sample:
        if text == request.reference:   # the reference backend: the canonical file, verbatim
            return Sample(request.task, request.task_id, request.sample_idx,
                          solution=extract_java(text), raw=text, prompt_hash=request.prompt_hash)
        return Sample(request.task, request.task_id, request.sample_idx, completion=text,
                      raw=text, prompt_hash=request.prompt_hash)

    def prompting(self, problem: Problem, sample_idx: int) -> Prompting:
        """Holistic: one request for the class. Independent and incremental: one round per
        TODO method, then each answer's body spliced into the class."""
        if self.prompt_variant not in METHOD_STRATEGIES:
            return (yield from super().prompting(problem, sample_idx))
        texts: list[str] = []
        for _ in todo_methods(problem.data["code"]):
            text, _ = yield self.request(problem, sample_idx, tuple(texts))
            texts.append(text)
        if all(text == reference_answer(problem.data) for text in texts):   # as holistic
            return Sample(self.name, problem.task_id, sample_idx,
                          solution=problem.data["canonical"], raw="\n\n".join(texts))
        return Sample(self.name, problem.task_id, sample_idx,
                      completion=compose(problem.data["code"], texts), raw="\n\n".join(texts))

    def program(self, problem: Problem, sample: Sample, *, sanitized: bool) -> Program:
        data = problem.data
        if sample.solution is not None:
            replaced, todo = sample.solution, False
        else:
            code = extract_java(sample.completion or "")
            replaced, todo = assemble(data["skeleton"], code), has_todo(data["skeleton"], code)
        return self.build_program(sample.key, data["project"], data["solution_root"],
                                  {data["target"]: replaced}, assembly={"todo": todo})

    def build_program(self, key: str, project: str, solution_root: str,
                      replacements: dict[str, str | None], assembly: dict,
                      select_class: str | None = None) -> Program:
        """The driver program: the project with `replacements` (paths under src/main/java)
        written over it; a replacement that could not be assembled (None) fails the program at
        its first step, as the official `can_replace` check does."""
        can_replace = all(text is not None for text in replacements.values())
        spec = {"project": packed_project(Path(solution_root)),
                "files": {f"src/main/java/{path}": text for path, text in replacements.items()
                          if text is not None},
                "java_home": TEST_RUNTIMES[project in MOCKITO_PROJECTS],
                "runner_jars": RUNNER_JARS[project in MOCKITO_PROJECTS],
                "test_timeout_ms": PER_TEST_TIMEOUT_MS.get(project),
                "separate_thread": self.mode == "robust", "select_class": select_class,
                "jvm_flags": TEST_JVM_FLAGS, "console_jar": CONSOLE_JAR}
        head = driver_head(DRIVER, spec)
        steps = ["report_step('assembly', 'passed' if %r else 'failed', can_replace=%r, "
                 "has_todo=%r)" % (can_replace, can_replace, assembly["todo"])]
        if can_replace:
            steps.append("run_javabench(SPEC)")
        return Program.joined(key, head, "\n".join(steps) + "\n", expected_steps=3,
                              framework="driver", language="java", image=self.image,
                              timeout_s=self.limit(PROGRAM_TIMEOUT_S), memory_mb=0,
                              service=SERVICE)

    def extra_metrics(self, problems, rows):
        """The official class-wise metrics, per project and overall: completion@k,
        compilation@k and fractional_pass@k (the official Pass@k: fractional c, each sample
        counting the share of its tests that pass; pass@k counts a sample that passes all)."""
        per_project: dict[str, dict[str, list]] = {}
        for problem in problems:
            scored = rows[problem.task_id]
            if not scored:
                continue
            outcomes = [sample_outcome(r["tests"]) for r in scored]
            counts = per_project.setdefault(problem.data["project"], {m: [] for m in OWN_METRICS})
            for metric, field in OWN_METRICS.items():
                counts[metric].append((len(scored), sum(o[field] for o in outcomes)))
        if not per_project:
            return {}, {}
        smallest_n = min(n for p in per_project.values() for n, _ in p["completion"])
        ks = [k for k in self.ks if k <= smallest_n]
        everything = {m: [c for p in per_project.values() for c in p[m]] for m in OWN_METRICS}
        projects = {name: {"n_problems": len(counts["completion"]), **own_metrics(counts, ks)}
                    for name, counts in sorted(per_project.items())}
        return own_metrics(everything, ks), {"project": projects}


def reference_answer(data: dict) -> str:
    return f"```java\n{data['canonical']}```"


def compose(code: str, texts) -> str:
    """The prompt's fenced class with the body each method round's answer gives (the i-th
    text answers the i-th TODO method of `code`)."""
    for method, text in zip(todo_methods(code), texts):
        code = replace_body(code, extract_java(text), method.name, method.seq)
    return code


def sample_outcome(steps: list[dict]) -> dict:
    """One class-wise result as the official single_class.json row reads: completed, compiled
    and test_result [passed, total] ([0, 0] when it did not compile)."""
    by_name = {s.get("name"): s for s in steps}
    assembly = by_name.get("assembly", {})
    compiled = by_name.get("compile", {}).get("outcome") == "passed"
    tests = by_name.get("tests", {})
    passed, total = (tests.get("successes", 0), tests.get("tests", 0)) if compiled else (0, 0)
    completed = bool(assembly.get("can_replace")) and not assembly.get("has_todo")
    return {"completed": completed, "compiled": completed and compiled,
            "test_result": [passed, total],
            "pass_ratio": passed / total if completed and compiled and total else 0.0}


def own_metrics(counts: dict[str, list], ks: list[int]) -> dict:
    return {f"{name}@{k}": round(sum(fractional_pass_at_k(n, c, k) for n, c in counts[name])
                                 / len(counts[name]), 6)
            for k in ks for name in OWN_METRICS}
