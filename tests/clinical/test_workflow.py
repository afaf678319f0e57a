"""`snakemake clinical` from a temporary working directory: flat and SDTM input, early errors."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

SDTM = "clinical:\n  sdtm: {tu: data/sdtm/tu.csv, tr: data/sdtm/tr.csv}\n"
FLAT = "clinical:\n  lesions: data/lesions.tsv\n  patients: data/patients.tsv\n"


@pytest.fixture(scope="module")
def flat_run(tmp_path_factory, repo, snakemake_runner):
    work = tmp_path_factory.mktemp("clinical_flat")
    shutil.copytree(repo / "resources/demo/clinical", work / "data")
    (work / "config.yaml").write_text(FLAT)
    snakemake_runner(work, "clinical", "--configfile", "config.yaml")
    return work


def test_flat_run_reproduces_the_study(flat_run):
    rates = pd.read_csv(flat_run / "results/clinical/response_rates.tsv", sep="\t")
    rates = rates.set_index("site")
    assert rates.loc["PL", ["n", "responders", "disease_control"]].tolist() == [52, 17, 45]
    assert rates.loc["LM", ["n", "responders", "disease_control"]].tolist() == [52, 11, 35]
    comparison = pd.read_csv(flat_run / "results/clinical/site_comparison.tsv", sep="\t")
    mixed = comparison.set_index("metric").loc["mixed_response"]
    assert (mixed["discordant_PL_better"], mixed["discordant_LM_better"]) == (15, 2)
    assert round(mixed["p_value"], 4) == 0.0023
    for name in ("waterfall", "spider", "swimmer", "response_rates", "km_by_mixed_response"):
        for suffix in ("png", "pdf"):
            assert (flat_run / f"results/clinical/plots/{name}.{suffix}").stat().st_size > 1000
    survival = pd.read_csv(flat_run / "results/clinical/survival.tsv", sep="\t")
    assert set(survival["grouping"]) == {"mixed_response", "LM_response"}


def test_flat_run_irecist(flat_run):
    # RECIST 1.1 stays the published 17/52 vs 11/52 ORR; iRECIST recovers the sites whose first
    # PD was a pseudoprogression (tests/clinical/test_irecist.py checks the rules by hand).
    rates = pd.read_csv(flat_run / "results/clinical/irecist_rates.tsv", sep="\t")
    rates = rates.set_index(["criteria", "site"])
    assert rates.loc[("RECIST 1.1", "LM"), ["n", "responders", "progressed"]].tolist() == [
        52,
        11,
        17,
    ]
    assert rates.loc[("iRECIST", "LM"), ["n_iupd", "pseudoprogression"]].tolist() == [17, 8]
    responses = pd.read_csv(flat_run / "results/clinical/irecist_response.tsv", sep="\t")
    organ = pd.read_csv(flat_run / "results/clinical/organ_response.tsv", sep="\t")
    merged = organ.merge(responses, on=["patient", "site"])
    assert len(merged) == len(organ) == 104
    # The first iUPD is RECIST 1.1's first PD, site for site.
    assert merged["first_pd_day"].fillna(-1).tolist() == merged["iupd_day"].fillna(-1).tolist()
    timepoints = pd.read_csv(flat_run / "results/clinical/irecist_timepoints.tsv", sep="\t")
    assert timepoints["reason"].notna().all()
    for suffix in ("png", "pdf"):
        assert (flat_run / f"results/clinical/plots/irecist_course.{suffix}").stat().st_size > 1000
    comparison = pd.read_csv(flat_run / "results/clinical/irecist_site_comparison.tsv", sep="\t")
    assert comparison["metric"].tolist() == [
        "irecist_orr",
        "irecist_dcr",
        "pseudoprogression",
        "irecist_mixed_response",
    ]
    assert (flat_run / "logs/benchmarks/clinical/response.tsv").exists()


def test_flat_run_lists_what_it_left_out(flat_run):
    excluded = pd.read_csv(flat_run / "results/clinical/excluded.tsv", sep="\t", dtype=str)
    assert excluded.columns.tolist() == ["step", "level", "item", "patient", "site", "reason"]
    excluded = excluded[excluded["step"] == "response"]  # the landmark's: test_flat_run_part_b
    # The demo's lesions outside lung and liver (counted in data/lesions.tsv: 15 adrenal gland,
    # 19 lymph node lesions); every patient is evaluable at both sites and in the survival table.
    assert excluded["level"].unique().tolist() == ["lesion"]
    organs = excluded["reason"].str.extract(r"organ '([^']+)'")[0].value_counts().to_dict()
    assert organs == {"lymph node": 19, "adrenal gland": 15}
    lesions = pd.read_csv(flat_run / "data/lesions.tsv", sep="\t", dtype=str)
    other = lesions[~lesions["organ"].str.lower().isin(["lung", "liver"])]
    assert len(other.drop_duplicates(["patient", "lesion"])) == len(excluded)


def test_flat_run_survival_matches_r(flat_run, repo):
    reference_dir = repo / "tests/clinical/reference"
    # The groups R was given (demo_groups.tsv) are the run's own: mixed pattern and LM response.
    groups = pd.read_csv(reference_dir / "demo_groups.tsv", sep="\t", dtype=str)
    mixed = pd.read_csv(flat_run / "results/clinical/mixed_response.tsv", sep="\t", dtype=str)
    expected_mixed = groups[groups["grouping"] == "mixed_response"].set_index("patient")["group"]
    assert mixed.set_index("patient")["pattern"].sort_index().equals(expected_mixed.sort_index())
    # R survival 3.5.3, demo_survival.R: quantile(survfit(...), 0.5) and survdiff. Two medians
    # sit on a flat at S = 0.5 (PFS 413, OS 642.5 for PL_up_LM_down); lifelines gave 41 and 387.
    reference = pd.read_csv(reference_dir / "demo_survival.tsv", sep="\t", skipinitialspace=True)
    table = pd.read_csv(flat_run / "results/clinical/survival.tsv", sep="\t")
    table = table.set_index(["endpoint", "grouping", "group"])
    assert len(table) == len(reference) == 12
    for _, row in reference.iterrows():
        got = table.loc[(row["endpoint"], row["grouping"], row["group"])]
        assert got["n"] == row["n"]
        np.testing.assert_array_equal(
            got[["median_days", "median_ci_low", "median_ci_high"]].to_numpy(float),
            row[["median", "lower", "upper"]].to_numpy(float),
        )
        assert got["logrank_p"] == pytest.approx(row["p"], rel=1e-5)  # %.6g in the TSV


def test_sdtm_run_matches_flat_run(flat_run, snakemake_runner, tmp_path):
    shutil.copytree(flat_run / "data", tmp_path / "data")
    (tmp_path / "config.yaml").write_text(SDTM)
    snakemake_runner(tmp_path, "clinical", "--configfile", "config.yaml")
    flat = pd.read_csv(flat_run / "results/clinical/organ_response.tsv", sep="\t")
    sdtm = pd.read_csv(tmp_path / "results/clinical/organ_response.tsv", sep="\t")
    pd.testing.assert_frame_equal(flat, sdtm)
    for name in ("irecist_response.tsv", "irecist_timepoints.tsv"):
        flat = pd.read_csv(flat_run / "results/clinical" / name, sep="\t")
        sdtm = pd.read_csv(tmp_path / "results/clinical" / name, sep="\t")
        pd.testing.assert_frame_equal(flat, sdtm)
    assert not (tmp_path / "results/clinical/survival.tsv").exists()  # no patients table given


def test_bad_lesion_table_fails_before_any_job(flat_run, snakemake_runner, tmp_path):
    (tmp_path / "data").mkdir()
    lesions = pd.read_csv(flat_run / "data/lesions.tsv", sep="\t", dtype=str)
    lesions = lesions.drop(
        lesions.index[(lesions["lesion"] == "T01") & (lesions["patient"] == "P03")][0]
    )
    lesions.to_csv(tmp_path / "data/lesions.tsv", sep="\t", index=False)
    (tmp_path / "config.yaml").write_text("clinical:\n  lesions: data/lesions.tsv\n")
    result = snakemake_runner(tmp_path, "clinical", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    assert "patient P03, lesion T01: no baseline assessment" in result.stderr
    assert not (tmp_path / "results").exists()


def test_inactive_branch_target_says_how_to_switch_it_on(snakemake_runner, tmp_path):
    (tmp_path / "config.yaml").write_text("samples: null\n")
    result = snakemake_runner(tmp_path, "clinical", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    assert "The clinical branch has no inputs configured" in result.stderr


def test_html_report_renders_figures_and_captions(flat_run, snakemake_runner):
    snakemake_runner(flat_run, "--configfile", "config.yaml")  # rule all adds the summary
    findings = pd.read_csv(flat_run / "results/summary/findings.tsv", sep="\t")
    assert set(findings["layer"]) == {"clinical"}
    # RECIST 1.1's three rows, then iRECIST's four (findings.irecist_rows)
    assert findings["measure"].tolist()[:3] == [
        "objective response rate (organ-specific)",
        "disease control rate (organ-specific)",
        "mixed response: patients whose site grows while the other shrinks",
    ]
    assert "pseudoprogression (iRECIST: iUPD later reset)" in findings["measure"].tolist()
    snakemake_runner(flat_run, "--configfile", "config.yaml", "--report", "report.html")
    html = (flat_run / "report.html").read_text(errors="replace")
    assert "Clinical" in html and "waterfall.png" in html
    assert "Clopper-Pearson" in html  # a caption from workflow/report/


def test_flat_run_part_b(flat_run):
    """Organ time to event, landmark, lesion view and ADaM on the demo, checked from the inputs."""
    import pyreadstat
    from scipy.stats import binomtest

    results = flat_run / "results/clinical"
    lesions = pd.read_csv(flat_run / "data/lesions.tsv", sep="\t", dtype={"patient": str})
    lesions = lesions[lesions["organ"].str.lower().isin(["lung", "liver"])]
    lesions = lesions.assign(site=lesions["organ"].str.lower().map({"lung": "PL", "liver": "LM"}))
    # First organ: the exact binomial p of the two discordant counts, recomputed with scipy.
    first = pd.read_csv(results / "organ_first_progression.tsv", sep="\t")["first"]
    summary = pd.read_csv(results / "organ_progression_summary.tsv", sep="\t")
    row = summary.set_index("analysis").loc["first_progression"]
    counts = first.value_counts()
    assert row["events"] == counts.get("PL", 0) + counts.get("LM", 0)
    expected = binomtest(int(counts.get("LM", 0)), int(row["events"]), 0.5).pvalue
    assert row["p_value"] == pytest.approx(expected, rel=1e-5)
    # Landmark: the excluded patients are those whose OS ends by day 84 (pandas on the input).
    patients = pd.read_csv(flat_run / "data/patients.tsv", sep="\t", dtype={"patient": str})
    gone = patients[
        (patients["os_days"] < 84) | ((patients["os_days"] == 84) & (patients["os_event"] == 1))
    ]
    landmark = pd.read_csv(results / "landmark_survival.tsv", sep="\t")
    listed = landmark.loc[landmark["endpoint"] == "os", "excluded_patients"].iloc[0]
    assert listed.split(",") == sorted(gone["patient"])
    # Lesion view: one row per baseline target lesion in lung or liver.
    targets = lesions[(lesions["role"] == "target") & (lesions["day"] <= 0)]
    per_lesion = pd.read_csv(results / "lesion_response.tsv", sep="\t")
    assert len(per_lesion) == len(targets.drop_duplicates(["patient", "lesion"]))
    assert (results / "plots/lesion_waterfall.png").stat().st_size > 1000
    # ADTR baseline AVAL: each site's sum of its latest baseline target diameters.
    adtr, meta = pyreadstat.read_xport(str(results / "adam/adtr.xpt"))
    assert meta.column_names_to_labels["PCHG"] == "Percent Change from Baseline"
    latest = targets.sort_values("day").groupby(["patient", "lesion"]).tail(1)
    sums = latest.groupby(["patient", "site"])["diameter_mm"].sum().round(2)
    base = adtr[adtr["ABLFL"] == "Y"].set_index(["USUBJID", "PARCAT1"])["AVAL"]
    for (patient, site), value in sums.items():
        assert base[(patient, site)] == pytest.approx(value)
    # ADRS BOR under RECIST 1.1 is the organ response table's best response (no confirmation).
    adrs, _ = pyreadstat.read_xport(str(results / "adam/adrs.xpt"))
    bor = adrs[(adrs["PARAMCD"] == "BOR") & (adrs["PARCAT2"] == "RECIST 1.1")]
    bor = bor.set_index(["USUBJID", "PARCAT1"])["AVALC"].sort_index()
    organ = pd.read_csv(results / "organ_response.tsv", sep="\t", dtype={"patient": str})
    expected_bor = organ.set_index(["patient", "site"])["best_response"].sort_index()
    assert bor.tolist() == expected_bor.tolist()
    assert set(adrs["PARCAT2"]) == {"RECIST 1.1", "iRECIST"}
