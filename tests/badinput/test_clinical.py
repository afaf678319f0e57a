"""Malformed clinical inputs: read as meant, or a stop before any job naming file, row, column.

Each case writes a two-patient lesion table (lung = PL, liver = LM) and a patients table into a
temporary directory, breaks one thing and runs `snakemake clinical`. Parse-time checks must stop
the run before any job: no results/ directory, no Python traceback.
"""

from __future__ import annotations

import pandas as pd
import pytest

LESIONS = [
    ["patient", "lesion", "organ", "role", "day", "diameter_mm"],
    ["P1", "T1", "lung", "target", "-5", "40"],
    ["P1", "T1", "lung", "target", "42", "28"],
    ["P1", "T2", "liver", "target", "-5", "30"],
    ["P1", "T2", "liver", "target", "42", "39"],
    ["P2", "T1", "lung", "target", "-5", "20"],
    ["P2", "T1", "lung", "target", "42", "19"],
    ["P2", "T2", "liver", "target", "-5", "25"],
    ["P2", "T2", "liver", "target", "42", "15"],
]
PATIENTS = [
    ["patient", "pfs_days", "pfs_event", "os_days", "os_event"],
    ["P1", "100", "1", "300", "1"],
    ["P2", "200", "0", "400", "0"],
]
TU = "USUBJID,TULNKID,TULOC,TUSTRESC\nP1,T1,LUNG,TARGET\nP1,T2,LIVER,TARGET\n"
TR = (
    "USUBJID,TRLNKID,TRTESTCD,TRSTRESC,TRSTRESN,TRSTRESU,VISITDY\n"
    "P1,T1,LDIAM,40,40,mm,-5\nP1,T1,LDIAM,28,28,mm,42\n"
    "P1,T2,LDIAM,30,30,mm,-5\nP1,T2,LDIAM,39,39,mm,42\n"
)


def text(rows, sep="\t", end="\n", trailing=""):
    return "".join(sep.join(row) + trailing + end for row in rows)


def setup(workdir, lesions=None, patients=None, extra=""):
    (workdir / "lesions.tsv").write_bytes(
        (lesions if lesions is not None else text(LESIONS)).encode("utf-8")
    )
    (workdir / "patients.tsv").write_bytes(
        (patients if patients is not None else text(PATIENTS)).encode("utf-8")
    )
    config = "clinical:\n  lesions: lesions.tsv\n  patients: patients.tsv\n" + extra
    (workdir / "config.yaml").write_text(config)


def run(workdir, runner):
    return runner(workdir, "clinical", "--configfile", "config.yaml", check=False)


def changed(rows, row, column, value):
    rows = [list(r) for r in rows]
    rows[row][rows[0].index(column)] = value
    return rows


# (id, lesions rows or None, patients rows or None, fragments the message must name)
PARSE_TIME = [
    (
        "text_in_diameter",
        changed(LESIONS, 4, "diameter_mm", "39 mm"),
        None,
        ["lesions.tsv", "row 5", "column 'diameter_mm'", "'39 mm'"],
    ),
    (
        "decimal_comma",
        changed(LESIONS, 2, "diameter_mm", "28,5"),
        None,
        ["lesions.tsv", "row 3", "column 'diameter_mm'"],
    ),
    (
        "negative_diameter",
        changed(LESIONS, 6, "diameter_mm", "-19"),
        None,
        ["lesions.tsv", "row 7", "column 'diameter_mm'", "negative diameter"],
    ),
    (
        "unknown_role",
        changed(LESIONS, 3, "role", "targte"),
        None,
        ["lesions.tsv", "row 4", "column 'role'", "unknown role 'targte'"],
    ),
    (
        "text_day",
        changed(LESIONS, 2, "day", "week 6"),
        None,
        ["lesions.tsv", "row 3", "column 'day'"],
    ),
    (
        "two_rows_for_a_day",
        [*LESIONS, ["P2", "T2", "liver", "target", "42", "16"]],
        None,
        ["lesions.tsv", "row 10", "column 'day'", "two rows for day 42"],
    ),
    (
        "missing_diameter_column",
        [row[:5] for row in LESIONS],
        None,
        ["lesions.tsv", "diameter_mm"],
    ),
    (
        "event_not_0_or_1",
        None,
        changed(PATIENTS, 2, "os_event", "2"),
        ["patients.tsv", "row 3", "column 'os_event'", "must be 0 (censored) or 1"],
    ),
    (
        "event_as_word",
        None,
        changed(PATIENTS, 1, "pfs_event", "yes"),
        ["patients.tsv", "row 2", "column 'pfs_event'", "'yes'"],
    ),
    (
        "negative_days",
        None,
        changed(PATIENTS, 2, "pfs_days", "-3"),
        ["patients.tsv", "row 3", "column 'pfs_days'", "must be >= 0"],
    ),
    (
        "duplicate_patient",
        None,
        [*PATIENTS, ["P1", "10", "1", "20", "1"]],
        ["patients.tsv", "row 4", "column 'patient'", "P1 appears twice"],
    ),
    (
        "patients_missing_column",
        None,
        [row[:4] for row in PATIENTS],
        ["patients.tsv", "os_event"],
    ),
    (
        "surplus_field",
        [*LESIONS[:3], [*LESIONS[3], "oops"], *LESIONS[4:]],
        None,
        ["lesions.tsv", "row 4"],
    ),
]


@pytest.mark.parametrize(
    ("lesions", "patients", "fragments"),
    [case[1:] for case in PARSE_TIME],
    ids=[case[0] for case in PARSE_TIME],
)
def test_bad_table_stops_before_any_job(
    tmp_path, snakemake_runner, clean_failure, lesions, patients, fragments
):
    setup(
        tmp_path,
        text(lesions) if lesions is not None else None,
        text(patients) if patients is not None else None,
    )
    result = run(tmp_path, snakemake_runner)
    clean_failure(result, *fragments)
    assert not (tmp_path / "results").exists()


def test_misspelt_organ_in_config_names_the_organs_found(tmp_path, snakemake_runner, clean_failure):
    setup(tmp_path, extra="  organ_sites: {PL: [lungs], LM: [liver]}\n")
    result = run(tmp_path, snakemake_runner)
    clean_failure(result, "lesions.tsv", "column 'organ'", "'lungs'", "organs found: liver, lung")
    assert not (tmp_path / "results").exists()


SDTM_CASES = [
    (
        "size_with_unit_text",
        TR.replace("P1,T2,LDIAM,39,39,mm,42", "P1,T2,LDIAM,39 mm,,mm,42"),
        TU,
        ["tr.csv", "row 5", "column 'TRSTRESN'", "'39 mm'"],
    ),
    (
        "lesion_not_in_tu",
        TR + "P1,T9,LDIAM,10,10,mm,42\n",
        TU,
        ["tr.csv", "row 6", "column 'TRLNKID'", "T9"],
    ),
    (
        "unknown_tu_role",
        TR,
        TU.replace("P1,T2,LIVER,TARGET", "P1,T2,LIVER,MEASURABLE"),
        ["tu.csv", "row 3", "column 'TUORRES'", "'MEASURABLE'"],
    ),
    (
        "two_sizes_one_day",
        TR + "P1,T1,LDIAM,29,29,mm,42\n",
        TU,
        ["tr.csv", "row 6", "column 'TRTESTCD'", "2 different LDIAM records for day 42"],
    ),
    (
        "two_readers_no_choice",
        TR.replace(",VISITDY\n", ",VISITDY,TREVALID\n")
        .replace("mm,42\n", "mm,42,R1\n")
        .replace("mm,-5\n", "mm,-5,R2\n"),
        TU,
        ["tr.csv", "column 'TREVALID'", "2 evaluators (R1, R2)", "clinical.sdtm.evaluator"],
    ),
    (
        "no_study_day",
        TR.replace(",VISITDY\n", ",VISIT\n").replace(",-5\n", ",SCREENING\n"),
        TU,
        ["tr.csv", "column 'TRDY'", "neither TRDY nor VISITDY"],
    ),
]


@pytest.mark.parametrize(
    ("tr", "tu", "fragments"), [case[1:] for case in SDTM_CASES], ids=[c[0] for c in SDTM_CASES]
)
def test_bad_sdtm_stops_before_any_job(
    tmp_path, snakemake_runner, clean_failure, tr, tu, fragments
):
    (tmp_path / "tu.csv").write_text(tu)
    (tmp_path / "tr.csv").write_text(tr)
    (tmp_path / "config.yaml").write_text("clinical:\n  sdtm: {tu: tu.csv, tr: tr.csv}\n")
    result = run(tmp_path, snakemake_runner)
    clean_failure(result, *fragments)
    assert not (tmp_path / "results").exists()


def test_unreadable_xpt_names_the_file(tmp_path, snakemake_runner, clean_failure):
    (tmp_path / "tu.xpt").write_bytes(b"HEADER RECORD*******LIBRARY but truncated")
    (tmp_path / "tr.csv").write_text(TR)
    (tmp_path / "config.yaml").write_text("clinical:\n  sdtm: {tu: tu.xpt, tr: tr.csv}\n")
    result = run(tmp_path, snakemake_runner)
    clean_failure(result, "tu.xpt", "not a readable SAS transport file")
    assert not (tmp_path / "results").exists()


def responses_of(workdir):
    table = pd.read_csv(workdir / "results/clinical/organ_response.tsv", sep="\t")
    return table.set_index(["patient", "site"])["best_response"].to_dict()


def test_spreadsheet_export_reads_as_meant(tmp_path, snakemake_runner):
    # UTF-8 BOM, CRLF line ends and a trailing tab on every row of both tables: the same
    # responses as the clean table, by hand: P1 PL 40 -> 28 (-30%, PR), LM 30 -> 39 (+30%,
    # +9 mm, PD); P2 PL 20 -> 19 (SD), LM 25 -> 15 (-40%, PR).
    lesions = "\ufeff" + text(LESIONS, end="\r\n", trailing="\t")
    patients = "\ufeff" + text(PATIENTS, end="\r\n", trailing="\t")
    setup(tmp_path, lesions, patients)
    snakemake_runner(tmp_path, "clinical", "--configfile", "config.yaml")
    assert responses_of(tmp_path) == {
        ("P1", "PL"): "PR",
        ("P1", "LM"): "PD",
        ("P2", "PL"): "SD",
        ("P2", "LM"): "PR",
    }
    survival = pd.read_csv(tmp_path / "results/clinical/survival.tsv", sep="\t")
    assert set(survival["n"]) == {1}  # each group holds one of the two patients


def test_no_patient_in_common_gives_an_empty_table_and_says_so(tmp_path, snakemake_runner):
    # Patients table keyed by other ids (e.g. 001 vs P1): formerly KeyError: 'endpoint'.
    patients = [PATIENTS[0], ["001", *PATIENTS[1][1:]], ["002", *PATIENTS[2][1:]]]
    setup(tmp_path, patients=text(patients))
    snakemake_runner(tmp_path, "clinical", "--configfile", "config.yaml")
    survival = pd.read_csv(tmp_path / "results/clinical/survival.tsv", sep="\t")
    assert survival.empty and "median_days" in survival.columns
    log = (tmp_path / "logs/clinical/survival.log").read_text()
    assert "0 of 2 patients are in the lesion input" in log
    excluded = pd.read_csv(tmp_path / "results/clinical/excluded.tsv", sep="\t", dtype=str)
    unknown = excluded[excluded["step"] == "survival"]
    assert set(unknown["patient"]) == {"001", "002"}
    assert unknown["reason"].str.endswith("not in the lesion input").all()
