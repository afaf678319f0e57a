"""scanpy's QC kernels compiled by one scRNA sample job at a time, not by each at once."""

# scanpy compiles its numba kernels (cache=True) on their first call and keeps them in numba's
# on-disk cache. After a fresh install the demo starts 8 scRNA sample jobs at once and each
# compiled the same three kernels, the first in calculate_qc_metrics and the others in scrublet
# (~6.6 s CPU each: 46 s of the first run's CPU spent 7 times over). Running both on a small
# matrix under an exclusive file lock makes the first job compile them and the others load its
# cache; from then on the small run costs ~0.1 s CPU.
# It uses the matrix type every sample's QC gets (float32 CSR counts, int32 indices: see
# organomics.scrna.io), so the kernels' signatures are those of the real call
# (tests/scrna/test_numba_warmup.py checks that the real QC then compiles nothing more).

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# 100 cells x 200 genes: scrublet keeps the 15% most variable genes, which must outnumber the
# principal components it asks for.
WARMUP_CELLS, WARMUP_GENES, WARMUP_PCS = 100, 200, 5


def lock_path() -> Path:
    """This user's lock file in the temporary directory (one per machine, as the cache is)."""
    return Path(tempfile.gettempdir()) / f"organomics-numba-{os.getuid()}.lock"


@contextmanager
def exclusive(path: Path) -> Iterator[bool]:
    """Hold an exclusive lock on `path` (created if missing) while the block runs.

    Parameters
    ----------
    path
        The lock file.

    Yields
    ------
    bool
        True when locked; False when the file system refused the lock (the block still runs,
        as it did before this lock existed: the kernels are then only compiled more than once).
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        log.debug("no numba compile lock at %s (%s)", path, error)
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            locked = True
        except OSError as error:
            log.debug("no numba compile lock at %s (%s)", path, error)
            locked = False
        yield locked
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def compile_qc_kernels(path: Path | None = None) -> None:
    """Compile (or load from numba's cache) the kernels QC calls, one job at a time.

    Parameters
    ----------
    path
        The lock file; by default `lock_path()`.
    """
    import anndata as ad
    import scanpy as sc
    import scipy.sparse as sp

    counts = np.random.default_rng(0).poisson(1.0, (WARMUP_CELLS, WARMUP_GENES))
    cells = ad.AnnData(sp.csr_matrix(counts.astype(np.float32)))
    with exclusive(lock_path() if path is None else path):
        sc.pp.calculate_qc_metrics(cells, percent_top=None, log1p=False, inplace=True)
        # threshold 0 calls every cell a doublet, so no rate is 0/0
        sc.pp.scrublet(
            cells,
            threshold=0.0,
            n_prin_comps=WARMUP_PCS,
            random_state=0,
            verbose=False,
            use_approx_neighbors=False,
        )
