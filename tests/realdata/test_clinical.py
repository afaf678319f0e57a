"""Clinical branch end to end on public files: pharmaversesdtm RECIST domains, R's lung trial.

Sources and subsetting: tests/realdata/data/clinical/PROVENANCE.md. RECIST results are worked
out by hand below from the TR measurements; Kaplan-Meier medians, CIs and log-rank p come from
R survival 3.5.3 (quantile.survfit, survdiff) run by the R scripts next to the data.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from organomics.clinical import sdtm
from organomics.errors import InputError

DATA = Path(__file__).parent / "data" / "clinical"
PHARMAVERSE = """\
clinical:
  sdtm: {tu: data/pharmaverse_tu.csv, tr: data/pharmaverse_tr.csv, evaluator: RADIOLOGIST 1}
  patients: data/pharmaverse_patients.tsv
  organ_sites:
    PL: [lymph node, chest, esophagus, breast, head and neck]
    LM: [adrenal gland, body, bone, bladder, colon, anus]
"""


def read(path):
    return pd.read_csv(path, sep="\t", dtype={"patient": str})


@pytest.fixture(scope="module")
def pharmaverse(tmp_path_factory, snakemake_runner):
    work = tmp_path_factory.mktemp("clinical_pharmaverse")
    (work / "data").mkdir()
    for name in ("pharmaverse_tu.csv", "pharmaverse_tr.csv", "pharmaverse_patients.tsv"):
        shutil.copy(DATA / name, work / "data" / name)
    (work / "config.yaml").write_text(PHARMAVERSE)
    snakemake_runner(work, "clinical", "--configfile", "config.yaml")
    return work / "results" / "clinical"


def test_pharmaverse_needs_a_reader_to_be_chosen(tmp_path, snakemake_runner):
    # The domains hold each lesion three times (two radiologists and the investigator).
    for name in ("pharmaverse_tu.csv", "pharmaverse_tr.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    config = PHARMAVERSE.replace("data/", "").replace(", evaluator: RADIOLOGIST 1", "")
    (tmp_path / "config.yaml").write_text(
        config.replace("  patients: pharmaverse_patients.tsv\n", "")
    )
    result = snakemake_runner(tmp_path, "clinical", "--configfile", "config.yaml", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for fragment in (
        "pharmaverse_tu.csv",
        "column 'TUEVALID'",
        "3 evaluators (INVESTIGATOR, RADIOLOGIST 1, RADIOLOGIST 2)",
        "clinical.sdtm.evaluator",
    ):
        assert fragment in output, output[-2000:]
    assert "Traceback" not in output
    assert not (tmp_path / "results").exists()


def test_pharmaverse_per_organ_recist_by_hand(pharmaverse):
    points = read(pharmaverse / "timepoint_response.tsv").set_index(["patient", "site", "day"])
    points = points.sort_index()
    # 01-701-1130, PL = T02 esophagus + T03 lymph node: 22 + 33.33 = 55.33 mm at baseline;
    # week 9 (day 63): 40.17 + 42.9613 = 83.13 mm, +50% and +27.8 mm from the nadir -> PD.
    # The investigator's overall response (rs_onco_recist) is also PD at week 9.
    assert points.loc[("01-701-1130", "PL", 63), "response"] == "PD"
    assert points.loc[("01-701-1130", "PL", 63), "target_sum_mm"] == pytest.approx(83.13)
    # LM = T01 colon: 34.65 -> 31 (day 21, nadir) -> 37.37 at day 42: +20.5% and +6.37 mm -> PD,
    # while the whole-body sum (98.50 vs nadir 89.24 mm, +10.4%) is SD, as the investigator says.
    assert points.loc[("01-701-1130", "LM", 42), "response"] == "PD"
    # 01-701-1028, LM at day 42: T01 not measured; T02 + T03 = 32.98 + 40.18 = 73.16 mm is
    # already 29.8% and 16.8 mm above the nadir 56.38 mm -> PD from a partial sum (RS: PD).
    assert points.loc[("01-701-1028", "LM", 42), "response"] == "PD"
    # 01-701-1133, PL: 40.21 -> 29.43 (-26.8%, SD) -> 0 (CR) -> 5.15 mm: +5.15 mm from a 0 mm
    # nadir -> PD (RS: PR, CR, PD overall).
    assert points.loc[("01-701-1133", "PL")]["response"].tolist() == ["SD", "CR", "PD"]
    # 01-701-1115, PL: nodes 7.7 and 3.0906 mm (< 10 mm short of normal), chest 0 -> CR (RS: CR);
    # week 6: 21 + 20.5029 + 4.04 = 45.54 mm, -50.3% from 91.67 mm -> PR (RS: PR).
    assert points.loc[("01-701-1115", "PL")]["response"].tolist() == ["SD", "PR", "CR"]
    assert points.loc[("01-701-1115", "PL", 42), "change_pct"] == pytest.approx(
        100 * (4554 - 9167) / 9167
    )


def test_pharmaverse_lists_the_patients_it_cannot_assess(pharmaverse):
    excluded = read(pharmaverse / "excluded.tsv")
    response = excluded[excluded["step"] == "response"]
    # 1034 and 1097 have non-target lesions only (TU); 1115 has no lesion in an LM organ.
    assert sorted(zip(response["patient"], response["site"], strict=True)) == [
        ("01-701-1034", "LM"),
        ("01-701-1034", "PL"),
        ("01-701-1097", "LM"),
        ("01-701-1097", "PL"),
        ("01-701-1115", "LM"),
    ]
    assert response["reason"].str.startswith(("no target lesion", "no lesion")).all()
    survival = excluded[excluded["step"] == "survival"]
    assert set(survival["patient"]) == {"01-701-1034", "01-701-1097", "01-701-1115"}


def test_pharmaverse_survival_matches_r(pharmaverse):
    table = read(pharmaverse / "survival.tsv").set_index(["endpoint", "grouping", "group"])
    reference = pd.read_csv(DATA / "pharmaverse_reference.tsv", sep="\t", skipinitialspace=True)
    for _, row in reference.iterrows():
        got = table.loc[(row["endpoint"], row["grouping"], row["group"])]
        assert got["n"] == row["n"]
        np.testing.assert_array_equal(
            got[["median_days", "median_ci_low", "median_ci_high"]].to_numpy(float),
            row[["median", "lower", "upper"]].to_numpy(float),
        )
        # survival.tsv holds 6 significant digits (write_tsv's %.6g).
        assert got["logrank_p"] == pytest.approx(row["p"], rel=1e-5)


def lung_lesions(patients: pd.DataFrame) -> str:
    """One lung and one liver target per patient: lung 40 -> 36 mm (-10%, SD); liver 30 -> 39 mm
    (+30%, +9 mm: PD) for men, 30 -> 18 mm (-40%: PR) for women."""
    lines = ["patient\tlesion\torgan\trole\tday\tdiameter_mm"]
    for patient, sex in zip(patients["patient"], patients["sex"], strict=True):
        liver = "39" if sex == "male" else "18"
        lines += [f"{patient}\tT1\tlung\ttarget\t-7\t40", f"{patient}\tT1\tlung\ttarget\t42\t36"]
        lines += [f"{patient}\tT2\tliver\ttarget\t-7\t30", f"{patient}\tT2\tliver\ttarget\t42\t"]
        lines[-1] += liver
    return "\n".join(lines) + "\n"


def test_lung_trial_survival_matches_r(tmp_path, snakemake_runner):
    patients = pd.read_csv(DATA / "lung_patients.tsv", sep="\t")
    (tmp_path / "data").mkdir()
    shutil.copy(DATA / "lung_patients.tsv", tmp_path / "data" / "patients.tsv")
    (tmp_path / "data" / "lesions.tsv").write_text(lung_lesions(patients))
    config = "clinical:\n  lesions: data/lesions.tsv\n  patients: data/patients.tsv\n"
    (tmp_path / "config.yaml").write_text(config)
    snakemake_runner(tmp_path, "clinical", "--configfile", "config.yaml")
    results = tmp_path / "results" / "clinical"
    rates = read(results / "response_rates.tsv").set_index("site")
    # 90 women (PR at LM) and 138 men (PD at LM), counted in lung_patients.tsv.
    assert rates.loc["LM", ["n", "responders"]].tolist() == [228, 90]
    assert rates.loc["PL", ["n", "responders", "disease_control"]].tolist() == [228, 0, 228]
    table = read(results / "survival.tsv")
    reference = pd.read_csv(DATA / "lung_reference.tsv", sep="\t", skipinitialspace=True)
    reference = reference.set_index("group")
    # Both groupings follow sex here: LM CR/PR = women, PD = men; concordant = women.
    names = {"CR/PR": "female", "PD": "male", "concordant": "female", "LM_up_PL_down": "male"}
    assert len(table) == 8
    for _, row in table.iterrows():
        expected = reference.loc[names[row["group"]]]
        assert row["n"] == expected["n"]
        # R: female 426 (348, 550) days, male 270 (212, 310); log-rank p 0.00131116452035549.
        got = [row["median_days"], row["median_ci_low"], row["median_ci_high"]]
        assert got == [expected["median"], expected["lower"], expected["upper"]]
        assert row["logrank_p"] == pytest.approx(expected["p"], rel=1e-5)  # %.6g in the TSV


def test_pharmaverse_dates_only_say_what_to_add(tmp_path):
    # As shipped, the TR records carry TRDTC dates but no TRDY or VISITDY (make_sdtm.py adds
    # VISITDY): the reader stops at the first record, naming it and what is missing.
    tr = pd.read_csv(DATA / "pharmaverse_tr.csv", dtype=str).drop(columns="VISITDY")
    tr.to_csv(tmp_path / "tr.csv", index=False)
    with pytest.raises(InputError) as error:
        sdtm.read_sdtm(DATA / "pharmaverse_tu.csv", tmp_path / "tr.csv", "RADIOLOGIST 1")
    message = str(error.value)
    assert "tr.csv, row 2, column 'TRDY'" in message
    assert "patient 01-701-1015, lesion T01" in message
    assert "TRDTC 2014-01-02 is not used" in message
