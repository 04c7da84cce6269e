"""Resampling statistics over problems: bootstrap confidence intervals for a benchmark score,
and a paired test of whether two runs differ on the same problems.

Both use a fixed seed so that a report or a gate verdict is reproducible byte for byte.
Problems are the unit of resampling: samples of one problem are not independent.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb

import numpy as np

SEED = 20240601
CHUNK = 500  # resamples drawn at once, so memory stays at CHUNK x problems


def bootstrap_ci(values: Sequence[float], *, level: float = 0.95, resamples: int = 2000,
                 seed: int = SEED) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of per-problem values."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("no values to resample")
    rng = np.random.default_rng(seed)
    means = []
    for start in range(0, resamples, CHUNK):
        rows = min(CHUNK, resamples - start)
        means.append(data[rng.integers(0, data.size, size=(rows, data.size))].mean(axis=1))
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(np.concatenate(means), [tail, 1.0 - tail])
    return float(lo), float(hi)


def paired_permutation_test(baseline: Sequence[float], current: Sequence[float], *,
                            resamples: int = 20000, seed: int = SEED) -> float:
    """Two-sided p-value that the mean per-problem difference is zero.

    Under the null hypothesis each problem's two values are exchangeable, so the sign of
    each difference is a fair coin (the sign-flip permutation test). When every non-zero
    difference has the same size (always so for greedy pass@1, where values are 0 or 1) the
    null distribution is binomial and the p-value is exact: this is the exact McNemar test.
    Otherwise it is estimated from `resamples` random sign flips.
    """
    base, cur = np.asarray(baseline, dtype=float), np.asarray(current, dtype=float)
    if base.shape != cur.shape:
        raise ValueError("paired test needs two sequences of equal length")
    diffs = cur - base
    nonzero = diffs[np.abs(diffs) > 1e-12]
    m = nonzero.size
    if m == 0:
        return 1.0
    if np.allclose(np.abs(nonzero), abs(nonzero[0])):
        return exact_sign_test(int((nonzero > 0).sum()), m)
    observed = abs(nonzero.sum())
    rng = np.random.default_rng(seed)
    extreme = 0
    for start in range(0, resamples, CHUNK):
        rows = min(CHUNK, resamples - start)
        signs = rng.integers(0, 2, size=(rows, m)) * 2 - 1
        extreme += int((np.abs(signs @ nonzero) >= observed - 1e-9).sum())
    # The observed assignment is one of the permutations: counting it keeps p > 0.
    return (extreme + 1) / (resamples + 1)


def exact_sign_test(positives: int, m: int) -> float:
    """Two-sided exact binomial test of `positives` out of `m` against p = 1/2."""
    tail = min(positives, m - positives)
    p = 2 * sum(comb(m, i) for i in range(tail + 1)) / 2 ** m
    return min(1.0, p)
