from math import comb

import pytest

from codeeval.passk import mean_pass_at_k, pass_at_k


def direct(n: int, c: int, k: int) -> float:
    return 1 - comb(n - c, k) / comb(n, k)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 20, 50, 200])
def test_matches_the_combinatorial_definition(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(direct(n, c, k), abs=1e-12)


def test_large_n_stays_finite_and_exact():
    # comb(1000, 500) overflows a float; the product form must not.
    assert pass_at_k(1000, 1, 1) == pytest.approx(0.001)
    assert pass_at_k(1000, 500, 500) == pytest.approx(direct(1000, 500, 500), abs=1e-12)


def test_pass_at_1_is_the_pass_rate():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)


@pytest.mark.parametrize("n,c,k", [(5, 1, 6), (5, 1, 0), (5, 6, 1), (5, -1, 1)])
def test_rejects_undefined_cases(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_mean_over_problems():
    assert mean_pass_at_k([(2, 2), (2, 0), (2, 1)], 1) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        mean_pass_at_k([], 1)
