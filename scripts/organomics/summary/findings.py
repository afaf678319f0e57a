"""One row per headline comparison of every active layer: the study's abstract as a table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from organomics.stats import is_zero, subset_all

COLUMNS = ["layer", "measure", "value_{ref}", "value_{cmp}", "effect", "effect_measure", "n"]
COLUMNS += ["p_value", "p_adj", "test", "correction", "direction"]


def direction(effect: float, compare: str, scale: float = 0.0) -> str:
    """Sign of the effect (compare - reference) in words.

    An effect within the tie tolerance of `scale` (the size of the values compared) is zero:
    a difference of two equal medians computed by different float operations is no direction.

    Parameters
    ----------
    effect
        The effect, compare - reference (NaN allowed).
    compare
        The compare site label.
    scale
        The size of the values compared (`organomics.stats.is_zero`).

    Returns
    -------
    str
        ``higher in <compare>``, ``lower in <compare>`` or ``no difference``.
    """
    if pd.isna(effect) or is_zero(effect, scale):
        return "no difference"
    return f"higher in {compare}" if effect > 0 else f"lower in {compare}"


def clinical_row(
    measure: str,
    values: tuple,
    effect: float,
    effect_measure: str,
    test: dict,
    reference: str,
    compare: str,
) -> dict:
    """One clinical findings row: the measure, its site values and effect, and the test's row.

    Parameters
    ----------
    measure, effect_measure
        What is compared and how the effect is measured, in words.
    values
        The (reference, compare) values.
    effect
        compare - reference, in the units of `effect_measure`.
    test
        A comparison table's row: n, p_value, p_adj, test, correction.
    reference, compare
        The two site labels.

    Returns
    -------
    dict
        The findings row (COLUMNS but direction).
    """
    return {
        "layer": "clinical",
        "measure": measure,
        f"value_{reference}": values[0],
        f"value_{compare}": values[1],
        "effect": effect,
        "effect_measure": effect_measure,
        **{key: test[key] for key in ("n", "p_value", "p_adj", "test", "correction")},
    }


def clinical_rows(comparison: pd.DataFrame, reference: str, compare: str) -> list[dict]:
    """ORR, DCR (paired proportions) and the mixed-response patterns.

    Parameters
    ----------
    comparison
        The clinical site comparison table (`organomics.clinical.rates.site_comparison`).
    reference, compare
        The two site labels.

    Returns
    -------
    list of dict
        One findings row per metric.
    """
    rows = []
    for row in comparison.to_dict("records"):
        if row["metric"] == "mixed_response":
            # Which site grows while the other shrinks: patients per pattern.
            values = (row[f"discordant_{compare}_better"], row[f"discordant_{reference}_better"])
            measure = "mixed response: patients whose site grows while the other shrinks"
            effect = row[f"discordant_{reference}_better"] - row[f"discordant_{compare}_better"]
            effect_measure = f"patients with {compare} up minus patients with {reference} up"
        else:
            values = (row[f"value_{reference}"], row[f"value_{compare}"])
            measure = {"orr": "objective response rate", "dcr": "disease control rate"}[
                row["metric"]
            ]
            measure += " (organ-specific)"
            effect, effect_measure = row["effect"], row["effect_measure"]
        rows.append(clinical_row(measure, values, effect, effect_measure, row, reference, compare))
    return rows


def paired_rows(
    layer: str,
    comparison: pd.DataFrame,
    label: callable,
    reference: str,
    compare: str,
    effect_measure: str,
) -> list[dict]:
    """Rows from a paired_site_comparison table (medians per site, median paired difference).

    Parameters
    ----------
    layer
        The layer's name in the table.
    comparison
        The layer's `organomics.stats.paired_site_comparison` table.
    label
        Row of `comparison` -> the measure's name.
    reference, compare
        The two site labels.
    effect_measure
        What the effect is, in words.

    Returns
    -------
    list of dict
        One findings row per row of `comparison` over every pair (the ``subset`` ``all`` rows
        when the table also has the simultaneous-pairs sensitivity rows).
    """
    comparison = subset_all(comparison)
    return [
        {
            "layer": layer,
            "measure": label(row),
            f"value_{reference}": row[f"median_{reference}"],
            f"value_{compare}": row[f"median_{compare}"],
            "effect": row["median_difference"],
            "effect_measure": effect_measure,
            "n": row["n_pairs"],
            "p_value": row["p_value"],
            "p_adj": row["p_adj"],
            "test": row["test"],
            "correction": row["correction"],
        }
        for row in comparison.to_dict("records")
    ]


def expression_rows(
    results: pd.DataFrame,
    vst: pd.DataFrame,
    genes: list[str],
    pairs: pd.DataFrame,
    reference: str,
    compare: str,
) -> list[dict]:
    """DESeq2 log2 fold changes of the genes of interest, with median VST per site.

    Parameters
    ----------
    results
        The DESeq2 results (gene, symbol, log2FoldChange, pvalue, padj).
    vst
        VST expression, genes (index) x samples.
    genes
        Symbols (or ids) of interest; those not in `results` are skipped.
    pairs
        patient, sample_<reference>, sample_<compare> of the paired patients
        (`organomics.pairing.site_table`).
    reference, compare
        The two site labels.

    Returns
    -------
    list of dict
        One findings row per gene found.
    """
    by_symbol = results.assign(symbol=results["symbol"].fillna(results["gene"]))
    by_symbol = by_symbol.drop_duplicates("symbol").set_index("symbol")
    rows = []
    for gene in genes:
        if gene not in by_symbol.index:
            continue
        result = by_symbol.loc[gene]
        expression = vst.loc[result["gene"]] if result["gene"] in vst.index else None
        medians = [
            float(np.median(expression[pairs[f"sample_{site}"]]))
            if expression is not None
            else np.nan
            for site in (reference, compare)
        ]
        rows.append(
            {
                "layer": "rnaseq",
                "measure": f"{gene} expression",
                f"value_{reference}": medians[0],
                f"value_{compare}": medians[1],
                "effect": result["log2FoldChange"],
                "effect_measure": f"log2 fold change {compare}/{reference} (values: median VST)",
                "n": len(pairs),
                "p_value": result["pvalue"],
                "p_adj": result["padj"],
                "test": "DESeq2 Wald test, design ~ patient + site (PyDESeq2)",
                "correction": "Benjamini-Hochberg across all tested genes",
            }
        )
    return rows


def pathway_rows(gsea: pd.DataFrame, top: int, n_pairs: int) -> list[dict]:
    """The `top` pathways by GSEA FDR (then |NES|).

    Parameters
    ----------
    gsea
        The GSEA prerank table (term, size, nes, pvalue, fdr).
    top
        How many pathways (config summary.top_pathways).
    n_pairs
        The paired patients of the DESeq2 design, the rows' n.

    Returns
    -------
    list of dict
        One findings row per pathway.
    """
    ranked = gsea.assign(abs_nes=gsea["nes"].abs()).sort_values(
        ["fdr", "abs_nes"], ascending=[True, False]
    )
    return [
        {
            "layer": "rnaseq",
            "measure": f"pathway: {row['term']}",
            "effect": row["nes"],
            "effect_measure": f"GSEA normalised enrichment score ({row['size']} genes)",
            "n": n_pairs,
            "p_value": row["pvalue"],
            "p_adj": row["fdr"],
            "test": "GSEA preranked on the DESeq2 Wald statistic (gseapy, permutation)",
            "correction": "GSEA FDR across gene sets",
        }
        for row in ranked.head(top).to_dict("records")
    ]


def tcr_rows(comparison: pd.DataFrame, reference: str, compare: str) -> list[dict]:
    """TCR diversity and expansion rows from results/scrna/tcr_comparison.tsv.

    Parameters
    ----------
    comparison
        `organomics.scrna.tcr.site_comparison` output (one row per metric).
    reference, compare
        The two site labels.

    Returns
    -------
    list of dict
        One findings row per metric (layer scrna).
    """
    names = {
        "diversity": "TCR diversity (normalised Shannon of clone sizes)",
        "frac_expanded": "expanded fraction of T cells (clonotype >= tcr.expanded_min_cells cells)",
    }

    def label(row: dict) -> str:
        metric = row["metric"]
        cell_type = metric.removeprefix("frac_expanded_")
        return names.get(metric, f"expanded fraction of {cell_type} TCR cells")

    return paired_rows("scrna", comparison, label, reference, compare, "median paired difference")


def deconvolution_rows(comparison: pd.DataFrame, reference: str, compare: str) -> list[dict]:
    """Rows of the bulk deconvolution's paired tests (deconvolution_comparison.tsv).

    Parameters
    ----------
    comparison
        The RNA branch's deconvolution_comparison.tsv (method, cell_type, value_type and
        `organomics.stats.paired_site_comparison`'s columns; BH within each method).
    reference, compare
        The two site labels.

    Returns
    -------
    list of dict
        One findings row per method and cell type, layer ``rnaseq``.
    """
    rows = []
    for value_type, part in comparison.groupby("value_type", sort=False):
        what = "fraction of cells" if value_type == "fraction" else "marker score (log2)"
        rows += paired_rows(
            "rnaseq",
            part,
            lambda r: f"{r['cell_type']} {r['value_type']} (deconvolution, {r['method']})",
            reference,
            compare,
            f"median paired difference in {what}",
        )
    return rows


def assemble(rows: list[dict], reference: str, compare: str) -> pd.DataFrame:
    """The findings table with the documented columns, in layer order.

    Parameters
    ----------
    rows
        The rows of every layer, in order.
    reference, compare
        The two site labels (names of the value columns).

    Returns
    -------
    pandas.DataFrame
        COLUMNS, with `direction` from the effect's sign and `significant` (p_adj < 0.05).
    """
    columns = [column.format(ref=reference, cmp=compare) for column in COLUMNS]
    # a row may say its own direction (e.g. the response association's, which is not a site
    # difference); the others get it from the effect's sign
    preset = [row.get("direction") for row in rows]
    table = pd.DataFrame(rows).reindex(columns=columns)
    values = table[[f"value_{reference}", f"value_{compare}", "effect"]]
    scales = values.apply(pd.to_numeric, errors="coerce").abs().max(axis=1).fillna(0.0)
    table["direction"] = [
        given if given else direction(effect, compare, scale)
        for given, effect, scale in zip(preset, table["effect"], scales, strict=True)
    ]
    table["significant"] = table["p_adj"] < 0.05
    return table


def response_rows(association: pd.DataFrame, reference: str, compare: str) -> list[dict]:
    """The within-patient rows of the response association (subset ``all``).

    Per measure: the sign test on the RECIST discordant-response patients, and the Spearman
    correlation of the within-patient differences with the best % change (values: the per-site
    rhos). iRECIST rows stay in the association table only.

    Parameters
    ----------
    association
        results/summary/response_association.tsv (`organomics.summary.response.associate`).
    reference, compare
        The two site labels.

    Returns
    -------
    list of dict
        Findings rows with layer ``response ~ <layer>`` and their own `direction`; none when the
        table carries only a note.
    """
    # iRECIST rows stay in response_association.tsv: the RECIST ones are the headline
    table = association[association["analysis"].notna()]
    table = table[~table["response"].astype(str).str.contains("iRECIST")]
    rows = []
    within = f"{compare}-{reference}"
    for (layer, measure, response), group in table.groupby(
        ["layer", "measure", "response"], sort=False
    ):
        by = {(r["analysis"], r["site"], r["subset"]): r for r in group.to_dict("records")}
        sign = by.get(("sign_test_within_patient", within, "all"))
        if sign is not None:
            share = sign["effect"]
            rows.append(
                {
                    "layer": f"response ~ {layer}",
                    "measure": f"{measure}: higher at the responding site ({response}, "
                    "discordant patients)",
                    "effect": share,
                    "effect_measure": sign["effect_measure"],
                    "n": sign["n"],
                    "p_value": sign["p_value"],
                    "p_adj": sign["p_adj"],
                    "test": sign["test"],
                    "correction": sign["correction"],
                    "direction": "no difference"
                    if pd.isna(share) or is_zero(share - 0.5, 1.0)
                    else (
                        "higher at the responding site"
                        if share > 0.5
                        else "lower at the responding site"
                    ),
                }
            )
        diff = by.get(("spearman_within_patient", within, "all"))
        if diff is not None:
            rho = diff["effect"]
            sites = {s: by.get(("spearman_per_site", s, "all")) for s in (reference, compare)}
            rows.append(
                {
                    "layer": f"response ~ {layer}",
                    "measure": f"{measure} vs {response} ({within} differences)",
                    f"value_{reference}": sites[reference]["effect"] if sites[reference] else None,
                    f"value_{compare}": sites[compare]["effect"] if sites[compare] else None,
                    "effect": rho,
                    "effect_measure": "Spearman rho of the within-patient differences "
                    "(values: rho at each site)",
                    "n": diff["n"],
                    "p_value": diff["p_value"],
                    "p_adj": diff["p_adj"],
                    "test": diff["test"],
                    "correction": diff["correction"],
                    "direction": "no correlation"
                    if pd.isna(rho) or is_zero(rho, 1.0)
                    else (
                        "worse response with a higher value"
                        if rho > 0
                        else "better response with a higher value"
                    ),
                }
            )
    return rows


# iRECIST rows
def irecist_rows(comparison: pd.DataFrame, reference: str, compare: str) -> list[dict]:
    """ORR, DCR and pseudoprogression under iRECIST (paired proportions) and its mixed response.

    Parameters
    ----------
    comparison
        results/clinical/irecist_site_comparison.tsv
        (`organomics.clinical.irecist.site_comparison`).
    reference, compare
        The two site labels.

    Returns
    -------
    list of dict
        One findings row per metric.
    """
    measures = {
        "irecist_orr": "objective response rate (iRECIST, organ-specific)",
        "irecist_dcr": "disease control rate (iRECIST, organ-specific)",
        "pseudoprogression": "pseudoprogression (iRECIST: iUPD later reset)",
    }
    rows = []
    for row in comparison.to_dict("records"):
        if row["metric"] == "irecist_mixed_response":
            # Patients per pattern: one site progresses (iUPD/iCPD) while the other is controlled.
            values = (row[f"discordant_{reference}_only"], row[f"discordant_{compare}_only"])
            measure = "mixed response (iRECIST): one site progresses, the other is controlled"
            effect = values[1] - values[0]
            effect_measure = (
                f"patients with {compare} progressing minus patients with {reference} "
                "progressing (the other site controlled)"
            )
        else:
            values = (row[f"value_{reference}"], row[f"value_{compare}"])
            measure = measures[row["metric"]]
            effect, effect_measure = row["effect"], row["effect_measure"]
        rows.append(clinical_row(measure, values, effect, effect_measure, row, reference, compare))
    return rows


# Organ time-to-event rows
def organ_progression_rows(summary: pd.DataFrame, reference: str, compare: str) -> list[dict]:
    """Which organ progresses first: the exact binomial test on the discordant patients.

    Parameters
    ----------
    summary
        results/clinical/organ_progression_summary.tsv
        (`organomics.clinical.organ_time.summary`).
    reference, compare
        The two site labels.

    Returns
    -------
    list of dict
        One findings row: patients whose reference / compare site progressed first, effect
        their difference (compare minus reference), the test's own p (one test, p_adj = p).
    """
    rows = []
    for row in summary[summary["analysis"] == "first_progression"].to_dict("records"):
        discordant = int(row["events"])
        # effect is the share of the discordant patients whose compare site was first
        compare_first = round(row["effect"] * discordant) if discordant else 0
        reference_first = discordant - compare_first
        effect_measure = (
            f"patients with {compare} progressing first minus patients with {reference} first"
        )
        rows.append(
            clinical_row(
                "first organ to progress (RECIST 1.1 PD per site)",
                (reference_first, compare_first),
                compare_first - reference_first,
                effect_measure,
                row | {"p_adj": row["p_value"]},  # one test: nothing to adjust
                reference,
                compare,
            )
        )
    return rows


def mihc_spatial_rows(
    neighbourhood: pd.DataFrame,
    immune: pd.DataFrame,
    reference: str,
    compare: str,
    cross_k: pd.DataFrame | None = None,
    neighbourhoods: pd.DataFrame | None = None,
) -> list[dict]:
    """mIHC neighbourhood enrichment and immune phenotype class comparisons.

    Parameters
    ----------
    neighbourhood
        results/mihc/neighbourhood_comparison.tsv (paired Wilcoxon of log2_ratio per ordered
        phenotype pair and radius, BH across them).
    immune
        results/mihc/immune_phenotype_comparison.tsv (exact sign test on the class per
        phenotype, BH across phenotypes).
    reference, compare
        The two site labels.
    cross_k
        results/mihc/cross_k_comparison.tsv (paired Wilcoxon of L - expected L), or None.
    neighbourhoods
        results/mihc/cn_comparison.tsv (paired Wilcoxon of CN abundance), or None.

    Returns
    -------
    list of dict
        One findings row per neighbourhood test, then one per immune phenotype test (values:
        the samples inflamed/excluded/desert at each site), per cross-K test and per CN.
    """
    rows = paired_rows(
        "mihc",
        neighbourhood,
        lambda r: (
            f"{r['to_phenotype']} neighbours of {r['from_phenotype']} within "
            f"{float(r['radius_um']):g} µm (log2 observed/expected)"
        ),
        reference,
        compare,
        "median paired difference in log2 observed/expected neighbours",
    )
    for row in subset_all(immune).to_dict("records"):
        classes = ("inflamed", "excluded", "desert")
        rows.append(
            {
                "layer": "mihc",
                "measure": f"{row['phenotype']} immune phenotype (inflamed > excluded > desert)",
                f"value_{reference}": "/".join(str(row[f"{c}_{reference}"]) for c in classes),
                f"value_{compare}": "/".join(str(row[f"{c}_{compare}"]) for c in classes),
                "effect": row[f"n_higher_{compare}"] - row[f"n_lower_{compare}"],
                "effect_measure": (
                    f"pairs with a higher class in {compare} minus pairs with a lower class "
                    "(values: samples inflamed/excluded/desert)"
                ),
                "n": row["n_pairs"],
                "p_value": row["p_value"],
                "p_adj": row["p_adj"],
                "test": row["test"],
                "correction": row["correction"],
            }
        )
    if cross_k is not None:
        rows += paired_rows(
            "mihc",
            cross_k,
            lambda r: (
                f"cross-type L of {r['from_phenotype']} to {r['to_phenotype']} at "
                f"{float(r['radius_um']):g} µm minus its relabelling mean"
            ),
            reference,
            compare,
            "median paired difference in L - expected L (µm)",
        )
    if neighbourhoods is not None:
        rows += paired_rows(
            "mihc",
            neighbourhoods,
            lambda r: f"cellular neighbourhood {r['cn']} abundance",
            reference,
            compare,
            "median paired difference in fraction of index cells",
        )
    return rows
