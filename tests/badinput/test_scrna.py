"""Malformed single-cell inputs: each stops with a message naming file and member or record.

Structure (HDF5 members, matrix directory files, marker and signature YAML) is checked at parse
time, before any job (a dry run fails); content (gzip streams, count values) when the sample's
job reads it, which then leaves no output. Matrices start from genuine Cell Ranger files
(tests/scrna/data) and are broken one way each.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

DATA = Path(__file__).resolve().parents[1] / "scrna/data"
V3_H5 = DATA / "cellranger_v3/filtered_feature_bc_matrix.h5"
V3_DIR = DATA / "cellranger_v3/filtered_feature_bc_matrix"
V2_H5 = DATA / "cellranger_v2/filtered_gene_bc_matrices_h5.h5"
TARGET = "results/scrna/qc/P1_PL.tsv"  # the sample's job alone: reading and QC


def setup(work: Path, matrix: str, markers: str | None = None, signatures: str | None = None):
    """A one-sample sheet pointing at data/<matrix>, and a config (own YAML files if given)."""
    sheet = f"sample\tpatient\tsite\tscrna\nP1_PL\tP1\tPL\tdata/{matrix}\n"
    (work / "samples.tsv").write_text(sheet)
    config = "samples: samples.tsv\nscrna:\n  qc: {doublets: false}\n"
    if markers is not None:
        (work / "markers.yaml").write_text(markers)
        config += "  markers: markers.yaml\n"
    if signatures is not None:
        (work / "signatures.yaml").write_text(signatures)
        config += "  signatures: signatures.yaml\n"
    (work / "config.yaml").write_text(config)


def run(work: Path, runner, dry: bool):
    return runner(
        work, TARGET, "--configfile", "config.yaml", *(["-n"] if dry else []), check=False
    )


def h5_without(work: Path, member: str) -> str:
    shutil.copy(V3_H5, work / "data/sample.h5")
    with h5py.File(work / "data/sample.h5", "r+") as f:
        del f[member]
    return "sample.h5"


def directory_without(work: Path, name: str) -> str:
    shutil.copytree(V3_DIR, work / "data/sample")
    (work / "data/sample" / name).unlink()
    return "sample"


def not_hdf5(work: Path) -> str:
    (work / "data/sample.h5").write_text("barcode\tgene\tcount\n")
    return "sample.h5"


def cut_h5(work: Path) -> str:
    raw = V3_H5.read_bytes()
    (work / "data/sample.h5").write_bytes(raw[: len(raw) // 2])  # an interrupted copy
    return "sample.h5"


def two_genomes(work: Path) -> str:
    shutil.copy(V2_H5, work / "data/sample.h5")
    with h5py.File(work / "data/sample.h5", "r+") as f:
        f.copy("hg19_chr21", "mm10_chr21")
    return "sample.h5"


def h5ad_without_x(work: Path) -> str:
    with h5py.File(work / "data/sample.h5ad", "w") as f:
        f.create_group("obs")
        f.create_group("var")
    return "sample.h5ad"


def unknown_format(work: Path) -> str:
    (work / "data/sample.loom").write_text("")
    return "sample.loom"


PARSE_TIME = {
    # An h5 whose features group is gone: scanpy raised a bare KeyError.
    "h5_without_features": (
        lambda w: h5_without(w, "matrix/features"),
        ["sample.h5", "not a Cell Ranger matrix", "matrix/features/id, matrix/features/name"],
    ),
    "h5_without_barcodes": (
        lambda w: h5_without(w, "matrix/barcodes"),
        ["sample.h5", "HDF5 member(s) matrix/barcodes missing"],
    ),
    "matrix_directory_without_barcodes": (
        lambda w: directory_without(w, "barcodes.tsv.gz"),
        ["sample/barcodes.tsv.gz", "matrix directory lacks barcodes.tsv.gz"],
    ),
    "matrix_directory_without_features": (
        lambda w: directory_without(w, "features.tsv.gz"),
        ["sample/features.tsv.gz", "lacks features.tsv.gz"],
    ),
    "text_file_named_h5": (not_hdf5, ["sample.h5", "not a readable HDF5 file"]),
    "h5_cut_in_half": (cut_h5, ["sample.h5", "not a readable HDF5 file"]),
    "v2_h5_with_two_genomes": (two_genomes, ["sample.h5", "several genomes", "mm10_chr21"]),
    "h5ad_without_X": (h5ad_without_x, ["sample.h5ad", "element(s) X missing"]),
    "unknown_format": (unknown_format, ["sample.loom", "unknown single-cell matrix format"]),
}


@pytest.mark.parametrize("case", PARSE_TIME)
def test_malformed_matrix_stops_before_any_job(case, tmp_path, snakemake_runner, clean_failure):
    make, fragments = PARSE_TIME[case]
    (tmp_path / "data").mkdir()
    setup(tmp_path, make(tmp_path))
    clean_failure(run(tmp_path, snakemake_runner, dry=True), *fragments)
    assert not (tmp_path / "results").exists()


YAML = {
    "marker_yaml_syntax_error": (
        "compartments:\n  T: {positive: [CD3D, CD3E}\n",
        None,
        ["markers.yaml", "not valid YAML", "line 2"],
    ),
    "marker_genes_not_a_list": (
        "compartments:\n  T:\n    positive: CD3D\n",
        None,
        ["markers.yaml", "compartments.T.positive: expected a list of gene symbols, got 'CD3D'"],
    ),
    "marker_compartment_without_positive": (
        "compartments:\n  T:\n    negative: [CD8A]\n",
        None,
        ["markers.yaml", "compartments.T: needs a 'positive' gene list"],
    ),
    "signature_unknown_key": (
        None,
        "cytotoxic:\n  genes: [GZMB, PRF1]\n  celltypes: [T_CD8]\n",
        ["signatures.yaml", "cytotoxic: unknown keys ['celltypes']"],
    ),
}


@pytest.mark.parametrize("case", YAML)
def test_malformed_marker_or_signature_file(case, tmp_path, snakemake_runner, clean_failure):
    markers, signatures, fragments = YAML[case]
    (tmp_path / "data").mkdir()
    shutil.copy(V3_H5, tmp_path / "data/sample.h5")
    setup(tmp_path, "sample.h5", markers=markers, signatures=signatures)
    clean_failure(run(tmp_path, snakemake_runner, dry=True), *fragments)


def truncated_gzip(work: Path, name: str) -> str:
    shutil.copytree(V3_DIR, work / "data/sample")
    path = work / "data/sample" / name
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])  # an interrupted download
    return "sample"


def normalised_h5ad(work: Path) -> str:
    counts = np.random.default_rng(0).poisson(3, size=(20, 5)).astype(np.float32)
    lognorm = np.log1p(counts / counts.sum(axis=1, keepdims=True) * 1e4)
    var = pd.DataFrame(index=["CD3D", "CD3E", "CD8A", "NKG7", "GNLY"])
    ad.AnnData(X=sp.csr_matrix(lognorm), var=var).write_h5ad(work / "data/sample.h5ad")
    return "sample.h5ad"


def fractional_mtx(work: Path) -> str:
    shutil.copytree(V3_DIR, work / "data/sample")
    path = work / "data/sample/matrix.mtx.gz"
    with gzip.open(V3_DIR / "matrix.mtx.gz", "rb") as handle:
        matrix = scipy.io.mmread(handle).astype(np.float64)
    matrix.data[0] = 0.5  # a "real" Matrix Market file: normalised values, not counts
    with gzip.open(path, "wb") as handle:
        scipy.io.mmwrite(handle, matrix, field="real")
    return "sample"


JOB_TIME = {
    "truncated_matrix_mtx_gz": (
        lambda w: truncated_gzip(w, "matrix.mtx.gz"),
        ["sample/matrix.mtx.gz", "truncated or corrupt gzip file"],
    ),
    "truncated_features_tsv_gz": (
        lambda w: truncated_gzip(w, "features.tsv.gz"),
        ["sample/features.tsv.gz", "truncated or corrupt gzip file"],
    ),
    "fractional_counts_in_matrix_mtx": (
        fractional_mtx,
        ["data/sample", "non-integer or negative values, not raw UMI counts"],
    ),
    "h5ad_with_log_normalised_x": (
        normalised_h5ad,
        ["sample.h5ad", "h5ad has no raw counts: X holds non-integer or negative values"],
    ),
}


@pytest.mark.parametrize("case", JOB_TIME)
def test_bad_matrix_content_fails_its_job_cleanly(case, tmp_path, snakemake_runner, clean_failure):
    make, fragments = JOB_TIME[case]
    (tmp_path / "data").mkdir()
    setup(tmp_path, make(tmp_path))
    assert run(tmp_path, snakemake_runner, dry=True).returncode == 0  # structure is fine
    clean_failure(run(tmp_path, snakemake_runner, dry=False), *fragments, workdir=tmp_path)
    assert not list((tmp_path / "results").rglob("*.h5ad"))
    assert not (tmp_path / TARGET).exists()
