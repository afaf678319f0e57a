"""Foundation checks: formatting, lint, a dry run of the demo, sample-sheet cross-checks."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from organomics import sheet
from organomics.errors import InputError

SITES = ("PL", "LM")


def test_snakefmt_check(repo):
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakemake_lint_is_clean(repo):
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"], cwd=repo, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr, result.stdout


def test_ruff_is_clean(repo):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=repo, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_demo_dry_run_from_another_directory(repo, tmp_path, snakemake_runner):
    result = snakemake_runner(tmp_path, "--configfile", str(repo / "config/config.yaml"), "-n")
    assert "clinical_response" in result.stdout
    assert not (tmp_path / "results").exists()


def write_sheet(tmp_path, rows, name="samples.tsv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return path


def check(tmp_path, rows):
    path = write_sheet(tmp_path, rows)
    return sheet.check_sample_sheet(sheet.read_sample_sheet(path), path, SITES, str)


def test_sheet_unknown_site_names_row_and_column(tmp_path):
    rows = [
        {"sample": "a", "patient": "P1", "site": "PL"},
        {"sample": "b", "patient": "P1", "site": "liver"},
    ]
    with pytest.raises(InputError, match=r"row 3, column 'site': unknown site 'liver'"):
        check(tmp_path, rows)


def test_sheet_duplicate_sample(tmp_path):
    rows = [
        {"sample": "a", "patient": "P1", "site": "PL"},
        {"sample": "a", "patient": "P2", "site": "LM"},
    ]
    with pytest.raises(InputError, match=r"row 3, column 'sample': sample id 'a' repeats row 2"):
        check(tmp_path, rows)


def test_sheet_two_samples_at_one_site(tmp_path):
    rows = [
        {"sample": "a", "patient": "P1", "site": "LM"},
        {"sample": "b", "patient": "P1", "site": "LM"},
    ]
    with pytest.raises(InputError, match=r"row 3, column 'site': patient 'P1' already has a LM"):
        check(tmp_path, rows)


def test_sheet_missing_file_names_row_and_column(tmp_path):
    (tmp_path / "a.vcf.gz").write_text("")
    rows = [
        {"sample": "a", "patient": "P1", "site": "PL", "wes": str(tmp_path / "a.vcf.gz")},
        {"sample": "b", "patient": "P1", "site": "LM", "wes": "missing.vcf.gz;other.vcf.gz"},
    ]
    with pytest.raises(InputError, match=r"row 3, column 'wes': file not found: missing.vcf.gz"):
        check(tmp_path, rows)


def test_unpaired_patients_are_reported_not_fatal(tmp_path):
    (tmp_path / "x.tsv").write_text("")
    rows = [
        {"sample": "a", "patient": "P1", "site": "PL", "mihc": str(tmp_path / "x.tsv")},
        {"sample": "b", "patient": "P1", "site": "LM", "mihc": str(tmp_path / "x.tsv")},
        {"sample": "c", "patient": "P2", "site": "PL", "mihc": str(tmp_path / "x.tsv")},
        {"sample": "d", "patient": "P2", "site": "LM", "mihc": ""},
    ]
    table = check(tmp_path, rows)
    pairs = sheet.pairing(table, "mihc", *SITES).set_index("patient")
    assert pairs.loc["P1", "paired"] and not pairs.loc["P2", "paired"]
    assert pairs.loc["P2", "sample_PL"] == "c" and pairs.loc["P2", "sample_LM"] == ""


def test_sheet_error_stops_workflow_before_jobs(tmp_path, snakemake_runner):
    write_sheet(tmp_path, [{"sample": "a", "patient": "P1", "site": "kidney"}])
    (tmp_path / "config.yaml").write_text("samples: samples.tsv\n")
    result = snakemake_runner(tmp_path, "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    assert "row 2, column 'site': unknown site 'kidney'" in result.stderr
    assert not (tmp_path / "results").exists()
