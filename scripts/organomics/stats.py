"""Paired site comparisons: exact Wilcoxon signed-rank, Benjamini-Hochberg, tidy result tables."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import numpy as np
import pandas as pd

from organomics.pairing import paired_values

# The exact null distribution is a cheap convolution over doubled ranks (n * n(n+1) steps), so it
# stays exact far beyond the usual n <= 25 cut-off: the studies' 27 pairs get exact p-values too.
EXACT_MAX_PAIRS = 200
EXACT_TEST = "Wilcoxon signed-rank, exact, two-sided"
APPROX_TEST = "Wilcoxon signed-rank, normal approximation, two-sided"
# Two measurements closer than this fraction of the data's magnitude are equal (ties, zero
# differences): far above float rounding (1e-16 per operation), far below any real difference.
TIE_RTOL = 1e-9


def bh(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (step-up false discovery rate).

    Parameters
    ----------
    pvalues
        Raw p-values; NaN marks a comparison that was not tested.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input's order, capped at 1. NaN stays NaN and is not counted in
        the number of tests.
    """
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


def tie_tolerance(*values: np.ndarray) -> float:
    """Absolute tolerance below which two measurements count as equal.

    It is TIE_RTOL times the largest magnitude among `values`, so that it scales with the data (a
    unit change or a constant divisor moves no tie) and covers the rounding of a subtraction or a
    division.

    Parameters
    ----------
    *values
        Arrays of measurements; non-finite values are ignored.

    Returns
    -------
    float
        The tolerance; 0.0 when there is no finite value.
    """
    magnitudes = [np.abs(np.asarray(v, dtype=float)) for v in values]
    finite = np.concatenate([m[np.isfinite(m)] for m in magnitudes]) if magnitudes else []
    return TIE_RTOL * float(np.max(finite)) if len(finite) else 0.0


def tolerant_ranks(values: Sequence[float] | np.ndarray, tolerance: float) -> np.ndarray:
    """Midranks where values within `tolerance` of their neighbour in sorted order are tied.

    scipy's rankdata ties only bit-identical floats, so 10/35.8 - 4/35.8 and 20/35.8 - 14/35.8
    would rank apart although both are 6/35.8.

    Parameters
    ----------
    values
        The values to rank.
    tolerance
        Absolute gap up to which consecutive sorted values are tied (see `tie_tolerance`). Ties
        chain: a run of values each within `tolerance` of the previous forms one group.

    Returns
    -------
    numpy.ndarray
        1-based ranks in the input's order; tied values share the mean of their positions.
    """
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    # a new group starts where the gap to the previous sorted value exceeds the tolerance
    starts = np.r_[True, np.diff(ordered) > tolerance]
    group = np.cumsum(starts) - 1
    positions = np.arange(1, len(values) + 1, dtype=float)
    midranks = np.bincount(group, weights=positions) / np.bincount(group)
    ranks = np.empty(len(values))
    ranks[order] = midranks[group]
    return ranks


def wilcoxon_signed_rank_exact(
    reference: Sequence[float], compare: Sequence[float]
) -> tuple[float, float, str]:
    """Two-sided Wilcoxon signed-rank test of compare - reference.

    Parameters
    ----------
    reference, compare
        Paired measurements (NaN pairs are dropped).

    Returns
    -------
    statistic, p_value, test
        min(T+, T-), the two-sided p-value and the test's name.

    Notes
    -----
    Zero differences are dropped (Wilcoxon's method). Zeros and ties are detected at a relative
    tolerance (`tie_tolerance`), so p is invariant under positive scaling of the data (TMB =
    count / Mb gives the p of the counts). Up to 200 non-zero pairs the p-value is exact, also
    with tied ranks (scipy's exact mode assumes no ties); above that, the normal approximation
    with tie correction and no continuity correction.
    """
    reference = np.asarray(reference, dtype=float)
    compare = np.asarray(compare, dtype=float)
    keep = ~(np.isnan(reference) | np.isnan(compare))
    reference, compare = reference[keep], compare[keep]
    tolerance = tie_tolerance(reference, compare)
    differences = compare - reference
    differences = differences[np.abs(differences) > tolerance]
    n = len(differences)
    if n == 0:
        return 0.0, 1.0, EXACT_TEST
    ranks = tolerant_ranks(np.abs(differences), tolerance)
    t_plus = float(ranks[differences > 0].sum())
    statistic = min(t_plus, float(ranks.sum()) - t_plus)
    if n <= EXACT_MAX_PAIRS:
        return statistic, _exact_signed_rank_p(ranks, t_plus), EXACT_TEST
    return statistic, _normal_signed_rank_p(ranks, t_plus), APPROX_TEST


def _normal_signed_rank_p(ranks: np.ndarray, t_plus: float) -> float:
    """Two-sided normal-approximation p of T+ with the tie correction of the variance."""
    n = len(ranks)
    _, counts = np.unique(ranks, return_counts=True)
    variance = n * (n + 1) * (2 * n + 1) / 24 - float((counts**3 - counts).sum()) / 48
    z = (t_plus - n * (n + 1) / 4) / np.sqrt(variance)
    # scipy.stats costs ~0.35 s to import: only the tests that need it pay for it.
    from scipy import stats

    return float(min(1.0, 2 * stats.norm.sf(abs(z))))


def spearman(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Spearman rho and its two-sided p (t distribution, as scipy), ties at a relative tolerance.

    Parameters
    ----------
    x, y
        Paired measurements without NaN.

    Returns
    -------
    rho, p_value
    """
    from scipy import stats  # deferred: ~0.35 s import that most steps never need

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rank_x = tolerant_ranks(x, tie_tolerance(x))
    rank_y = tolerant_ranks(y, tie_tolerance(y))
    result = stats.pearsonr(rank_x, rank_y)
    n = len(x)
    rho = float(result.statistic)
    if n < 3:
        return rho, np.nan
    if abs(rho) >= 1:
        return rho, 0.0  # a perfect rank correlation: t is infinite (scipy gives 0 too)
    t = rho * np.sqrt((n - 2) / (1 - rho**2))
    return rho, float(2 * stats.t.sf(abs(t), n - 2))


def is_zero(value: float, scale: float) -> bool:
    """Tell whether `value` is zero at the relative tolerance used for ties.

    Parameters
    ----------
    value
        A difference or effect, e.g. a median difference between sites.
    scale
        The size of the measurements it came from; the tolerance is TIE_RTOL times it.

    Returns
    -------
    bool
        True when ``abs(value) <= TIE_RTOL * abs(scale)``.
    """
    return abs(value) <= TIE_RTOL * abs(scale)


def paired_site_comparison(
    long_table: pd.DataFrame,
    value: str,
    by: Sequence[str],
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """One paired Wilcoxon signed-rank test per `by` group on the patients measured at both sites.

    Parameters
    ----------
    long_table
        Columns patient, site, `value` and the `by` columns. Several values for one patient and
        site are averaged (`organomics.pairing.paired_values`).
    value
        The measurement column to compare.
    by
        Grouping columns, one test per group; empty for a single test on the whole table.
    reference, compare
        The two site labels; differences are compare - reference.
    simultaneous
        The patients sampled at both sites within config ``pairs.simultaneous_days``
        (`organomics.pairing.simultaneous_patients`); None (no collection days) leaves the
        table as it was. Given, every test is repeated on those patients only (`by_subset`).

    Returns
    -------
    pandas.DataFrame
        One row per group: the `by` columns, n_pairs, n_unpaired (patients with one site only),
        median_<reference>, median_<compare>, median_difference, statistic, p_value, p_adj
        (Benjamini-Hochberg across the groups with a p-value), test and correction. Groups
        without pairs have NaN statistics. Empty when `long_table` has no groups.
    """
    if simultaneous is not None:
        return by_subset(
            lambda table: paired_site_comparison(table, value, by, reference, compare),
            long_table,
            simultaneous,
        )
    by = list(by)
    rows = []
    groups = long_table.groupby(by, sort=False) if by else [((), long_table)]
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        paired, n_unpaired = paired_values(group, value, reference, compare)
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


def compare_measures(
    per_sample: pd.DataFrame,
    metrics: Sequence[str],
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired site tests of several per-sample measures held as columns of one table.

    Parameters
    ----------
    per_sample
        One row per sample with ``patient``, ``site`` and each of `metrics`.
    metrics
        The measure columns, in output order; missing values are left out.
    reference, compare
        The two site labels.
    simultaneous
        As in `paired_site_comparison` (None: no ``subset`` column).

    Returns
    -------
    pandas.DataFrame
        `paired_site_comparison` with one row per measure (a measure no sample has is left
        out); only the columns metric, n_pairs and n_unpaired (no rows) when none has any.
    """
    long = []
    for metric in metrics:
        values = per_sample[["patient", "site", metric]].dropna()
        if len(values):
            values = values.rename(columns={metric: "value"}).astype({"value": float})
            long.append(values.assign(metric=metric))
    if not long:
        return pd.DataFrame(columns=["metric", "n_pairs", "n_unpaired"])
    return paired_site_comparison(
        pd.concat(long), "value", ["metric"], reference, compare, simultaneous
    )


def by_subset(
    analyse: Callable[[pd.DataFrame], pd.DataFrame],
    long_table: pd.DataFrame,
    simultaneous: Collection[str],
) -> pd.DataFrame:
    """Run a paired analysis on every patient, then again on the simultaneous pairs only.

    The sensitivity analysis of the sampling time: a site difference that holds only when the
    two biopsies were taken months apart may be the treatment's doing, not the organ's.

    Parameters
    ----------
    analyse
        Long table (with a ``patient`` column) -> result table; its own multiple-testing
        correction applies within each subset.
    long_table
        The analysis' input.
    simultaneous
        The patients whose two sites were sampled close together
        (`organomics.pairing.simultaneous_patients`).

    Returns
    -------
    pandas.DataFrame
        The two results stacked, with a first column ``subset`` (``all``, ``simultaneous``).
    """
    keep = long_table["patient"].astype(str).isin({str(p) for p in simultaneous})
    parts = []
    for subset, table in (("all", long_table), ("simultaneous", long_table[keep])):
        result = analyse(table)
        result.insert(0, "subset", subset)
        parts.append(result)
    return pd.concat(parts, ignore_index=True)


def subset_all(table: pd.DataFrame) -> pd.DataFrame:
    """The rows over every pair (subset ``all``) of a table that may have a ``subset`` column.

    Parameters
    ----------
    table
        A paired comparison, with or without the ``subset`` column of `by_subset`.

    Returns
    -------
    pandas.DataFrame
        `table` itself without that column; else its ``all`` rows (one per measure), so readers
        that expect one row per measure neither double nor pick the sensitivity rows.
    """
    if "subset" not in table.columns:
        return table
    return table[table["subset"].astype(str) == "all"].reset_index(drop=True)
