"""Cohort tables of the margin, immune phenotype and neighbourhood steps; AnnData export."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from organomics.mihc import cohort, export, sample
from organomics.summary import findings


def margin_rows(sample_id, patient, site, core, band, stroma):
    return [
        {"sample": sample_id, "patient": patient, "site": site, "compartment": c,
         "phenotype": "CD8_T", "density_per_mm2": d}
        for c, d in (("core", core), ("margin", band), ("stroma", stroma))
    ]  # fmt: skip


def test_immune_class_cut_offs_at_the_boundary():
    # exactly at a cut-off reaches it (tie tolerance); 0.1 + 0.2 is 0.30000000000000004
    assert cohort.immune_class(100.0, 0.0, 100.0, 100.0) == "inflamed"
    assert cohort.immune_class(0.1 + 0.2, 0.0, 0.3, 1.0) == "inflamed"
    assert cohort.immune_class(0.3, 0.0, 0.1 + 0.2, 1.0) == "inflamed"
    assert cohort.immune_class(99.9, 100.0, 100.0, 100.0) == "excluded"
    assert cohort.immune_class(99.9, 99.9, 100.0, 100.0) == "desert"
    assert cohort.immune_class(np.nan, 500.0, 100.0, 100.0) == ""  # no tumour core


def test_immune_comparison_is_an_exact_sign_test():
    rows = []
    # Five pairs: PL inflamed in all; LM excluded in 4, inflamed in 1; one unpaired sample.
    for k in range(5):
        rows += margin_rows(f"P{k}_PL", f"P{k}", "PL", 300.0, 200.0, 100.0)
        lm_core = 300.0 if k == 0 else 10.0
        rows += margin_rows(f"P{k}_LM", f"P{k}", "LM", lm_core, 200.0, 50.0)
    rows += margin_rows("P9_PL", "P9", "PL", 0.0, 0.0, 0.0)
    immune = cohort.immune_phenotypes(pd.DataFrame(rows), ["CD8_T", "absent"], 100.0, 100.0)
    assert list(immune.columns) == cohort.IMMUNE_COLUMNS
    assert len(immune) == 11 and set(immune["phenotype"]) == {"CD8_T"}
    assert immune.set_index("sample").loc["P9_PL", "immune_phenotype"] == "desert"
    table = cohort.immune_comparison(immune, "PL", "LM").iloc[0]
    assert (table["n_pairs"], table["n_unpaired"]) == (5, 1)
    assert (table["inflamed_PL"], table["excluded_LM"], table["inflamed_LM"]) == (5, 4, 1)
    assert (table["n_lower_LM"], table["n_higher_LM"], table["n_same"]) == (4, 0, 1)
    # by hand: 4 of 4 differing pairs lower, two-sided exact binomial = 2 * 0.5**4 = 0.125
    assert table["p_value"] == pytest.approx(0.125)
    assert table["p_value"] == pytest.approx(stats.binomtest(0, 4).pvalue)


def test_neighbourhood_comparison_pairs_patients_and_findings_rows():
    records, rows = [], []
    log2 = {("P1", "PL"): 0.1, ("P1", "LM"): 1.1, ("P2", "PL"): -0.2, ("P2", "LM"): 0.3}
    log2 |= {("P3", "PL"): 0.0, ("P3", "LM"): 0.4}
    for (patient, site), value in log2.items():
        records.append({"sample": f"{patient}_{site}", "patient": patient, "site": site})
        for region, shift in (("all", 0.0), ("Tumor", 5.0)):
            rows.append(
                {"sample": f"{patient}_{site}", "region": region, "from_phenotype": "A",
                 "to_phenotype": "B", "radius_um": 20.0, "log2_ratio": value + shift}
            )  # fmt: skip
    result = cohort.neighbourhood_comparison(pd.DataFrame(rows), records, "PL", "LM")
    row = result.iloc[0]
    # region `all` only: differences 1.0, 0.5, 0.4 -> median 0.5; exact two-sided p = 2/8
    assert len(result) == 1 and row["n_pairs"] == 3
    assert row["median_difference"] == pytest.approx(0.5)
    assert row["p_value"] == pytest.approx(0.25)
    found = findings.mihc_spatial_rows(result, pd.DataFrame(), "PL", "LM")
    assert found[0]["measure"] == "B neighbours of A within 20 µm (log2 observed/expected)"
    assert found[0]["effect"] == pytest.approx(0.5) and found[0]["n"] == 3
    # the cross-K comparison has the same keys; a CN table adds one row per CN
    cn = result.drop(columns=["from_phenotype", "to_phenotype", "radius_um"]).assign(cn="CN1")
    found = findings.mihc_spatial_rows(result, pd.DataFrame(), "PL", "LM", result, cn)
    assert [row["measure"] for row in found[1:]] == [
        "cross-type L of A to B at 20 µm minus its relabelling mean",
        "cellular neighbourhood CN1 abundance",
    ]


def test_anndata_export_keeps_coordinates_and_phenotypes(tmp_path):
    cells = pd.DataFrame(
        {"x_um": [1.0, 2.5], "y_um": [3.0, 4.0], "region": ["Tumor", "Stroma"], "field": [0, 0],
         "CD8_T": [True, False], "class": ["CD8_T", "other"], "compartment": ["core", "margin"],
         "border_distance_um": [120.0, -5.0]}
    )  # fmt: skip
    record = {"sample": "P1_PL", "patient": "P1", "site": "PL"}
    adata = export.to_anndata(cells, record, ["CD8_T"])
    path = tmp_path / "a.h5ad"
    adata.write_h5ad(path)
    import anndata

    back = anndata.read_h5ad(path)
    assert np.array_equal(back.obsm["spatial"], [[1.0, 3.0], [2.5, 4.0]])
    assert back.obs["CD8_T"].tolist() == [True, False]
    assert back.obs["compartment"].tolist() == ["core", "margin"]
    assert back.uns["mihc"]["unit"] == "um" and back.n_vars == 0
    assert export.to_anndata(None, record, ["CD8_T"]).n_obs == 0


def h5_tree(path) -> dict:
    """{element name: (kind, attrs, dtype, shape, values)} of an HDF5 file, for comparing two."""
    import h5py

    tree = {}

    def visit(name, item):
        attrs = {key: np.asarray(value).tolist() for key, value in item.attrs.items()}
        if isinstance(item, h5py.Dataset):
            values = item[()]
            values = values.tolist() if isinstance(values, np.ndarray) else values
            tree[name] = ("dataset", attrs, str(item.dtype), item.shape, values)
        else:
            tree[name] = ("group", attrs)

    with h5py.File(path, "r") as h5:
        tree["/"] = ("group", {key: str(value) for key, value in h5.attrs.items()})
        h5.visititems(visit)
    return tree


@pytest.mark.parametrize("with_cells", [True, False])
def test_h5py_writer_gives_anndatas_own_file(tmp_path, with_cells):
    """write_h5ad (h5py, no anndata import in the job) = anndata's write_h5ad of to_anndata:
    the same groups, datasets, dtypes, values and encoding attributes, and reads back equal."""
    import anndata

    cells = pd.DataFrame(
        {"x_um": [1.0, 2.5, 7.0], "y_um": [3.0, 4.0, 0.5], "region": ["Tumor", "Stroma", "Tumor"],
         "field": [0, 0, 1], "CD8_T": [True, False, True], "class": ["CD8_T", "other", "CD8_T"],
         "compartment": ["core", "margin", "core"], "border_distance_um": [120.0, -5.0, 3.25]}
    ) if with_cells else None  # fmt: skip
    record = {"sample": "P1_PL", "patient": "P1", "site": "PL"}
    reference = export.to_anndata(cells, record, ["CD8_T"])
    reference.write_h5ad(tmp_path / "anndata.h5ad")
    export.write_h5ad(cells, record, ["CD8_T"], str(tmp_path / "h5py.h5ad"))
    assert h5_tree(tmp_path / "h5py.h5ad") == h5_tree(tmp_path / "anndata.h5ad")
    back = anndata.read_h5ad(tmp_path / "h5py.h5ad")
    pd.testing.assert_frame_equal(back.obs, reference.obs)
    assert np.array_equal(back.obsm["spatial"], reference.obsm["spatial"])
    assert back.uns["mihc"] == reference.uns["mihc"] and back.shape == reference.shape


def test_schema_defaults_fill_a_partial_block():
    filled = sample.with_defaults({"neighbourhood": {"radii_um": [10]}})
    assert filled["neighbourhood"]["radii_um"] == [10]
    assert filled["neighbourhood"]["permutations"] == 199  # the schema's default
    assert filled["margin_um"] == 100 and filled["tumour_region"]["grid_um"] == 10


def test_cellular_neighbourhoods_cluster_and_count(tmp_path):
    # Two obvious windows: all-tumour and all-T. P1_PL has 8 tumour + 2 T windows, P1_LM 3 + 7.
    records, paths = [], []
    for site, n_tumour in (("PL", 8), ("LM", 3)):
        frame = pd.DataFrame(
            {"Tumour": [1.0] * n_tumour + [0.0] * (10 - n_tumour),
             "T": [0.0] * n_tumour + [1.0] * (10 - n_tumour)}
        )  # fmt: skip
        path = tmp_path / f"P1_{site}.parquet"
        frame.to_parquet(path)
        paths.append(str(path))
        records.append({"sample": f"P1_{site}", "patient": "P1", "site": site})
    profiles, abundance = cohort.cellular_neighbourhoods(paths, records, 2, 0)
    # CN1 is the larger cluster: 11 tumour windows against 9 T windows
    assert profiles["n_cells"].tolist() == [11, 9]
    assert profiles.set_index("cn").loc["CN1", "Tumour"] == pytest.approx(1.0)
    table = abundance.set_index(["sample", "cn"])
    assert table.loc[("P1_PL", "CN1"), "fraction"] == pytest.approx(0.8)
    assert table.loc[("P1_LM", "CN2"), "fraction"] == pytest.approx(0.7)
    result = cohort.cn_comparison(abundance, "PL", "LM").set_index("cn")
    assert result.loc["CN1", "median_difference"] == pytest.approx(-0.5)


def test_immune_comparison_simultaneous_subset_by_hand():
    rows = []
    # Five pairs as above (P0 same class, P1-P4 lower in LM); P0-P2 sampled close together.
    for k in range(5):
        rows += margin_rows(f"P{k}_PL", f"P{k}", "PL", 300.0, 200.0, 100.0)
        rows += margin_rows(f"P{k}_LM", f"P{k}", "LM", 300.0 if k == 0 else 10.0, 200.0, 50.0)
    immune = cohort.immune_phenotypes(pd.DataFrame(rows), ["CD8_T"], 100.0, 100.0)
    table = cohort.immune_comparison(immune, "PL", "LM", ["P0", "P1", "P2"])
    assert table["subset"].tolist() == ["all", "simultaneous"]
    alike = table.set_index("subset").loc["simultaneous"]
    assert (alike["n_pairs"], alike["n_lower_LM"], alike["n_same"]) == (3, 2, 1)
    # by hand: 2 of 2 differing pairs lower, two-sided exact binomial = 2 * 0.5**2 = 0.5
    assert alike["p_value"] == pytest.approx(0.5)
    assert alike["correction"] == "Benjamini-Hochberg across 1 tests"
    before = cohort.immune_comparison(immune, "PL", "LM")
    pd.testing.assert_frame_equal(
        table[table["subset"] == "all"].drop(columns="subset").reset_index(drop=True), before
    )
    # findings take the rows over every pair only
    rows = findings.mihc_spatial_rows(pd.DataFrame(), table, "PL", "LM")
    assert len(rows) == 1 and rows[0]["n"] == 5


def test_fraction_comparison_simultaneous_subset_matches_scipy():
    pl = [0.30, 0.25, 0.40, 0.10, 0.35, 0.20]
    lm = [0.10, 0.27, 0.15, 0.12, 0.05, 0.18]
    rows = [
        {"patient": f"P{i}", "site": site, "region": "all", "phenotype": "CD8_T", "fraction": v}
        for i, (a, b) in enumerate(zip(pl, lm, strict=True))
        for site, v in (("PL", a), ("LM", b))
    ]
    keep = [0, 2, 4, 5]  # |differences| 0.2, 0.25, 0.3, 0.02: no ties, scipy exact applies
    table = cohort.site_comparison(pd.DataFrame(rows), "PL", "LM", [f"P{i}" for i in keep])
    row = table.set_index("subset").loc["simultaneous"]
    expected = stats.wilcoxon([pl[i] for i in keep], [lm[i] for i in keep], method="exact")
    assert row["n_pairs"] == 4
    assert row["p_value"] == pytest.approx(expected.pvalue)
    assert row["statistic"] == pytest.approx(expected.statistic)
    assert row["median_difference"] == pytest.approx(np.median([lm[i] - pl[i] for i in keep]))
    before = cohort.site_comparison(pd.DataFrame(rows), "PL", "LM")
    pd.testing.assert_frame_equal(
        table[table["subset"] == "all"].drop(columns="subset").reset_index(drop=True), before
    )
