"""MultiCodeBench: function generation in 12 application domains and 15 languages.

Paper: "How Well Do LLMs Generate Code for Different Application Domains? Benchmark and
Evaluation" (DeepSoftwareAnalytics/MultiCodeBench, snapshot 350f611). 2400 tasks, 200 per
domain; each gives a function's declaration and a docstring, and the model writes the whole
function. Scoring needs no sandbox: each generation is compared with the ground-truth
function by CodeBLEU, exactly as the official `calc_code_bleu.py` computes it
(`codeeval.tasks.codebleu`: character-level BLEU, keyword-weighted n-gram match, AST subtree
match, data-flow match, comments removed, declaration cut by length), reported 0..100.
Headline metric: `codebleu`, the mean over all generations (the official script writes only
per-generation scores; the mean is the paper's aggregate); also the mean of each term, and
the same per domain, sub-domain and language.

Prompts (version 1): the repository ships no generation code and the paper's exact prompt
text is not public, so the wording below is codeeval's, written to give the model what each
official setting names and nothing else: `docstring_only` (declaration and docstring, the
paper's main setting) and the context settings of the official result folders,
`import_statement` (the file's imports), `api_statement` (the APIs the function calls),
`dep` (the code of repository-defined functions it depends on) and `api+dep` (both).
`local_file_context` cannot be built: the data holds no file contents. Docstrings carry
literal "\\n" escapes in the data; the prompt shows them as line breaks.
"""

from __future__ import annotations

import re

from codeeval.errors import UserError
from codeeval.records import Problem, Request, Sample
from codeeval.tasks.base import Option, SimilarityTask
from codeeval.tasks.codebleu import codebleu
from codeeval.tasks.sources import DataSource

DOMAINS = ("Block_chain", "Cloud_service", "Data_analysis", "Deep_learning",
           "Desktop_application", "Distributed_system", "Enterprise_application", "Game", "IoT",
           "Mobile", "Robot", "Web")
CONTEXTS = ("docstring_only", "import_statement", "local_file_context", "api_statement", "dep",
            "api+dep")
FIELDS = ("instance_id", "language", "function_declaration", "docstring", "ground_truth",
          "subclass", "import_statements", "reference_api", "repo_defined_api_with_code")
TERMS = ("codebleu", "bleu", "weighted_ngram", "syntax", "dataflow")
FENCE_NAMES = {"CPP": "cpp", "CSharp": "csharp"}   # code-fence tags, else the lower-cased name
STOP = ("\n```",)
CLOSING_FENCE = re.compile(r"^```", flags=re.MULTILINE)


def _parse_domains(spec: str | None) -> tuple[str, ...]:
    if not spec:
        return DOMAINS
    by_lower = {d.lower(): d for d in DOMAINS}
    chosen = []
    for name in (n.strip() for n in spec.split(",") if n.strip()):
        if name.lower() not in by_lower:
            raise UserError(f"unknown MultiCodeBench domain {name!r}; domains: "
                            f"{', '.join(DOMAINS)}")
        chosen.append(by_lower[name.lower()])
    return tuple(chosen)


def first_code_block(text: str) -> str:
    """The body of the first fenced code block, or the whole text when there is none."""
    match = re.search(r"```[^\n]*\n(.*?)(?:```|$)", text, flags=re.DOTALL)
    return match.group(1) if match else text


class MultiCodeBench(SimilarityTask):
    name = "multicodebench"
    description = ("MultiCodeBench: 2400 functions, 12 domains, 15 languages; CodeBLEU "
                   "against the ground truth (no sandbox)")
    headline = "codebleu"
    scores = TERMS
    metric_scales = {"codebleu": 100.0}   # the official scorer's 0-100; its terms are 0-1
    options = (Option("domain", "comma-separated domains (e.g. Block_chain,Game); default all 12"),
               Option("context", "prompt setting", CONTEXTS))
    prompt_version = "1"

    def __init__(self, domain: str | None = None, context: str | None = None,
                 **common: str | None):
        super().__init__(**common)
        self.domains = _parse_domains(domain)
        self.context = self.option("context", context)
        if self.context == "local_file_context":
            raise UserError("MultiCodeBench's data holds no file contents, so the "
                            "local_file_context setting cannot be built; choose another "
                            "--context")

    def describe(self) -> dict:
        return {**super().describe(), "context": self.context, "domains": list(self.domains)}

    def load(self, source: DataSource) -> list[Problem]:
        problems = []
        for domain in self.domains:
            for row in source.local_rows("multicodebench", f"{domain}.json", FIELDS):
                problems.append(Problem(task_id=row["instance_id"], data=row, meta={
                    "domain": domain, "subdomain": row["subclass"],
                    "language": row["language"]}))
        return problems

    # -- prompts --------------------------------------------------------------------------

    def context_sections(self, data: dict) -> list[str]:
        sections = []
        if self.context == "import_statement" and data["import_statements"]:
            sections.append("The file containing the function has these imports:\n"
                            + "\n".join(data["import_statements"]))
        if self.context in ("api_statement", "api+dep") and data["reference_api"]:
            sections.append("The function calls these APIs:\n"
                            + "\n".join(data["reference_api"]))
        if self.context in ("dep", "api+dep") and data["repo_defined_api_with_code"]:
            sections.append("It depends on these definitions from the same repository:\n"
                            + "\n\n".join(f"{dep['name']}:\n{dep['code']}"
                                          for dep in data["repo_defined_api_with_code"]))
        return sections

    def instruction(self, problem: Problem) -> str:
        data = problem.data
        language = data["language"].replace("CPP", "C++").replace("CSharp", "C#")
        docstring = data["docstring"].replace("\\n", "\n").strip()
        parts = [f"Write the following {language} function.",
                 f"Declaration:\n{data['function_declaration']}",
                 f"Description:\n{docstring}",
                 *self.context_sections(data),
                 "Return the complete function, declaration included, in one code block."]
        return "\n\n".join(parts)

    def request(self, problem: Problem, sample_idx: int,
                previous: tuple[str, ...] = ()) -> Request:
        instruction = self.instruction(problem)
        fence = FENCE_NAMES.get(problem.data["language"], problem.data["language"].lower())
        return Request(task=self.name, task_id=problem.task_id, sample_idx=sample_idx,
                       prompt=f"{instruction}\n\n```{fence}\n",
                       messages=({"role": "user", "content": instruction},),
                       stop=STOP, reference=problem.data["ground_truth"])

    def sample_from_output(self, problem: Problem, request: Request, text: str, *,
                           chat: bool) -> Sample:
        # the completion form continues an opened fence: it ends at a fence starting a line
        # (fences inside docstrings are indented, as in 4 ground truths)
        code = first_code_block(text) if chat else CLOSING_FENCE.split(text, maxsplit=1)[0]
        return Sample(request.task, request.task_id, request.sample_idx, completion=code,
                      raw=text, prompt_hash=request.prompt_hash)

    # -- scoring --------------------------------------------------------------------------

    def score(self, problem: Problem, sample: Sample) -> dict:
        """The CodeBLEU terms of one generation (a `solution` from external samples counts
        the same as a completion: both are the whole function)."""
        code = sample.solution if sample.solution is not None else (sample.completion or "")
        data = problem.data
        return codebleu(code, data["ground_truth"], data["function_declaration"],
                        data["language"]).as_dict()
