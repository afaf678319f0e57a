"""Paired site comparisons: exact Wilcoxon signed-rank, Benjamini-Hochberg, tidy result tables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

# The exact null distribution is a cheap convolution over doubled ranks (n * n(n+1) steps), so it
# stays exact far beyond DESIGN.md's "n <= 25": the studies' 27 pairs get exact p-values too.
EXACT_MAX_PAIRS = 200
EXACT_TEST = "Wilcoxon signed-rank, exact, two-sided"
APPROX_TEST = "Wilcoxon signed-rank, normal approximation, two-sided"


def bh(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN stays NaN and is not counted as a test."""
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    m = int(tested.sum())
    if m == 0:
        return adjusted
    order = np.argsort(p[tested])
    ranked = p[tested][order] * m / np.arange(1, m + 1)
    # Step-up: each adjusted p is the minimum over itself and all larger p-values.
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    values = np.empty(m)
    values[order] = np.minimum(ranked, 1.0)
    adjusted[tested] = values
    return adjusted


def _exact_signed_rank_p(ranks: np.ndarray, t_plus: float) -> float:
    """Two-sided exact p of T+ over all sign patterns (tied midranks doubled to integers)."""
    doubled = np.rint(ranks * 2).astype(int)
    counts = np.zeros(int(doubled.sum()) + 1)
    counts[0] = 1.0
    for rank in doubled:
        shifted = np.zeros_like(counts)
        shifted[rank:] = counts[: len(counts) - rank]
        counts = counts + shifted
    total = counts.sum()
    observed = int(round(t_plus * 2))
    lower = counts[: observed + 1].sum() / total
    upper = counts[observed:].sum() / total
    return float(min(1.0, 2.0 * min(lower, upper)))


def wilcoxon_signed_rank_exact(
    reference: Sequence[float], compare: Sequence[float]
) -> tuple[float, float, str]:
    """Two-sided Wilcoxon signed-rank test of compare - reference.

    Zero differences are dropped (Wilcoxon's method). Up to 200 non-zero pairs the p-value is
    exact, also with tied ranks (scipy's exact mode assumes no ties); above that, the normal
    approximation with tie correction. Returns (statistic = min(T+, T-), p_value, test name).
    """
    differences = np.asarray(compare, dtype=float) - np.asarray(reference, dtype=float)
    differences = differences[~np.isnan(differences)]
    differences = differences[differences != 0]
    n = len(differences)
    if n == 0:
        return 0.0, 1.0, EXACT_TEST
    ranks = stats.rankdata(np.abs(differences))
    t_plus = float(ranks[differences > 0].sum())
    statistic = min(t_plus, float(ranks.sum()) - t_plus)
    if n <= EXACT_MAX_PAIRS:
        return statistic, _exact_signed_rank_p(ranks, t_plus), EXACT_TEST
    result = stats.wilcoxon(differences, method="approx", correction=False)
    return statistic, float(result.pvalue), APPROX_TEST


def paired_site_comparison(
    long_table: pd.DataFrame,
    value: str,
    by: Sequence[str],
    reference: str,
    compare: str,
) -> pd.DataFrame:
    """One paired test per `by` group on the patients measured at both sites.

    `long_table` has columns patient, site, `value` and the `by` columns. Several values for
    one patient and site are averaged. Patients with one site only are counted in n_unpaired.
    """
    by = list(by)
    rows = []
    groups = long_table.groupby(by, sort=False) if by else [((), long_table)]
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        wide = group.pivot_table(index="patient", columns="site", values=value, aggfunc="mean")
        wide = wide.reindex(columns=[reference, compare])
        paired = wide.dropna()
        n_unpaired = int(wide.notna().sum(axis=1).eq(1).sum())
        ref_values, cmp_values = paired[reference].to_numpy(), paired[compare].to_numpy()
        if len(paired) >= 1:
            statistic, p_value, test = wilcoxon_signed_rank_exact(ref_values, cmp_values)
        else:
            statistic, p_value, test = np.nan, np.nan, EXACT_TEST
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "n_pairs": len(paired),
                "n_unpaired": n_unpaired,
                f"median_{reference}": np.median(ref_values) if len(paired) else np.nan,
                f"median_{compare}": np.median(cmp_values) if len(paired) else np.nan,
                "median_difference": (
                    np.median(cmp_values - ref_values) if len(paired) else np.nan
                ),
                "statistic": statistic,
                "p_value": p_value,
                "test": test,
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_adj"] = bh(table["p_value"])
    n_tests = int(table["p_value"].notna().sum())
    table["correction"] = f"Benjamini-Hochberg across {n_tests} tests"
    ordered = [*by, "n_pairs", "n_unpaired", f"median_{reference}", f"median_{compare}"]
    ordered += ["median_difference", "statistic", "p_value", "p_adj", "test", "correction"]
    return table[ordered]
