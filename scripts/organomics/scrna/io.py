"""Read one sample's single-cell count matrix (Cell Ranger h5, matrix directory or h5ad)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from organomics.errors import InputError
from organomics.tables import atomic_path

# anndata is imported in the functions that use it, not here: the Snakefile imports this
# module at parse time, in every run and cluster job (tests/test_parse_time.py)
if TYPE_CHECKING:
    import anndata as ad

log = logging.getLogger(__name__)

GENE_EXPRESSION = "Gene Expression"
SYMBOL_COLUMNS = ("gene_symbols", "gene_symbol", "feature_name", "symbol", "gene_name")


def detect_format(path: str | Path) -> str:
    """The format of a sample's matrix, from its path.

    Parameters
    ----------
    path
        The sheet's scrna cell (resolved).

    Returns
    -------
    str
        ``"mtx"`` for a directory, ``"h5ad"``, or ``"h5"`` (Cell Ranger).

    Raises
    ------
    InputError
        For any other path.
    """
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


# HDF5 members a reader needs: Cell Ranger >= 3 ("matrix" group) and Cell Ranger 2 (a group per
# genome); scanpy's reader fails with a bare KeyError on any of them missing.
H5_V3_MEMBERS = ("data", "indices", "indptr", "shape", "barcodes", "features/id", "features/name",
                 "features/feature_type")  # fmt: skip
H5_V2_MEMBERS = ("data", "indices", "indptr", "shape", "barcodes", "genes", "gene_names")
MTX_V3_FILES = ("matrix.mtx.gz", "features.tsv.gz", "barcodes.tsv.gz")
MTX_V2_FILES = ("matrix.mtx", "genes.tsv", "barcodes.tsv")


def check_matrix(path: str | Path) -> str:
    """Parse-time check of a sample's matrix: it exists, has a known format and its structure.

    Reads headers only (HDF5 members, file names), never the counts, so that a run stops before
    any job on a missing or misnamed member; the counts themselves are checked when read.

    Parameters
    ----------
    path
        The sheet's `scrna` path (resolved).

    Returns
    -------
    str
        The format, as detect_format().
    """
    p = Path(path)
    if not p.exists():
        raise InputError(path, "single-cell matrix not found")
    fmt = detect_format(p)
    if fmt == "mtx":
        _mtx_files(p)
    elif fmt == "h5":
        _h5_structure(p)
    else:
        _h5ad_structure(p)
    return fmt


def _mtx_files(path: Path) -> tuple[str, ...]:
    """The three files of a matrix directory (v3 gzipped or v2 plain), or an InputError."""
    names = {f.name for f in path.iterdir()}
    for files in (MTX_V3_FILES, MTX_V2_FILES):
        if set(files) <= names:
            return files
    for files in (MTX_V3_FILES, MTX_V2_FILES):
        # Name the missing file of the layout the directory half follows.
        missing = [f for f in files if f not in names]
        if len(missing) < len(files):
            raise InputError(
                path / missing[0],
                f"matrix directory lacks {', '.join(missing)} (Cell Ranger "
                f"{'v3' if files is MTX_V3_FILES else 'v2'} needs {' + '.join(files)})",
            )
    raise InputError(
        path,
        "matrix directory needs matrix.mtx.gz + features.tsv.gz + barcodes.tsv.gz "
        f"(Cell Ranger v3) or matrix.mtx + genes.tsv + barcodes.tsv (v2); found {sorted(names)}",
    )


def _open_h5(path: Path):
    import h5py

    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise InputError(path, f"not a readable HDF5 file ({e})") from None


def _h5_structure(path: Path) -> None:
    with _open_h5(path) as f:
        keys = list(f.keys())
        if not keys:
            raise InputError(path, "HDF5 file is empty (no Cell Ranger matrix group)")
        if "matrix" in keys:
            group, members = "matrix", H5_V3_MEMBERS
        elif len(keys) > 1:
            raise InputError(
                path, f"Cell Ranger v2 file with several genomes {keys}; keep one genome"
            )
        else:
            group, members = keys[0], H5_V2_MEMBERS
        missing = [m for m in members if f"{group}/{m}" not in f]
        if missing:
            names = ", ".join(f"{group}/{m}" for m in missing)
            raise InputError(path, f"not a Cell Ranger matrix: HDF5 member(s) {names} missing")


def _h5ad_structure(path: Path) -> None:
    with _open_h5(path) as f:
        missing = [m for m in ("X", "obs", "var") if m not in f]
        if missing:
            raise InputError(path, f"not an h5ad file: element(s) {', '.join(missing)} missing")


def read_sample(path: str | Path, sample: str) -> ad.AnnData:
    """Read raw counts of Gene Expression features for one sample.

    Returns an AnnData with integer-valued float32 CSR counts in X, gene symbols (made unique) as
    var_names, `gene_ids` in var, and obs_names "<sample>_<barcode>" (unique within the sample).
    Genes: Cell Ranger h5/mtx name each feature by its id (Ensembl, with or without version or
    `_PAR_Y`) and its symbol; var_names are the symbols, because markers and signatures are
    symbols; a symbol shared by several ids is suffixed "-1", "-2" (scanpy's convention, logged),
    and `gene_ids` keeps every id. An h5ad with a symbol column (CELLxGENE `feature_name`, ...)
    is read the same way; a missing symbol falls back to the id.

    Parameters
    ----------
    path
        Cell Ranger .h5, matrix directory or .h5ad.
    sample
        Sample id (prefix of the barcodes, obs["sample"]).

    Returns
    -------
    anndata.AnnData
        Counts of the sample's Gene Expression features.
    """
    p = Path(path)
    fmt = check_matrix(p)
    if fmt == "h5":
        adata = _read_h5(p)
    elif fmt == "mtx":
        adata = _read_mtx(p)
    else:
        adata = _read_h5ad(p)
    return _finish(adata, sample, p)


def _read_h5(path: Path) -> ad.AnnData:
    import scanpy as sc

    with _open_h5(path) as f:
        keys = list(f.keys())  # check_matrix: "matrix" (v3) or the only genome (v2)
    try:
        if "matrix" in keys:
            # Cell Ranger >= 3: one "matrix" group; gex_only drops antibody/CRISPR features.
            adata = sc.read_10x_h5(path, gex_only=True)
        else:
            adata = sc.read_10x_h5(path, genome=keys[0])
    except Exception as e:  # h5py/scanpy raise KeyError/ValueError on malformed groups
        raise InputError(path, f"malformed Cell Ranger h5 file ({type(e).__name__}: {e})") from None
    return adata


def _read_mtx(path: Path) -> ad.AnnData:
    import scanpy as sc

    files = _mtx_files(path)
    for name in files:
        if name.endswith(".gz"):
            _check_gzip(path / name)
    try:
        adata = sc.read_10x_mtx(path, var_names="gene_symbols", gex_only=True, make_unique=False)
    except Exception as e:
        raise InputError(
            path, f"malformed 10x matrix directory ({type(e).__name__}: {e})"
        ) from None
    return adata


def _check_gzip(path: Path) -> None:
    """Stream a gzip file to its end: a truncated or corrupt one is named, not a bare EOFError."""
    import gzip
    import zlib

    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(1 << 22):
                pass
    except (OSError, EOFError, zlib.error) as e:
        raise InputError(path, f"truncated or corrupt gzip file ({e})") from None


def _is_counts(x) -> bool:
    """True if a matrix holds non-negative integer values (raw UMI counts)."""
    data = x.data if sp.issparse(x) else np.asarray(x)
    if data.size == 0:
        return True
    sample = data[: min(data.size, 1_000_000)]
    return bool(np.all(sample >= 0) and np.all(np.equal(np.mod(sample, 1), 0)))


def _read_h5ad(path: Path) -> ad.AnnData:
    import anndata as ad

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
        ids = pd.Index(var.index.astype(str))
        names = var[symbols].astype("string")
        missing = names.isna().to_numpy() | (names.str.strip() == "").fillna(True).to_numpy()
        if missing.any():
            log.warning(
                "%s: %d gene(s) without a symbol in var['%s'] keep their id (e.g. %s)",
                path, int(missing.sum()), symbols, ids[missing][0],
            )  # fmt: skip
        var["gene_ids"] = ids.to_numpy()
        var.index = pd.Index(np.where(missing, ids, names.fillna("").to_numpy(dtype=object)))
    elif looks_like_ids(var.index):
        log.warning(
            "%s: genes are keyed by Ensembl ids and var has no symbol column (one of %s); "
            "markers and signatures are matched against these ids",
            path, ", ".join(SYMBOL_COLUMNS),
        )  # fmt: skip
    out = ad.AnnData(X=x, obs=pd.DataFrame(index=adata.obs_names), var=var)
    if "feature_types" in out.var:
        out = out[:, out.var["feature_types"].astype(str) == GENE_EXPRESSION].copy()
    return out


def looks_like_ids(genes: pd.Index) -> bool:
    """Whether most gene names are Ensembl gene ids (ENSG..., ENSMUSG..., any version or suffix).

    Parameters
    ----------
    genes
        The gene names.

    Returns
    -------
    bool
        True when more than half match.
    """
    names = pd.Index(genes).astype(str)
    return len(names) > 0 and bool(names.str.match(r"ENS[A-Z]*G\d{6,}").mean() > 0.5)


def _finish(adata: ad.AnnData, sample: str, path: Path) -> ad.AnnData:
    if adata.n_vars == 0:
        raise InputError(path, "no Gene Expression features in the matrix")
    x = adata.X
    if not _is_counts(x):
        # Cell Ranger writes integers; anything else was normalised or edited after it.
        raise InputError(path, "matrix holds non-integer or negative values, not raw UMI counts")
    x = sp.csr_matrix(x, dtype=np.float32) if not sp.issparse(x) else x.tocsr().astype(np.float32)
    var = pd.DataFrame(index=pd.Index(adata.var_names.astype(str), name=None))
    var["gene_ids"] = (
        adata.var["gene_ids"].astype(str).to_numpy()
        if "gene_ids" in adata.var
        else var.index.to_numpy()
    )
    barcodes = pd.Index([f"{sample}_{b}" for b in adata.obs_names.astype(str)])
    obs = pd.DataFrame(index=barcodes)
    import anndata as ad

    out = ad.AnnData(X=x, obs=obs, var=var)
    if not out.obs_names.is_unique:
        log.warning("%s: duplicate barcodes made unique", path)
        out.obs_names_make_unique()
    if not out.var_names.is_unique:
        # Several ids share a symbol (GENCODE: _PAR_Y copies, a few readthrough or patch genes):
        # the first keeps the symbol, the others take "-1", "-2"; gene_ids tells them apart.
        shared = out.var_names[out.var_names.duplicated()].unique()
        log.warning(
            "%s: %d symbol(s) shared by several gene ids, suffixed -1, -2, ... (%s)",
            path, len(shared), ", ".join(shared[:10]) + (", ..." if len(shared) > 10 else ""),
        )  # fmt: skip
        out.var_names_make_unique()
    out.obs["sample"] = sample
    return out


def write_h5ad(adata: ad.AnnData, path: str | Path, compression: str | None = None) -> None:
    """Write an h5ad atomically, so that a failed job leaves no partial output.

    Parameters
    ----------
    adata
        The AnnData to write.
    path
        The output file (its folder is created).
    compression
        h5py compression of the matrices (e.g. ``"gzip"``), None for none.
    """
    with atomic_path(path) as tmp:
        adata.write_h5ad(tmp, compression=compression)
