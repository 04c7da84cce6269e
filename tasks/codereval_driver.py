"""CoderEval's in-sandbox driver: one sample checked inside the authors' evaluation image.

The task sends this file's text as the head of every CoderEval program; the sandbox worker's
`driver` framework runs it with the image's `python3` (standard library only, Python >= 3.9)
and gives it `report_step`. It follows the authors' protocol against the image's own layout
(projects and validation files under /home/travis/builds):

Python: the task's validation file is `repos/<owner>---<name>/<file>_<function>_passk_validte.py`
(a copy of the source file whose `__main__` calls the function on recorded inputs), or a
`repos/standalone/` file for self-contained tasks. The function (found by name in the file's
AST) is replaced, line range and all, by the sample, indented to the original's column; the
file then runs as `__main__` with the project's interpreter, 30 s limit; exit code 0 passes.

Java: the method at the record's line range (CoderEval4Java.json in the image) of the pristine
source (`CoderEval-Java-projects-backready`) is replaced by the sample and `private ` made
`public ` throughout, as the authors' runner does; the file is recompiled with the image's
compile command for it (else `javac -encoding utf8 -cp <project source root>`), and the prepared
test class `<Class>_<method>` runs with `java`, 60 s limits each; it passes when its output
says `true` and never `false`.

The image's root file system is read-only in the sandbox, so the changed file is written to the
program's work dir: the Python file still runs under its own path (`__file__`, `sys.path[0]`),
and the recompiled Java classes come first on the class path. Steps reported: `validation`.
"""

import ast
import base64
import json
import os
import shlex
import subprocess
import sys
import zlib

PYTHON_LIMIT_S = 30
JAVA_LIMIT_S = 60
# Three tasks whose validation files live elsewhere than the standalone naming gives.
RELOCATED = {
    "standalone/neo4j-_meta-deprecated.py":
        "neo4j---neo4j-python-driver/src/neo4j/_meta_deprecated_passk_validte.py",
    "standalone/neo4j-work-query-unit_of_work.py":
        "neo4j---neo4j-python-driver/src/neo4j/_work/query_unit_of_work_passk_validte.py",
    "standalone/krake-krake-controller-kubernetes-hooks-on.py":
        "rak-n-rok---Krake/krake/krake/controller/kubernetes/hooks_on_passk_validte.py",
}
# Runs the changed file as the original would run: as __main__, under the original's path.
RUN_AS_ORIGINAL = (
    "import sys, os, __main__\n"
    "path, changed = sys.argv[1], sys.argv[2]\n"
    "sys.argv = [path]\n"
    "sys.path = [os.path.dirname(path)] + [p for p in sys.path if p != '']\n"
    "__main__.__file__ = path\n"
    "with open(changed, encoding='utf-8') as f:\n"
    "    code = compile(f.read(), path, 'exec')\n"
    "exec(code, __main__.__dict__)\n")
VENV_PYTHONS = ("venv/bin/python", ".venv/bin/python", "env/bin/python")


def validation_file(root, spec):
    """The task's validation file, looked up as the authors' runner does; None if absent."""
    repos = os.path.join(root, "repos")
    stem = spec["file_path"]
    stem = stem[:-len(".py")] if stem.endswith(".py") else stem
    standalone = "standalone/" + stem.replace("/", "-") + "-" + spec["name"] + ".py"
    project = spec["project"].replace("/", "---")
    source_root = project + "/src" if project == "neo4j---neo4j-python-driver" else project
    in_project = source_root + "/" + stem + "_" + spec["name"] + "_passk_validte.py"
    for candidate in (standalone, in_project):
        candidate = RELOCATED.get(candidate, candidate)
        if os.path.isfile(os.path.join(repos, candidate)):
            return os.path.join(repos, candidate)
    return None


def project_python(root, spec):
    """The project's own interpreter (its venv under the repository root), else the image's."""
    project = os.path.join(root, "repos", spec["project"].replace("/", "---"))
    for relative in VENV_PYTHONS:
        if os.access(os.path.join(project, relative), os.X_OK):
            return os.path.join(project, relative)
    return sys.executable


def replace_function(text, name, code):
    """The file with function `name` (or `_name`; the last one the AST walk meets) replaced
    by `code`, indented by the difference of the two first lines' leading spaces."""
    lines = text.split("\n")
    found = None
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef) and node.name in (name, "_" + name):
            found = node
    if found is None:
        return None
    first = lines[found.lineno - 1]
    column = len(first) - len(first.lstrip(" "))
    code_lines = code.split("\n")
    own = len(code_lines[0]) - len(code_lines[0].lstrip(" "))
    if column > own:
        code = "".join(" " * (column - own) + line + "\n" for line in code_lines)
    return "\n".join(lines[:found.lineno - 1] + [code] + lines[found.end_lineno:]) + "\n"


def run_python(spec):
    root = spec["root"]
    path = validation_file(root, spec)
    if path is None:
        report_step("validation", "error", message=f"no validation file for {spec['project']} "
                    f"{spec['file_path']}:{spec['name']} under {root}/repos: is the sandbox "
                    "image the CoderEval evaluation image?")
        return
    with open(path, encoding="utf-8") as f:
        original = f.read()
    changed = original if spec["code"] is None else replace_function(original, spec["name"],
                                                                      spec["code"])
    if changed is None:
        report_step("validation", "error", message=f"{path} defines no function {spec['name']}")
        return
    with open("changed.py", "w", encoding="utf-8") as f:
        f.write(changed)
    command = [project_python(root, spec), "-c", RUN_AS_ORIGINAL, path,
               os.path.abspath("changed.py")]
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              timeout=PYTHON_LIMIT_S)
    except subprocess.TimeoutExpired:
        report_step("validation", "failed", timed_out=True,
                    message=f"the validation passed its {PYTHON_LIMIT_S} s limit")
        return
    report_step("validation", "passed" if done.returncode == 0 else "failed",
                return_code=done.returncode, message=(done.stdout + done.stderr)[-3000:])


def java_record(root, task_id):
    with open(os.path.join(root, "java", "CoderEval4Java.json"), encoding="utf-8") as f:
        records = json.load(f)["RECORDS"]
    return next((r for r in records if r["_id"] == task_id), None)


def java_tables(root):
    """The image's per-project tables: package -> project source root, file -> compile
    command, test class file -> run command (the authors' runner imports them likewise)."""
    sys.path.insert(0, os.path.join(root, "java"))
    try:
        import new_new_constsave as tables
    finally:
        sys.path.pop(0)
    return (tables.project_name_path_dict, getattr(tables, "dictt_comile_path", {}),
            getattr(tables, "dictt_path", {}))


def with_class_path(command, first):
    """A `java ...` command with `first` put before its class path (or the working dir)."""
    words = shlex.split(command)
    for i, word in enumerate(words):
        if word in ("-cp", "-classpath") and i + 1 < len(words):
            words[i + 1] = first + ":" + words[i + 1]
            return words
    return [words[0], "-cp", first + ":."] + words[1:]


def shell(command, cwd):
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, errors="replace",
                              timeout=JAVA_LIMIT_S, shell=isinstance(command, str))
    except subprocess.TimeoutExpired:
        return None
    return done


def run_java(spec):
    root = spec["root"]
    record = java_record(root, spec["task_id"])
    if record is None:
        report_step("validation", "error", message=f"{root}/java/CoderEval4Java.json has no "
                    f"task {spec['task_id']}: is the sandbox image the CoderEval image?")
        return
    prefixes, compile_commands, run_commands = java_tables(root)
    package = "org.jgrapht" if record["package"] == "org.jgrapht.nio.dot" else record["package"]
    prefix = prefixes[record["package"]]
    package_dir = os.path.join(prefix, package.replace(".", "/"))
    path = os.path.join(package_dir, record["file_name"])
    pristine = path.replace("CoderEval-Java-projects", "CoderEval-Java-projects-backready")
    with open(pristine, encoding="utf-8") as f:
        original = f.read()
    lines = original.split("\n")
    method = "".join(line + "\n" for line in lines[int(record["lineno"]) - 1:
                                                      int(record["end_lineno"])])
    code = method if spec["code"] is None else spec["code"]
    changed = original.replace(method, code).replace("private ", "public ")
    work = os.path.abspath("classes")
    os.makedirs(work)
    source = os.path.join(work, record["file_name"])
    with open(source, "w", encoding="utf-8") as f:
        f.write(changed)
    if path in compile_commands:
        compile_command = " ".join(compile_commands[path].split(" ")[:-1] + [shlex.quote(source)])
    else:
        compile_command = f"javac -encoding utf8 -cp {shlex.quote(prefix)} {shlex.quote(source)}"
    done = shell(compile_command, package_dir)
    if done is None or not os.path.exists(source[:-len(".java")] + ".class"):
        report_step("validation", "failed", compiled=False,
                    message="compile error\n" + ("" if done is None else done.stderr[-3000:]))
        return
    # The recompiled classes (the file's own and its nested ones) shadow the project's.
    overlay = os.path.abspath("overlay")
    os.makedirs(os.path.join(overlay, package.replace(".", "/")))
    for name in os.listdir(work):
        if name.endswith(".class"):
            os.rename(os.path.join(work, name),
                      os.path.join(overlay, package.replace(".", "/"), name))
    test_class = record["file_name"][:-len(".java")] + "_" + record["name"]
    test_file = path[:-len(".java")] + "_" + record["name"] + ".class"
    keyed = test_file.replace("/src/main/java", "/target/classes")
    if not os.path.exists(path[:-len(".java")] + "_" + record["name"] + ".java"):
        report_step("validation", "error",
                    message=f"no prepared test {test_class} in {package_dir}")
        return
    if keyed in run_commands:
        command = with_class_path(run_commands[keyed], overlay)
    else:
        command = ["java", "-cp", overlay + ":.",
                   f"{package}.{test_class}" if package else test_class]
    done = shell(command, prefix)
    if done is None:
        report_step("validation", "failed", timed_out=True,
                    message=f"the test run passed its {JAVA_LIMIT_S} s limit")
        return
    passed = "true" in done.stdout and "false" not in done.stdout
    report_step("validation", "passed" if passed else "failed", compiled=True,
                message=(done.stdout + done.stderr)[-3000:])


def run_codereval(spec):
    """Check one sample in the program's fresh work dir (the current directory)."""
    (run_python if spec["language"] == "python" else run_java)(spec)


def load_spec(packed):
    return json.loads(zlib.decompress(base64.b64decode(packed)))
