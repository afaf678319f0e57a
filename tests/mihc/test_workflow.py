"""`snakemake mihc` on a small demo cohort in a temporary working directory; early errors."""

import pandas as pd
import yaml

from organomics.demo.__main__ import write_demo
from organomics.demo.cohort import DemoCohort
from organomics.mihc import cohort


def small_demo(workdir):
    """Six pairs plus one unpaired sample, 400 cells each; returns the demo config path."""
    demo = DemoCohort(seed=0, n_patients=8, n_pairs=6, n_sc_pairs=1, n_mihc_cells=400)
    write_demo(str(workdir / "demo"), demo, layers=("mihc",))
    return workdir / "demo" / "config.yaml"


def test_snakemake_mihc(tmp_path, snakemake_runner):
    config = small_demo(tmp_path)
    snakemake_runner(tmp_path, "mihc", "--configfile", str(config))
    results = tmp_path / "results" / "mihc"
    fractions = pd.read_csv(results / "cell_fractions.tsv", sep="\t")
    assert list(fractions.columns) == cohort.FRACTION_COLUMNS
    assert set(fractions["region"]) == {"all", "Tumor", "Stroma"}
    assert fractions["sample"].nunique() == 13  # 6 pairs + one unpaired sample
    comparison = pd.read_csv(results / "site_comparison.tsv", sep="\t")
    for column in ["phenotype", "region", "n_pairs", "median_PL", "median_LM", "statistic"]:
        assert column in comparison.columns
    assert {"p_value", "p_adj", "test"} <= set(comparison.columns)
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
    for name in ["fractions_paired", "composition", "spatial_scatter", "spatial_paired"]:
        for ext in ("png", "pdf"):
            assert (results / "plots" / f"{name}.{ext}").stat().st_size > 0


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
