"""`snakemake mihc` on a small demo cohort in a temporary working directory; early errors."""

import anndata
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.spatial.distance import cdist

from organomics.demo.__main__ import write_demo
from organomics.demo.cohort import DemoCohort
from organomics.mihc import cohort, spatial


def small_demo(workdir):
    """Six pairs plus one unpaired sample, 400 cells each; returns the demo config path."""
    demo = DemoCohort(seed=0, n_patients=8, n_pairs=6, n_sc_pairs=1, n_mihc_cells=400)
    write_demo(str(workdir / "demo"), demo, layers=("mihc",))
    return workdir / "demo" / "config.yaml"


def subset_rows(table):
    """The rows over every pair and those over the simultaneous pairs of a paired test table."""
    subset = table["subset"].astype(str)
    return (
        table[subset == "all"].reset_index(drop=True),
        table[subset == "simultaneous"].reset_index(drop=True),
    )


def test_snakemake_mihc(tmp_path, snakemake_runner):
    config = small_demo(tmp_path)
    snakemake_runner(tmp_path, "mihc", "--configfile", str(config))
    results = tmp_path / "results" / "mihc"
    fractions = pd.read_csv(results / "cell_fractions.tsv", sep="\t")
    assert list(fractions.columns) == cohort.FRACTION_COLUMNS
    assert set(fractions["region"]) == {"all", "Tumor", "Stroma"}
    assert fractions["sample"].nunique() == 13  # 6 pairs + one unpaired sample
    every = pd.read_csv(results / "site_comparison.tsv", sep="\t")
    for column in ["phenotype", "region", "n_pairs", "median_PL", "median_LM", "statistic"]:
        assert column in every.columns
    assert {"p_value", "p_adj", "test"} <= set(every.columns)
    # the demo sheet has collection days: every test again on the simultaneous pairs only
    comparison, alike = subset_rows(every)
    assert len(alike) == len(comparison) and alike["n_pairs"].lt(6).all()
    cd8 = comparison.query("phenotype == 'CD8_T' and region == 'all'").iloc[0]
    assert cd8["n_pairs"] == 6 and cd8["n_unpaired"] == 1
    assert cd8["p_value"] < 0.05  # six of six pairs lower in LM: exact p = 1/32
    # The unpaired sample (demo patient 7 or 8 has one site) is listed with its reason.
    excluded = pd.read_csv(results / "excluded.tsv", sep="\t", keep_default_na=False)
    unpaired = excluded.query("step == 'pairing'")
    assert len(unpaired) == 1 and unpaired["level"].item() == "sample"
    assert "left out of the paired tests" in unpaired["reason"].item()
    spatial = pd.read_csv(results / "spatial_distances.tsv", sep="\t")
    assert list(spatial.columns) == cohort.SPATIAL_COLUMNS
    plots = ["fractions_paired", "composition", "spatial_scatter", "spatial_paired", "margin_map"]
    for name in [*plots, "neighbourhood_heatmap", "immune_phenotype"]:
        for ext in ("png", "pdf"):
            assert (results / "plots" / f"{name}.{ext}").stat().st_size > 0
    check_spatial_outputs(tmp_path, results)


def check_spatial_outputs(workdir, results):
    """Margin, immune phenotype, neighbourhood and AnnData outputs of the same run."""
    neighbourhood = pd.read_csv(results / "neighbourhood.tsv", sep="\t")
    assert list(neighbourhood.columns[:10]) == [
        "sample", "region", "from_phenotype", "to_phenotype", "radius_um", "n_from",
        "mean_neighbours", "expected_neighbours", "log2_ratio", "p_value",
    ]  # fmt: skip
    assert set(neighbourhood["radius_um"]) == {20, 50}
    assert neighbourhood["p_value"].dropna().gt(0).all()
    # 13 samples x 3 regions (all, Tumor, Stroma) x 5 x 5 ordered pairs x 2 radii
    assert len(neighbourhood) == 13 * 3 * 25 * 2
    # Brute force from the raw HALO table: CD8 T -> tumour neighbours within 50 µm in P01_LM.
    table = pd.read_csv(workdir / "demo" / "mihc" / "P01_LM.csv.gz")
    xy = np.column_stack([(table["XMin"] + table["XMax"]) / 2, (table["YMin"] + table["YMax"]) / 2])
    cd8 = (table["CD3 Positive Classification"] == 1) & (table["CD8 Positive Classification"] == 1)
    tumour = (table["PanCK Positive Classification"] == 1) & (
        table["CD3 Positive Classification"] == 0
    )
    close = cdist(xy[cd8], xy[tumour]) <= 50  # a CD8 cell is never a tumour cell: no self pairs
    row = neighbourhood.query(
        "sample == 'P01_LM' and region == 'all' and from_phenotype == 'CD8_T' "
        "and to_phenotype == 'Tumour' and radius_um == 50"
    ).iloc[0]
    assert row["n_from"] == cd8.sum()
    assert row["mean_neighbours"] == pytest.approx(close.sum(axis=1).mean(), rel=1e-5)
    comparison, alike = subset_rows(pd.read_csv(results / "neighbourhood_comparison.tsv", sep="\t"))
    assert len(comparison) == 25 * 2 and comparison["n_pairs"].eq(6).all()
    assert comparison["correction"].eq("Benjamini-Hochberg across 50 tests").all()
    assert len(alike) == 25 * 2
    immune = pd.read_csv(results / "immune_phenotype.tsv", sep="\t", keep_default_na=False)
    assert list(immune.columns) == cohort.IMMUNE_COLUMNS and len(immune) == 13
    assert set(immune["immune_phenotype"]) <= {"inflamed", "excluded", "desert", ""}
    cross_k = pd.read_csv(results / "cross_k.tsv", sep="\t")
    assert len(cross_k) == 13 * 25 * 2 and cross_k["correction"].str.contains("isotropic").all()
    cross_k_tests, alike = subset_rows(pd.read_csv(results / "cross_k_comparison.tsv", sep="\t"))
    assert len(cross_k_tests) == len(alike) == 25 * 2
    immune_tests, alike = subset_rows(
        pd.read_csv(results / "immune_phenotype_comparison.tsv", sep="\t")
    )
    assert len(immune_tests) == len(alike) and alike["n_pairs"].lt(6).all()
    abundance = pd.read_csv(results / "cn_abundance.tsv", sep="\t")
    assert len(abundance) == 13 * 6 and abundance["cn"].nunique() == 6
    assert abundance.groupby("sample")["fraction"].sum().round(9).eq(1).all()
    margin = pd.read_csv(results / "margin_densities.tsv", sep="\t")
    assert set(margin["compartment"]) == set(spatial.COMPARTMENTS)
    adata = anndata.read_h5ad(results / "anndata" / "P01_LM.h5ad")
    assert adata.n_obs == len(table)
    assert np.allclose(np.sort(adata.obsm["spatial"][:, 0]), np.sort(xy[:, 0]))
    assert adata.obs["CD8_T"].sum() == cd8.sum()
    assert set(adata.obs["compartment"]) <= set(spatial.COMPARTMENTS)


def test_bad_expression_fails_before_jobs(tmp_path, snakemake_runner):
    config_path = small_demo(tmp_path)
    config = yaml.safe_load(config_path.read_text())
    config["mihc"]["phenotypes"]["CD8_T"] = "CD3 & (CD8"
    config["mihc"]["markers"]["CD56"] = {"column": "CD56 Positiv Classification"}
    config_path.write_text(yaml.safe_dump(config))
    result = snakemake_runner(tmp_path, "mihc", "--configfile", str(config_path), check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "phenotype 'CD8_T'" in output and "position 11" in output
    assert not (tmp_path / "results" / "mihc").exists()
