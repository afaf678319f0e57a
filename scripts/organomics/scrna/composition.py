"""Composition tests for a paired design: propeller-style logit proportions, beside Wilcoxon."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd
from scipy import stats

from organomics.pairing import paired_values
from organomics.stats import bh, by_subset, paired_site_comparison, tie_tolerance

PSEUDOCOUNT = 0.5  # speckle getTransformedProps: (n + 0.5) / sum over groups of (n + 0.5)
PRIMARY = "propeller"
TEST = "propeller-style paired t-test on logit proportions (patient as block), two-sided"
COLUMNS = [
    "level", "compartment", "group", "n_pairs", "n_unpaired", "mean_proportion_{ref}",
    "mean_proportion_{cmp}", "mean_logit_difference", "statistic", "df", "p_value", "p_adj",
    "test", "correction", "wilcoxon_p_value", "wilcoxon_p_adj", "primary",
]  # fmt: skip


def logit_proportions(counts: pd.DataFrame) -> pd.DataFrame:
    """Logit of the pseudocounted proportions, as speckle's getTransformedProps(logit).

    p = (n + 0.5) / sum over the sample's groups of (n + 0.5); logit(p) = ln(p / (1 - p)).

    Parameters
    ----------
    counts
        Samples x groups (cell types or states) of cell counts.

    Returns
    -------
    pandas.DataFrame
        The transformed proportions, same shape; rows of samples without cells are NaN.
    """
    pseudo = counts.astype(float) + PSEUDOCOUNT
    props = pseudo.div(pseudo.sum(axis=1), axis=0)
    logit = np.log(props / (1 - props))
    return logit.where(counts.sum(axis=1) > 0, np.nan)


def paired_logit_test(long: pd.DataFrame, group: str, reference: str, compare: str) -> pd.DataFrame:
    """Per group, the paired t-test of compare - reference logit proportions.

    With two sites and patient as block, propeller's linear model ``~ patient + site`` gives
    the paired t-test (without limma's empirical-Bayes variance moderation, which needs many
    groups to borrow from: this is the unmoderated test). A group without cells in any sample
    is not tested.

    Parameters
    ----------
    long
        Columns patient, site, `group`, ``n_cells`` and ``total`` (cells of the sample in the
        tested set); one row per sample and group, zeros included.
    group
        The group column (cell type or state).
    reference, compare
        Site labels.

    Returns
    -------
    pandas.DataFrame
        group, n_pairs, n_unpaired, mean proportion per site (over the paired patients),
        mean_logit_difference, statistic (t), df, p_value, p_adj (BH over the groups).
    """
    counts = long.pivot_table(index=["patient", "site"], columns=group, values="n_cells",
                              aggfunc="sum", sort=False).fillna(0)  # fmt: skip
    logit = logit_proportions(counts).stack().rename("logit").reset_index()
    props = counts.div(counts.sum(axis=1), axis=0).stack().rename("proportion").reset_index()
    rows = []
    for name in counts.columns:
        values = logit[logit[group] == name]
        paired, n_unpaired = paired_values(values, "logit", reference, compare)
        share = props[props[group] == name]
        share_wide, _ = paired_values(share, "proportion", reference, compare)
        diff = (paired[compare] - paired[reference]).to_numpy()
        n = len(diff)
        row = {"group": name, "n_pairs": n, "n_unpaired": n_unpaired,
               f"mean_proportion_{reference}": share_wide[reference].mean() if n else np.nan,
               f"mean_proportion_{compare}": share_wide[compare].mean() if n else np.nan,
               "mean_logit_difference": diff.mean() if n else np.nan,
               "statistic": np.nan, "df": n - 1 if n else np.nan, "p_value": np.nan}  # fmt: skip
        if counts[name].sum() == 0:
            # no cell of the group in any sample: the pseudocount alone would differ with the
            # samples' sizes and make a difference out of nothing
            row["df"] = row["mean_logit_difference"] = np.nan
        elif n >= 2:
            spread = diff.std(ddof=1)
            if spread <= tie_tolerance(paired.to_numpy()):
                # identical differences: t is undefined (infinite or 0/0); no p-value is made up
                row["statistic"] = np.nan
            else:
                t = diff.mean() / (spread / np.sqrt(n))
                row["statistic"] = t
                row["p_value"] = float(2 * stats.t.sf(abs(t), n - 1))
        rows.append(row)
    table = pd.DataFrame(rows)
    table["p_adj"] = bh(table["p_value"]) if len(table) else []
    return table


def composition_tests(
    long: pd.DataFrame,
    group: str,
    level: str,
    reference: str,
    compare: str,
    compartment: str = "",
) -> pd.DataFrame:
    """composition.tsv rows of one family: propeller-style test (primary) and paired Wilcoxon.

    Parameters
    ----------
    long
        patient, site, `group`, ``n_cells`` and ``fraction`` per sample and group.
    group
        The group column.
    level
        ``cell_type`` or ``state``.
    reference, compare
        Site labels.
    compartment
        The compartment the states belong to (empty for cell types).

    Returns
    -------
    pandas.DataFrame
        `COLUMNS` (site names filled in); both tests corrected by BH within the family.
    """
    columns = [c.format(ref=reference, cmp=compare) for c in COLUMNS]
    if long.empty:
        return pd.DataFrame(columns=columns)
    table = paired_logit_test(long, group, reference, compare)
    n_tests = int(table["p_value"].notna().sum())
    wilcoxon = paired_site_comparison(long, "fraction", [group], reference, compare)
    wilcoxon = wilcoxon.set_index(group).reindex(table["group"])
    table["wilcoxon_p_value"] = wilcoxon["p_value"].to_numpy()
    table["wilcoxon_p_adj"] = wilcoxon["p_adj"].to_numpy()
    table["level"], table["compartment"] = level, compartment
    table["test"] = TEST
    table["correction"] = f"Benjamini-Hochberg across {n_tests} tests"
    table["primary"] = PRIMARY
    return table[columns]


def run(
    cell_types: pd.DataFrame,
    states: pd.DataFrame,
    reference: str,
    compare: str,
    min_cells: int,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """composition.tsv: cell types (one family), then each compartment's states (one family each).

    Parameters
    ----------
    cell_types
        cell_types.tsv (sample, patient, site, cell_type, n_cells, fraction).
    states
        states.tsv (sample, patient, site, cell_type, state, n_cells, n_compartment, fraction).
        A sample's states enter from ``min_cells`` cells of the compartment.
    reference, compare
        Site labels.
    min_cells
        comparison.min_cells.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: the ``all`` rows, then the ``simultaneous`` ones, each subset
        its own BH families); None (no collection days) leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        `COLUMNS` with the site names filled in (``subset`` first with `simultaneous`).
    """

    def family(long: pd.DataFrame, group: str, compartment: str = "") -> pd.DataFrame:
        def analyse(table: pd.DataFrame) -> pd.DataFrame:
            return composition_tests(table, group, group, reference, compare, compartment)

        return analyse(long) if simultaneous is None else by_subset(analyse, long, simultaneous)

    parts = [family(cell_types.dropna(subset=["fraction"]), "cell_type")]
    for compartment, part in states.groupby("cell_type", sort=False):
        part = part[part["n_compartment"] >= min_cells]
        parts.append(family(part, "state", str(compartment)))
    table = pd.concat([p for p in parts if not p.empty] or parts[:1], ignore_index=True)
    if simultaneous is not None:  # every subset's rows together, "all" first
        table = table.sort_values("subset", kind="stable", ignore_index=True)
    return table
