"""Cohort fractions, densities and paired p-values checked by hand and against scipy."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from organomics.errors import InputError
from organomics.mihc import cohort
from organomics.mihc.sample import COUNT_COLUMNS, SPATIAL_COLUMNS

# Six patients; CD8 counts out of 1000 cells. LM is lower in every patient by a distinct amount.
CD8 = {"PL": [120, 150, 90, 200, 110, 130], "LM": [100, 100, 85, 120, 60, 125]}
NK = {"PL": [50, 40, 60, 45, 55, 35], "LM": [52, 38, 65, 44, 50, 39]}


def write_counts(tmp_path, with_unpaired=True):
    paths, records = [], []
    samples = [(f"P{i + 1}", site, i) for i in range(6) for site in ("PL", "LM")]
    if with_unpaired:
        samples.append(("P7", "PL", None))
    for patient, site, i in samples:
        cd8 = CD8[site][i] if i is not None else 300
        nk = NK[site][i] if i is not None else 10
        rows = [
            ("phenotype", "all", "CD8_T", cd8, 1000, 0, np.nan),
            ("phenotype", "all", "NK", nk, 1000, 0, np.nan),
            ("phenotype", "Tumor", "CD8_T", cd8 // 2, 400, 0, 0.25),
            ("phenotype", "Tumor", "NK", nk // 2, 400, 0, 0.25),
            ("composition", "all", "CD8_T", cd8, 1000, 0, np.nan),
            ("composition", "all", "other", 1000 - cd8, 1000, 0, np.nan),
        ]
        path = tmp_path / f"{patient}_{site}.tsv"
        pd.DataFrame(rows, columns=COUNT_COLUMNS).to_csv(path, sep="\t", index=False)
        paths.append(str(path))
        records.append({"sample": f"{patient}_{site}", "patient": patient, "site": site})
    return paths, records


def test_fractions_and_densities(tmp_path):
    paths, records = write_counts(tmp_path)
    areas = {"P1_PL": "2.5", "P1_LM": ""}
    fractions, composition = cohort.fractions_tables(paths, records, areas)
    assert list(fractions.columns) == cohort.FRACTION_COLUMNS
    row = fractions.query("sample == 'P1_PL' and phenotype == 'CD8_T' and region == 'all'")
    assert row["fraction"].item() == pytest.approx(0.120)
    assert row["density_per_mm2"].item() == pytest.approx(120 / 2.5)  # sheet area_mm2
    row = fractions.query("sample == 'P1_LM' and phenotype == 'CD8_T' and region == 'all'")
    assert np.isnan(row["density_per_mm2"].item())  # no area known
    row = fractions.query("sample == 'P1_LM' and phenotype == 'CD8_T' and region == 'Tumor'")
    assert row["fraction"].item() == pytest.approx(50 / 400)
    assert row["density_per_mm2"].item() == pytest.approx(50 / 0.25)  # table's tissue area
    assert list(composition.columns) == cohort.COMPOSITION_COLUMNS
    assert composition.groupby("sample")["fraction"].sum().tolist() == pytest.approx([1.0] * 13)


def test_site_comparison_exact_pvalues(tmp_path):
    paths, records = write_counts(tmp_path)
    fractions, _ = cohort.fractions_tables(paths, records)
    result = cohort.site_comparison(fractions, "PL", "LM").set_index(["phenotype", "region"])
    cd8 = result.loc[("CD8_T", "all")]
    # All six differences negative: T+ = 0, exact two-sided p = 2 * (1 / 2**6).
    assert cd8["n_pairs"] == 6 and cd8["n_unpaired"] == 1
    assert cd8["statistic"] == 0
    assert cd8["p_value"] == pytest.approx(2 / 64)
    pl, lm = np.array(CD8["PL"]) / 1000, np.array(CD8["LM"]) / 1000
    assert cd8["p_value"] == pytest.approx(stats.wilcoxon(lm, pl, method="exact").pvalue)
    assert cd8["median_PL"] == pytest.approx(np.median(pl))
    assert cd8["median_LM"] == pytest.approx(np.median(lm))
    assert cd8["median_difference"] == pytest.approx(np.median(lm - pl))
    nk = result.loc[("NK", "all")]
    pl, lm = np.array(NK["PL"]) / 1000, np.array(NK["LM"]) / 1000
    assert nk["p_value"] == pytest.approx(stats.wilcoxon(lm, pl, method="exact").pvalue)
    # BH over the four phenotype x region tests, by hand.
    p = result["p_value"].to_numpy()
    order = np.argsort(p)
    m = len(p)
    expected = np.empty(m)
    running = 1.0
    for rank in range(m, 0, -1):
        index = order[rank - 1]
        running = min(running, p[index] * m / rank)
        expected[index] = running
    assert result["p_adj"].to_numpy() == pytest.approx(expected)


def test_spatial_comparison(tmp_path):
    paths, records = [], []
    for i in range(6):
        for site, shift in (("PL", 0.0), ("LM", 5.0 + i)):
            path = tmp_path / f"s{i}{site}.tsv"
            row = ("all", "CD8_T", 100, 500, 20.0 + i + shift, 0.6 - shift / 100, 30.0)
            pd.DataFrame([row], columns=SPATIAL_COLUMNS).to_csv(path, sep="\t", index=False)
            paths.append(str(path))
            records.append({"sample": f"P{i}_{site}", "patient": f"P{i}", "site": site})
    spatial = cohort.spatial_table(paths, records)
    result = cohort.spatial_comparison(spatial, "PL", "LM").set_index("measure")
    assert result.loc["median_distance_um", "p_value"] == pytest.approx(2 / 64)
    assert result.loc["median_distance_um", "median_difference"] == pytest.approx(7.5)
    assert result.loc["fraction_within", "p_value"] == pytest.approx(2 / 64)


def test_bad_sheet_area():
    with pytest.raises(InputError, match="area_mm2"):
        cohort.sheet_area("big", "P1_PL")
    with pytest.raises(InputError, match="must be > 0|area must be > 0"):
        cohort.sheet_area("0", "P1_PL")
    assert np.isnan(cohort.sheet_area("", "P1_PL"))
