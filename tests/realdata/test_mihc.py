"""mIHC branch end to end on real cell tables written by MCMICRO, inForm and HALO.

Each run is `snakemake mihc` on a tiny cohort in a temporary directory; every number is
recomputed here with pandas from the raw file (phenotype calls, fractions) and with a
brute-force scipy distance matrix (nearest target cell), never through organomics. Sources and
subsetting: tests/realdata/data/mihc/PROVENANCE.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.spatial.distance import cdist

from organomics.errors import InputError
from organomics.mihc import sample

DATA = Path(__file__).parent / "data" / "mihc"
INFORM_PL = DATA / "FIHC4__0929309_HP_IM3_2_cell_seg_data.txt"
INFORM_LM = DATA / "FIHC4__0929309_HP_IM3_3_cell_seg_data.txt"


def run_cohort(workdir, runner, rows, settings):
    """Write samples.tsv and config.yaml in `workdir`, run `snakemake mihc`, return results/mihc."""
    lines = ["sample\tpatient\tsite\tmihc"]
    lines += [f"{s}\t{p}\t{site}\t{path}" for s, p, site, path in rows]
    (workdir / "samples.tsv").write_text("\n".join(lines) + "\n")
    config = {"samples": "samples.tsv", "mihc": settings}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    runner(workdir, "mihc", "--configfile", "config.yaml")
    return workdir / "results" / "mihc"


def read(path):
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])


def nearest(points, targets):
    """Brute force: distance from each point to its nearest target (full distance matrix)."""
    return cdist(points, targets).min(axis=1)


def fraction_row(fractions, sample_id, phenotype, region="all"):
    query = "sample == @sample_id and phenotype == @phenotype and region == @region"
    return fractions.query(query).iloc[0]


# MCMICRO exemplar-001 (mcquant output shipped by scimap). Thresholds are scimap's own manual
# gates for this image (markers.csv/manual_gates.csv: log1p scale) back on the raw scale,
# expm1(6.4) = 600.8 -> 601, expm1(7.35) = 1555.2 -> 1555, expm1(7.4) = 1635.0 -> 1635,
# expm1(7.5) = 1807.0 -> 1807.
MCMICRO = {
    "markers": {
        "CD45": {"threshold": 601},
        "ECAD": {"threshold": 1555},
        "FOXP3": {"threshold": 1635},
        "SMA": {"threshold": 1807},
    },
    "phenotypes": {
        "Immune": "CD45",
        "Treg_like": "CD45 & FOXP3",
        "Stromal": "SMA & ~ECAD & ~CD45",
        "Epithelial": "ECAD & ~CD45",
    },
    "tumour": "Epithelial",
    "within_um": 30,
    # mcquant writes pixels and no resolution: the table cannot say, the config must (a test
    # value here; the run's log says it came from the config).
    "pixels_per_micron": 2,
}


def mcmicro_by_hand(path):
    table = pd.read_csv(path)
    calls = {m: table[m] >= spec["threshold"] for m, spec in MCMICRO["markers"].items()}
    phenotypes = {
        "Immune": calls["CD45"],
        "Treg_like": calls["CD45"] & calls["FOXP3"],
        "Stromal": calls["SMA"] & ~calls["ECAD"] & ~calls["CD45"],
        "Epithelial": calls["ECAD"] & ~calls["CD45"],
    }
    xy = table[["X_centroid", "Y_centroid"]].to_numpy() / 2.0  # pixels -> µm at 2 px/µm
    return table, phenotypes, xy


def test_mcmicro_exemplar_end_to_end(tmp_path, snakemake_runner):
    rows = [
        ("P1_PL", "P1", "PL", str(DATA / "mcmicro_exemplar001_tileA.csv.gz")),
        ("P1_LM", "P1", "LM", str(DATA / "mcmicro_exemplar001_tileB.csv.gz")),
    ]
    results = run_cohort(tmp_path, snakemake_runner, rows, MCMICRO)
    fractions = read(results / "cell_fractions.tsv")
    spatial = read(results / "spatial_distances.tsv")
    by_site = {}
    for sample_id, _, site, path in rows:
        table, phenotypes, xy = mcmicro_by_hand(path)
        for name, mask in phenotypes.items():
            row = fraction_row(fractions, sample_id, name)
            assert row["n_cells"] == int(mask.sum()), name
            assert row["n_total"] == len(table) and row["n_undecided"] == 0
            assert row["fraction"] == pytest.approx(mask.sum() / len(table), rel=1e-5)  # 6 digits
        by_site[site] = phenotypes["Immune"].sum() / len(table)
        # the h5py-written AnnData reads back with anndata: every cell, its µm coordinates and
        # phenotype calls as computed by hand from the export
        cells = anndata.read_h5ad(results / "anndata" / f"{sample_id}.h5ad")
        assert cells.n_obs == len(table) and cells.n_vars == 0
        assert np.allclose(cells.obsm["spatial"], xy, rtol=1e-6)
        for name, mask in phenotypes.items():
            assert np.array_equal(cells.obs[name].to_numpy(), mask.to_numpy()), name
        tumour = phenotypes["Epithelial"].to_numpy()
        for name in ("Immune", "Stromal"):
            d = nearest(xy[phenotypes[name].to_numpy()], xy[tumour])
            got = spatial.query("sample == @sample_id and phenotype == @name and region == 'all'")
            assert got["n_cells"].item() == len(d)
            assert got["n_tumour"].item() == int(tumour.sum())
            assert got["median_distance_um"].item() == pytest.approx(np.median(d), rel=1e-5)
            # float32 coordinates: the 30 µm boundary is compared on the same side by hand
            assert got["fraction_within"].item() == pytest.approx(np.mean(d <= 30), abs=2e-3)
    comparison = read(results / "site_comparison.tsv").query(
        "phenotype == 'Immune' and region == 'all'"
    )
    assert comparison["n_pairs"].item() == 1
    difference = by_site["LM"] - by_site["PL"]
    assert comparison["median_difference"].item() == pytest.approx(difference, rel=1e-5)
    log = (tmp_path / "logs" / "mihc" / "sample" / "P1_PL.log").read_text()
    assert "read as mcmicro" in log
    assert "coordinates in pixels (MCMICRO/mcquant" in log
    assert "at 2 px/µm (config pixels_per_micron)" in log
    assert read(results / "excluded.tsv").empty  # nothing left out


def test_mcmicro_without_pixel_size_stops_at_parse(tmp_path, snakemake_runner):
    settings = {k: v for k, v in MCMICRO.items() if k != "pixels_per_micron"}
    rows = [("P1_PL", "P1", "PL", str(DATA / "mcmicro_exemplar001_tileA.csv.gz"))]
    lines = ["sample\tpatient\tsite\tmihc"] + ["\t".join(r) for r in rows]
    (tmp_path / "samples.tsv").write_text("\n".join(lines) + "\n")
    config = {"samples": "samples.tsv", "mihc": settings}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake_runner(tmp_path, "mihc", "--configfile", "config.yaml", "-n", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "mcmicro_exemplar001_tileA.csv.gz, column 'X_centroid'" in output
    assert "set mihc.pixels_per_micron" in output and "Traceback" not in output


# inForm cell_seg_data from phenoptr's tests (Akoya; inForm writes "(pixels)" units in its
# distance and area columns) and SPIAT's tiny inForm 2.4.6626 export. Phenotypes are the text
# of the "Phenotype" column.
INFORM = {
    "markers": {
        "CD8": {"column": "Phenotype", "positive": "Cytotoxic T"},
        "CD4": {"column": "Phenotype", "positive": "Helper T"},
        "B": {"column": "Phenotype", "positive": "B"},
    },
    "phenotypes": {"CD8_T": "CD8", "CD4_T": "CD4", "B_cell": "B"},
    "region": "Tissue Category",
    "tumour": "B_cell",  # the nearest-target analysis, here: T cells to the nearest B cell
    "within_um": 30,
    "pixels_per_micron": 2,  # Vectra 20x, phenoptr's default
    "missing": "exclude",
}
PHENOTYPE_TEXT = {"CD8_T": "Cytotoxic T", "CD4_T": "Helper T", "B_cell": "B"}


def test_inform_missing_phenotype_is_an_error_by_default():
    # Line 112 of the real export has an empty Phenotype: never counted as negative.
    settings = {**INFORM, "missing": "error"}
    with pytest.raises(InputError) as error:
        sample.summarise(str(INFORM_LM), settings)
    assert (error.value.row, error.value.column) == (112, "Phenotype")


def test_inform_end_to_end(tmp_path, snakemake_runner):
    rows = [
        ("P1_PL", "P1", "PL", str(INFORM_PL)),
        ("P1_LM", "P1", "LM", str(INFORM_LM)),
        ("P2_PL", "P2", "PL", str(DATA / "inform_spiat_tiny.txt.gz")),
    ]
    results = run_cohort(tmp_path, snakemake_runner, rows, INFORM)
    fractions = read(results / "cell_fractions.tsv")
    spatial = read(results / "spatial_distances.tsv")
    for sample_id, _, _, path in rows:
        table = pd.read_csv(path, sep="\t", na_values=["#N/A"])
        decided = table["Phenotype"].notna()
        for name, text in PHENOTYPE_TEXT.items():
            for region in ["all", *table["Tissue Category"].unique()]:
                here = table if region == "all" else table[table["Tissue Category"] == region]
                row = fraction_row(fractions, sample_id, name, region)
                assert row["n_cells"] == int((here["Phenotype"] == text).sum())
                assert row["n_total"] == int(here["Phenotype"].notna().sum())
                assert row["n_undecided"] == int(here["Phenotype"].isna().sum())
        # Pixels / 2 -> µm; CD8 T cells to the nearest B cell of the same image.
        xy = table[["Cell X Position", "Cell Y Position"]].to_numpy() / 2.0
        cd8 = (table["Phenotype"] == "Cytotoxic T").to_numpy()
        b_cells = ((table["Phenotype"] == "B") & decided).to_numpy()
        got = spatial.query("sample == @sample_id and phenotype == 'CD8_T' and region == 'all'")
        if cd8.any() and b_cells.any():
            d = nearest(xy[cd8], xy[b_cells])
            assert got["median_distance_um"].item() == pytest.approx(np.median(d), rel=1e-5)
            assert got["fraction_within"].item() == pytest.approx(np.mean(d <= 30))
    # The real LM table: 215 cells, one with an empty Phenotype (file line 112).
    lm = fraction_row(fractions, "P1_LM", "CD8_T")
    assert (lm["n_cells"], lm["n_total"], lm["n_undecided"]) == (29, 214, 1)
    assert lm["fraction"] == pytest.approx(29 / 214)
    excluded = read(results / "excluded.tsv")
    undecided = excluded.query("step == 'sample' and patient == 'P1'")
    assert len(undecided) == 3  # one row per phenotype, each naming the line
    assert all("file lines 112" in reason for reason in undecided["reason"])
    assert excluded.query("step == 'pairing'")["item"].tolist() == ["P2_PL"]
    log = (tmp_path / "logs" / "mihc" / "sample" / "P1_PL.log").read_text()
    assert re.search(r"coordinates in pixels \(header column '[^']*\(pixels\)'\) at 2 px/µm", log)


# HALO object data: SPIAT's tiny export (10 cells, HALO "Dye N Positive" calls, XMin..YMax in
# µm, UTF-8 BOM, a quoted "Analysis Inputs" cell full of commas and semicolons).
HALO = {
    "markers": {"D2": {"column": "Dye 2 Positive"}, "D3": {"column": "Dye 3 Positive"}},
    "phenotypes": {"Opal620_only": "D2 & ~D3", "Opal650": "D3"},
    "region": "Classifier Label",
    "tumour": "Opal620_only",
}


def test_halo_end_to_end(tmp_path, snakemake_runner):
    path = DATA / "halo_spiat_tiny.csv.gz"
    rows = [("P1_PL", "P1", "PL", str(path))]
    results = run_cohort(tmp_path, snakemake_runner, rows, HALO)
    table = pd.read_csv(path, encoding="utf-8-sig")
    d2, d3 = table["Dye 2 Positive"] == 1, table["Dye 3 Positive"] == 1
    fractions = read(results / "cell_fractions.tsv")
    for name, mask in {"Opal620_only": d2 & ~d3, "Opal650": d3}.items():
        row = fraction_row(fractions, "P1_PL", name)
        assert (row["n_cells"], row["n_total"]) == (int(mask.sum()), len(table))
        assert fraction_row(fractions, "P1_PL", name, "TUMOUR")["n_cells"] == int(mask.sum())
    # Cell centres (XMin + XMax) / 2, (YMin + YMax) / 2 in µm, as HALO writes them.
    xy = np.column_stack([(table["XMin"] + table["XMax"]) / 2, (table["YMin"] + table["YMax"]) / 2])
    d = nearest(xy[d3.to_numpy()], xy[(d2 & ~d3).to_numpy()])
    spatial = read(results / "spatial_distances.tsv").query(
        "phenotype == 'Opal650' and region == 'all'"
    )
    assert spatial["median_distance_um"].item() == pytest.approx(np.median(d), rel=1e-5)
    excluded = read(results / "excluded.tsv")
    assert excluded["item"].tolist() == ["P1_PL"]  # unpaired: no LM table for P1
    assert read(results / "site_comparison.tsv")["n_pairs"].eq(0).all()
    log = (tmp_path / "logs" / "mihc" / "sample" / "P1_PL.log").read_text()
    assert "coordinates in µm (HALO object data" in log
