"""The cohort h5ad on disk: written one sample at a time, read back in blocks of rows."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
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

CHUNK = 1 << 18  # HDF5 chunk of the CSR arrays, in elements
ROWS = 50_000  # cells per block when reading back


class CsrWriter:
    """An AnnData CSR element (data float32, indices int32, indptr int64) appended row-wise."""

    def __init__(self, group, n_vars: int) -> None:
        self.group, self.n_vars, self.n_obs, self.nnz = group, n_vars, 0, 0
        self.group.attrs.update(
            {"encoding-type": "csr_matrix", "encoding-version": "0.1.0", "shape": (0, n_vars)}
        )
        options = {"chunks": (CHUNK,), "maxshape": (None,)}  # uncompressed: see write_cohort
        self.data = group.create_dataset("data", (0,), np.float32, **options)
        self.indices = group.create_dataset("indices", (0,), np.int32, **options)
        self.indptr = group.create_dataset(
            "indptr", (1,), np.int64, chunks=(CHUNK,), maxshape=(None,)
        )
        self.indptr[0] = 0

    def append(self, x: sp.csr_matrix) -> None:
        """Append rows (a CSR block with the element's number of columns)."""
        if x.shape[1] != self.n_vars:
            raise ValueError(f"{x.shape[1]} columns, expected {self.n_vars}")
        for dataset, values in ((self.data, x.data), (self.indices, x.indices)):
            dataset.resize((self.nnz + x.nnz,))
            dataset[self.nnz :] = values
        self.indptr.resize((self.n_obs + x.shape[0] + 1,))
        self.indptr[self.n_obs + 1 :] = x.indptr[1:].astype(np.int64) + self.nnz
        self.n_obs += x.shape[0]
        self.nnz += x.nnz
        self.group.attrs["shape"] = (self.n_obs, self.n_vars)


def write_cohort(
    path: str | Path,
    analysed: ad.AnnData,
    var: pd.DataFrame,
    blocks: Iterator[tuple[sp.csr_matrix, sp.csr_matrix]],
) -> None:
    """Write the cohort h5ad: X (log-normalised) and layers["counts"] on every gene, streamed.

    Written atomically (tables.atomic_path), so a failed job leaves no partial output.
    Uncompressed: gzip (level 1) makes the matrices ~3.7x smaller but their writing ~25x slower
    (measured on a 100k-cell sample: 3.3 s vs 0.12 s per 143 MB), the larger share of the job at
    10^5 cells.

    Parameters
    ----------
    path
        The output h5ad.
    analysed
        The in-memory cohort on the analysed genes; its obs, obsm, obsp and uns are written as
        they are, varm["PCs"] is spread onto every gene (zero elsewhere, as scanpy does).
    var
        Every gene (gene_ids and the HVG columns).
    blocks
        (counts, log-normalised) per sample on every gene, rows in analysed.obs order
        (`LoadedCohort.blocks`).

    Raises
    ------
    AssertionError
        When the blocks do not cover the cohort's cells.
    """
    import h5py
    from anndata.io import write_elem

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})
        x = CsrWriter(f.create_group("X"), len(var))
        layers = f.create_group("layers")
        layers.attrs.update({"encoding-type": "dict", "encoding-version": "0.1.0"})
        counts = CsrWriter(layers.create_group("counts"), len(var))
        for block_counts, block_x in blocks:
            counts.append(block_counts)
            x.append(block_x)
        if x.n_obs != analysed.n_obs:
            raise AssertionError(f"wrote {x.n_obs} cells, the cohort has {analysed.n_obs}")
        write_elem(f, "obs", analysed.obs)
        write_elem(f, "var", var)
        write_elem(f, "obsm", dict(analysed.obsm))
        write_elem(f, "obsp", dict(analysed.obsp))
        write_elem(f, "varm", spread_loadings(analysed, var.index))
        write_elem(f, "uns", dict(analysed.uns))


def spread_loadings(analysed: ad.AnnData, genes: pd.Index) -> dict[str, np.ndarray]:
    """varm of the analysed genes on every gene (rows of genes not analysed are zero).

    Parameters
    ----------
    analysed
        The cohort on the analysed genes.
    genes
        Every gene.

    Returns
    -------
    dict of str to numpy.ndarray
        Each varm array with one row per gene of `genes`.
    """
    out = {}
    rows = genes.get_indexer(analysed.var_names)
    for key, values in analysed.varm.items():
        full = np.zeros((len(genes), values.shape[1]), dtype=values.dtype)
        full[rows] = values
        out[key] = full
    return out


def read_obs(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """obs and var of an h5ad, leaving the matrices on disk.

    Parameters
    ----------
    path
        The h5ad.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        obs and var.
    """
    obs, var = read_elements(path, "obs", "var")
    return obs, var


def read_elements(path: str | Path, *keys: str) -> list:
    """Some elements of an h5ad; anndata's backed mode would load every layer into memory, this
    reads only what is asked.

    Parameters
    ----------
    path
        The h5ad.
    *keys
        Element paths, e.g. ``"obs"``, ``"obsm/X_umap"``, ``"uns"``.

    Returns
    -------
    list
        One element per key (DataFrame, array or dict), None for those absent.
    """
    import h5py
    from anndata.io import read_elem

    with h5py.File(path, "r") as f:
        return [read_elem(f[key]) if key in f else None for key in keys]


def iter_rows(
    path: str | Path, element: str = "layers/counts", rows: int = ROWS
) -> Iterator[tuple[int, sp.csr_matrix]]:
    """An h5ad's sparse matrix, `rows` cells at a time.

    Parameters
    ----------
    path
        The h5ad.
    element
        The sparse matrix's path in the file.
    rows
        Cells per block.

    Yields
    ------
    (int, scipy.sparse.csr_matrix)
        The block's first row and its rows.

    Raises
    ------
    InputError
        When the file has no such element.
    """
    import h5py
    from anndata.io import sparse_dataset

    with h5py.File(path, "r") as f:
        if element not in f:
            raise InputError(path, f"no {element} in this h5ad")
        matrix = sparse_dataset(f[element])
        for start in range(0, matrix.shape[0], rows):
            yield start, sp.csr_matrix(matrix[start : start + rows])


def read_genes(path: str | Path, genes: Sequence[str], element: str = "X") -> ad.AnnData:
    """A few genes of every cell (obs included), read block by block.

    Parameters
    ----------
    path
        The h5ad.
    genes
        The genes wanted.
    element
        The matrix read (``X`` or a layer's path).

    Returns
    -------
    anndata.AnnData
        Every cell x `genes`, CSR.

    Raises
    ------
    InputError
        When a gene is not in the file.
    """
    obs, var = read_obs(path)
    columns = var.index.get_indexer(list(genes))
    if (columns < 0).any():
        raise InputError(path, f"genes not in the h5ad: {list(np.asarray(genes)[columns < 0])}")
    blocks = [block[:, columns] for _, block in iter_rows(path, element)]
    x = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, len(columns)))
    import anndata as ad

    return ad.AnnData(X=x, obs=obs, var=var.iloc[columns])
