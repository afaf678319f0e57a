"""Demo layer: formats, determinism, and the planted LM < PL signal at the count level."""

from __future__ import annotations

import numpy as np
import yaml

from organomics.demo import scrna as demo
from organomics.demo.cohort import DemoCohort
from organomics.scrna.io import read_sample


def test_demo_layer_formats_and_determinism(tmp_path):
    cohort = DemoCohort(n_patients=4, n_pairs=3, n_sc_pairs=2, n_cells=120)
    sheet, block = demo.write(tmp_path / "a", "a", cohort)
    again, _ = demo.write(tmp_path / "b", "b", cohort)
    assert list(sheet) == ["P01_PL", "P01_LM", "P02_PL", "P02_LM"]
    assert sheet["P01_PL"]["scrna"] == "a/scrna/P01_PL.h5"
    assert sheet["P02_PL"]["scrna"] == "a/scrna/P02_PL/filtered_feature_bc_matrix"
    assert block["qc"]["min_genes"] == 100
    for sample, cells in sheet.items():
        first = read_sample(tmp_path / cells["scrna"], sample)
        second = read_sample(tmp_path / again[sample]["scrna"], sample)
        assert first.shape == (120, 1800)
        assert (first.X != second.X).nnz == 0
        assert list(first.obs_names) == list(second.obs_names)
    mtx = tmp_path / "a/scrna/P02_PL/filtered_feature_bc_matrix/matrix.mtx.gz"
    assert (
        mtx.read_bytes()
        == (tmp_path / "b/scrna/P02_PL/filtered_feature_bc_matrix/matrix.mtx.gz").read_bytes()
    )


def test_compare_site_has_weaker_effector_programme():
    rng = np.random.default_rng(0)
    panel = demo.load_panel(rng)
    genes = ["GZMB", "PRF1", "IFNG", "NKG7"]
    idx = [panel.symbols.index(g) for g in genes]
    totals = {}
    for role in ("reference", "compare"):
        counts, truth = demo.simulate_counts(panel, rng, 600, role, demo.SIGNATURE_FOLD_COMPARE)
        cd8 = (truth["cell_type"] == "T_CD8").to_numpy()
        x = counts[cd8][:, idx].toarray().sum(axis=1) / counts[cd8].sum(axis=1).A1
        totals[role] = x.mean()
    assert totals["compare"] < 0.6 * totals["reference"]


def test_cd8_state_programmes_change_only_their_genes_and_differ_by_site():
    rng = np.random.default_rng(0)
    panel = demo.load_panel(rng)
    programmes = yaml.safe_load((demo.RESOURCES / "states.yaml").read_text())["programmes"]
    columns = [
        panel.symbols.index(g) for g in {g for gs in programmes["T_CD8"].values() for g in gs}
    ]
    shares = {}
    for role in ("reference", "compare"):
        counts, truth = demo.simulate_counts(panel, rng, 600, role)
        state_rng = np.random.default_rng(1)
        added, state = demo.add_cd8_states(counts, truth, panel.symbols, state_rng, role)
        changed = (added != counts).tocoo()
        # only programme genes of CD8 cells change, and only upwards
        assert set(changed.col) <= set(columns)
        assert (truth["cell_type"].to_numpy()[changed.row] == "T_CD8").all()
        assert (added - counts).min() >= 0
        cd8 = state[truth["cell_type"] == "T_CD8"]
        shares[role] = cd8.value_counts(normalize=True)
    # the planted direction: PL more progenitor-exhausted, LM more terminally exhausted
    assert (
        shares["reference"]["CD8_progenitor_exhausted"]
        > shares["compare"]["CD8_progenitor_exhausted"]
    )
    assert (
        shares["compare"]["CD8_terminally_exhausted"]
        > 2 * shares["reference"]["CD8_terminally_exhausted"]
    )
