"""The harness itself: a parse-time and a job-time input error both end without a traceback."""

from __future__ import annotations

import shutil


def test_parse_time_error_names_file_row_column(tmp_path, repo, snakemake_runner, clean_failure):
    shutil.copytree(repo / "resources/demo/clinical", tmp_path / "data")
    lesions = (tmp_path / "data/lesions.tsv").read_text().splitlines()
    fields = lesions[1].split("\t")
    fields[5] = "abc"  # diameter_mm
    lesions[1] = "\t".join(fields)
    (tmp_path / "data/lesions.tsv").write_text("\n".join(lesions) + "\n")
    (tmp_path / "config.yaml").write_text("clinical:\n  lesions: data/lesions.tsv\n")
    result = snakemake_runner(tmp_path, "clinical", "--configfile", "config.yaml", check=False)
    clean_failure(result, "data/lesions.tsv, row 2, column 'diameter_mm'", "'abc'")
    assert not (tmp_path / "results").exists()
