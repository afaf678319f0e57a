"""CD8/NK state programmes: file checks, per-cell assignment, fractions, ratio, tests, composition
(numbers checked by hand and with scipy)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

from organomics.errors import InputError
from organomics.scrna import composition, states
from organomics.scrna.states import UNASSIGNED, Ratio, StateProgrammes

BUNDLED = states.Path(__file__).resolve().parents[2] / "resources/scrna/states.yaml"


def _programmes(cut_off=0.0):
    return StateProgrammes(
        {"T_CD8": {"prog": ["TCF7"], "term": ["HAVCR2"]}, "NK": {"dim": ["FCGR3A"]}},
        cut_off,
        Ratio("T_CD8", "prog", "term"),
    )


def test_bundled_file_names_the_issue_programmes():
    loaded = states.load_states(BUNDLED)
    cd8 = loaded.programmes["T_CD8"]
    assert cd8["CD8_progenitor_exhausted"] == ["TCF7", "SELL", "IL7R", "CCR7"]
    assert cd8["CD8_terminally_exhausted"] == ["HAVCR2", "ENTPD1", "LAG3", "TOX", "PDCD1"]
    assert cd8["CD8_proliferating"] == ["MKI67"]
    assert list(loaded.programmes["NK"]) == ["NK_CD56bright", "NK_CD56dim"]
    assert loaded.ratio == Ratio("T_CD8", "CD8_progenitor_exhausted", "CD8_terminally_exhausted")
    assert loaded.cut_off == 0.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("programmes: {T_CD8: {a: [X]}, NK: {a: [Y]}}\n", "name used twice"),
        ("programmes: {T_CD8: {unassigned: [X]}}\n", "reserved"),
        ("programmes: {T_CD8: {a: X}}\n", "programmes.T_CD8.a: expected a list"),
        (
            "programmes: {T_CD8: {a: [X]}}\nratio: {cell_type: T_CD8, numerator: a, "
            "denominator: b}\n",
            "ratio.denominator",
        ),  # fmt: skip
        ("programmes: {T_CD8: {a: [X]}}\ncut_off: high\n", "cut_off"),
        ("programme: {}\n", "unknown keys"),
    ],
)
def test_bad_state_files_name_the_key(tmp_path, text, message):
    path = tmp_path / "states.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        states.load_states(path)


def test_assign_highest_z_ties_and_cut_off_by_hand():
    # Four CD8 cells; prog scores 0, 1, 2, 3 (mean 1.5, population sd sqrt(1.25)),
    # term scores 3, 2, 1, 0: z_prog = (x - 1.5) / 1.118, z_term its negative.
    table = pd.DataFrame(
        {"prog": [0.0, 1.0, 2.0, 3.0], "term": [3.0, 2.0, 1.0, 0.0], "dim": np.nan},
        index=["a", "b", "c", "d"],
    )
    cell_types = pd.Series("T_CD8", index=table.index)
    got = states.assign(table, cell_types, _programmes())
    sd = np.sqrt(1.25)
    assert got.loc["a", "z_prog"] == pytest.approx(-1.5 / sd)
    assert got["state"].tolist() == ["term", "term", "prog", "prog"]
    assert got.loc["b", "max_z"] == pytest.approx(0.5 / sd)
    # a cut-off above every cell's best z (1.5 / sd = 1.342): all unassigned but a and d
    high = states.assign(table, cell_types, _programmes(cut_off=1.0))
    assert high["state"].tolist() == ["term", UNASSIGNED, UNASSIGNED, "prog"]


def test_assign_at_the_cut_off_and_tie_within_tolerance():
    # b's two z are equal (0 and 0 after centring): the tie goes to the first state (prog);
    # a cut-off computed with rounding error (0.1 + 0.2 - 0.3 != 0) still counts as reached.
    table = pd.DataFrame({"prog": [1.0, 0.0, -1.0], "term": [-1.0, 0.0, 1.0]}, index=list("abc"))
    cell_types = pd.Series("T_CD8", index=table.index)
    at = _programmes(cut_off=0.1 + 0.2 - 0.3)  # 5.55e-17 in floating point
    got = states.assign(table, cell_types, at)
    assert got.loc["b", "max_z"] == 0.0
    assert got.loc["b", "state"] == "prog"
    above = states.assign(table, cell_types, _programmes(cut_off=1e-6))
    assert above.loc["b", "state"] == UNASSIGNED


def _cells():
    # patient A: PL 3 prog / 1 term / 0 unassigned; LM 0 prog / 2 term / 1 unassigned
    rows = [("A_PL", "prog")] * 3 + [("A_PL", "term")] + [("A_LM", "term")] * 2
    rows += [("A_LM", UNASSIGNED)]
    frame = pd.DataFrame(rows, columns=["sample", "state"]).assign(cell_type="T_CD8")
    return frame


def _samples():
    return pd.DataFrame({"sample": ["A_PL", "A_LM"], "patient": "A", "site": ["PL", "LM"]})


def test_fractions_and_ratio_with_zeros_by_hand():
    table = states.fractions(_cells(), _programmes(), _samples())
    got = table.set_index(["sample", "cell_type", "state"])
    assert got.loc[("A_PL", "T_CD8", "prog"), "fraction"] == 0.75
    assert got.loc[("A_LM", "T_CD8", "prog"), "n_cells"] == 0
    assert got.loc[("A_LM", "T_CD8", UNASSIGNED), "fraction"] == pytest.approx(1 / 3)
    assert np.isnan(got.loc[("A_PL", "NK", "dim"), "fraction"])  # no NK cell: no fraction
    assert list(table.columns) == states.FRACTION_COLUMNS
    ratio = states.ratios(table, _programmes().ratio).set_index("sample")
    # (3 + 0.5) / (1 + 0.5) and (0 + 0.5) / (2 + 0.5)
    assert ratio.loc["A_PL", "ratio"] == pytest.approx(3.5 / 1.5)
    assert ratio.loc["A_LM", "ratio"] == pytest.approx(0.2)
    assert ratio.loc["A_LM", "log2_ratio"] == pytest.approx(np.log2(0.2))


def test_state_tests_pairs_and_min_cells():
    cells = []
    for i, (n_pl, n_lm) in enumerate([(8, 2), (6, 3), (9, 1), (7, 4)]):
        for site, n_prog in (("PL", n_pl), ("LM", n_lm)):
            sample = f"P{i}_{site}"
            cells += [(sample, "prog")] * n_prog + [(sample, "term")] * (10 - n_prog)
    frame = pd.DataFrame(cells, columns=["sample", "state"]).assign(cell_type="T_CD8")
    samples = pd.DataFrame(
        [(f"P{i}_{s}", f"P{i}", s) for i in range(4) for s in ("PL", "LM")],
        columns=["sample", "patient", "site"],
    )
    table = states.fractions(frame, _programmes(), samples)
    ratio = states.ratios(table, _programmes().ratio)
    got = states.tests(table, ratio, "PL", "LM", min_cells=10).set_index(["state", "measure"])
    row = got.loc[("prog", "fraction")]
    # LM - PL differences -0.6, -0.3, -0.8, -0.3: all negative, 4 pairs -> exact p = 2/16
    assert row["n_pairs"] == 4
    assert row["median_difference"] == pytest.approx(-0.45)
    assert row["p_value"] == pytest.approx(0.125)
    assert ("prog/term", "log2_ratio") in got.index
    # NK has no cell anywhere: below min_cells, not tested
    assert "dim" not in got.index.get_level_values("state")
    none = states.tests(table, ratio, "PL", "LM", min_cells=11)
    assert none.empty


def test_logit_proportions_match_speckle_formula():
    counts = pd.DataFrame({"a": [0, 5], "b": [10, 5]})
    got = composition.logit_proportions(counts)
    p = 0.5 / (0.5 + 10.5)  # (n + 0.5) / sum(n + 0.5)
    assert got.loc[0, "a"] == pytest.approx(np.log(p / (1 - p)))
    assert got.loc[1, "a"] == pytest.approx(0.0)


def test_propeller_paired_case_equals_scipy_ttest_rel():
    rng = np.random.default_rng(3)
    rows = []
    for i in range(5):
        for site in ("PL", "LM"):
            n = rng.integers(0, 40, size=3)
            for group, k in zip(["x", "y", "z"], n, strict=True):
                rows.append({"patient": f"P{i}", "site": site, "group": group, "n_cells": int(k),
                             "fraction": k / n.sum()})  # fmt: skip
    long = pd.DataFrame(rows)
    got = composition.composition_tests(long, "group", "cell_type", "PL", "LM").set_index("group")
    # independent computation: the logit by hand, then scipy's paired t-test
    wide = long.pivot_table(index=["patient", "site"], columns="group", values="n_cells")
    p = (wide + 0.5).div((wide + 0.5).sum(axis=1), axis=0)
    logit = np.log(p / (1 - p))
    for group in ("x", "y", "z"):
        lm = logit[group].xs("LM", level="site").sort_index()
        pl = logit[group].xs("PL", level="site").sort_index()
        expected = stats.ttest_rel(lm, pl)
        assert got.loc[group, "statistic"] == pytest.approx(expected.statistic)
        assert got.loc[group, "p_value"] == pytest.approx(expected.pvalue)
        assert got.loc[group, "mean_logit_difference"] == pytest.approx((lm - pl).mean())
        assert got.loc[group, "df"] == 4
    pvalues = got["p_value"].to_numpy()
    assert got["p_adj"].to_numpy() == pytest.approx(stats.false_discovery_control(pvalues))
    assert (got["primary"] == "propeller").all()
    assert got["wilcoxon_p_value"].notna().all()


def test_composition_run_repeats_both_tests_on_the_simultaneous_patients():
    rng = np.random.default_rng(3)
    rows = []
    for i in range(6):
        for site in ("PL", "LM"):
            n = rng.integers(1, 40, size=2)
            for cell_type, k in zip(["x", "y"], n, strict=True):
                rows.append({"sample": f"P{i}_{site}", "patient": f"P{i}", "site": site,
                             "cell_type": cell_type, "n_cells": int(k),
                             "fraction": k / n.sum()})  # fmt: skip
    cell_types = pd.DataFrame(rows)
    no_states = pd.DataFrame(columns=["sample", "patient", "site", "cell_type", "state",
                                      "n_cells", "n_compartment", "fraction"])  # fmt: skip
    keep = ["P0", "P2", "P3", "P5"]
    got = composition.run(cell_types, no_states, "PL", "LM", 5, keep)
    assert got["subset"].tolist() == ["all", "all", "simultaneous", "simultaneous"]
    before = composition.run(cell_types, no_states, "PL", "LM", 5)
    pd.testing.assert_frame_equal(got.iloc[:2].drop(columns="subset"), before)
    # independent: logit by hand on the four simultaneous patients, then scipy's paired t-test
    own = cell_types[cell_types["patient"].isin(keep)]
    wide = own.pivot_table(index=["patient", "site"], columns="cell_type", values="n_cells")
    p = (wide + 0.5).div((wide + 0.5).sum(axis=1), axis=0)
    logit = np.log(p / (1 - p))
    simultaneous = got[got["subset"] == "simultaneous"].set_index("group")
    for cell_type in ("x", "y"):
        lm = logit[cell_type].xs("LM", level="site").sort_index()
        pl = logit[cell_type].xs("PL", level="site").sort_index()
        expected = stats.ttest_rel(lm, pl)
        assert simultaneous.loc[cell_type, "n_pairs"] == 4
        assert simultaneous.loc[cell_type, "p_value"] == pytest.approx(expected.pvalue)
        fractions = own[own["cell_type"] == cell_type].pivot(index="patient", columns="site",
                                                             values="fraction")  # fmt: skip
        wilcoxon = stats.wilcoxon(fractions["LM"], fractions["PL"], method="exact")
        assert simultaneous.loc[cell_type, "wilcoxon_p_value"] == pytest.approx(wilcoxon.pvalue)


def test_propeller_identical_differences_give_no_p_value():
    rows = []
    for i in range(3):
        for site, k in (("PL", 5), ("LM", 2)):
            for group, n in (("x", k), ("y", 10 - k)):
                rows.append({"patient": f"P{i}", "site": site, "group": group, "n_cells": n})
    long = pd.DataFrame(rows)
    long["fraction"] = long["n_cells"] / 10
    got = composition.paired_logit_test(long, "group", "PL", "LM").set_index("group")
    assert got.loc["x", "n_pairs"] == 3
    assert np.isnan(got.loc["x", "p_value"])  # sd of the differences 0: t undefined


def test_propeller_skips_a_group_without_cells():
    rows = []
    for i, (pl, lm) in enumerate([(10, 20), (30, 15), (12, 40)]):
        for site, k in (("PL", pl), ("LM", lm)):
            rows += [{"patient": f"P{i}", "site": site, "group": "x", "n_cells": k},
                     {"patient": f"P{i}", "site": site, "group": "none", "n_cells": 0}]  # fmt: skip
    long = pd.DataFrame(rows).assign(fraction=lambda t: (t["n_cells"] > 0).astype(float))
    got = composition.paired_logit_test(long, "group", "PL", "LM").set_index("group")
    # (0 + 0.5) / (n + 1) differs between samples of different sizes: no test of nothing
    assert np.isnan(got.loc["none", "p_value"])
    # x is the family's one test: BH leaves its p as it is
    assert np.isfinite(got.loc["x", "p_value"])
    assert got.loc["x", "p_adj"] == got.loc["x", "p_value"]


def test_run_scores_and_assigns_planted_states(tmp_path):
    # 40 CD8 cells (half with TCF7, half with HAVCR2), 10 NK, 10 B cells on 300 genes of
    # spread means (so that every expression bin holds control genes).
    rng = np.random.default_rng(0)
    genes = ["TCF7", "HAVCR2", "FCGR3A"] + [f"G{i}" for i in range(297)]
    x = rng.poisson(rng.lognormal(0, 1, 300), size=(60, 300)).astype(np.float32)
    x[:, :3] = 0
    x[:20, 0] = 8
    x[20:40, 1] = 8
    cell_type = ["T_CD8"] * 40 + ["NK"] * 10 + ["B"] * 10
    sample = ["A_PL", "A_LM"] * 30
    obs = pd.DataFrame({"cell_type": cell_type, "sample": sample, "patient": "A",
                        "site": [s[-2:] for s in sample]},
                       index=[f"c{i}" for i in range(60)])  # fmt: skip
    adata = ad.AnnData(X=sp.csr_matrix(np.log1p(x)), obs=obs, var=pd.DataFrame(index=genes))
    path = tmp_path / "adata.h5ad"
    adata.write_h5ad(path)
    records = [{"sample": "A_PL", "patient": "A", "site": "PL"},
               {"sample": "A_LM", "patient": "A", "site": "LM"}]  # fmt: skip
    tables, subset = states.run(path, _programmes(), records, "PL", "LM", min_cells=1)
    cells = tables["cells"].set_index("cell")
    assert len(cells) == 50  # CD8 and NK cells only
    assert (cells.loc[[f"c{i}" for i in range(20)], "state"] == "prog").all()
    assert (cells.loc[[f"c{i}" for i in range(20, 40)], "state"] == "term").all()
    assert np.isnan(cells.loc["c0", "score_dim"])  # NK programme not scored on CD8 cells
    assert set(subset.obs["state"]) <= {"prog", "term", "dim", UNASSIGNED}


def test_samples_below_min_cells_are_excluded_and_listed():
    from organomics.excluded import Exclusions

    # A_PL has 4 CD8 cells, A_LM 3: with min_cells 4 only A_PL enters, so no pair is tested
    table = states.fractions(_cells(), _programmes(), _samples())
    ratio = states.ratios(table, _programmes().ratio)
    excluded = Exclusions("states")
    got = states.tests(table, ratio, "PL", "LM", min_cells=4, exclusions=excluded)
    listed = excluded.table().set_index("item")
    assert "A_LM T_CD8" in listed.index and "A_PL T_CD8" not in listed.index
    assert listed.loc["A_LM T_CD8", "reason"].startswith("3 cell(s) < comparison.min_cells 4")
    assert {"A_PL NK", "A_LM NK"} <= set(listed.index)  # no NK cell at all
    assert (got["n_pairs"] == 0).all()
