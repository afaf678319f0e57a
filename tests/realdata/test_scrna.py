"""`snakemake scrna` on genuine Cell Ranger files (scanpy's sdist test data), checked by hand.

The files (tests/scrna/data, PROVENANCE.md there) are Cell Ranger outputs this project did not
generate: a v3 run (chr21 only, 1,107 cells x 507 genes, Ensembl ids + symbols) as an h5 and as
a matrix directory, and a v1.2/v2 run (12 cells x 343 genes) as an h5 and as a directory. They
are too small for biology: two fake patients, each file one sample (P1: the v3 h5 at PL and the
same run's directory at LM, so the two readers must agree cell for cell; P2: the v2 pair, whose
cells detect one gene each and all fail QC). No marker or signature gene lies on chr21, so the
run must end and say what it could not do. Expected numbers come from the raw files read with
h5py / scipy.io alone (no scanpy, no organomics).

A second run uses real PBMCs: scanpy's bundled `pbmc68k_reduced` (700 cells of 10x Genomics'
Fresh 68k PBMCs, 765 genes, FACS-sorted `bulk_labels`; installed with scanpy, nothing
downloaded), counts recovered from its log-normalised .raw (each cell's smallest non-zero value
is one count), its cells dealt at random (seed 0) into three fake patients x two sites, one .h5ad
per sample. Annotation is checked against the FACS labels, and pseudobulk baseMean against
DESeq2's median-of-ratios computed by hand from the cells' counts.
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


PBMC_MIN_GENES = 200
PBMC_SAMPLES = [(f"{p}_{s}", p, s) for p in ("A", "B", "C") for s in ("PL", "LM")]


def pbmc_counts() -> tuple[np.ndarray, list[str], pd.Series]:
    """pbmc68k_reduced's counts (cells x genes), gene symbols and FACS labels."""
    import scanpy as sc

    reduced = sc.datasets.pbmc68k_reduced()
    raw = reduced.raw.to_adata()
    x = np.expm1(raw.X.toarray().astype(np.float64))
    unit = np.array([row[row > 0].min() for row in x])
    counts = np.rint(x / unit[:, None])
    return counts, list(raw.var_names), reduced.obs["bulk_labels"].astype(str)


@pytest.fixture(scope="module")
def pbmc(tmp_path_factory, snakemake_runner):
    work = tmp_path_factory.mktemp("scrna_pbmc")
    (work / "data").mkdir()
    counts, genes, labels = pbmc_counts()
    which = np.random.default_rng(0).integers(0, len(PBMC_SAMPLES), size=len(counts))
    truth = {}
    for i, (sample, _, _) in enumerate(PBMC_SAMPLES):
        cells = which == i
        part = ad.AnnData(
            X=sp.csr_matrix(counts[cells].astype(np.float32)),
            obs=pd.DataFrame(index=labels.index[cells]),
            var=pd.DataFrame(index=genes),
        )
        part.write_h5ad(work / f"data/{sample}.h5ad")
        truth.update({f"{sample}_{c}": label for c, label in labels[cells].items()})
    rows = [(s, p, site, f"data/{s}.h5ad") for s, p, site in PBMC_SAMPLES]
    sheet = pd.DataFrame(rows, columns=["sample", "patient", "site", "scrna"])
    sheet.to_csv(work / "samples.tsv", sep="\t", index=False)
    config = {
        "samples": "samples.tsv",
        "scrna": {
            "qc": {"min_genes": PBMC_MIN_GENES, "doublets": False},
            "integration": {"n_top_genes": 500, "n_pcs": 20},
            "comparison": {"min_cells": 5},
        },
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake_runner(work, "scrna", "--configfile", "config.yaml")
    return work, counts, which, pd.Series(truth)


def test_pbmc_qc_and_composition_by_hand(pbmc):
    work, counts, which, _ = pbmc
    qc = table(work, "qc.tsv").set_index("sample")
    cell_types = table(work, "cell_types.tsv")
    for i, (sample, _, _) in enumerate(PBMC_SAMPLES):
        genes = (counts[which == i] > 0).sum(axis=1)
        assert qc.loc[sample, "n_cells_raw"] == len(genes)
        assert qc.loc[sample, "n_cells_kept"] == (genes >= PBMC_MIN_GENES).sum()
        assert qc.loc[sample, "removed_min_genes"] == (genes < PBMC_MIN_GENES).sum()
        n = cell_types.loc[cell_types["sample"] == sample, "n_cells"].sum()
        assert n == (genes >= PBMC_MIN_GENES).sum()


def test_pbmc_annotation_agrees_with_facs_labels(pbmc):
    work, _, _, truth = pbmc
    obs = ad.read_h5ad(work / "results/scrna/adata.h5ad", backed="r").obs
    labelled = pd.crosstab(truth.reindex(obs.index), obs["cell_type"].astype(str))
    # FACS-sorted populations into the marker compartments (integer counts, >= 90% / >= 2/3).
    # CD19+ sorting keeps plasmablasts (MZB1+, TNFRSF17+): B or plasma, as tests/scrna says.
    for facs, compartments, share in (
        ("CD14+ Monocyte", ["myeloid"], (9, 10)),
        ("CD19+ B", ["B", "plasma"], (9, 10)),
        ("CD56+ NK", ["NK"], (2, 3)),
    ):
        row = labelled.loc[facs]
        agree = row.reindex(compartments).fillna(0).sum()
        assert agree * share[1] >= row.sum() * share[0], row.to_dict()


def test_pbmc_pseudobulk_base_means_by_hand(pbmc):
    work, _, _, _ = pbmc
    summary = table(work, "pseudobulk_summary.tsv").set_index("cell_type")
    assert summary.loc["myeloid", "status"] == "tested"
    adata = ad.read_h5ad(work / "results/scrna/adata.h5ad")
    cells = (adata.obs["cell_type"] == "myeloid").to_numpy()
    samples = [s for s, _, _ in PBMC_SAMPLES]
    profile = pd.DataFrame(
        {
            s: np.asarray(
                adata.layers["counts"][cells & (adata.obs["sample"] == s).to_numpy()].sum(axis=0)
            ).ravel()
            for s in samples
        },
        index=adata.var_names,
    )
    profile = profile[profile.sum(axis=1) >= 10]  # pseudobulk.min_total_count
    # DESeq2 median-of-ratios (Anders & Huber 2010) by hand: genes with no zero define them.
    positive = profile[(profile > 0).all(axis=1)]
    log_geo = np.log(positive).mean(axis=1)
    factors = np.exp((np.log(positive).sub(log_geo, axis=0)).median(axis=0))
    base_mean = (profile / factors).mean(axis=1)
    de = table(work, "pseudobulk_de/myeloid.tsv").set_index("gene")
    assert len(de) == len(profile) == summary.loc["myeloid", "n_genes"]
    # results are written with 6 significant digits: relative error below 5e-6
    np.testing.assert_allclose(de["baseMean"], base_mean.reindex(de.index), rtol=1e-5)


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
