"""Fixtures of the scRNA tests: tiny AnnData builders and the real Cell Ranger files."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


def tiny_adata(counts, genes, cells=None, obs=None) -> ad.AnnData:
    """AnnData with sparse float32 counts and the given gene symbols."""
    x = sp.csr_matrix(np.asarray(counts, dtype=np.float32))
    cells = cells or [f"c{i}" for i in range(x.shape[0])]
    frame = pd.DataFrame(obs or {}, index=cells)
    return ad.AnnData(X=x, obs=frame, var=pd.DataFrame(index=genes))


@pytest.fixture(scope="session")
def make_adata():
    """The tiny_adata builder, as a fixture (test modules cannot import conftest)."""
    return tiny_adata
