"""Cross-layer findings and concordance on tiny tables with hand and scipy values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats import spearmanr

from organomics.stats import paired_site_comparison
from organomics.summary import concordance, findings


def test_clinical_rows_carry_values_effect_and_direction():
    comparison = pd.DataFrame(
        [
            {"metric": "orr", "n": 52, "discordant_PL_better": 7, "discordant_LM_better": 1,
             "value_PL": 17 / 52, "value_LM": 11 / 52, "effect": -6 / 52,
             "effect_measure": "paired difference", "p_value": 0.0703125, "p_adj": 0.0703125,
             "test": "McNemar exact", "correction": "BH"},
            {"metric": "mixed_response", "n": 52, "discordant_PL_better": 15,
             "discordant_LM_better": 2, "value_PL": np.nan, "value_LM": np.nan, "effect": 15 / 17,
             "effect_measure": "share", "p_value": 0.00235, "p_adj": 0.00705,
             "test": "exact binomial", "correction": "BH"},
        ]
    )  # fmt: skip
    table = findings.assemble(findings.clinical_rows(comparison, "PL", "LM"), "PL", "LM")
    orr, mixed = table.iloc[0], table.iloc[1]
    assert orr["value_PL"] == pytest.approx(17 / 52) and orr["direction"] == "lower in LM"
    # Mixed response: 2 patients with PL growing, 15 with LM growing; 13 more with LM growing.
    assert (mixed["value_PL"], mixed["value_LM"], mixed["effect"]) == (2, 15, 13)
    assert mixed["direction"] == "higher in LM" and bool(mixed["significant"])
    assert list(table.columns[:5]) == ["layer", "measure", "value_PL", "value_LM", "effect"]


def test_paired_rows_from_a_site_comparison_table():
    long = pd.DataFrame(
        {
            "patient": ["a", "a", "b", "b", "c", "c"],
            "site": ["PL", "LM"] * 3,
            "phenotype": "CD8_T",
            "fraction": [0.2, 0.1, 0.3, 0.1, 0.25, 0.2],
        }
    )
    comparison = paired_site_comparison(long, "fraction", ["phenotype"], "PL", "LM")
    rows = findings.paired_rows("mihc", comparison, lambda r: r["phenotype"], "PL", "LM", "diff")
    row = findings.assemble(rows, "PL", "LM").iloc[0]
    assert (row["value_PL"], row["value_LM"]) == (0.25, 0.1)
    assert row["effect"] == pytest.approx(-0.1)  # differences -0.1, -0.2, -0.05
    assert row["n"] == 3 and row["p_value"] == pytest.approx(0.25)  # 2 of 8 sign patterns
    assert row["direction"] == "lower in LM"


def test_expression_rows_use_medians_of_paired_samples():
    results = pd.DataFrame(
        {"gene": ["ENSG1", "ENSG2"], "symbol": ["CD8A", "LCK"], "log2FoldChange": [-1.0, 0.5],
         "pvalue": [0.001, 0.2], "padj": [0.01, 0.4]}
    )  # fmt: skip
    vst = pd.DataFrame(
        {"a_PL": [10.0, 1.0], "a_LM": [8.0, 1.0], "b_PL": [12.0, 1.0], "b_LM": [9.0, 1.0]},
        index=["ENSG1", "ENSG2"],
    )
    pairs = pd.DataFrame({"patient": ["a", "b"], "sample_PL": ["a_PL", "b_PL"],
                          "sample_LM": ["a_LM", "b_LM"]})  # fmt: skip
    rows = findings.expression_rows(results, vst, ["CD8A", "MISSING"], pairs, "PL", "LM")
    assert len(rows) == 1
    assert (rows[0]["value_PL"], rows[0]["value_LM"]) == (11.0, 8.5)
    assert rows[0]["effect"] == -1.0 and rows[0]["n"] == 2


def test_pathway_rows_rank_by_fdr_then_effect_size():
    gsea = pd.DataFrame(
        {"term": ["x", "y", "z"], "nes": [1.5, -2.5, 3.0], "pvalue": [0.01, 0.0, 0.2],
         "fdr": [0.02, 0.02, 0.3], "size": [20, 30, 40]}
    )  # fmt: skip
    rows = findings.pathway_rows(gsea, top=2, n_pairs=27)
    assert [row["measure"] for row in rows] == ["pathway: y", "pathway: x"]


def test_concordance_matches_scipy_spearman():
    rng = np.random.default_rng(3)
    samples = [f"s{i}" for i in range(12)]
    expression = pd.Series(rng.normal(size=12), index=samples)
    fractions = pd.DataFrame(
        {"sample": samples, "phenotype": "CD8_T", "region": "all",
         "fraction": expression.to_numpy() * 0.3 + rng.normal(scale=0.5, size=12)}
    )  # fmt: skip
    tables = {
        "rnaseq_vst": pd.DataFrame([expression.to_numpy()], index=["G1"], columns=samples),
        "rnaseq_results": pd.DataFrame({"gene": ["G1"], "symbol": ["CD8A"]}),
        "mihc_fractions": fractions,
    }
    pair = {"x": {"layer": "rnaseq", "gene": "CD8A"}, "y": {"layer": "mihc", "phenotype": "CD8_T"}}
    sites = pd.Series(["PL", "LM"] * 6, index=samples)
    table, joined = concordance.concordance([pair], tables, sites)
    expected = spearmanr(expression.to_numpy(), fractions["fraction"].to_numpy())
    assert table.loc[0, "spearman_rho"] == pytest.approx(expected.statistic)
    assert table.loc[0, "p_value"] == pytest.approx(expected.pvalue)
    assert table.loc[0, "n_samples"] == 12 and len(joined[0]) == 12
    assert table.loc[0, "measure_x"] == "rnaseq CD8A expression (VST)"


def test_concordance_reports_a_pair_without_data():
    pair = {"x": {"layer": "rnaseq", "signature": "NK"}, "y": {"layer": "mihc", "phenotype": "X"}}
    table, _ = concordance.concordance([pair], {}, pd.Series(dtype=str))
    assert table.loc[0, "n_samples"] == 0 and np.isnan(table.loc[0, "spearman_rho"])
    assert table.loc[0, "note"] == "fewer than 3 samples with both measures"


def test_repeated_measures_correlation_is_the_within_patient_centred_correlation():
    # pingouin.rm_corr's formula by hand (Bakdash & Marusich 2017): centre x and y on each
    # patient's mean, r = sum(xc*yc) / sqrt(sum(xc^2) sum(yc^2)), dof = N - k - 1 and
    # t = r sqrt(dof / (1 - r^2)); three patients with three samples each, so N - k - 1 = 5
    x = np.array([1.0, 2.0, 4.0, 3.0, 3.5, 6.0, 0.5, 2.5, 2.0])
    y = np.array([2.0, 2.5, 5.0, 1.0, 3.0, 3.5, 4.0, 4.5, 6.5])
    subject = np.repeat(["a", "b", "c"], 3)
    frame = pd.DataFrame({"x": x, "y": y, "s": subject})
    xc = x - frame.groupby("s")["x"].transform("mean").to_numpy()
    yc = y - frame.groupby("s")["y"].transform("mean").to_numpy()
    r = (xc @ yc) / np.sqrt((xc @ xc) * (yc @ yc))
    t = r * np.sqrt(5 / (1 - r**2))
    rm_r, p_value, dof = concordance.repeated_measures_correlation(x, y, subject)
    assert dof == 5
    assert rm_r == pytest.approx(r)
    assert p_value == pytest.approx(2 * stats.t.sf(abs(t), 5))


def test_paired_concordance_rows_say_which_is_which():
    # five patients, PL and LM; within-patient differences LM - PL of x and y by hand
    samples = [f"{p}_{s}" for p in "abcde" for s in ("PL", "LM")]
    x = [1.0, 2.0, 3.0, 3.5, 2.0, 5.0, 4.0, 4.2, 1.0, 0.0]
    y = [0.10, 0.30, 0.20, 0.22, 0.15, 0.40, 0.30, 0.29, 0.20, 0.12]
    fractions = pd.DataFrame(
        {"sample": samples, "phenotype": "CD8_T", "region": "all", "fraction": y}
    )
    tables = {
        "rnaseq_vst": pd.DataFrame([x], index=["G1"], columns=samples),
        "rnaseq_results": pd.DataFrame({"gene": ["G1"], "symbol": ["CD8A"]}),
        "mihc_fractions": fractions,
    }
    pair = {"x": {"layer": "rnaseq", "gene": "CD8A"}, "y": {"layer": "mihc", "phenotype": "CD8_T"}}
    sites = pd.Series(["PL", "LM"] * 5, index=samples)
    patients = pd.Series([s[0] for s in samples], index=samples)
    table, _ = concordance.concordance([pair], tables, sites, patients, "PL", "LM", ["a", "b", "c"])
    rows = table.set_index(["analysis", "subset"])
    assert rows.loc[("pooled_spearman", "all"), "n_unit"] == "samples"
    assert rows.loc[("pooled_spearman", "all"), "n"] == 10
    dx = np.round(np.array(x[1::2]) - np.array(x[0::2]), 12)  # 1, 0.5, 3, 0.2, -1
    dy = np.round(np.array(y[1::2]) - np.array(y[0::2]), 12)
    expected = spearmanr(dx, dy)
    diff = rows.loc[("within_patient_differences", "all")]
    assert diff["n"] == 5 and diff["n_unit"] == "patients"
    assert diff["spearman_rho"] == pytest.approx(expected.statistic)
    assert diff["p_value"] == pytest.approx(expected.pvalue)
    # with two samples per patient, rmcorr is the correlation of the differences through 0
    r = (dx @ dy) / np.sqrt((dx @ dx) * (dy @ dy))
    assert rows.loc[("rmcorr", "all"), "rm_r"] == pytest.approx(r)
    assert rows.loc[("rmcorr", "simultaneous"), "n"] == 3
