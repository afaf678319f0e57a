"""Per-sample QC: fixed limits, MAD outliers, zero cells, scrublet on genuine Cell Ranger data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from organomics.scrna.io import read_sample
from organomics.scrna.qc import QCLimits, median_absolute_deviation_outlier, qc_table, run_qc

GENES = ["MT-CO1", "MT-ND1", "CD3D", "CD8A", "GZMB", "LYZ"]


def test_fixed_limits_by_hand(make_adata):
    counts = [
        [0, 0, 3, 1, 1, 0],  # 3 genes, 0% mito: kept
        [1, 0, 2, 2, 0, 0],  # 3 genes, 20% mito: kept (limit is inclusive)
        [3, 1, 1, 0, 0, 1],  # 4 genes, 4/6 = 66.7% mito: dropped
        [0, 0, 0, 0, 5, 0],  # 1 gene: dropped
    ]
    adata = make_adata(counts, GENES)
    limits = QCLimits(min_genes=2, max_pct_mt=20.0, doublets=False)
    kept, row = run_qc(adata, "S", limits)
    assert list(kept.obs_names) == ["c0", "c1"]
    assert row["n_cells_raw"] == 4 and row["n_cells_kept"] == 2
    assert row["median_genes"] == 3.0
    assert row["median_pct_mt"] == pytest.approx((0.0 + 20.0) / 2)
    assert np.isnan(row["doublet_rate"])
    assert row["status"] == "ok"
    assert kept.X.toarray()[1].tolist() == [1, 0, 2, 2, 0, 0]  # counts untouched


def test_zero_cells_after_qc_is_reported_not_fatal(make_adata):
    adata = make_adata([[5, 5, 1, 0, 0, 0], [9, 1, 0, 0, 0, 0]], GENES)
    kept, row = run_qc(adata, "S", QCLimits(min_genes=1, max_pct_mt=20.0))
    assert kept.n_obs == 0
    assert row["n_cells_kept"] == 0
    assert "no cells after QC" in row["status"]
    assert list(qc_table([row]).columns[:6]) == [
        "sample", "n_cells_raw", "n_cells_kept", "median_genes", "median_pct_mt", "doublet_rate"
    ]  # fmt: skip


def test_mad_outlier_agrees_with_scipy():
    values = np.array([10.0, 11, 12, 12, 13, 14, 15, 40])
    mad = stats.median_abs_deviation(values, scale="normal")
    expected = np.abs(values - np.median(values)) > 3 * mad
    assert (median_absolute_deviation_outlier(values, 3) == expected).all()
    assert expected.tolist() == [False] * 7 + [True]


def test_mad_option_drops_a_library_size_outlier(make_adata):
    rng = np.random.default_rng(0)
    counts = rng.poisson(5, size=(30, 6))
    counts[:, :2] = 0
    counts[0] *= 60  # one cell with 60x the counts of the others
    adata = make_adata(counts, GENES)
    plain, _ = run_qc(adata.copy(), "S", QCLimits(min_genes=1, doublets=False))
    mad, _ = run_qc(adata.copy(), "S", QCLimits(min_genes=1, doublets=False, mad_outliers=True))
    assert "c0" in plain.obs_names and "c0" not in mad.obs_names
    assert mad.n_obs == plain.n_obs - 1


def test_scrublet_on_real_cellranger_cells(data_dir):
    adata = read_sample(data_dir / "cellranger_v3/filtered_feature_bc_matrix.h5", "S")
    kept, row = run_qc(adata, "S", QCLimits(min_genes=5, remove_doublets=False, seed=0))
    predicted = kept.obs["predicted_doublet"].to_numpy()
    assert row["doublet_rate"] == pytest.approx(predicted.mean())
    assert 0 <= row["doublet_rate"] < 0.2
    assert kept.obs["doublet_score"].notna().all()
    again, row2 = run_qc(
        read_sample(data_dir / "cellranger_v3/filtered_feature_bc_matrix.h5", "S"),
        "S",
        QCLimits(min_genes=5, remove_doublets=False, seed=0),
    )
    assert row2 == row  # seeded


def test_scrublet_runs_on_samples_above_scanpys_approximate_neighbour_limit():
    # From 8,192 cells scanpy 1.11.5 uses pynndescent, whose graph crashed under scipy 1.17.
    import anndata as ad
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    counts = sp.random(
        9000, 800, density=0.06, format="csr", random_state=0,
        data_rvs=lambda n: rng.poisson(3, n) + 1,
    ).astype(np.float32)  # fmt: skip
    adata = ad.AnnData(counts)
    adata.obs_names = [f"c{i}" for i in range(adata.n_obs)]
    adata.var_names = [f"G{i}" for i in range(adata.n_vars)]
    kept, row = run_qc(adata, "S", QCLimits(min_genes=1))
    assert row["n_cells_raw"] == 9000
    assert 0 <= row["doublet_rate"] < 0.2 and kept.n_obs == 9000 - round(9000 * row["doublet_rate"])
