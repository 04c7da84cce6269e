"""The two n-gram terms of CodeBLEU, as MultiCodeBench computes them for one generation.

BLEU (`bleu`): NLTK's corpus BLEU-4 with smoothing method 1 (epsilon 0.1) and the usual
brevity penalty. The official scorer hands it the code *strings*, so its n-grams are n-grams
of characters, not of tokens; that is the default here (`unit="char"`), and `unit="token"`
gives the textbook whitespace-token BLEU instead.

Weighted n-gram match (`weighted_ngram_match`): CodeBLEU's keyword-weighted n-gram *recall*
over whitespace tokens: unigrams of the reference weigh 1 when they are keywords of the
language and 0.2 otherwise (n >= 2 are unweighted); each order's denominator is at least 1,
even for weighted unigram sums below 1, as in the official code. Its brevity penalty is the
official quirk: the official code passes the pair [tokens, weights] where NLTK expects the
reference length, so the reference length is always 2 and only hypotheses of 1 token are
penalised (`WEIGHTED_NGRAM_REFERENCE_LENGTH`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

ORDERS = (1, 2, 3, 4)
WEIGHTS = (0.25, 0.25, 0.25, 0.25)
EPSILON = 0.1
KEYWORD_WEIGHT, OTHER_WEIGHT = 1.0, 0.2
WEIGHTED_NGRAM_REFERENCE_LENGTH = 2   # len([tokens, weights]), see the module docstring


def ngram_counts(items: Sequence, n: int) -> Counter:
    return Counter(tuple(items[i:i + n]) for i in range(len(items) - n + 1))


def brevity_penalty(reference_length: int, hypothesis_length: int) -> float:
    if hypothesis_length > reference_length:
        return 1.0
    if hypothesis_length == 0:
        return 0.0
    return math.exp(1 - reference_length / hypothesis_length)


def _geometric_mean(fractions: list[tuple[float, float]], penalty: float) -> float:
    if fractions[0][0] == 0:      # no unigram in common
        return 0.0
    logs = (w * math.log((num if num != 0 else EPSILON) / den)
            for w, (num, den) in zip(WEIGHTS, fractions))
    return penalty * math.exp(math.fsum(logs))


def bleu(reference: str, hypothesis: str, unit: str = "char") -> float:
    """Smoothed BLEU-4 of one hypothesis against one reference."""
    if unit == "token":
        reference, hypothesis = reference.split(), hypothesis.split()
    elif unit != "char":
        raise ValueError(f"BLEU unit must be 'char' or 'token', not {unit!r}")
    fractions = []
    for n in ORDERS:
        hyp, ref = ngram_counts(hypothesis, n), ngram_counts(reference, n)
        matched = sum(min(count, ref[gram]) for gram, count in hyp.items())
        fractions.append((matched, max(1, sum(hyp.values()))))
    return _geometric_mean(fractions, brevity_penalty(len(reference), len(hypothesis)))


def weighted_ngram_match(reference: list[str], hypothesis: list[str],
                         keywords: frozenset[str]) -> float:
    """Keyword-weighted n-gram recall of `hypothesis` tokens against `reference` tokens."""
    weights = {t: KEYWORD_WEIGHT if t in keywords else OTHER_WEIGHT for t in reference}
    fractions = []
    for n in ORDERS:
        ref, hyp = ngram_counts(reference, n), ngram_counts(hypothesis, n)
        clipped = {gram: min(count, hyp[gram]) for gram, count in ref.items()}
        if n == 1:
            matched = sum(count * weights.get(gram[0], 1) for gram, count in clipped.items())
            total = sum(count * weights.get(gram[0], 1) for gram, count in ref.items())
        else:
            matched, total = sum(clipped.values()), sum(ref.values())
        fractions.append((matched, max(1, total)))
    penalty = brevity_penalty(WEIGHTED_NGRAM_REFERENCE_LENGTH, len(hypothesis))
    return _geometric_mean(fractions, penalty)
