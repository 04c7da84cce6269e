"""The resampling statistics behind report intervals and gate verdicts."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest

from codeeval.stats import bootstrap_ci, exact_sign_test, paired_permutation_test


def test_exact_sign_test_matches_the_binomial_tails():
    assert exact_sign_test(0, 10) == pytest.approx(2 / 1024)
    assert exact_sign_test(10, 10) == pytest.approx(2 / 1024)
    assert exact_sign_test(2, 10) == pytest.approx(2 * (1 + 10 + 45) / 1024)
    assert exact_sign_test(5, 10) == 1.0


def test_binary_differences_get_the_exact_mcnemar_p_value():
    base = [1] * 30 + [0] * 20
    cur = [0] * 8 + [1] * 22 + [1] * 2 + [0] * 18     # 8 lost, 2 gained
    assert paired_permutation_test(base, cur) == pytest.approx(
        2 * sum(comb(10, i) for i in range(3)) / 2 ** 10)
    assert paired_permutation_test(base, base) == 1.0


def test_sign_flips_estimate_the_exhaustive_permutation_p_value():
    diffs = [0.3, -0.1, 0.25, 0.4, -0.05, 0.2, 0.15, -0.3, 0.35, 0.1, 0.05, 0.45]
    observed = abs(sum(diffs))
    exhaustive = sum(abs(sum(s * d for s, d in zip(signs, diffs))) >= observed - 1e-9
                     for signs in itertools.product((1, -1), repeat=len(diffs))) / 2 ** 12
    estimate = paired_permutation_test([0.0] * len(diffs), diffs)
    assert estimate == pytest.approx(exhaustive, abs=0.01)
    assert paired_permutation_test([0.0] * len(diffs), diffs) == estimate   # fixed seed


def test_a_paired_test_needs_equal_lengths():
    with pytest.raises(ValueError):
        paired_permutation_test([1, 0], [1])


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_problems():
    small = [1.0, 0.0] * 10
    large = [1.0, 0.0] * 500
    lo_s, hi_s = bootstrap_ci(small)
    lo_l, hi_l = bootstrap_ci(large)
    assert lo_s < 0.5 < hi_s and lo_l < 0.5 < hi_l
    assert hi_l - lo_l < (hi_s - lo_s) / 4
    # the normal approximation of a proportion's interval, 1.96 * sqrt(p(1-p)/n)
    assert hi_l - lo_l == pytest.approx(2 * 1.96 * (0.25 / 1000) ** 0.5, rel=0.15)
    assert bootstrap_ci(large) == (lo_l, hi_l)
    assert bootstrap_ci([1.0] * 40) == (1.0, 1.0)


def test_the_paired_test_holds_its_level_and_finds_a_real_drop():
    # 200 pairs of runs of one model (5 samples on 100 problems of varied difficulty): about
    # 5% may be flagged at alpha 0.05. A model 0.1 worse on every problem must be found.
    rng = np.random.default_rng(7)
    difficulty = rng.uniform(0, 1, 100)

    def run(p):
        return rng.binomial(5, np.clip(p, 0, 1)) / 5

    null = [paired_permutation_test(run(difficulty), run(difficulty), resamples=2000)
            for _ in range(200)]
    assert sum(p < 0.05 for p in null) / 200 < 0.09
    drops = [paired_permutation_test(run(difficulty), run(difficulty - 0.1), resamples=2000)
             for _ in range(50)]
    assert sum(p < 0.05 for p in drops) / 50 > 0.8
