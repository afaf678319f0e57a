"""Read one sample's single-cell count matrix (Cell Ranger h5, matrix directory or h5ad)."""

from __future__ import annotations

import logging
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from organomics.errors import InputError

log = logging.getLogger(__name__)

GENE_EXPRESSION = "Gene Expression"
SYMBOL_COLUMNS = ("gene_symbols", "gene_symbol", "feature_name", "symbol", "gene_name")


def detect_format(path: str | Path) -> str:
    """Return "h5", "mtx" or "h5ad" for a sample's matrix path."""
    p = Path(path)
    if p.is_dir():
        return "mtx"
    name = p.name.lower()
    if name.endswith(".h5ad"):
        return "h5ad"
    if name.endswith(".h5"):
        return "h5"
    raise InputError(
        path,
        "unknown single-cell matrix format: expected a Cell Ranger .h5 file, a "
        "filtered_feature_bc_matrix/ directory or an .h5ad file",
    )


def read_sample(path: str | Path, sample: str) -> ad.AnnData:
    """Read raw counts of Gene Expression features for one sample.

    Returns an AnnData with integer-valued float32 CSR counts in X, gene symbols (made unique) as
    var_names, `gene_ids` in var, and obs_names "<sample>_<barcode>" (unique within the sample).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(path, "single-cell matrix not found")
    fmt = detect_format(p)
    if fmt == "h5":
        adata = _read_h5(p)
    elif fmt == "mtx":
        adata = _read_mtx(p)
    else:
        adata = _read_h5ad(p)
    return _finish(adata, sample, p)


def _read_h5(path: Path) -> ad.AnnData:
    import h5py
    import scanpy as sc

    try:
        with h5py.File(path, "r") as f:
            keys = list(f.keys())
    except OSError as e:
        raise InputError(path, f"not a readable HDF5 file ({e})") from None
    if not keys:
        raise InputError(path, "HDF5 file is empty (no Cell Ranger matrix group)")
    try:
        if "matrix" in keys:
            # Cell Ranger >= 3: one "matrix" group; gex_only drops antibody/CRISPR features.
            adata = sc.read_10x_h5(path, gex_only=True)
        else:
            # Cell Ranger 2: one group per genome; use the only genome or refuse to guess.
            if len(keys) > 1:
                raise InputError(
                    path, f"Cell Ranger v2 file with several genomes {keys}; keep one genome"
                )
            adata = sc.read_10x_h5(path, genome=keys[0])
    except InputError:
        raise
    except Exception as e:  # h5py/scanpy raise KeyError/ValueError on malformed groups
        raise InputError(path, f"malformed Cell Ranger h5 file ({type(e).__name__}: {e})") from None
    return adata


def _read_mtx(path: Path) -> ad.AnnData:
    import scanpy as sc

    names = {f.name for f in path.iterdir()}
    has_v3 = {"matrix.mtx.gz", "features.tsv.gz", "barcodes.tsv.gz"} <= names
    has_v2 = {"matrix.mtx", "genes.tsv", "barcodes.tsv"} <= names
    if not (has_v3 or has_v2):
        raise InputError(
            path,
            "matrix directory needs matrix.mtx.gz + features.tsv.gz + barcodes.tsv.gz "
            "(Cell Ranger v3) or matrix.mtx + genes.tsv + barcodes.tsv (v2); "
            f"found {sorted(names)}",
        )
    try:
        adata = sc.read_10x_mtx(path, var_names="gene_symbols", gex_only=True, make_unique=False)
    except Exception as e:
        raise InputError(
            path, f"malformed 10x matrix directory ({type(e).__name__}: {e})"
        ) from None
    return adata


def _is_counts(x) -> bool:
    """True if a matrix holds non-negative integer values (raw UMI counts)."""
    data = x.data if sp.issparse(x) else np.asarray(x)
    if data.size == 0:
        return True
    sample = data[: min(data.size, 1_000_000)]
    return bool(np.all(sample >= 0) and np.all(np.equal(np.mod(sample, 1), 0)))


def _read_h5ad(path: Path) -> ad.AnnData:
    try:
        adata = ad.read_h5ad(path)
    except Exception as e:
        raise InputError(path, f"not a readable h5ad file ({type(e).__name__}: {e})") from None
    if "counts" in adata.layers:
        x = adata.layers["counts"]
        where = "layers['counts']"
    else:
        x = adata.X
        where = "X"
    if x is None or not _is_counts(x):
        raise InputError(
            path,
            f"h5ad has no raw counts: {where} holds non-integer or negative values "
            "(store raw UMI counts in X or in layers['counts'])",
        )
    var = adata.var.copy()
    symbols = next((c for c in SYMBOL_COLUMNS if c in var.columns), None)
    if symbols is not None:
        # Ensembl ids as index and symbols in a column (CELLxGENE style): markers use symbols.
        var["gene_ids"] = var.index.astype(str)
        var.index = pd.Index(var[symbols].astype(str).to_numpy())
    out = ad.AnnData(X=x, obs=pd.DataFrame(index=adata.obs_names), var=var)
    if "feature_types" in out.var:
        out = out[:, out.var["feature_types"].astype(str) == GENE_EXPRESSION].copy()
    return out


def _finish(adata: ad.AnnData, sample: str, path: Path) -> ad.AnnData:
    if adata.n_vars == 0:
        raise InputError(path, "no Gene Expression features in the matrix")
    x = adata.X
    x = sp.csr_matrix(x, dtype=np.float32) if not sp.issparse(x) else x.tocsr().astype(np.float32)
    var = pd.DataFrame(index=pd.Index(adata.var_names.astype(str), name=None))
    var["gene_ids"] = (
        adata.var["gene_ids"].astype(str).to_numpy()
        if "gene_ids" in adata.var
        else var.index.to_numpy()
    )
    barcodes = pd.Index([f"{sample}_{b}" for b in adata.obs_names.astype(str)])
    obs = pd.DataFrame(index=barcodes)
    out = ad.AnnData(X=x, obs=obs, var=var)
    if not out.obs_names.is_unique:
        log.warning("%s: duplicate barcodes made unique", path)
        out.obs_names_make_unique()
    if not out.var_names.is_unique:
        out.var_names_make_unique()
    out.obs["sample"] = sample
    return out


def write_h5ad(adata: ad.AnnData, path: str | Path, compression: str | None = None) -> None:
    """Write an h5ad via a temporary file so that a failed job leaves no partial output."""
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        adata.write_h5ad(tmp, compression=compression)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
