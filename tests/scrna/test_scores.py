"""Signature scores, composition and the paired tests (numbers checked by hand and with scipy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from organomics.errors import InputError
from organomics.scrna import scores
from organomics.scrna.scores import Signature


def _obs(rows):
    return pd.DataFrame(rows, columns=["sample", "patient", "site", "cell_type", "sig"])


def test_composition_counts_fractions_and_zeros():
    obs = _obs(
        [
            ["A_PL", "A", "PL", "T_CD8", 0],
            ["A_PL", "A", "PL", "T_CD8", 0],
            ["A_PL", "A", "PL", "NK", 0],
            ["A_LM", "A", "LM", "NK", 0],
        ]
    )
    table = scores.composition(obs, ["T_CD8", "NK", "other"])
    got = table.set_index(["sample", "cell_type"])
    assert got.loc[("A_PL", "T_CD8"), "n_cells"] == 2
    assert got.loc[("A_PL", "T_CD8"), "fraction"] == pytest.approx(2 / 3)
    assert got.loc[("A_LM", "T_CD8"), "n_cells"] == 0
    assert got.loc[("A_LM", "NK"), "fraction"] == 1.0
    assert list(table.columns) == scores.CELL_TYPE_COLUMNS
    assert len(table) == 6


def test_mean_scores_by_hand():
    obs = _obs(
        [
            ["A_PL", "A", "PL", "T_CD8", 1.0],
            ["A_PL", "A", "PL", "T_CD8", 3.0],
            ["A_PL", "A", "PL", "NK", -1.0],
        ]
    )
    raw = scores.mean_scores(obs, ["sig"])
    assert list(raw.columns) == scores.SCORE_COLUMNS
    table = raw.set_index("cell_type")
    assert table.loc["T_CD8", "mean_score"] == 2.0 and table.loc["T_CD8", "n_cells"] == 2
    assert table.loc["NK", "mean_score"] == -1.0


def _paired_scores(pl, lm, n_cells=50, cell_type="T_CD8", signature="effector_CD8"):
    rows = []
    for i, (a, b) in enumerate(zip(pl, lm, strict=True)):
        for site, value in (("PL", a), ("LM", b)):
            rows.append(
                {
                    "sample": f"P{i}_{site}",
                    "patient": f"P{i}",
                    "site": site,
                    "cell_type": cell_type,
                    "signature": signature,
                    "mean_score": value,
                    "n_cells": n_cells,
                }
            )
    return pd.DataFrame(rows)


def test_site_comparison_matches_scipy_exact_wilcoxon():
    pl = [1.0, 1.4, 0.9, 1.2, 1.6, 1.1, 0.7]
    lm = [0.2, 0.5, 1.0, 0.3, 0.4, 0.1, 0.6]
    table = _paired_scores(pl, lm)
    fractions = pd.DataFrame(columns=scores.CELL_TYPE_COLUMNS)
    signature = Signature("effector_CD8", ["GZMB"], ["T_CD8"])
    result = scores.site_comparison(table, fractions, [signature], "PL", "LM")
    row = result.iloc[0]
    expected = stats.wilcoxon(lm, pl, method="exact")
    assert row["n_pairs"] == 7
    assert row["p_value"] == pytest.approx(expected.pvalue)
    assert row["statistic"] == expected.statistic
    assert row["median_PL"] == np.median(pl) and row["median_LM"] == np.median(lm)
    assert row["median_difference"] == pytest.approx(np.median(np.subtract(lm, pl)))


def test_site_comparison_simultaneous_rows_match_scipy_on_those_patients():
    pl = [1.0, 1.4, 0.9, 1.2, 1.6, 1.1, 0.7]
    lm = [0.2, 0.5, 1.0, 0.3, 0.4, 0.1, 0.6]
    table = _paired_scores(pl, lm)
    fractions = pd.DataFrame(columns=scores.CELL_TYPE_COLUMNS)
    signature = Signature("effector_CD8", ["GZMB"], ["T_CD8"])
    keep = [0, 3, 4, 5, 6]  # |differences| 0.8, 0.9, 1.2, 1.0, 0.1: no ties, scipy exact applies
    simultaneous = [f"P{i}" for i in keep]
    result = scores.site_comparison(table, fractions, [signature], "PL", "LM", 10, simultaneous)
    assert result["subset"].tolist() == ["all", "simultaneous"]
    row = result.iloc[1]
    expected = stats.wilcoxon([lm[i] for i in keep], [pl[i] for i in keep], method="exact")
    assert row["subset"] == "simultaneous" and row["n_pairs"] == 5
    assert row["p_value"] == pytest.approx(expected.pvalue)
    assert row["statistic"] == expected.statistic
    assert row["median_PL"] == np.median([pl[i] for i in keep])
    # the "all" row is the table without collection days, value for value
    before = scores.site_comparison(table, fractions, [signature], "PL", "LM")
    assert "subset" not in before.columns
    pd.testing.assert_frame_equal(result.iloc[:1].drop(columns="subset"), before)


def test_site_comparison_min_cells_cell_types_and_two_families():
    table = pd.concat(
        [
            _paired_scores([1, 2, 3, 4], [0, 1, 2, 3]),
            _paired_scores([1, 2, 3, 4], [0, 1, 2, 3], cell_type="B"),  # not a signature target
            _paired_scores([5, 5], [1, 1], n_cells=3, cell_type="T_CD8", signature="other_sig"),
        ]
    )
    fractions = pd.DataFrame(
        {
            "sample": ["P0_PL", "P0_LM", "P1_PL", "P1_LM"],
            "patient": ["P0", "P0", "P1", "P1"],
            "site": ["PL", "LM", "PL", "LM"],
            "cell_type": "T_CD8",
            "n_cells": [10, 5, 12, 4],
            "fraction": [0.3, 0.1, 0.4, 0.2],
        }
    )
    signatures = [Signature("effector_CD8", ["GZMB"], ["T_CD8"]), Signature("other_sig", ["X"])]
    result = scores.site_comparison(table, fractions, signatures, "PL", "LM", min_cells=10)
    keys = list(zip(result["cell_type"], result["signature"], strict=True))
    assert keys == [("T_CD8", "effector_CD8"), ("T_CD8", "fraction")]
    assert result["correction"].tolist() == ["Benjamini-Hochberg across 1 tests"] * 2
    assert result.loc[1, "median_difference"] == pytest.approx(-0.2)


def test_score_signatures_seeded_and_directional(make_adata):
    rng = np.random.default_rng(1)
    genes = ["GZMB", "PRF1", "NKG7"] + [f"G{i}" for i in range(60)]
    x = rng.poisson(1.0, size=(40, len(genes))).astype(float)
    x[:20, :3] += 6  # the first 20 cells express the signature
    adata = make_adata(np.log1p(x), genes)
    signature = Signature("sig", ["GZMB", "PRF1", "NKG7", "ABSENT"])
    assert scores.score_signatures(adata, [signature], seed=0) == ["sig"]
    first = adata.obs["sig"].to_numpy().copy()
    scores.score_signatures(adata, [signature], seed=0)
    assert np.array_equal(first, adata.obs["sig"].to_numpy())
    assert first[:20].mean() > first[20:].mean() + 1.0
    assert scores.score_signatures(adata, [Signature("none", ["ABSENT"])]) == []


def test_load_signatures_errors(tmp_path):
    good = tmp_path / "s.yaml"
    good.write_text("a: {genes: [GZMB, PRF1], cell_types: [T_CD8]}\nb: [NKG7]\n")
    loaded = scores.load_signatures(good)
    assert loaded[0].cell_types == ["T_CD8"] and loaded[1].genes == ["NKG7"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: {genes: GZMB}\n")
    with pytest.raises(InputError, match="list of gene symbols"):
        scores.load_signatures(bad)
    reserved = tmp_path / "r.yaml"
    reserved.write_text("fraction: [GZMB]\n")
    with pytest.raises(InputError, match="reserved"):
        scores.load_signatures(reserved)
