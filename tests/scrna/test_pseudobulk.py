"""Pseudobulk aggregation by hand and the PyDESeq2 call per cell type."""

from __future__ import annotations

import numpy as np
import pandas as pd

from organomics.rnaseq.deseq import RESULT_COLUMNS
from organomics.scrna import pseudobulk


def test_aggregate_by_hand(make_adata):
    obs = {
        "sample": ["A", "A", "A", "B"],
        "cell_type": ["T", "T", "NK", "T"],
    }
    adata = make_adata([[1, 2], [3, 0], [5, 5], [7, 1]], ["G1", "G2"], obs=obs)
    whole = [(0, adata.X)]
    in_blocks = [(0, adata.X[:3]), (3, adata.X[3:])]  # as the workflow streams a big cohort
    for blocks in (whole, in_blocks):
        counts, groups = pseudobulk.aggregate(adata.obs, adata.var_names, blocks)
        table = pd.concat([groups, counts], axis=1).set_index(["sample", "cell_type"])
        assert table.loc[("A", "T"), ["G1", "G2", "n_cells"]].tolist() == [4, 2, 2]
        assert table.loc[("A", "NK"), ["G1", "G2", "n_cells"]].tolist() == [5, 5, 1]
        assert table.loc[("B", "T"), ["G1", "G2", "n_cells"]].tolist() == [7, 1, 1]


def test_cell_type_de_finds_a_planted_site_effect(make_adata):
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(60)]
    rows, obs = [], {"sample": [], "patient": [], "site": [], "cell_type": []}
    for p in range(4):
        for site in ("PL", "LM"):
            for cell_type, n in (("T_CD8", 30), ("B", 4)):
                mean = rng.gamma(5, 1, len(genes))
                mean[0] *= 0.2 if site == "LM" else 1.0  # G0 five-fold lower in LM
                rows.append(rng.poisson(mean, size=(n, len(genes))))
                obs["sample"] += [f"P{p}_{site}"] * n
                obs["patient"] += [f"P{p}"] * n
                obs["site"] += [site] * n
                obs["cell_type"] += [cell_type] * n
    adata = make_adata(np.vstack(rows), genes, obs=obs)
    results, summary = pseudobulk.cell_type_de(
        adata.obs, adata.var_names, [(0, adata.X)], "PL", "LM", min_cells=10, min_pairs=3
    )
    assert list(results) == ["T_CD8"]
    result = results["T_CD8"].set_index("gene")
    assert list(results["T_CD8"].columns) == RESULT_COLUMNS
    assert result.loc["G0", "log2FoldChange"] < -1.5
    assert result.loc["G0", "padj"] < 0.01
    status = summary.set_index("cell_type")["status"]
    assert status["T_CD8"] == "tested" and status["B"].startswith("not tested: 0 pairs")
    # 4 pairs, 5 coefficients, 8 samples: PyDESeq2's fit is reported, not silenced
    warned = summary.set_index("cell_type")["warnings"]
    assert warned["T_CD8"] and warned["T_CD8"] == "; ".join(
        row["message"] + (f" ({row['n_genes']} genes)" if row["n_genes"] else "")
        for row in results["T_CD8"].attrs["warnings"]
    )
    assert warned["B"] != warned["B"] or warned["B"] == ""  # not tested: nothing to report
