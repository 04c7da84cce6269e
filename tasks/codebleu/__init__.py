"""CodeBLEU as MultiCodeBench computes it, for its 15 languages (see score.py)."""

from codeeval.tasks.codebleu.grammars import DATASET_LANGUAGES, GRAMMAR_PACKAGES, language_key
from codeeval.tasks.codebleu.score import CodeBLEU, codebleu

__all__ = ["CodeBLEU", "codebleu", "DATASET_LANGUAGES", "GRAMMAR_PACKAGES", "language_key"]
