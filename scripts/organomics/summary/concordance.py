"""Cross-layer concordance: pooled Spearman, within-patient differences, repeated-measures r."""

from __future__ import annotations

from collections.abc import Collection

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats as sps

from organomics.plots import SITE_COLOURS
from organomics.stats import bh, spearman

TEST = "Spearman rank correlation, two-sided"
DIFF_TEST = "Spearman rank correlation of within-patient differences, two-sided"
RM_TEST = "repeated-measures correlation (Bakdash & Marusich 2017; ANCOVA, patient as factor)"
# analysis column: what each row of concordance.tsv is
POOLED, DIFFERENCES, REPEATED = "pooled_spearman", "within_patient_differences", "rmcorr"


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
    if layer == "rnaseq" and "deconvolution" in spec:
        return f"{layer} {spec['cell_type']} deconvolved ({spec['deconvolution']})"
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
    if layer == "rnaseq" and "deconvolution" in spec:
        table = tables.get("rnaseq_deconvolution")
        if table is None:
            return empty
        chosen = table[
            (table["method"] == spec["deconvolution"]) & (table["cell_type"] == spec["cell_type"])
        ]
        return chosen.set_index("sample")["value"].astype(float)
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


def repeated_measures_correlation(
    x: np.ndarray, y: np.ndarray, subject: np.ndarray
) -> tuple[float, float, int]:
    """Repeated-measures correlation of x and y within subjects (Bakdash & Marusich 2017).

    The ANCOVA y ~ subject + x: the covariate's sum of squares (type II: the residual SS of
    y ~ subject minus that of the full model) against the full model's residual SS gives
    r = sign(slope) * sqrt(SS_x / (SS_x + SS_residual)), tested by F(1, N - k - 1).

    Parameters
    ----------
    x, y
        The two measures, one value per sample.
    subject
        The patient of each sample (k patients, N samples).

    Returns
    -------
    r, p_value, dof
        NaN r and p when there are no residual degrees of freedom or no within-patient
        variation; dof = N - k - 1.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    codes = pd.factorize(np.asarray(subject))[0]
    k, n = int(codes.max()) + 1 if len(codes) else 0, len(x)
    dof = n - k - 1
    if dof < 1:
        return np.nan, np.nan, max(dof, 0)
    groups = np.eye(k)[codes]  # one indicator column per patient (no separate intercept)

    def residual_ss(design: np.ndarray) -> tuple[float, np.ndarray]:
        coef = np.linalg.lstsq(design, y, rcond=None)[0]
        residuals = y - design @ coef
        return float(residuals @ residuals), coef

    ss_subject, _ = residual_ss(groups)
    ss_error, coef = residual_ss(np.column_stack([groups, x]))
    ss_x = ss_subject - ss_error
    if ss_subject <= 0 or ss_x + ss_error <= 0:
        return np.nan, np.nan, dof
    r = float(np.sign(coef[-1]) * np.sqrt(max(ss_x, 0.0) / (ss_x + ss_error)))
    f = ss_x / (ss_error / dof) if ss_error > 0 else np.inf
    return r, float(sps.f.sf(f, 1, dof)), dof


def _differences(both: pd.DataFrame, reference: str, compare: str) -> pd.DataFrame:
    """Per patient with both sites: compare - reference of x and of y."""
    wide = both.pivot_table(index="patient", columns="site", values=["x", "y"], aggfunc="mean")
    needed = [(v, s) for v in ("x", "y") for s in (reference, compare)]
    if not all(column in wide.columns for column in needed):
        return pd.DataFrame(columns=["x", "y"])
    wide = wide[needed].dropna()
    return pd.DataFrame(
        {
            "x": wide[("x", compare)] - wide[("x", reference)],
            "y": wide[("y", compare)] - wide[("y", reference)],
        }
    )


def _paired_rows(both: pd.DataFrame, reference: str, compare: str, subset: str) -> list[dict]:
    """The within-patient differences and repeated-measures rows of one pair and subset."""
    diffs = _differences(both, reference, compare)
    n = len(diffs)
    enough = n >= 3 and diffs["x"].nunique() > 1 and diffs["y"].nunique() > 1
    rho, p_value = spearman(diffs["x"], diffs["y"]) if enough else (np.nan, np.nan)
    rows = [
        {
            "analysis": DIFFERENCES,
            "subset": subset,
            "n": n,
            "n_unit": "patients",
            "spearman_rho": rho,
            "p_value": p_value,
            "test": DIFF_TEST,
            "note": "" if enough else "fewer than 3 patients with both measures at both sites",
        }
    ]
    paired = both[both["patient"].isin(diffs.index)]
    r, p_value, dof = repeated_measures_correlation(paired["x"], paired["y"], paired["patient"])
    enough = n >= 3 and np.isfinite(r)
    rows.append(
        {
            "analysis": REPEATED,
            "subset": subset,
            "n": n,
            "n_unit": "patients",
            "spearman_rho": np.nan,
            "rm_r": r if enough else np.nan,
            "p_value": p_value if enough else np.nan,
            "test": f"{RM_TEST}, F(1, {dof})",
            "note": "" if enough else "fewer than 3 patients with both measures at both sites",
        }
    )
    return rows


def concordance(
    pairs: list[dict],
    tables: dict[str, pd.DataFrame],
    sample_sites: pd.Series,
    sample_patients: pd.Series | None = None,
    reference: str | None = None,
    compare: str | None = None,
    simultaneous: Collection[str] | None = None,
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Per pair of measures: pooled Spearman over samples and, with patients, two paired ones.

    Parameters
    ----------
    pairs
        The configured pairs ``{x: measure, y: measure}`` whose layers are active.
    tables
        The layers' per-sample tables by input name.
    sample_sites
        Site label per sample (index: sample), for the plot's colours.
    sample_patients
        Patient per sample (index: sample). Given (with `reference` and `compare`), each pair
        also gets the Spearman correlation of the within-patient differences (compare -
        reference of x against that of y) and the repeated-measures correlation, n in patients.
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within pairs.simultaneous_days: the two paired analyses
        are repeated on them (subset ``simultaneous``); None leaves them out.

    Returns
    -------
    (pandas.DataFrame, list of pandas.DataFrame)
        The concordance table (``analysis``: pooled_spearman, within_patient_differences,
        rmcorr; BH across the pairs within each analysis and subset) and, per pair, the
        joined per-sample values x, y, site (and patient).
    """
    rows, joined = [], []
    for pair in pairs:
        x, y = sample_values(pair["x"], tables), sample_values(pair["y"], tables)
        both = pd.concat([x.rename("x"), y.rename("y")], axis=1, join="inner").dropna()
        both["site"] = sample_sites.reindex(both.index)
        enough = len(both) >= 3 and both["x"].nunique() > 1 and both["y"].nunique() > 1
        rho, p_value = spearman(both["x"], both["y"]) if enough else (np.nan, np.nan)
        names = {"measure_x": describe(pair["x"]), "measure_y": describe(pair["y"])}
        rows.append(
            names
            | {
                "n_samples": len(both),
                "spearman_rho": rho,
                "p_value": p_value,
                "test": TEST,
                "note": "" if enough else "fewer than 3 samples with both measures",
            }
        )
        if sample_patients is not None:
            both["patient"] = sample_patients.reindex(both.index)
            rows[-1] |= {"analysis": POOLED, "subset": "all", "n": len(both), "n_unit": "samples"}
            subsets = [("all", both)]
            if simultaneous is not None:
                keep = both["patient"].isin({str(p) for p in simultaneous})
                subsets.append(("simultaneous", both[keep]))
            for subset, data in subsets:
                rows += [names | row for row in _paired_rows(data, reference, compare, subset)]
        joined.append(both)
    table = pd.DataFrame(rows)
    if table.empty:
        return table, joined
    if "analysis" not in table.columns:
        table["p_adj"] = bh(table["p_value"])
        table["correction"] = (
            f"Benjamini-Hochberg across {int(table['p_value'].notna().sum())} pairs"
        )
        return table, joined
    table["p_adj"] = np.nan
    table["correction"] = ""
    for _, family in table.groupby(["analysis", "subset"], sort=False):
        table.loc[family.index, "p_adj"] = bh(family["p_value"].to_numpy())
        table.loc[family.index, "correction"] = (
            f"Benjamini-Hochberg across {int(family['p_value'].notna().sum())} pairs "
            "(same analysis and subset)"
        )
    columns = ["measure_x", "measure_y", "analysis", "subset", "n", "n_unit", "n_samples"]
    columns += ["spearman_rho", "rm_r", "p_value", "p_adj", "test", "correction", "note"]
    return table.reindex(columns=columns), joined


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
    if "analysis" in table.columns:  # the plot shows the pooled correlation of the samples
        table = table[table["analysis"] == POOLED]
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
