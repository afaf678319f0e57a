"""Cross-layer concordance: Spearman correlation of two layers' per-sample measures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from organomics.plots import SITE_COLOURS
from organomics.stats import bh, spearman

TEST = "Spearman rank correlation, two-sided"


def describe(spec: dict) -> str:
    """A measure's name for tables and plots, e.g. 'rnaseq CD8A' or 'mihc CD8_T fraction'.

    Parameters
    ----------
    spec
        One measure of a config summary.concordance pair.

    Returns
    -------
    str
    """
    layer = spec["layer"]
    if "gene" in spec:
        return f"{layer} {spec['gene']} expression (VST)"
    if layer == "rnaseq":
        return f"{layer} {spec['signature']} score (ssGSEA)"
    if layer == "mihc":
        region = spec.get("region", "all")
        return f"{layer} {spec['phenotype']} fraction" + ("" if region == "all" else f" ({region})")
    if layer == "scrna":
        signature = spec.get("signature", "fraction")
        what = "fraction" if signature == "fraction" else f"{signature} score"
        return f"{layer} {spec['cell_type']} {what}"
    return f"{layer} {spec['measure']}"


def sample_values(spec: dict, tables: dict[str, pd.DataFrame]) -> pd.Series:
    """Per-sample values of one measure (index: sample); empty when the layer lacks it.

    Parameters
    ----------
    spec
        One measure of a config summary.concordance pair.
    tables
        The layers' per-sample tables by input name (rnaseq_vst, mihc_fractions, ...).

    Returns
    -------
    pandas.Series
        Float values indexed by sample.

    Raises
    ------
    ValueError
        An unknown layer.
    """
    layer = spec["layer"]
    empty = pd.Series(dtype=float)
    if layer == "rnaseq" and "gene" in spec:
        vst, results = tables.get("rnaseq_vst"), tables.get("rnaseq_results")
        if vst is None or results is None:
            return empty
        ids = results.loc[results["symbol"].fillna(results["gene"]) == spec["gene"], "gene"]
        ids = [gene for gene in ids if gene in vst.index]
        return vst.loc[ids[0]].astype(float) if ids else empty
    if layer == "rnaseq":
        scores = tables.get("rnaseq_signatures")
        if scores is None or spec["signature"] not in scores.columns:
            return empty
        return scores.set_index("sample")[spec["signature"]].astype(float)
    if layer == "mihc":
        fractions = tables.get("mihc_fractions")
        if fractions is None:
            return empty
        chosen = fractions[
            (fractions["phenotype"] == spec["phenotype"])
            & (fractions["region"] == spec.get("region", "all"))
        ]
        return chosen.set_index("sample")["fraction"].astype(float)
    if layer == "scrna":
        signature = spec.get("signature", "fraction")
        if signature == "fraction":
            table, column = tables.get("scrna_cell_types"), "fraction"
            chosen = None if table is None else table[table["cell_type"] == spec["cell_type"]]
        else:
            table, column = tables.get("scrna_scores"), "mean_score"
            chosen = (
                None
                if table is None
                else table[
                    (table["cell_type"] == spec["cell_type"]) & (table["signature"] == signature)
                ]
            )
        return empty if chosen is None else chosen.set_index("sample")[column].astype(float)
    if layer == "wes":
        table = (
            tables.get("wes_tmb") if spec["measure"] != "n_neoantigens" else tables.get("wes_neo")
        )
        if table is None or spec["measure"] not in table.columns:
            return empty
        return table.set_index("sample")[spec["measure"]].astype(float)
    raise ValueError(f"unknown layer {layer!r} in a concordance measure")


def concordance(
    pairs: list[dict], tables: dict[str, pd.DataFrame], sample_sites: pd.Series
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Spearman rho per pair of measures over the samples that have both; BH across pairs.

    Parameters
    ----------
    pairs
        The configured pairs ``{x: measure, y: measure}`` whose layers are active.
    tables
        The layers' per-sample tables by input name.
    sample_sites
        Site label per sample (index: sample), for the plot's colours.

    Returns
    -------
    (pandas.DataFrame, list of pandas.DataFrame)
        The concordance table and, per pair, the joined per-sample values x, y, site.
    """
    rows, joined = [], []
    for pair in pairs:
        x, y = sample_values(pair["x"], tables), sample_values(pair["y"], tables)
        both = pd.concat([x.rename("x"), y.rename("y")], axis=1, join="inner").dropna()
        both["site"] = sample_sites.reindex(both.index)
        enough = len(both) >= 3 and both["x"].nunique() > 1 and both["y"].nunique() > 1
        rho, p_value = spearman(both["x"], both["y"]) if enough else (np.nan, np.nan)
        rows.append(
            {
                "measure_x": describe(pair["x"]),
                "measure_y": describe(pair["y"]),
                "n_samples": len(both),
                "spearman_rho": rho,
                "p_value": p_value,
                "test": TEST,
                "note": "" if enough else "fewer than 3 samples with both measures",
            }
        )
        joined.append(both)
    table = pd.DataFrame(rows)
    if not table.empty:
        table["p_adj"] = bh(table["p_value"])
        table["correction"] = (
            f"Benjamini-Hochberg across {int(table['p_value'].notna().sum())} pairs"
        )
    return table, joined


def scatter(
    table: pd.DataFrame, joined: list[pd.DataFrame], reference: str, compare: str
) -> plt.Figure:
    """One panel per pair of measures, points coloured by site, rho and p in the title.

    Parameters
    ----------
    table
        The concordance table.
    joined
        Per pair, the joined values (`concordance`).
    reference, compare
        The two site labels (colours as everywhere).

    Returns
    -------
    matplotlib.figure.Figure
    """
    n = max(1, len(joined))
    columns = min(n, 3)
    rows = int(np.ceil(n / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.8 * rows), squeeze=False)
    for ax, row, data in zip(axes.flat, table.to_dict("records"), joined, strict=False):
        for site, colour in zip((reference, compare), SITE_COLOURS, strict=True):
            subset = data[data["site"] == site]
            ax.scatter(subset["x"], subset["y"], s=16, color=colour, label=site)
        ax.set_xlabel(row["measure_x"], fontsize=8)
        ax.set_ylabel(row["measure_y"], fontsize=8)
        ax.set_title(
            f"rho = {row['spearman_rho']:.2f}, p = {row['p_value']:.2g}, n = {row['n_samples']}",
            fontsize=9,
        )
        ax.legend(frameon=False, fontsize=7)
    for ax in list(axes.flat)[len(joined) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
