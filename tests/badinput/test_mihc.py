"""Malformed mIHC cell tables and configs: read as meant, or a clear stop naming file, row, column.

Each case writes a two-sample HALO-style cohort (one patient, PL and LM) into a temporary
directory, breaks one thing, and runs `snakemake mihc` (a dry run where the check belongs at
parse time, a full run where only the job can see the problem).
"""

from __future__ import annotations

import gzip

import pandas as pd
import pytest
import yaml

HEADER = [
    "Object Id",
    "XMin",
    "XMax",
    "YMin",
    "YMax",
    "Classifier Label",
    "CD3 Positive Classification",
    "CD8 Positive Classification",
    "PanCK Positive Classification",
]
# id, x0, x1, y0, y1, region, CD3, CD8, PanCK. By hand: CD8_T (CD3 & CD8) = cells 1, 3;
# Tumour (PanCK & ~CD3) = cells 0, 4; 6 cells.
CELLS = [
    ["0", "0", "10", "0", "10", "Tumor", "0", "0", "1"],
    ["1", "20", "30", "0", "10", "Tumor", "1", "1", "0"],
    ["2", "100", "110", "0", "10", "Stroma", "1", "0", "0"],
    ["3", "200", "210", "200", "210", "Stroma", "1", "1", "0"],
    ["4", "0", "10", "40", "50", "Tumor", "0", "0", "1"],
    ["5", "300", "310", "300", "310", "Stroma", "0", "0", "0"],
]
SETTINGS = {
    "markers": {"CD3": {}, "CD8": {}, "PanCK": {}},
    "phenotypes": {"CD8_T": "CD3 & CD8", "Tumour": "PanCK & ~CD3"},
    "region": "Classifier Label",
    "tumour": "Tumour",
}


def csv_text(header=HEADER, cells=CELLS, sep=",", end="\n", trailing=""):
    return "".join(sep.join(row) + trailing + end for row in [header, *cells])


def write_cohort(workdir, pl_text, settings=None, name="pl.csv"):
    """P1_PL gets `pl_text` (str or bytes) as `name`; P1_LM a clean table."""
    path = workdir / name
    if isinstance(pl_text, bytes):
        path.write_bytes(pl_text)
    else:
        path.write_text(pl_text)
    (workdir / "lm.csv").write_text(csv_text())
    sheet = f"sample\tpatient\tsite\tmihc\nP1_PL\tP1\tPL\t{name}\nP1_LM\tP1\tLM\tlm.csv\n"
    (workdir / "samples.tsv").write_text(sheet)
    config = {"samples": "samples.tsv", "mihc": settings or SETTINGS}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))


def run(workdir, runner, dry=True):
    extra = ["-n"] if dry else []
    return runner(workdir, "mihc", "--configfile", "config.yaml", *extra, check=False)


def with_cell(row, column, value):
    cells = [list(cell) for cell in CELLS]
    cells[row][HEADER.index(column)] = value
    return cells


PARSE_TIME = {
    "no_coordinates": (
        csv_text([h for h in HEADER if h not in ("XMin", "XMax")], [c[:1] + c[3:] for c in CELLS]),
        {**SETTINGS, "format": "halo"},  # auto-detection needs XMin..YMax
        ["pl.csv, column 'XMin'", "no coordinate columns"],
    ),
    "text_in_marker_column": (
        csv_text(cells=with_cell(2, "CD8 Positive Classification", "yes")),
        SETTINGS,
        ["pl.csv, row 4, column 'CD8 Positive Classification'", "expected a number, got 'yes'"],
    ),
    "marker_value_not_0_1": (
        csv_text(cells=with_cell(0, "CD3 Positive Classification", "7.5")),
        SETTINGS,
        ["pl.csv, row 2, column 'CD3 Positive Classification'", "not a 0/1 classification"],
    ),
    "missing_marker_column": (
        csv_text(
            [h for h in HEADER if h != "CD8 Positive Classification"],
            [c[:7] + c[8:] for c in CELLS],
        ),
        SETTINGS,
        ["pl.csv, column 'CD8 Positive Classification'", "column not found"],
    ),
    "missing_value_in_marker": (
        csv_text(cells=with_cell(3, "CD3 Positive Classification", "NA")),
        SETTINGS,
        ["pl.csv, row 5, column 'CD3 Positive Classification'", "has no value"],
    ),
    "empty_marker_cell": (
        csv_text(cells=with_cell(1, "PanCK Positive Classification", "")),
        SETTINGS,
        ["pl.csv, row 3, column 'PanCK Positive Classification'", "has no value"],
    ),
    "unknown_phenotype_syntax": (
        csv_text(),
        {**SETTINGS, "phenotypes": {"CD8_T": "CD3 && CD8", "Tumour": "PanCK"}},
        ["phenotype 'CD8_T'", "position 6"],
    ),
    "phenotype_names_unknown_marker": (
        csv_text(),
        {**SETTINGS, "phenotypes": {"CD8_T": "CD3 & CD8a", "Tumour": "PanCK"}},
        ["phenotype 'CD8_T'", "CD8a"],
    ),
    "empty_file": ("", SETTINGS, ["pl.csv", "the file is empty"]),
    # Was a bare InputError with a Python stack at parse time (mihc_scatter_samples).
    "unknown_scatter_patient": (
        csv_text(),
        {**SETTINGS, "scatter_patient": "P9"},
        ["config mihc", "scatter_patient 'P9' has no mihc sample; patients: P1"],
    ),
    "generic_table_without_unit": (
        csv_text(["cell", "x", "y", "CD3", "CD8", "PanCK"], [["1", "5", "5", "1", "1", "0"]]),
        {**SETTINGS, "markers": {"CD3": {}, "CD8": {}, "PanCK": {}}, "region": None},
        ["pl.csv, column 'x'", "not stated in the header", "coordinate_unit"],
    ),
    "unit_contradicts_header": (
        "Image\tClass\tCentroid X px\tCentroid Y px\nS.tif\tCD8\t5\t5\n",
        {
            "markers": {"CD8": {}},
            "phenotypes": {"CD8_T": "CD8"},
            "coordinate_unit": "um",
            "tumour": None,
        },
        ["pl.csv, column 'Centroid X px'", "coordinate_unit is 'um' but the header says 'pixels'"],
    ),
    "pixels_without_pixel_size": (
        "Image\tClass\tCentroid X px\tCentroid Y px\nS.tif\tCD8\t5\t5\n",
        {"markers": {"CD8": {}}, "phenotypes": {"CD8_T": "CD8"}, "tumour": None},
        ["pl.csv, column 'Centroid X px'", "set mihc.pixels_per_micron"],
    ),
}


@pytest.mark.parametrize("case", PARSE_TIME)
def test_bad_cell_table_stops_before_any_job(case, tmp_path, snakemake_runner, clean_failure):
    text, settings, fragments = PARSE_TIME[case]
    name = "pl.tsv" if text.startswith("Image\t") else "pl.csv"
    fragments = [f.replace("pl.csv", name) for f in fragments]
    write_cohort(tmp_path, text, settings, name=name)
    clean_failure(run(tmp_path, snakemake_runner), *fragments)
    assert not (tmp_path / "results" / "mihc").exists()


def test_truncated_gzip_stops_the_job_cleanly(tmp_path, snakemake_runner, clean_failure):
    # Enough cells that the first 100 (checked at parse time) decompress; the job meets the cut.
    cells = [[str(i), "0", "10", "0", "10", "Tumor", "1", str(i % 2), "0"] for i in range(5000)]
    data = gzip.compress(csv_text(cells=cells).encode())
    write_cohort(tmp_path, data[: len(data) // 2], name="pl.csv.gz")
    result = run(tmp_path, snakemake_runner, dry=False)
    clean_failure(result, "pl.csv.gz", "cannot read the cell table", workdir=tmp_path)
    assert not (tmp_path / "results" / "mihc" / "counts" / "P1_PL.tsv").exists()


def test_missing_value_past_the_checked_head_stops_the_job(
    tmp_path, snakemake_runner, clean_failure
):
    cells = [[str(i), "0", "10", "0", "10", "Tumor", "1", "1", "0"] for i in range(300)]
    cells[250][HEADER.index("CD8 Positive Classification")] = "#N/A"
    write_cohort(tmp_path, csv_text(cells=cells))
    result = run(tmp_path, snakemake_runner, dry=False)
    # Line 252: header is line 1, cell 0 is line 2.
    clean_failure(
        result,
        "pl.csv, row 252, column 'CD8 Positive Classification'",
        "has no value",
        workdir=tmp_path,
    )
    assert not (tmp_path / "results" / "mihc" / "counts" / "P1_PL.tsv").exists()


READ_AS_MEANT = {
    "trailing_comma_every_row": csv_text(trailing=","),
    "crlf_line_ends": csv_text(end="\r\n"),
    "utf8_bom": "\ufeff" + csv_text(),
    "quoted_cells": csv_text(
        [f'"{h}"' for h in HEADER], [[f'"{v}"' for v in row] for row in CELLS]
    ),
    "tab_separated": csv_text(sep="\t"),
}


@pytest.mark.parametrize("case", READ_AS_MEANT)
def test_cell_table_variants_read_as_meant(case, tmp_path, snakemake_runner):
    write_cohort(tmp_path, READ_AS_MEANT[case])
    snakemake_runner(tmp_path, "results/mihc/cell_fractions.tsv", "--configfile", "config.yaml")
    fractions = pd.read_csv(tmp_path / "results/mihc/cell_fractions.tsv", sep="\t")
    pl = fractions.query("sample == 'P1_PL' and region == 'all'").set_index("phenotype")
    assert pl["n_cells"].to_dict() == {"CD8_T": 2, "Tumour": 2}  # by hand, see CELLS
    assert pl["n_total"].tolist() == [6, 6]


def test_header_only_table_is_an_excluded_sample(tmp_path, snakemake_runner):
    write_cohort(tmp_path, csv_text(cells=[]))
    snakemake_runner(tmp_path, "mihc", "--configfile", "config.yaml")
    results = tmp_path / "results" / "mihc"
    excluded = pd.read_csv(results / "excluded.tsv", sep="\t", keep_default_na=False)
    row = excluded.query("item == 'P1_PL'")
    assert row["level"].tolist() == ["sample"] and "no cells" in row["reason"].item()
    fractions = pd.read_csv(results / "cell_fractions.tsv", sep="\t")
    assert fractions.query("sample == 'P1_PL'")["fraction"].isna().all()
    comparison = pd.read_csv(results / "site_comparison.tsv", sep="\t")
    assert comparison["n_pairs"].eq(0).all()  # the empty sample is in no paired test


def test_cells_without_coordinates_or_region_are_listed(tmp_path, snakemake_runner):
    cells = with_cell(2, "XMin", "")
    cells[2][HEADER.index("XMax")] = ""
    cells[5][HEADER.index("Classifier Label")] = ""
    write_cohort(tmp_path, csv_text(cells=cells))
    snakemake_runner(tmp_path, "results/mihc/excluded.tsv", "--configfile", "config.yaml")
    excluded = pd.read_csv(tmp_path / "results/mihc/excluded.tsv", sep="\t", keep_default_na=False)
    reasons = " | ".join(excluded["reason"])
    assert "no coordinates" in reasons and "file lines 4" in reasons
    assert "outside every region" in reasons and "file lines 7" in reasons
    assert set(excluded["patient"]) == {"P1"} and set(excluded["site"]) == {"PL"}
