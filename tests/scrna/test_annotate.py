"""Annotation: marker scoring by hand, marker-file errors, and real PBMCs (pbmc68k_reduced)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from organomics.errors import InputError
from organomics.scrna import annotate
from organomics.scrna.integrate import IntegrationParams, integrate

MARKERS = annotate.Markers(
    compartments={
        "T": {"positive": ["CD3D", "CD3E"], "negative": []},
        "NK": {"positive": ["NKG7", "GNLY"], "negative": ["CD3D"]},
    },
    min_score=0.5,
)


def test_group_stats_and_scores_by_hand(make_adata):
    counts = [
        [2, 1, 0, 0],  # cluster a
        [1, 0, 0, 0],  # cluster a
        [0, 0, 3, 1],  # cluster b
        [1, 0, 2, 0],  # cluster b
        [0, 0, 0, 0],  # cluster c
    ]
    adata = make_adata(counts, ["CD3D", "CD3E", "NKG7", "GNLY"])
    groups = pd.Series(["a", "a", "b", "b", "c"], index=adata.obs_names)
    detection, mean = annotate.group_stats(adata, groups, ["CD3D", "CD3E", "NKG7", "GNLY", "XX"])
    assert detection.loc["CD3D"].tolist() == [1.0, 0.5, 0.0]
    assert mean.loc["NKG7"].tolist() == [0.0, 2.5, 0.0]
    assert "XX" not in detection.index
    scores = annotate.compartment_scores(detection, MARKERS.compartments)
    # T: mean(CD3D, CD3E); NK: mean(NKG7, GNLY) - CD3D.
    assert scores.loc["a"].tolist() == [0.75, -1.0]
    assert scores.loc["b"].tolist() == [0.25, 0.75 - 0.5]
    labels = annotate.best_label(scores, MARKERS.min_score)
    assert labels.tolist() == ["T", "other", "other"]


def test_load_markers_bundled_and_errors(tmp_path, repo):
    markers = annotate.load_markers(repo / "resources/scrna/markers.yaml")
    assert markers.labels == [
        "T_CD8", "T_CD4", "NK", "B", "plasma", "myeloid", "epithelial", "hepatocyte",
        "fibroblast", "endothelial", "other",
    ]  # fmt: skip
    assert set(markers.states) == {"T_CD8", "T_CD4", "NK"}
    bad = tmp_path / "m.yaml"
    bad.write_text("compartments: {T: {negative: [CD8A]}}\n")
    with pytest.raises(InputError, match="positive"):
        annotate.load_markers(bad)
    bad.write_text("compartments: {T: {positive: [CD3D]}}\nstates: {B: {x: [MS4A1]}}\n")
    with pytest.raises(InputError, match="not a compartment"):
        annotate.load_markers(bad)
    bad.write_text("compartments: [1, 2\n")
    with pytest.raises(InputError, match="YAML"):
        annotate.load_markers(bad)


@pytest.fixture(scope="module")
def pbmc(repo):
    """pbmc68k_reduced (real 10x PBMCs shipped with scanpy) with its counts recovered.

    The file stores log1p(counts / total * scale) in .raw; each cell's smallest non-zero value
    is one count, so counts = expm1(x) / min(expm1(x) > 0), rounded (max deviation ~0.1).
    """
    import scanpy as sc

    reduced = sc.datasets.pbmc68k_reduced()
    raw = reduced.raw.to_adata()
    x = np.expm1(raw.X.toarray())
    unit = np.array([row[row > 0].min() for row in x])
    counts = np.rint(x / unit[:, None]).astype(np.float32)
    obs = pd.DataFrame(
        {
            "sample": "S",
            "patient": "P",
            "site": "PL",
            "truth": reduced.obs["bulk_labels"].astype(str),
        },
        index=reduced.obs_names,
    )
    adata = ad.AnnData(sp.csr_matrix(counts), obs=obs, var=pd.DataFrame(index=raw.var_names))
    integrate(adata, IntegrationParams(n_top_genes=500, umap=False))
    markers = annotate.load_markers(repo / "resources/scrna/markers.yaml")
    annotate.annotate_compartments(adata, markers)
    annotate.annotate_states(adata, markers)
    return adata


def _share(adata, truth, labels):
    cells = adata.obs[adata.obs["truth"] == truth]
    return cells["cell_type"].astype(str).isin(labels).mean()


def test_real_pbmcs_land_where_their_markers_say(pbmc):
    # FACS-reference labels of Zheng et al. 2017 (bulk_labels) against marker annotation.
    assert _share(pbmc, "CD14+ Monocyte", ["myeloid"]) >= 0.9
    assert _share(pbmc, "Dendritic", ["myeloid"]) >= 0.9
    assert _share(pbmc, "CD19+ B", ["B", "plasma"]) >= 0.9
    assert _share(pbmc, "CD56+ NK", ["NK"]) >= 0.8
    for t_label in ("CD4+/CD25 T Reg", "CD8+/CD45RA+ Naive Cytotoxic", "CD4+/CD45RO+ Memory"):
        assert _share(pbmc, t_label, ["T_CD4", "T_CD8"]) >= 0.8
    assert _share(pbmc, "CD4+/CD25 T Reg", ["T_CD4"]) >= 0.8
    # The 30 "CD19+ B" cells called plasma express the plasmablast markers MZB1 and TNFRSF17.
    plasma = pbmc[pbmc.obs["cell_type"] == "plasma"]
    assert (plasma[:, "TNFRSF17"].X > 0).mean() > 0.8


def test_states_and_sparse_matrices(pbmc):
    assert sp.issparse(pbmc.X) and sp.issparse(pbmc.layers["counts"])
    states = pbmc.obs.loc[pbmc.obs["cell_type"] == "NK", "cell_state"].astype(str)
    assert set(states) <= {"NK_CD56bright", "NK_CD56dim"}
    tcells = pbmc.obs["cell_type"].isin(["T_CD8", "T_CD4", "NK"])
    assert (pbmc.obs.loc[tcells, "subcluster"].astype(str) != "").all()
    assert (
        pbmc.obs.loc[~tcells, "cell_state"] == pbmc.obs.loc[~tcells, "cell_type"].astype(str)
    ).all()
