"""Resampling statistics over problems, by scipy.stats: bootstrap confidence intervals for a
benchmark score, and a paired test of whether two runs differ on the same problems.

Both use a fixed seed so that a report or a gate verdict is reproducible byte for byte.
Problems are the unit of resampling: samples of one problem are not independent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

SEED = 20240601


def bootstrap_ci(values: Sequence[float], *, level: float = 0.95, resamples: int = 2000,
                 seed: int = SEED) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of per-problem values."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("no values to resample")
    if np.all(data == data[0]):   # scipy warns on a degenerate distribution; the answer is plain
        return float(data[0]), float(data[0])
    result = stats.bootstrap((data,), np.mean, confidence_level=level, n_resamples=resamples,
                             method="percentile", random_state=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def paired_permutation_test(baseline: Sequence[float], current: Sequence[float], *,
                            resamples: int = 20000, seed: int = SEED) -> float:
    """Two-sided p-value that the mean per-problem difference is zero.

    Under the null hypothesis each problem's two values are exchangeable, so the sign of
    each difference is a fair coin (the sign-flip permutation test). When every non-zero
    difference has the same size (always so for greedy pass@1, where values are 0 or 1) the
    null distribution is binomial and the p-value is exact: this is the exact McNemar test.
    Otherwise it is scipy's paired permutation test: exact when the 2^m sign flips number at
    most `resamples`, else estimated from that many.
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
    result = stats.permutation_test((nonzero,), np.mean, permutation_type="samples",
                                    n_resamples=resamples, alternative="two-sided",
                                    random_state=np.random.default_rng(seed))
    return float(result.pvalue)


def exact_sign_test(positives: int, m: int) -> float:
    """Two-sided exact binomial test of `positives` out of `m` against p = 1/2."""
    return float(stats.binomtest(positives, m, 0.5).pvalue)
