"""The sample sheet as spreadsheets and editors write it: read as meant, or a clear error.

Each case runs the workflow's parse (a dry run of the wes branch on a tiny MAF cohort), which
loads and checks the sheet before any job, exactly as a real run does.
"""

from __future__ import annotations

import shutil

import pytest

from organomics import sheet

MAF = "tests/wes/data/cohort.maf"
HEADER = ["sample", "patient", "site", "wes", "wes_id"]
ROWS = [
    ["P1_PL", "P1", "PL", "data/cohort.maf", "TCGA-AA-0001-01A"],
    ["P1_LM", "P1", "LM", "data/cohort.maf", "TCGA-AA-0001-06A"],
    ["P2_PL", "P2", "PL", "data/cohort.maf", "TCGA-BB-0002-01A"],
]
CONFIG = "samples: samples.tsv\nwes: {exome_size_mb: 2.0}\nrnaseq: {counts: null}\n"


def write_case(workdir, repo, text: str | bytes) -> None:
    (workdir / "data").mkdir()
    shutil.copy(repo / MAF, workdir / "data/cohort.maf")
    (workdir / "config.yaml").write_text(CONFIG)
    path = workdir / "samples.tsv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


def lines(rows, end="\n", trailing=""):
    return "".join("\t".join(row) + trailing + end for row in rows)


def dry_run(workdir, runner):
    return runner(workdir, "wes", "--configfile", "config.yaml", "-n", check=False)


CLEAN = lines([HEADER, *ROWS])
READ_AS_MEANT = {
    "trailing_tab_every_row": lines([HEADER, *ROWS], trailing="\t"),
    "trailing_tab_data_rows_only": lines([HEADER]) + lines(ROWS, trailing="\t"),
    "two_trailing_tabs": lines([HEADER, *ROWS], trailing="\t\t"),
    "utf8_bom": "\ufeff" + CLEAN,
    "crlf_line_ends": lines([HEADER, *ROWS], end="\r\n"),
    "quoted_cells": lines([HEADER] + [[f'"{cell}"' for cell in row] for row in ROWS]),
    "spaces_around_cells": lines([HEADER] + [[f" {cell} " for cell in row] for row in ROWS]),
}


@pytest.mark.parametrize("case", READ_AS_MEANT)
def test_sheet_variants_are_read_as_meant(case, tmp_path, repo, snakemake_runner):
    write_case(tmp_path, repo, READ_AS_MEANT[case])
    parsed = sheet.read_sample_sheet(tmp_path / "samples.tsv").fillna("")
    assert parsed.columns.tolist() == HEADER
    assert parsed.to_numpy().tolist() == ROWS
    result = dry_run(tmp_path, snakemake_runner)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "wes_sample" in result.stdout  # the per-sample jobs are planned for every sample


BAD = {
    "duplicate_sample_id": (
        [HEADER, ROWS[0], ROWS[1], ["P1_PL", "P3", "LM", "data/cohort.maf", "X"]],
        ["samples.tsv, row 4, column 'sample'", "sample id 'P1_PL' repeats row 2"],
    ),
    "unknown_site_label": (
        [HEADER, ROWS[0], ["P1_LM", "P1", "Liver", "data/cohort.maf", "X"]],
        ["samples.tsv, row 3, column 'site'", "unknown site 'Liver'"],
    ),
    "empty_patient": (
        [HEADER, ROWS[0], ["P1_LM", "", "LM", "data/cohort.maf", "X"]],
        ["samples.tsv, row 3, column 'patient'", "must not be empty"],
    ),
    "patient_twice_at_one_site": (
        [HEADER, ROWS[0], ["P1_PL2", "P1", "PL", "data/cohort.maf", "X"]],
        ["samples.tsv, row 3, column 'site'", "already has a PL sample in row 2"],
    ),
    "missing_site_column": (
        [["sample", "patient", "wes"], ["P1_PL", "P1", "data/cohort.maf"]],
        ["samples.tsv", "missing required column(s) site"],
    ),
    "missing_file": (
        [HEADER, ROWS[0], ["P1_LM", "P1", "LM", "data/nowhere.maf", "X"]],
        ["samples.tsv, row 3, column 'wes'", "file not found: data/nowhere.maf"],
    ),
    "value_past_the_header": (
        [HEADER, ROWS[0], [*ROWS[1], "oops"]],
        ["samples.tsv, row 3", "6 fields where the header names 5 columns", "'oops'"],
    ),
    "header_names_a_column_twice": (
        [["sample", "patient", "site", "wes", "site"], ["P1_PL", "P1", "PL", "data/c.maf", "PL"]],
        ["samples.tsv, row 1", "the header names column(s) site twice"],
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_sheet_stops_before_any_job(case, tmp_path, repo, snakemake_runner, clean_failure):
    rows, fragments = BAD[case]
    write_case(tmp_path, repo, lines(rows))
    clean_failure(dry_run(tmp_path, snakemake_runner), *fragments)
    assert not (tmp_path / "results").exists()


def test_sheet_that_is_not_utf8(tmp_path, repo, snakemake_runner, clean_failure):
    write_case(tmp_path, repo, CLEAN.replace("P2", "P\xe92").encode("latin-1"))
    clean_failure(dry_run(tmp_path, snakemake_runner), "samples.tsv", "not a valid table")


def test_sample_id_outside_the_schema_pattern(tmp_path, repo, snakemake_runner, clean_failure):
    rows = [HEADER, ROWS[0], ["P1 LM", "P1", "LM", "data/cohort.maf", "X"]]
    write_case(tmp_path, repo, lines(rows))
    clean_failure(
        dry_run(tmp_path, snakemake_runner),
        "samples.tsv, row 3, column 'sample'",
        "'P1 LM' does not match",
    )
