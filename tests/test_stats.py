"""Shared statistics: exact Wilcoxon signed-rank (with ties), BH, the paired comparison table."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests

from organomics.stats import bh, paired_site_comparison, spearman, wilcoxon_signed_rank_exact


def brute_force_p(differences):
    """Two-sided exact p by listing all 2^n sign patterns of the midranks."""
    differences = np.asarray(differences, dtype=float)
    differences = differences[differences != 0]
    ranks = stats.rankdata(np.abs(differences))
    observed = ranks[differences > 0].sum()
    sums = [
        sum(r for r, positive in zip(ranks, signs, strict=True) if positive)
        for signs in itertools.product([False, True], repeat=len(ranks))
    ]
    sums = np.array(sums)
    return min(1.0, 2 * min((sums <= observed).mean(), (sums >= observed).mean()))


@pytest.mark.parametrize("n", [4, 9, 16, 27, 40])
def test_exact_matches_scipy_without_ties(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    y = x + rng.normal(0.4, 1, size=n)
    statistic, p_value, test = wilcoxon_signed_rank_exact(x, y)
    reference = stats.wilcoxon(y - x, method="exact")
    assert statistic == reference.statistic
    assert p_value == pytest.approx(reference.pvalue, rel=1e-12)
    assert test == "Wilcoxon signed-rank, exact, two-sided"


def test_exact_with_ties_and_zeros_matches_enumeration():
    x = np.zeros(12)
    y = np.array([1, 1, 2, 2, 2, -1, 3, 0, 4, 4, -2, 5], dtype=float)
    statistic, p_value, _ = wilcoxon_signed_rank_exact(x, y)
    assert p_value == pytest.approx(brute_force_p(y), rel=1e-12)
    # By hand: zero dropped; |d| = 1 x3 (midrank 2), 2 x4 (midrank 5.5), 3 (8), 4 x2 (9.5), 5 (11).
    # The negatives are -1 and -2: T- = 2 + 5.5 = 7.5 = min(T+, T-).
    assert statistic == 7.5


def test_hand_computed_small_case():
    # Differences 1, 2, 3 all positive: T+ = 6 is the most extreme of 8 patterns -> p = 2/8.
    assert wilcoxon_signed_rank_exact([0, 0, 0], [1, 2, 3])[1] == pytest.approx(0.25)


def test_large_n_uses_normal_approximation():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=250), rng.normal(size=250)
    _, p_value, test = wilcoxon_signed_rank_exact(x, y)
    reference = stats.wilcoxon(y - x, method="approx", correction=False).pvalue
    assert p_value == pytest.approx(reference) and "normal approximation" in test


def test_bh_matches_statsmodels_and_skips_nan():
    p = [0.01, 0.04, np.nan, 0.03, 0.5, 0.002]
    expected = multipletests([0.01, 0.04, 0.03, 0.5, 0.002], method="fdr_bh")[1]
    adjusted = bh(p)
    assert np.isnan(adjusted[2])
    np.testing.assert_allclose(np.delete(adjusted, 2), expected)


def test_paired_site_comparison_table():
    rows = []
    values = {"P1": (1.0, 3.0), "P2": (2.0, 5.0), "P3": (4.0, 4.5), "P4": (3.0, np.nan)}
    for patient, (pl, lm) in values.items():
        rows.append({"patient": patient, "site": "PL", "marker": "CD8", "value": pl})
        if not np.isnan(lm):
            rows.append({"patient": patient, "site": "LM", "marker": "CD8", "value": lm})
    table = paired_site_comparison(pd.DataFrame(rows), "value", ["marker"], "PL", "LM")
    row = table.iloc[0]
    assert row["n_pairs"] == 3 and row["n_unpaired"] == 1
    assert row["median_PL"] == 2.0 and row["median_LM"] == 4.5
    assert row["median_difference"] == 2.0  # differences 2, 3, 0.5
    assert row["p_value"] == pytest.approx(0.25)  # all three positive: 2/8
    assert row["p_adj"] == pytest.approx(0.25)
    assert row["correction"] == "Benjamini-Hochberg across 1 tests"


# Real-world correctness: ties and zeros made by floating point (TMB = count / Mb).
ISSUE_PAIRS = [(10, 4), (20, 14), (1, 7), (30, 27), (9, 12), (50, 47)]


def test_ties_made_by_division_are_ties():
    reference = np.array([pair[0] for pair in ISSUE_PAIRS], dtype=float)
    compare = np.array([pair[1] for pair in ISSUE_PAIRS], dtype=float)
    # Differences -6, -6, 6, -3, 3, -3: two tie groups; full enumeration of the 64 sign
    # patterns of their midranks gives 0.625 (the issue's figure).
    assert brute_force_p(compare - reference) == pytest.approx(0.625)
    assert wilcoxon_signed_rank_exact(reference, compare)[1] == pytest.approx(0.625)
    # Divided by 35.8 Mb, 10/35.8 - 4/35.8 and 20/35.8 - 14/35.8 differ in the last bit.
    scaled = wilcoxon_signed_rank_exact(reference / 35.8, compare / 35.8)
    assert scaled[1] == pytest.approx(0.625) and scaled[0] == 7.0


def test_zero_difference_made_by_rounding_is_dropped():
    # 0.1 + 0.2 != 0.3 in floating point, but the pair did not change.
    with_noise = wilcoxon_signed_rank_exact([0.1 + 0.2, 1.0, 2.0, 3.0], [0.3, 2.0, 4.0, 6.0])
    assert with_noise[1] == pytest.approx(0.25)  # three positive differences: 2/8


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=30),
    divisor=st.floats(0.01, 1000, allow_nan=False, allow_infinity=False),
)
def test_p_is_invariant_under_positive_scaling(pairs, divisor):
    counts = np.array(pairs, dtype=float)
    p_counts = wilcoxon_signed_rank_exact(counts[:, 0], counts[:, 1])[1]
    p_scaled = wilcoxon_signed_rank_exact(counts[:, 0] / divisor, counts[:, 1] / divisor)[1]
    p_multiplied = wilcoxon_signed_rank_exact(counts[:, 0] * divisor, counts[:, 1] * divisor)[1]
    assert p_scaled == pytest.approx(p_counts, rel=1e-9)
    assert p_multiplied == pytest.approx(p_counts, rel=1e-9)


@settings(max_examples=50, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=9))
def test_exact_p_with_integer_ties_matches_enumeration(pairs):
    counts = np.array(pairs, dtype=float)
    expected = (
        brute_force_p(counts[:, 1] - counts[:, 0]) if (counts[:, 1] != counts[:, 0]).any() else 1.0
    )
    assert wilcoxon_signed_rank_exact(counts[:, 0], counts[:, 1])[1] == pytest.approx(expected)


def test_normal_approximation_with_ties_matches_scipy():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 20, size=300).astype(float)
    y = rng.integers(0, 22, size=300).astype(float)
    _, p_value, test = wilcoxon_signed_rank_exact(x / 3.7, y / 3.7)
    # integer data: scipy's exact-equality ties are the true ties here
    reference = stats.wilcoxon(y - x, method="approx", correction=False).pvalue
    assert "normal approximation" in test and p_value == pytest.approx(reference, rel=1e-9)


def test_spearman_matches_scipy_and_ties_survive_division():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=30), rng.normal(size=30)
    rho, p_value = spearman(x, y)
    reference = stats.spearmanr(x, y)
    assert rho == pytest.approx(reference.statistic) and p_value == pytest.approx(reference.pvalue)
    counts = np.array([3, 6, 6, 9, 12, 1, 6], dtype=float)
    other = np.array([1, 2, 3, 4, 5, 6, 7], dtype=float)
    # 6/7 computed as 3 * (2/7) and as 6/7 differ in the last bit, yet are one value
    scaled = np.array([3 / 7, 2 / 7 * 3, 6 / 7, 9 / 7, 12 / 7, 1 / 7, 6 / 7])
    assert spearman(scaled, other) == pytest.approx(stats.spearmanr(counts, other))
