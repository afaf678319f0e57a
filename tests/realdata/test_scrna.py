"""`snakemake scrna` on genuine Cell Ranger files (scanpy's sdist test data), checked by hand.

The files (tests/scrna/data, PROVENANCE.md there) are Cell Ranger outputs this project did not
generate: a v3 run (chr21 only, 1,107 cells x 507 genes, Ensembl ids + symbols) as an h5 and as
a matrix directory, and a v1.2/v2 run (12 cells x 343 genes) as an h5 and as a directory. They
are too small for biology: two fake patients, each file one sample (P1: the v3 h5 at PL and the
same run's directory at LM, so the two readers must agree cell for cell; P2: the v2 pair, whose
cells detect one gene each and all fail QC). No marker or signature gene lies on chr21, so the
run must end and say what it could not do. Expected numbers come from the raw files read with
h5py / scipy.io alone (no scanpy, no organomics).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp
import yaml

DATA = Path(__file__).resolve().parents[1] / "scrna/data"
V3_H5 = DATA / "cellranger_v3/filtered_feature_bc_matrix.h5"
V3_DIR = DATA / "cellranger_v3/filtered_feature_bc_matrix"
V2_H5 = DATA / "cellranger_v2/filtered_gene_bc_matrices_h5.h5"
V2_DIR = DATA / "cellranger_v2/filtered_gene_bc_matrices"
MIN_GENES = 10

pytestmark = pytest.mark.slow


def raw_h5(path: Path, group: str) -> tuple[sp.csc_matrix, list[str], list[str], list[str]]:
    """genes x cells counts, barcodes, gene ids and symbols straight from the HDF5 arrays."""
    with h5py.File(path, "r") as f:
        g = f[group]
        shape = tuple(g["shape"][()])
        x = sp.csc_matrix((g["data"][()], g["indices"][()], g["indptr"][()]), shape=shape)
        barcodes = [b.decode() for b in g["barcodes"][()]]
        if "features" in g:
            ids = [b.decode() for b in g["features/id"][()]]
            names = [b.decode() for b in g["features/name"][()]]
        else:
            ids = [b.decode() for b in g["genes"][()]]
            names = [b.decode() for b in g["gene_names"][()]]
    return x, barcodes, ids, names


@pytest.fixture(scope="module")
def run(tmp_path_factory, snakemake_runner):
    work = tmp_path_factory.mktemp("scrna_realdata")
    rows = [
        ("P1_PL", "P1", "PL", V3_H5),
        ("P1_LM", "P1", "LM", V3_DIR),
        ("P2_PL", "P2", "PL", V2_H5),
        ("P2_LM", "P2", "LM", V2_DIR),
    ]
    sheet = pd.DataFrame(rows, columns=["sample", "patient", "site", "scrna"])
    sheet.to_csv(work / "samples.tsv", sep="\t", index=False)
    config = {
        "samples": "samples.tsv",
        "scrna": {
            # chr21 alone: cells detect 3-67 genes and no mitochondrial gene is measured.
            # Doublets off so that the kept cells follow from the counts alone (checked below).
            "qc": {"min_genes": MIN_GENES, "max_pct_mt": 100, "doublets": False},
            "integration": {"n_top_genes": 100, "n_pcs": 10},
            "comparison": {"min_cells": 5},
            "pseudobulk": {"min_pairs": 2},
        },
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake_runner(work, "scrna", "--configfile", "config.yaml")
    return work


def table(work: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(work / "results/scrna" / name, sep="\t")


def test_qc_counts_match_the_raw_files(run):
    x, _, _, _ = raw_h5(V3_H5, "matrix")
    genes_per_cell = np.diff(x.indptr)  # CSC columns are cells: stored non-zeros per cell
    kept = genes_per_cell >= MIN_GENES
    qc = table(run, "qc.tsv").set_index("sample")
    for sample in ("P1_PL", "P1_LM"):  # the h5 and the directory of one Cell Ranger run
        assert qc.loc[sample, "n_cells_raw"] == x.shape[1] == 1107
        assert qc.loc[sample, "n_cells_kept"] == kept.sum() == 1070
        assert qc.loc[sample, "removed_min_genes"] == (~kept).sum()
        assert qc.loc[sample, "median_genes"] == np.median(genes_per_cell[kept])
    v2, _, _, _ = raw_h5(V2_H5, "hg19_chr21")
    assert (np.diff(v2.indptr) < MIN_GENES).all()  # every v2 cell detects < 10 genes
    for sample in ("P2_PL", "P2_LM"):
        assert qc.loc[sample, "n_cells_raw"] == v2.shape[1] == 12
        assert qc.loc[sample, "n_cells_kept"] == 0
    removed = [c for c in qc.columns if c.startswith("removed_")]
    assert (qc[removed].sum(axis=1) == qc["n_cells_raw"] - qc["n_cells_kept"]).all()


def test_cohort_counts_and_ids_are_the_raw_counts(run):
    x, barcodes, ids, names = raw_h5(V3_H5, "matrix")
    with gzip.open(V3_DIR / "matrix.mtx.gz", "rb") as handle:
        mtx = sp.csc_matrix(scipy.io.mmread(handle))
    assert (mtx != x).nnz == 0  # the directory holds the h5's matrix
    kept = np.diff(x.indptr) >= MIN_GENES
    adata = ad.read_h5ad(run / "results/scrna/adata.h5ad")
    # Ensembl ids survive as gene_ids, symbols are var_names, each in the file's order.
    assert list(adata.var["gene_ids"]) == ids
    assert list(adata.var_names) == names
    counts = adata.layers["counts"]
    for sample in ("P1_PL", "P1_LM"):
        rows = (adata.obs["sample"] == sample).to_numpy()
        expected_cells = [f"{sample}_{b}" for b, k in zip(barcodes, kept, strict=True) if k]
        assert list(adata.obs_names[rows]) == expected_cells
        # The sample's pseudobulk: per-gene sums over its kept cells, by hand from the h5.
        expected = np.asarray(x[:, kept].sum(axis=1)).ravel()
        np.testing.assert_array_equal(np.asarray(counts[rows].sum(axis=0)).ravel(), expected)
    cell_types = table(run, "cell_types.tsv").set_index(["sample", "cell_type"])
    assert cell_types.loc[("P1_PL", "other"), "n_cells"] == kept.sum()
    assert set(cell_types.index.get_level_values("sample")) == {"P1_PL", "P1_LM"}


def test_the_run_says_what_it_could_not_do(run):
    excluded = table(run, "excluded.tsv").fillna("")
    assert list(excluded.columns) == ["step", "level", "item", "patient", "site", "reason"]
    qc_rows = excluded[excluded["step"] == "qc"].set_index("item")
    assert sorted(qc_rows.index) == ["P2_LM", "P2_PL"]
    assert qc_rows.loc["P2_PL", "reason"] == (
        "no cells after QC: 12 cells read, removed 12 by min_genes"
    )
    assert qc_rows.loc["P2_PL", "patient"] == "P2"
    pseudobulk = excluded[excluded["step"] == "pseudobulk"]
    assert pseudobulk[["level", "item"]].values.tolist() == [["cell type", "other"]]
    summary = table(run, "pseudobulk_summary.tsv")
    assert summary["status"].tolist() == ["not tested: 1 pairs with >= 10 cells"]
    log = (run / "logs/scrna/cohort.log").read_text()
    assert "every cell is 'other'" in log
    assert "effector_CD8, NK_cytotoxicity not scored" in log
    assert (
        "no gene symbol starts with mt_prefix" in (run / "logs/scrna/sample/P1_PL.log").read_text()
    )
    assert table(run, "signature_scores.tsv").empty
    for name in ("marker_dotplot", "score_violins", "score_paired", "umap_cell_type"):
        assert (run / f"results/scrna/plots/{name}.png").stat().st_size > 1000
