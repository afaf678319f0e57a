"""Readers: genuine Cell Ranger v2/v3 files (h5 and directories), h5ad, and malformed inputs."""

from __future__ import annotations

import gzip

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from organomics.demo.scrna import write_h5, write_mtx
from organomics.errors import InputError
from organomics.scrna.io import detect_format, read_sample


def _mmread(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as handle:
        return sp.csr_matrix(scipy.io.mmread(handle)).T.tocsr()  # cells x genes


def test_cellranger_v3_h5_matches_raw_hdf5(data_dir):
    path = data_dir / "cellranger_v3/filtered_feature_bc_matrix.h5"
    adata = read_sample(path, "S1")
    with h5py.File(path) as f:
        total = int(f["matrix/data"][:].sum())
        n_genes, n_cells = f["matrix/shape"][:]
        first_barcode = f["matrix/barcodes"][0].decode()
        first_id = f["matrix/features/id"][0].decode()
    assert adata.shape == (n_cells, n_genes) == (1107, 507)
    assert int(adata.X.sum()) == total
    assert adata.obs_names[0] == f"S1_{first_barcode}"
    assert adata.var["gene_ids"].iloc[0] == first_id
    assert (adata.obs["sample"] == "S1").all()
    assert sp.issparse(adata.X) and adata.X.dtype == np.float32


def test_cellranger_v3_directory_equals_its_h5(data_dir):
    directory = data_dir / "cellranger_v3/filtered_feature_bc_matrix"
    adata = read_sample(directory, "S1")
    expected = _mmread(directory / "matrix.mtx.gz")
    assert detect_format(directory) == "mtx"
    assert adata.shape == expected.shape
    assert (adata.X != expected).nnz == 0
    h5 = read_sample(data_dir / "cellranger_v3/filtered_feature_bc_matrix.h5", "S1")
    assert list(h5.obs_names) == list(adata.obs_names)
    assert (h5.X != adata.X).nnz == 0


@pytest.mark.parametrize(
    "relative",
    ["cellranger_v2/filtered_gene_bc_matrices", "cellranger_v2/filtered_gene_bc_matrices_h5.h5"],
)
def test_cellranger_v2_formats(data_dir, relative):
    adata = read_sample(data_dir / relative, "P1_PL")
    expected = _mmread(data_dir / "cellranger_v2/filtered_gene_bc_matrices/matrix.mtx")
    assert adata.shape == (12, 343)
    assert int(adata.X.sum()) == int(expected.sum()) == 12
    assert adata.obs_names.str.startswith("P1_PL_").all()


def test_only_gene_expression_features_are_kept(tmp_path):
    counts = sp.csr_matrix(np.array([[1, 0, 7], [2, 3, 9]]))
    write_h5(
        tmp_path / "m.h5",
        counts,
        ["ENSG1", "ENSG2", "AB1"],
        ["CD3D", "MS4A1", "CD3_TotalSeqB"],
        ["AAAC-1", "AAAG-1"],
        ["Gene Expression", "Gene Expression", "Antibody Capture"],
    )
    adata = read_sample(tmp_path / "m.h5", "S")
    assert list(adata.var_names) == ["CD3D", "MS4A1"]
    assert adata.X.toarray().tolist() == [[1, 0], [2, 3]]


def test_mtx_writer_round_trip(tmp_path):
    counts = sp.csr_matrix(np.array([[0, 4], [5, 0], [1, 1]]))
    write_mtx(tmp_path / "d", counts, ["E1", "E2"], ["GZMB", "PRF1"], ["a-1", "b-1", "c-1"])
    adata = read_sample(tmp_path / "d", "X")
    assert adata.X.toarray().tolist() == [[0, 4], [5, 0], [1, 1]]
    assert list(adata.obs_names) == ["X_a-1", "X_b-1", "X_c-1"]


def _h5ad(tmp_path, x, layers=None, var=None, name="s.h5ad", cells=None):
    n, g = np.asarray(x).shape
    adata = ad.AnnData(
        X=sp.csr_matrix(np.asarray(x, dtype=np.float32)),
        obs=pd.DataFrame(index=cells or [f"c{i}" for i in range(n)]),
        var=var if var is not None else pd.DataFrame(index=[f"G{j}" for j in range(g)]),
    )
    for key, value in (layers or {}).items():
        adata.layers[key] = sp.csr_matrix(np.asarray(value, dtype=np.float32))
    path = tmp_path / name
    adata.write_h5ad(path)
    return path


def test_h5ad_counts_in_x(tmp_path):
    path = _h5ad(tmp_path, [[1, 0, 2], [0, 3, 0]])
    adata = read_sample(path, "S")
    assert adata.X.toarray().tolist() == [[1, 0, 2], [0, 3, 0]]


def test_h5ad_counts_in_layer_preferred_over_normalised_x(tmp_path):
    path = _h5ad(tmp_path, [[0.5, 0.0], [1.2, 0.7]], layers={"counts": [[2, 0], [5, 3]]})
    adata = read_sample(path, "S")
    assert adata.X.toarray().tolist() == [[2, 0], [5, 3]]


def test_h5ad_without_raw_counts_is_a_clear_error(tmp_path):
    path = _h5ad(tmp_path, [[0.5, 0.0], [1.2, 0.7]])
    with pytest.raises(InputError, match="no raw counts"):
        read_sample(path, "S")


def test_h5ad_feature_types_and_duplicate_barcodes(tmp_path):
    var = pd.DataFrame(
        {"feature_types": ["Gene Expression", "Antibody Capture"]}, index=["CD8A", "CD8"]
    )
    path = _h5ad(tmp_path, [[1, 9], [2, 9]], var=var, cells=["AAA-1", "AAA-1"])
    adata = read_sample(path, "S")
    assert list(adata.var_names) == ["CD8A"]
    assert adata.obs_names.is_unique and len(adata.obs_names) == 2


def test_missing_and_malformed_inputs(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_sample(tmp_path / "absent.h5", "S")
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    with pytest.raises(InputError, match="HDF5"):
        read_sample(bad, "S")
    empty_dir = tmp_path / "filtered_feature_bc_matrix"
    empty_dir.mkdir()
    (empty_dir / "matrix.mtx.gz").write_bytes(b"")
    with pytest.raises(InputError, match="features.tsv.gz"):
        read_sample(empty_dir, "S")
    other = tmp_path / "x.loom"
    other.write_text("")
    with pytest.raises(InputError, match="unknown single-cell matrix format"):
        read_sample(other, "S")
    truncated = tmp_path / "t"
    truncated.mkdir()
    for name in ("matrix.mtx.gz", "features.tsv.gz", "barcodes.tsv.gz"):
        with gzip.open(truncated / name, "wt") as handle:
            handle.write("garbage\n")
    with pytest.raises(InputError, match="malformed 10x matrix directory"):
        read_sample(truncated, "S")
    h5 = tmp_path / "group.h5"
    with h5py.File(h5, "w") as f:
        f.create_group("matrix")
    # A bare group: the members scanpy would look up are named (it raised a bare KeyError).
    with pytest.raises(InputError, match="matrix/data, matrix/indices"):
        read_sample(h5, "S")


def test_h5ad_with_ensembl_index_uses_the_symbol_column(tmp_path):
    var = pd.DataFrame(
        {"feature_name": ["CD3D", "NKG7"]}, index=["ENSG00000167286", "ENSG00000105374"]
    )
    path = _h5ad(tmp_path, [[1, 0], [0, 2]], var=var)
    adata = read_sample(path, "S")
    assert list(adata.var_names) == ["CD3D", "NKG7"]
    assert list(adata.var["gene_ids"]) == ["ENSG00000167286", "ENSG00000105374"]
