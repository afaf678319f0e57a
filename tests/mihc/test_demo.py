"""The mIHC demo layer: HALO tables whose paired test recovers fewer CD8 and CD56dim cells in LM."""

import pandas as pd
import pytest

from organomics.demo import mihc as demo_mihc
from organomics.demo.cohort import DemoCohort
from organomics.mihc import cohort, readers, sample


def test_demo_recovers_lower_cd8_and_cd56dim_in_lm(tmp_path):
    demo = DemoCohort(seed=0, n_mihc_cells=600)
    sheet, config = demo_mihc.write(tmp_path, str(tmp_path), demo)
    assert len(sheet) == 2 * len(demo.pairs) + 1  # pairs plus one unpaired sample
    count_paths, records = [], []
    for sample_id, cells in sheet.items():
        assert readers.detect_format(readers.read_header(cells["mihc"])[0]) == "halo"
        summary = sample.summarise(cells["mihc"], config)
        path = tmp_path / f"{sample_id}.tsv"
        summary.counts.to_csv(path, sep="\t", index=False)
        count_paths.append(str(path))
        patient, site = sample_id.rsplit("_", 1)
        records.append({"sample": sample_id, "patient": patient, "site": site})
    areas = {s: cells["area_mm2"] for s, cells in sheet.items()}
    fractions, _ = cohort.fractions_tables(count_paths, records, areas)
    result = cohort.site_comparison(fractions, "PL", "LM")
    result = result[result["region"] == "all"].set_index("phenotype")
    for phenotype in ("CD8_T", "CD56dim_NK"):
        assert result.loc[phenotype, "p_value"] < 0.05
        assert result.loc[phenotype, "median_difference"] < 0
    assert result.loc["CD8_T", "n_pairs"] == len(demo.pairs)
    assert fractions["density_per_mm2"].notna().any()


def test_demo_lm_is_immune_excluded(tmp_path):
    """LM CD8 T cells crowd the invasive margin and avoid the tumour core; PL ones do not."""
    demo = DemoCohort(seed=0, n_pairs=8, n_patients=9, n_sc_pairs=1, n_mihc_cells=1500)
    sheet, config = demo_mihc.write(tmp_path, str(tmp_path), demo)
    config = {**config, "neighbourhood": {"radii_um": [50], "permutations": 0}}
    margin_paths, neighbour_paths, records = [], [], []
    for sample_id, cells in sheet.items():
        summary = sample.summarise(cells["mihc"], config)
        for name, table, paths in (
            ("margin", summary.margin, margin_paths),
            ("neighbours", summary.neighbourhood, neighbour_paths),
        ):
            path = tmp_path / f"{sample_id}.{name}.tsv"
            table.to_csv(path, sep="\t", index=False)
            paths.append(str(path))
        patient, site = sample_id.rsplit("_", 1)
        records.append({"sample": sample_id, "patient": patient, "site": site})
    margin = cohort.margin_table(margin_paths, records)
    densities = cohort.margin_comparison(margin, "PL", "LM").set_index(["compartment", "phenotype"])
    # eight of eight pairs lower in the LM core: exact two-sided p = 2 / 2**8
    assert densities.loc[("core", "CD8_T"), "p_value"] == pytest.approx(2 / 2**8)
    assert densities.loc[("core", "CD8_T"), "median_LM"] < 20
    immune = cohort.immune_phenotypes(margin, ["CD8_T"], 100.0, 100.0)
    assert set(immune.query("site == 'LM'")["immune_phenotype"]) == {"excluded"}
    assert (immune.query("site == 'PL'")["immune_phenotype"] == "inflamed").mean() >= 0.75
    neighbours = cohort.neighbourhood_table(neighbour_paths, records)
    tests = cohort.neighbourhood_comparison(neighbours, records, "PL", "LM")
    cd8 = tests.query("from_phenotype == 'CD8_T' and to_phenotype == 'CD8_T'").iloc[0]
    assert cd8["median_difference"] > 1 and cd8["p_value"] == pytest.approx(2 / 2**8)


def test_demo_is_deterministic(tmp_path):
    demo = DemoCohort(seed=0, n_pairs=2, n_patients=3, n_sc_pairs=1, n_mihc_cells=50)
    first, _ = demo_mihc.write(tmp_path / "a", "a", demo)
    second, _ = demo_mihc.write(tmp_path / "b", "b", demo)
    for sample_id in first:
        a = (tmp_path / "a" / "mihc" / f"{sample_id}.csv.gz").read_bytes()
        b = (tmp_path / "b" / "mihc" / f"{sample_id}.csv.gz").read_bytes()
        assert a == b
    table = pd.read_csv(tmp_path / "a" / "mihc" / f"{sample_id}.csv.gz")
    assert {"Object Id", "XMin", "XMax", "YMin", "YMax", "CD8 Positive Classification"} <= set(
        table.columns
    )
    assert len(table) == 50
