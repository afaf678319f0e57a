"""QC kernels compiled under a lock: those the real QC calls, one job at a time."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

from organomics.scrna import numba_warmup

# Run in a new interpreter, so that no kernel is compiled already by another test in this one.
COVERAGE_CHECK = """
import gc, sys
from numba.core.dispatcher import Dispatcher
from organomics.scrna import numba_warmup
from organomics.scrna.io import read_sample
from organomics.scrna.qc import QCLimits, run_qc

def scanpy_signatures():
    return {
        (id(d), str(s))
        for d in gc.get_objects()
        if isinstance(d, Dispatcher) and (d.py_func.__module__ or "").startswith("scanpy")
        for s in d.signatures
    }

numba_warmup.compile_qc_kernels(numba_warmup.Path(sys.argv[2]))
warmed = scanpy_signatures()
cells = read_sample(sys.argv[1], "S")
kept, row = run_qc(cells, "S", QCLimits(min_genes=5, remove_doublets=False, seed=0))
assert kept.obs["doublet_score"].notna().all()  # scrublet ran
print(len(warmed), len(scanpy_signatures() - warmed))
"""


def test_warmup_compiles_every_kernel_the_real_qc_calls(data_dir, tmp_path):
    """After the warm-up, QC with scrublet on real Cell Ranger cells (1,107 cells of scanpy's test
    data) needs no kernel signature that the warm-up did not compile or load."""
    matrix = data_dir / "cellranger_v3/filtered_feature_bc_matrix.h5"
    done = subprocess.run(
        [sys.executable, "-c", COVERAGE_CHECK, str(matrix), str(tmp_path / "numba.lock")],
        capture_output=True,
        text=True,
        check=True,
    )
    warmed, new = (int(n) for n in done.stdout.split())
    # _normalize_csr, sparse_mean_var_minor_axis and sparse_mean_var_major_axis (scanpy 1.11.5)
    assert warmed >= 3
    assert new == 0


HOLD = """
import sys
from pathlib import Path
from organomics.scrna.numba_warmup import exclusive
with exclusive(Path(sys.argv[1])) as locked:
    print("held" if locked else "unlocked", flush=True)
    sys.stdin.readline()
"""


def _try_lock(path) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_lock_is_held_by_one_process_until_its_block_ends(tmp_path):
    path = tmp_path / "numba.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not _try_lock(path)  # another job waits here
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(timeout=60) == 0
        assert _try_lock(path)  # released when the block ended
    finally:
        holder.kill()


def test_without_a_lock_file_the_block_still_runs(tmp_path):
    ran = []
    with numba_warmup.exclusive(tmp_path / "no such directory" / "numba.lock") as locked:
        ran.append(locked)
    assert ran == [False]


def test_default_lock_is_per_user_in_the_temporary_directory():
    path = numba_warmup.lock_path()
    assert path.parent == numba_warmup.Path(numba_warmup.tempfile.gettempdir())
    assert str(os.getuid()) in path.name


@pytest.mark.parametrize("with_lock", [True, False])
def test_warmup_runs_with_or_without_the_lock(tmp_path, with_lock):
    path = tmp_path / "numba.lock" if with_lock else tmp_path / "missing" / "numba.lock"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the small run is clean: nothing for a log to explain
        numba_warmup.compile_qc_kernels(path)
    if with_lock:
        assert path.exists()
