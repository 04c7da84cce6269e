"""CodeBLEU for one generation, exactly as MultiCodeBench's `calc_code_bleu.py` computes it.

    CodeBLEU = 100 * (0.25 BLEU + 0.25 weighted n-gram + 0.25 syntax + 0.25 data flow)

Preprocessing, in the official order:
1. PHP: the generation always gets a `<?` line in front; the reference gets one unless it
   already starts with `<?`.
2. Comments and docstrings are removed from both (`comments.py`).
3. BLEU (over characters by default, see `ngram.py`) and the weighted n-gram match (over
   whitespace tokens) compare the texts *after their first len(function_declaration)
   characters*: the declaration is cut by length, not by matching it.
4. The syntax and data-flow matches parse the whole texts, after removing comments once more
   (the official scorer cleans the already cleaned texts again at that point).
The official loop also overwrites each task's reference with its cleaned text, so the k-th
generation of a task meets a reference cleaned k+1 times; cleaning a ground truth twice gives
the same text as once for all 2400 tasks (checked), so one cleaning is used here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from codeeval.tasks.codebleu.comments import remove_comments
from codeeval.tasks.codebleu.dataflow import dataflow_match
from codeeval.tasks.codebleu.grammars import language_key
from codeeval.tasks.codebleu.keywords import KEYWORDS
from codeeval.tasks.codebleu.ngram import bleu, weighted_ngram_match
from codeeval.tasks.codebleu.syntax import syntax_match

WEIGHTS = (0.25, 0.25, 0.25, 0.25)   # BLEU, weighted n-gram, syntax, data flow
PHP_OPEN_TAG = "<?\n"


@dataclass(frozen=True)
class CodeBLEU:
    codebleu: float          # 0..100, the benchmark's CodeBleu_score
    bleu: float              # the four terms, 0..1
    weighted_ngram: float
    syntax: float
    dataflow: float

    def as_dict(self) -> dict:
        return asdict(self)


def reference_text(ground_truth: str, key: str) -> str:
    """The reference as the official scorer compares it: PHP tag added, comments removed
    (an empty result leaves the text as it was)."""
    if key == "php" and not ground_truth.startswith("<?"):
        ground_truth = PHP_OPEN_TAG + ground_truth
    return remove_comments(ground_truth, key) or ground_truth


def codebleu(generation: str, ground_truth: str, declaration: str, language: str, *,
             bleu_unit: str = "char") -> CodeBLEU:
    """Score one generated function against the ground truth (both including the
    declaration). `language` is a dataset language name ("CPP", "CSharp", ...) or a key."""
    key = language_key(language)
    if key == "php":
        generation = PHP_OPEN_TAG + generation
    candidate = remove_comments(generation, key)
    reference = reference_text(ground_truth, key)
    cut = len(declaration)
    terms = (
        bleu(reference[cut:], candidate[cut:], unit=bleu_unit),
        weighted_ngram_match(reference[cut:].split(), candidate[cut:].split(), KEYWORDS[key]),
        syntax_match(remove_comments(reference, key), remove_comments(candidate, key), key),
    )
    terms += (dataflow_match(remove_comments(reference, key), remove_comments(candidate, key),
                             key),)
    total = 0.0
    for weight, term in zip(WEIGHTS, terms):
        total += weight * term
    return CodeBLEU(total * 100, *terms)
