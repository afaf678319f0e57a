"""Gene ids through the scRNA branch: Ensembl ids (versions, _PAR_Y), shared symbols, no symbols.

Cell Ranger names every feature by id and symbol; GENCODE gives a few symbols to several ids
(the `_PAR_Y` copies of X genes, TBCE's two loci). Expected names follow scanpy's convention for
shared names, written out by hand below.
"""

from __future__ import annotations

import gzip
import logging

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from organomics.scrna import cohort, pseudobulk, qc
from organomics.scrna.io import looks_like_ids, read_sample

# id, symbol, feature type, as Cell Ranger 3+ writes them (GENCODE v32-style ids and symbols).
FEATURES = [
    ("ENSG00000002586.20", "CD99", "Gene Expression"),
    ("ENSG00000002586.20_PAR_Y", "CD99", "Gene Expression"),
    ("ENSG00000167286.10", "CD3D", "Gene Expression"),
    ("ENSG00000284770.2", "TBCE", "Gene Expression"),
    ("ENSG00000285053.1", "TBCE", "Gene Expression"),
    ("ENSG00000105374.10", "NKG7", "Gene Expression"),
    ("CD3_TotalSeqB", "CD3", "Antibody Capture"),
]
# Gene Expression features only; the second holder of a symbol takes "-1".
NAMES = ["CD99", "CD99-1", "CD3D", "TBCE", "TBCE-1", "NKG7"]
COUNTS = np.array(  # cells x features
    [
        [3, 0, 5, 1, 0, 2, 40],
        [0, 0, 1, 0, 4, 7, 12],
        [2, 1, 0, 0, 0, 0, 0],
    ]
)
BARCODES = ["AAACCTG-1", "AAACGGG-1", "AAAGATG-1"]


def write_directory(path):
    path.mkdir()
    with gzip.open(path / "features.tsv.gz", "wt") as handle:
        handle.writelines("\t".join(f) + "\n" for f in FEATURES)
    with gzip.open(path / "barcodes.tsv.gz", "wt") as handle:
        handle.writelines(b + "\n" for b in BARCODES)
    with gzip.open(path / "matrix.mtx.gz", "wb") as handle:
        scipy.io.mmwrite(handle, sp.coo_matrix(COUNTS.T), field="integer")
    return path


def write_h5(path):
    x = sp.csc_matrix(COUNTS.T)  # features x cells, stored by cell as Cell Ranger does
    with h5py.File(path, "w") as f:
        m = f.create_group("matrix")
        m["data"], m["indices"], m["indptr"] = x.data.astype(np.int32), x.indices, x.indptr
        m["shape"] = np.array(x.shape, dtype=np.int32)
        m["barcodes"] = np.array(BARCODES, dtype="S")
        features = m.create_group("features")
        features["id"] = np.array([f[0] for f in FEATURES], dtype="S")
        features["name"] = np.array([f[1] for f in FEATURES], dtype="S")
        features["feature_type"] = np.array([f[2] for f in FEATURES], dtype="S")
        features["genome"] = np.array(["GRCh38"] * len(FEATURES), dtype="S")
        features["_all_tag_keys"] = np.array([b"genome"])
    return path


@pytest.mark.parametrize("writer", [write_directory, write_h5], ids=["directory", "h5"])
def test_cell_ranger_ids_versions_par_y_and_shared_symbols(writer, tmp_path, caplog):
    path = writer(tmp_path / ("m.h5" if writer is write_h5 else "m"))
    with caplog.at_level(logging.WARNING):
        adata = read_sample(path, "S")
    assert list(adata.var_names) == NAMES
    assert list(adata.var["gene_ids"]) == [f[0] for f in FEATURES[:6]]  # versions, _PAR_Y kept
    np.testing.assert_array_equal(adata.X.toarray(), COUNTS[:, :6])
    assert "2 symbol(s) shared by several gene ids" in caplog.text
    assert "CD99, TBCE" in caplog.text


def test_h5ad_keyed_by_versioned_ids_with_a_symbol_missing(tmp_path, caplog):
    var = pd.DataFrame(
        {"feature_name": ["CD3D", None, "NKG7"]},
        index=["ENSG00000167286.10", "ENSG00000289901.1", "ENSG00000105374.10"],
    )
    ad.AnnData(X=sp.csr_matrix(COUNTS[:, 2:5].astype(np.float32)), var=var).write_h5ad(
        tmp_path / "s.h5ad"
    )
    with caplog.at_level(logging.WARNING):
        adata = read_sample(tmp_path / "s.h5ad", "S")
    # The gene without a symbol keeps its id instead of becoming "nan" or "None".
    assert list(adata.var_names) == ["CD3D", "ENSG00000289901.1", "NKG7"]
    assert list(adata.var["gene_ids"]) == list(var.index)
    assert "1 gene(s) without a symbol in var['feature_name'] keep their id" in caplog.text


def test_h5ad_keyed_by_ids_without_symbols_is_said(tmp_path, caplog):
    ids = ["ENSG00000198888.2", "ENSG00000167286.10", "ENSG00000105374.10_PAR_Y"]
    assert looks_like_ids(pd.Index(ids)) and not looks_like_ids(pd.Index(["CD3D", "ENSG1"]))
    x = sp.csr_matrix(np.array([[9, 250, 3], [1, 300, 4]], dtype=np.float32))
    ad.AnnData(X=x, var=pd.DataFrame(index=ids)).write_h5ad(tmp_path / "s.h5ad")
    with caplog.at_level(logging.WARNING):
        adata = read_sample(tmp_path / "s.h5ad", "S")
        kept, row = qc.run_qc(adata, "S", qc.QCLimits(min_genes=1, doublets=False))
    assert "keyed by Ensembl ids and var has no symbol column" in caplog.text
    # MT-ND1 is ENSG00000198888 but no name starts with "MT-": % mito is 0, and the log says so.
    assert "no gene symbol starts with mt_prefix 'MT-'" in caplog.text
    assert row["n_cells_kept"] == 2 and row["median_pct_mt"] == 0


def test_samples_joined_by_symbol_with_other_ids_are_flagged(make_adata, tmp_path, caplog):
    records = [{"sample": "A_PL", "patient": "A", "site": "PL"},
               {"sample": "A_LM", "patient": "A", "site": "LM"}]  # fmt: skip
    a = make_adata([[1, 2, 3]], ["CD99", "CD99-1", "CD3D"])
    a.var["gene_ids"] = ["ENSG00000002586.20", "ENSG00000002586.20_PAR_Y", "ENSG00000167286.10"]
    b = make_adata([[4, 5, 6]], ["CD99", "CD99-1", "CD3D"])
    # another GENCODE release: CD3D's version differs (fine), CD99-1 is another gene (not fine)
    b.var["gene_ids"] = ["ENSG00000002586.19", "ENSG00000999999.1", "ENSG00000167286.9"]
    paths = []
    for name, part in (("A_PL", a), ("A_LM", b)):
        part.uns["sample"] = name
        part.write_h5ad(tmp_path / f"{name}.h5ad")
        paths.append(tmp_path / f"{name}.h5ad")
    with caplog.at_level(logging.WARNING):
        cohort.scan_samples(paths, records)
    assert (
        "1 gene name(s) stand for other gene ids in A_LM than in A_PL: CD99-1 "
        "(ENSG00000002586_PAR_Y / ENSG00000999999)"
    ) in caplog.text


def test_pseudobulk_results_keep_each_genes_id(make_adata):
    rng = np.random.default_rng(1)
    genes = ["CD99", "CD99-1", "TBCE", "TBCE-1", *[f"G{i}" for i in range(40)]]
    ids = pd.Series([f"ENSG{i:011d}.1" for i in range(len(genes))], index=genes)
    ids["CD99-1"] = "ENSG00000002586.20_PAR_Y"
    rows, obs = [], {"sample": [], "patient": [], "site": [], "cell_type": []}
    for p in range(3):
        for site in ("PL", "LM"):
            rows.append(rng.poisson(rng.gamma(5, 1, len(genes)), size=(12, len(genes))))
            obs["sample"] += [f"P{p}_{site}"] * 12
            obs["patient"] += [f"P{p}"] * 12
            obs["site"] += [site] * 12
            obs["cell_type"] += ["T_CD8"] * 12
    adata = make_adata(np.vstack(rows), genes, obs=obs)
    results, _ = pseudobulk.cell_type_de(
        adata.obs, adata.var_names, [(0, adata.X)], "PL", "LM", min_pairs=3, gene_ids=ids
    )
    result = results["T_CD8"]
    assert list(result.columns[:2]) == ["gene", "gene_id"]
    assert result["gene_id"].tolist() == ids[result["gene"]].tolist()
    assert result.set_index("gene").loc["CD99-1", "gene_id"] == "ENSG00000002586.20_PAR_Y"
