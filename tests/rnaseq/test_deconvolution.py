"""Bulk deconvolution on tiny matrices: NNLS fractions, the scRNA reference, marker scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls

from organomics.errors import InputError
from organomics.rnaseq import deconvolution as dc


def test_nnls_gives_fractions_of_cells_not_of_mrna():
    # Type A holds 100 counts per cell, type B 10: 10 A cells + 90 B cells give 1,000 + 900
    # counts, an mRNA share of 1000/1900 for A but a cell fraction of 10/100 (by hand).
    reference = pd.DataFrame({"A": [60.0, 40.0, 0.0], "B": [0.0, 5.0, 5.0]}, index=list("xyz"))
    bulk = pd.DataFrame({"s": reference.to_numpy() @ np.array([10.0, 90.0])}, index=list("xyz"))
    fractions = dc.nnls_fractions(bulk, reference)
    assert fractions.loc["s", "A"] == pytest.approx(0.1, abs=1e-12)
    assert fractions.loc["s", "B"] == pytest.approx(0.9, abs=1e-12)
    assert fractions.loc["s", "relative_residual"] == pytest.approx(0.0, abs=1e-12)


def test_nnls_clips_a_negative_least_squares_solution():
    # A = [[1, 0], [1, 1]], b = [1, 0]: least squares gives x = (1, -1); with x >= 0 the
    # optimum is x2 = 0 and x1 minimising (x1 - 1)^2 + x1^2, i.e. 0.5 (by hand), so all cells
    # are of type A; residual sqrt(0.5^2 + 0.5^2) / 1.
    reference = pd.DataFrame({"A": [1.0, 1.0], "B": [0.0, 1.0]}, index=["g1", "g2"])
    bulk = pd.DataFrame({"s": [1.0, 0.0]}, index=["g1", "g2"])
    x, _ = nnls(reference.to_numpy(), bulk["s"].to_numpy())
    assert x.tolist() == pytest.approx([0.5, 0.0])
    fractions = dc.nnls_fractions(bulk, reference)
    assert fractions.loc["s", ["A", "B"]].tolist() == [1.0, 0.0]
    assert fractions.loc["s", "relative_residual"] == pytest.approx(np.sqrt(0.5))


def test_nnls_all_zero_sample_has_no_fractions():
    reference = pd.DataFrame({"A": [1.0, 0.0], "B": [0.0, 1.0]}, index=["g1", "g2"])
    bulk = pd.DataFrame({"s": [0.0, 0.0]}, index=["g1", "g2"])
    assert dc.nnls_fractions(bulk, reference).loc["s", ["A", "B"]].isna().all()


def test_reference_profiles_mean_counts_per_cell_over_the_cohort():
    # Cells: two samples; T cells c0 (s1), c2 (s2); M cells c1 (s1) and c3 (s2); c4 "other".
    obs = pd.DataFrame(
        {"sample": ["s1", "s1", "s2", "s2", "s2"], "cell_type": ["T", "M", "T", "M", "other"]},
        index=[f"c{i}" for i in range(5)],
    )
    counts = np.array([[4, 0, 1], [0, 6, 1], [2, 0, 3], [0, 2, 1], [9, 9, 9]])
    blocks = [(0, sp.csr_matrix(counts[:2])), (2, sp.csr_matrix(counts[2:]))]
    genes = pd.Index(["CD3E", "LYZ", "ACTB"])
    ids = pd.Series(["ENSG00000198851", "ENSG00000090382", "ENSG00000075624"], index=genes)
    profiles, n_cells = dc.reference_profiles(obs, genes, iter(blocks), ids, min_cells=2)
    # By hand: T = ((4,0,1) + (2,0,3)) / 2 = (3, 0, 2); M = ((0,6,1) + (0,2,1)) / 2 = (0, 4, 1).
    assert profiles.columns.tolist() == ["gene", "gene_id", "M", "T"]
    assert profiles["T"].tolist() == [3.0, 0.0, 2.0]
    assert profiles["M"].tolist() == [0.0, 4.0, 1.0]
    assert profiles["gene_id"].tolist() == ids.tolist()
    assert n_cells.to_dict() == {"M": 2, "T": 2, "other": 1}


def test_reference_profiles_min_cells_leaves_rare_types_out():
    obs = pd.DataFrame({"sample": ["s1"] * 3, "cell_type": ["T", "T", "B"]})
    blocks = [(0, sp.csr_matrix(np.array([[1, 0], [3, 0], [0, 5]])))]
    profiles, n_cells = dc.reference_profiles(obs, pd.Index(["a", "b"]), blocks, min_cells=2)
    assert profiles.columns.tolist() == ["gene", "T"]
    assert profiles["T"].tolist() == [2.0, 0.0]
    assert n_cells.to_dict() == {"B": 1, "T": 2}


def test_match_genes_by_ensembl_id_then_by_symbol():
    reference = pd.DataFrame(
        {
            "gene": ["CD8A", "LYZ", "ALB"],
            "gene_id": ["ENSG00000153563", "ENSG00000090382", "ENSG00000163631"],
            "T": [1.0, 0.0, 0.0],
            "M": [0.0, 1.0, 0.0],
        }
    )
    bulk = pd.DataFrame(
        {"s": [5, 7, 9]}, index=["ENSG00000163631.17", "ENSG00000153563.16", "ENSG00000000003.15"]
    )
    matched_bulk, matched_ref, how = dc.match_genes(bulk, reference, None)
    assert how == "Ensembl id"
    assert matched_bulk.index.tolist() == ["ENSG00000163631", "ENSG00000153563"]
    assert matched_bulk["s"].tolist() == [5, 7]
    assert matched_ref["T"].tolist() == [0.0, 1.0]
    # Without reference ids, Ensembl bulk ids are translated with the RNA branch's table.
    symbols = pd.Series({"ENSG00000163631": "ALB", "ENSG00000153563": "CD8A"})
    by_symbol, ref, how = dc.match_genes(bulk, reference.drop(columns="gene_id"), symbols)
    assert how == "symbol"
    assert by_symbol.index.tolist() == ["ALB", "CD8A"] and ref["T"].tolist() == [0.0, 1.0]
    # Symbol bulk, symbol reference.
    plain = pd.DataFrame({"s": [1, 2]}, index=["LYZ", "GAPDH"])
    matched, ref, how = dc.match_genes(plain, reference, None)
    assert how == "symbol" and matched.index.tolist() == ["LYZ"] and ref["M"].tolist() == [1.0]


def test_log_expression_by_hand():
    # Size factors by hand: gene ratios to their geometric means are (0.5, 2) for both genes,
    # so factors (0.5, 2); normalised counts (2, 2) and (8, 8); log2(x + 1).
    counts = pd.DataFrame({"a": [1, 4], "b": [4, 16]}, index=["g1", "g2"])
    values = dc.log_expression(counts)
    expected = [np.log2(3), np.log2(3), np.log2(9), np.log2(9)]
    assert values.to_numpy().ravel().tolist() == pytest.approx(expected)


def test_marker_scores_mean_of_measured_markers(caplog):
    expression = pd.DataFrame(
        {"s1": [1.0, 3.0, 10.0, 0.0], "s2": [5.0, 7.0, 0.0, 1.0]},
        index=["ENSG1", "ENSG2", "ENSG3", "ENSG4"],
    )
    symbols = pd.Series({"ENSG1": "CD3D", "ENSG2": "CD3G", "ENSG3": "CD19", "ENSG4": "CD3D"})
    markers = {"T_cells": ["CD3D", "CD3G", "CD28"], "B_lineage": ["CD19"], "NK": ["NCR1"]}
    scores = dc.marker_scores(expression, symbols, markers)
    # CD3D twice: the more expressed row counts (ENSG1, mean 3 > 0.5); CD28 not measured.
    # By hand: s1 (1 + 3) / 2 = 2, s2 (5 + 7) / 2 = 6.
    assert scores["T_cells"].tolist() == [2.0, 6.0]
    assert scores["B_lineage"].tolist() == [10.0, 0.0]
    assert "NK" not in scores.columns
    assert scores.attrs["n_markers"] == {"T_cells": 2, "B_lineage": 1, "NK": 0}
    assert "NK: 0 of 1 markers measured" in caplog.text


def test_marker_scores_keep_the_most_expressed_row_of_a_symbol():
    expression = pd.DataFrame({"s1": [1.0, 9.0, 4.0]}, index=["ENSG1", "ENSG4", "ENSG2"])
    symbols = pd.Series({"ENSG1": "CD3D", "ENSG4": "CD3D", "ENSG2": "CD3G"})
    scores = dc.marker_scores(expression, symbols, {"T": ["CD3D", "CD3G"]})
    assert scores.loc["s1", "T"] == pytest.approx((9.0 + 4.0) / 2)  # by hand


def test_read_markers_and_reference_errors(tmp_path):
    good = tmp_path / "markers.tsv"
    good.write_text("cell_population\tgene\nT cells\tCD3D\nT cells\tCD3G\nB\tCD19\n")
    assert dc.read_markers(good) == {"T cells": ["CD3D", "CD3G"], "B": ["CD19"]}
    bad = tmp_path / "bad.tsv"
    bad.write_text("cell_population\tgene\nT\tCD3D\nT\t\n")
    with pytest.raises(InputError, match="row 3"):
        dc.read_markers(bad)
    reference = tmp_path / "reference.tsv"
    reference.write_text("gene\tT\tM\nCD3D\t1.5\t0\nLYZ\t-1\t3\n")
    with pytest.raises(InputError, match="row 3, column 'T'"):
        dc.read_reference(reference)


def test_long_table_and_deconvolve_end_to_end():
    # Two cell types, four genes; bulk = exact mixtures, so NNLS returns the mixing fractions.
    reference = pd.DataFrame(
        {"gene": ["CD3D", "CD3G", "LYZ", "ACTB"], "T": [8.0, 4.0, 0.0, 20.0], "M": [0, 0, 9, 40]}
    )
    profile = reference[["T", "M"]].to_numpy(dtype=float)
    bulk = pd.DataFrame(
        {"s1": profile @ [30, 70], "s2": profile @ [80, 20]}, index=reference["gene"]
    ).round()
    markers = {"T_cells": ["CD3D", "CD3G"]}
    table = dc.deconvolve(bulk.astype(int), None, markers, reference, min_genes=2)
    assert table.columns.tolist() == dc.COLUMNS
    fractions = table[table["method"] == "scrna_reference"].pivot(
        index="sample", columns="cell_type", values="value"
    )
    assert fractions.loc["s1", "T"] == pytest.approx(0.3) and fractions.loc["s2", "M"] == (
        pytest.approx(0.2)
    )
    assert (table.loc[table["method"] == "scrna_reference", "value_type"] == "fraction").all()
    scores = table[table["method"] == "mcp_counter"]
    assert scores["cell_type"].tolist() == ["T_cells", "T_cells"]
    assert (scores["value_type"] == "score").all()
    # Too few shared genes: no fractions, scores still there.
    fewer = dc.deconvolve(bulk.astype(int), None, markers, reference, min_genes=5)
    assert fewer["method"].unique().tolist() == ["mcp_counter"]


def test_site_comparison_paired_and_bh_within_method():
    # Three pairs, every LM value lower: exact two-sided signed-rank p = 2/8 = 0.25 (by hand,
    # 2 of the 2^3 sign patterns are as extreme); one test per method, so p_adj = p.
    rows = []
    for patient, (pl, lm) in {"P1": (0.3, 0.1), "P2": (0.4, 0.3), "P3": (0.2, 0.15)}.items():
        rows += [
            (f"{patient}_PL", "scrna_reference", "T_CD8", pl, "fraction"),
            (f"{patient}_LM", "scrna_reference", "T_CD8", lm, "fraction"),
            (f"{patient}_PL", "mcp_counter", "T_cells", 5.0, "score"),
            (f"{patient}_LM", "mcp_counter", "T_cells", 5.0 + 0.1 * int(patient[1]), "score"),
        ]
    table = pd.DataFrame(rows, columns=dc.COLUMNS)
    design = pd.DataFrame(
        [(f"P{i}_{s}", f"P{i}", s) for i in (1, 2, 3) for s in ("PL", "LM")],
        columns=["sample", "patient", "site"],
    )
    result = dc.site_comparison(table, design, "PL", "LM").set_index("method")
    fraction = result.loc["scrna_reference"]
    assert fraction["n_pairs"] == 3 and fraction["p_value"] == pytest.approx(0.25)
    assert fraction["median_difference"] == pytest.approx(-0.1)  # (-0.2, -0.1, -0.05)
    assert fraction["p_adj"] == pytest.approx(0.25) and fraction["value_type"] == "fraction"
    assert result.loc["mcp_counter", "p_value"] == pytest.approx(0.25)
    assert "(mcp_counter)" in result.loc["mcp_counter", "correction"]


def test_site_comparison_simultaneous_subset_and_findings_take_all_rows():
    from organomics.summary import findings

    # Four pairs; P1 and P3 simultaneous: their LM - PL differences -0.2 and -0.05 give the exact
    # two-sided signed-rank p = 2/4 = 0.5 (by hand: 2 of the 2^2 sign patterns as extreme)
    values = {"P1": (0.3, 0.1), "P2": (0.4, 0.3), "P3": (0.2, 0.15), "P4": (0.5, 0.1)}
    rows = []
    for patient, (pl, lm) in values.items():
        rows += [
            (f"{patient}_PL", "scrna_reference", "T_CD8", pl, "fraction"),
            (f"{patient}_LM", "scrna_reference", "T_CD8", lm, "fraction"),
        ]
    table = pd.DataFrame(rows, columns=dc.COLUMNS)
    design = pd.DataFrame(
        [(f"{p}_{s}", p, s) for p in values for s in ("PL", "LM")],
        columns=["sample", "patient", "site"],
    )
    result = dc.site_comparison(table, design, "PL", "LM", ["P1", "P3"])
    assert list(result.columns[:4]) == ["subset", "method", "cell_type", "value_type"]
    assert result["subset"].tolist() == ["all", "simultaneous"]
    simultaneous = result.iloc[1]
    assert simultaneous["n_pairs"] == 2 and simultaneous["p_value"] == pytest.approx(0.5)
    assert simultaneous["median_difference"] == pytest.approx(-0.125)
    before = dc.site_comparison(table, design, "PL", "LM")
    pd.testing.assert_frame_equal(result.iloc[:1].drop(columns="subset"), before)
    rows = findings.deconvolution_rows(result, "PL", "LM")
    assert len(rows) == 1 and rows[0]["n"] == 4


def test_summary_reads_deconvolution_tables():
    """findings rows, concordance values and response measures from the tables written here."""
    from organomics.summary import concordance, findings, response

    table = pd.DataFrame(
        [
            ("P1_PL", "scrna_reference", "T_CD8", 0.3, "fraction"),
            ("P1_LM", "scrna_reference", "T_CD8", 0.1, "fraction"),
            ("P1_PL", "mcp_counter", "Cytotoxic_lymphocytes", 6.5, "score"),
        ],
        columns=dc.COLUMNS,
    )
    spec = {"layer": "rnaseq", "deconvolution": "scrna_reference", "cell_type": "T_CD8"}
    values = concordance.sample_values(spec, {"rnaseq_deconvolution": table})
    assert values.to_dict() == {"P1_PL": 0.3, "P1_LM": 0.1}
    assert concordance.describe(spec) == "rnaseq T_CD8 deconvolved (scrna_reference)"
    measures = response.sample_measures({"deconvolution": table})
    assert measures["measure"].tolist() == [
        "T_CD8 fraction (scrna_reference)",
        "T_CD8 fraction (scrna_reference)",
        "Cytotoxic_lymphocytes score (mcp_counter)",
    ]
    assert measures["value"].tolist() == [0.3, 0.1, 6.5]
    comparison = pd.DataFrame(
        {
            "method": ["scrna_reference", "mcp_counter"],
            "cell_type": ["T_CD8", "Cytotoxic_lymphocytes"],
            "value_type": ["fraction", "score"],
            "n_pairs": [3, 3],
            "median_PL": [0.3, 6.0],
            "median_LM": [0.1, 5.0],
            "median_difference": [-0.1, -1.0],
            "p_value": [0.25, 0.25],
            "p_adj": [0.25, 0.25],
            "test": ["Wilcoxon"] * 2,
            "correction": ["BH"] * 2,
        }
    )
    rows = findings.deconvolution_rows(comparison, "PL", "LM")
    assert [r["measure"] for r in rows] == [
        "T_CD8 fraction (deconvolution, scrna_reference)",
        "Cytotoxic_lymphocytes score (deconvolution, mcp_counter)",
    ]
    assert rows[0]["effect"] == -0.1 and rows[0]["n"] == 3 and rows[0]["layer"] == "rnaseq"
    assert rows[1]["effect_measure"] == "median paired difference in marker score (log2)"


def test_demo_mixture_truth_is_the_mixture_of_its_profiles():
    """The demo's bulk panel genes are mixtures of the scRNA demo's cell types: NNLS of a
    sample's expected counts on the same profiles returns its recorded fractions exactly."""
    from organomics.demo import rnaseq as demo
    from organomics.demo.cohort import DemoCohort

    mixture = demo.mixture_profiles(DemoCohort(seed=0))
    for role, infiltration in (("reference", 0.4), ("compare", -1.2)):
        expected = demo.mix(mixture, f"s_{role}", role, infiltration, library=1.3)
        profiles = mixture.profiles[role]
        bulk = pd.DataFrame({"s": expected}, index=profiles.index)
        fractions = dc.nnls_fractions(bulk, profiles).iloc[0].drop("relative_residual")
        truth = mixture.truth[f"s_{role}"]
        assert truth.sum() == pytest.approx(1.0)
        assert fractions.to_numpy() == pytest.approx(truth[profiles.columns].to_numpy(), abs=1e-6)
    # Hepatocytes only in liver metastases (the scRNA demo's mean share is 0 at PL, 0.13 at LM).
    assert mixture.truth["s_reference"]["hepatocyte"] < 1e-6
    assert mixture.truth["s_compare"]["hepatocyte"] > 0.05
