"""Cohort loading: gene order, shared genes, samples without cells."""

from __future__ import annotations

import logging

import numpy as np

from organomics.scrna.cohort import load_samples


def test_load_samples_aligns_genes_and_skips_empty(make_adata, tmp_path, caplog):
    a = make_adata([[1, 0, 2], [0, 3, 0]], ["CD3D", "NKG7", "LYZ"], cells=["a1", "a2"])
    b = make_adata([[5, 4, 9]], ["LYZ", "CD3D", "XIST"], cells=["b1"])  # other order, extra gene
    empty = make_adata(np.zeros((0, 3)), ["CD3D", "NKG7", "LYZ"], cells=[])
    paths = []
    for name, part in (("A_PL", a), ("A_LM", b), ("B_PL", empty)):
        part.uns["sample"] = name
        part.write_h5ad(tmp_path / f"{name}.h5ad")
        paths.append(tmp_path / f"{name}.h5ad")
    records = [
        {"sample": "A_PL", "patient": "A", "site": "PL"},
        {"sample": "A_LM", "patient": "A", "site": "LM"},
        {"sample": "B_PL", "patient": "B", "site": "PL"},
    ]
    with caplog.at_level(logging.WARNING):
        adata = load_samples(paths, records)
    assert "B_PL: no cells after QC" in caplog.text
    assert list(adata.var_names) == ["CD3D", "LYZ"]
    assert adata.X.toarray().tolist() == [[1, 2], [0, 0], [4, 5]]
    assert adata.obs["site"].astype(str).tolist() == ["PL", "PL", "LM"]
    assert adata.obs["patient"].astype(str).tolist() == ["A", "A", "A"]
