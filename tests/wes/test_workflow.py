"""`snakemake wes` from a temporary working directory: a cohort MAF, and a small demo VCF cohort."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pysam
import pytest
import yaml

from organomics.demo import wes as demo_wes
from organomics.demo.cohort import DemoCohort

DATA = Path(__file__).parent / "data"


def read(path):
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def maf_run(tmp_path_factory, snakemake_runner):
    work = tmp_path_factory.mktemp("wes_maf")
    (work / "data").mkdir()
    shutil.copy(DATA / "cohort.maf", work / "data" / "cohort.maf")
    shutil.copy(DATA / "pvacseq.all_epitopes.tsv", work / "data" / "P1_PL.tsv")
    shutil.copy(DATA / "generic_neoantigens.csv", work / "data" / "P1_LM.csv")
    sheet = pd.DataFrame(
        {
            "sample": ["P1_PL", "P1_LM", "P2_PL"],
            "patient": ["P1", "P1", "P2"],
            "site": ["PL", "LM", "PL"],
            "wes": ["data/cohort.maf"] * 3,
            "wes_id": ["TCGA-AA-0001-01A", "TCGA-AA-0001-06A", "TCGA-BB-0002-01A"],
            "neoantigens": ["data/P1_PL.tsv", "data/P1_LM.csv", ""],
        }
    )
    sheet.to_csv(work / "samples.tsv", sep="\t", index=False)
    config = {"samples": "samples.tsv", "wes": {"exome_size_mb": 2.0, "drivers": ["KRAS", "TP53"]}}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake_runner(work, "wes", "--configfile", "config.yaml")
    return work


def test_maf_cohort_tables(maf_run):
    results = maf_run / "results" / "wes"
    tmb = read(results / "tmb.tsv").set_index("sample")
    assert list(tmb.columns) == [
        "patient",
        "site",
        "n_pass",
        "n_nonsynonymous",
        "callable_mb",
        "tmb",
    ]
    # hand counts (see test_cohort.py): P1_PL 9 passing / 6 non-synonymous, P1_LM 4 / 3, P2 1 / 1
    assert tmb.loc["P1_PL", ["n_pass", "n_nonsynonymous"]].tolist() == [9, 6]
    assert tmb.loc["P1_LM", ["n_pass", "n_nonsynonymous"]].tolist() == [4, 3]
    assert tmb.loc["P2_PL", ["n_pass", "n_nonsynonymous"]].tolist() == [1, 1]
    assert tmb.loc["P1_PL", "tmb"] == pytest.approx(3.0)
    shared = read(results / "shared_private.tsv")
    assert shared.to_dict("records") == [
        {
            "patient": "P1",
            "shared": 1,
            "private_PL": 8,
            "private_LM": 3,
            "jaccard": pytest.approx(1 / 12),
        }
    ]
    drivers = read(results / "drivers.tsv")
    assert drivers[["gene", "in_PL", "in_LM"]].values.tolist() == [
        ["KRAS", True, True],
        ["TP53", True, False],
    ]
    neo = read(results / "neoantigens.tsv").set_index("sample")
    assert neo.loc["P1_PL", ["n_neoantigens", "n_neoantigen_variants"]].tolist() == [3, 2]
    assert neo.loc["P1_LM", ["n_neoantigens", "n_neoantigen_variants"]].tolist() == [3, 2]
    comparison = read(results / "site_comparison.tsv").set_index("metric")
    assert list(comparison.index) == ["tmb", "n_nonsynonymous", "n_neoantigens"]
    assert comparison["n_pairs"].tolist() == [1, 1, 1]
    assert comparison.loc["tmb", "median_difference"] == pytest.approx(1.5 - 3.0)
    for column in ("statistic", "p_value", "p_adj", "test", "correction"):
        assert column in comparison.columns
    for name in ("tmb_paired", "neoantigens_paired", "shared_private", "oncoplot", "sbs6_spectrum"):
        for ext in ("png", "pdf"):
            assert (results / "plots" / f"{name}.{ext}").stat().st_size > 0


def test_demo_vcf_cohort(tmp_path, snakemake_runner):
    cohort = DemoCohort(seed=1, n_patients=4, n_pairs=3, n_sc_pairs=1, n_variants=60)
    cells, block = demo_wes.write(tmp_path, "demo", cohort)
    (tmp_path / "wes").rename(tmp_path / "demo")
    (tmp_path / "demo" / "wes").mkdir()
    for item in list((tmp_path / "demo").iterdir()):
        if item.is_file():
            item.rename(tmp_path / "demo" / "wes" / item.name)
    rows = [{"sample": s, "patient": s.split("_")[0], "site": s.split("_")[1], **c}
            for s, c in cells.items()]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    config = {"samples": "samples.tsv", "wes": block}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake_runner(tmp_path, "wes", "--configfile", "config.yaml")
    results = tmp_path / "results" / "wes"
    tmb = read(results / "tmb.tsv")
    assert len(tmb) == 7  # 3 pairs + 1 unpaired sample
    filters = read(results / "filter_summary.tsv").set_index("sample")
    # every trap kind is caught in every sample: FILTER, shallow, low VAF, off-target, 2-read ALT
    for column in ("filter", "depth", "vaf", "off_target", "alt_reads"):
        assert (filters[column] > 0).all(), column
    assert (read(results / "neoantigens.tsv")["n_neoantigens"] > 0).all()
    # TMB = count / one callable size: a rank test must give the count's p exactly (issue #12:
    # ties made by floating point had moved it, 0.363129 vs 0.362992 on the demo)
    comparison = read(results / "site_comparison.tsv").set_index("metric")
    assert comparison.at["tmb", "p_value"] == comparison.at["n_nonsynonymous", "p_value"]
    assert comparison.at["tmb", "statistic"] == comparison.at["n_nonsynonymous", "statistic"]
    # the unpaired patient is kept in tmb.tsv and listed, with its reason, in excluded.tsv
    excluded = read(results / "excluded.tsv")
    unpaired = excluded.query("level == 'patient' and step == 'cohort'")
    assert len(unpaired) == 1 and "paired site tests" in unpaired["reason"].iloc[0]
    # copy number: every sample has a purity and segments (generic TSV at PL, ASCAT at LM)
    ccf = read(results / "ccf.tsv")
    passing = read(results / "filter_summary.tsv")["passing"].sum()
    assert len(ccf) == passing
    inside = ccf["total_cn"].notna()
    assert inside.sum() > 0.8 * len(ccf)
    assert ccf.loc[inside, "ccf"].between(0, 1).all()
    assert (ccf.loc[inside, "ccf_low"] <= ccf.loc[inside, "ccf"] + 1e-9).all()
    assert (ccf.loc[inside, "ccf_high"] >= ccf.loc[inside, "ccf"] - 1e-9).all()
    assert ccf.loc[~inside, ["ccf", "clonal"]].isna().all().all()
    clonality = read(results / "clonality.tsv")
    assert len(clonality) == 3 and set(clonality["seeding"]) <= {"monoclonal", "polyclonal"}
    samples = read(results / "clonality_samples.tsv")
    assert len(samples) == 7 and samples["math"].notna().all()
    assert samples["n_clonal_neoantigens"].notna().all()
    copy_number = read(results / "copy_number.tsv")
    assert len(copy_number) == 7 and copy_number["fga"].between(0, 1).all()
    paired_arms = read(results / "arm_events_paired.tsv")
    assert (paired_arms["class"] == "shared").sum() >= 3 * 3  # three trunk events per patient
    assert not (excluded["step"] == "clonality").any()  # nothing left out
    for name in ("ccf_scatter", "fga_paired", "signatures"):
        assert (results / "plots" / f"{name}.png").stat().st_size > 0
    # the demo FASTA holds chr17-22: SBS96 counts what lies there, lists the rest per sample
    sbs96 = read(results / "sbs96.tsv").set_index("sample")
    assert len(sbs96) == 7 and sbs96.sum(axis=1).gt(0).all()
    absent = excluded.query("step == 'sbs96' and level == 'snvs'")
    assert absent["reason"].str.startswith("on contigs absent from the FASTA").sum() == 7
    counted = sbs96.sum(axis=1).sum()
    left_out = absent["item"].str.extract(r": (\d+) of")[0].astype(int).sum()
    snvs = read(results / "mutations.tsv.gz").query("ref.str.len() == 1 and alt.str.len() == 1")
    assert counted + left_out == len(snvs)  # every passing SNV is counted or listed
    signatures = read(results / "signatures.tsv")
    fitted = set(signatures["sample"])
    below = set(excluded.query("step == 'signatures' and level == 'sample'")["item"])
    assert fitted | below == set(sbs96.index) and not fitted & below
    sums = signatures.groupby("sample")["exposure"].sum()
    assert sums.to_numpy() == pytest.approx(1, abs=1e-5)  # fractions written to 6 digits
    # HLA loss: the demo's LOHHLA tables cover the first patients, both sites in one file each
    loh = read(results / "hla_loh.tsv")
    assert set(loh["tool"]) == {"LOHHLA"} and loh["sample"].nunique() == 6
    burden = read(results / "hla_burden.tsv")
    assert (burden["n_lost_allele"] + burden["n_retained"] == burden["n_neoantigens"]).all()


def test_bad_purity_and_segments_stop_before_any_job(tmp_path, snakemake_runner):
    shutil.copy(DATA / "cohort.maf", tmp_path / "cohort.maf")
    (tmp_path / "seg.tsv").write_text(
        "chrom\tstart\tend\ttotal_cn\tminor_cn\n1\t100\t200\t2\t1\n1\t150\t300\t2\t1\n"
    )
    sheet = "sample\tpatient\tsite\twes\twes_id\tpurity\tcn\n"
    row = "A\tP1\tPL\tcohort.maf\tTCGA-AA-0001-01A\t{purity}\tseg.tsv\n"
    (tmp_path / "config.yaml").write_text("samples: samples.tsv\nwes: {exome_size_mb: 30}\n")
    (tmp_path / "samples.tsv").write_text(sheet + row.format(purity="1.5e0"))
    result = snakemake_runner(tmp_path, "wes", "-n", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    assert "purity 1.5 outside (0, 1]" in result.stdout + result.stderr
    (tmp_path / "samples.tsv").write_text(sheet + row.format(purity="0.6"))
    result = snakemake_runner(tmp_path, "wes", "-n", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    assert "seg.tsv, row 3: segment 1:150-300 overlaps" in result.stdout + result.stderr


def test_missing_callable_size_is_reported(tmp_path, snakemake_runner):
    shutil.copy(DATA / "cohort.maf", tmp_path / "cohort.maf")
    (tmp_path / "samples.tsv").write_text(
        "sample\tpatient\tsite\twes\twes_id\nA\tP1\tPL\tcohort.maf\tTCGA-AA-0001-01A\n"
    )
    (tmp_path / "config.yaml").write_text("samples: samples.tsv\n")
    result = snakemake_runner(tmp_path, "wes", "-n", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    assert "exome_size_mb" in result.stdout + result.stderr


def test_bad_vcf_header_stops_before_any_job(tmp_path, snakemake_runner):
    text = (DATA / "mutect2_vep.vcf").read_text().replace("Allele|Consequence|", "Allele|Effect|")
    (tmp_path / "bad.vcf").write_text(text)
    (tmp_path / "samples.tsv").write_text("sample\tpatient\tsite\twes\nA\tP1\tPL\tbad.vcf\n")
    (tmp_path / "config.yaml").write_text("samples: samples.tsv\nwes: {exome_size_mb: 30}\n")
    result = snakemake_runner(tmp_path, "wes", "-n", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    assert "lacks a 'Consequence' field" in result.stdout + result.stderr


def test_sbs96_with_a_fasta(tmp_path, snakemake_runner):
    # a FASTA whose REF bases are the VCF's and whose neighbours are chosen, so that each
    # passing SNV's class is known: 5' A, 3' T around every site
    records = [
        line.split("\t")[:5]
        for line in (DATA / "mutect2_vep.vcf").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    contigs = {"chr1": ["G"] * 2000, "chr2": ["G"] * 2000}
    for chrom, pos, _, ref, _ in records:
        contigs[chrom][int(pos) - 2] = "A"
        contigs[chrom][int(pos) - 1 : int(pos) - 1 + len(ref)] = list(ref)
        contigs[chrom][int(pos) - 1 + len(ref)] = "T"
    fasta = tmp_path / "ref.fa"
    fasta.write_text("".join(f">{c}\n{''.join(s)}\n" for c, s in contigs.items()))
    pysam.faidx(str(fasta))
    shutil.copy(DATA / "mutect2_vep.vcf", tmp_path / "calls.vcf")
    (tmp_path / "samples.tsv").write_text("sample\tpatient\tsite\twes\nA\tP1\tPL\tcalls.vcf\n")
    config = {"samples": "samples.tsv", "wes": {"exome_size_mb": 30, "fasta": "ref.fa"}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake_runner(tmp_path, "wes", "--configfile", "config.yaml")
    counts = read(tmp_path / "results" / "wes" / "sbs96.tsv").set_index("sample")
    assert counts.shape == (1, 96)
    found = counts.loc["A"][counts.loc["A"] > 0].to_dict()
    # passing SNVs (test_reader): chr1 100 G>T, 600 A>C, 800 C>T, 900 G>C, 1300 G>A, chr2
    # 1000 T>G; a purine REF is reverse-complemented with its context (A G T -> A C T)
    expected = {
        "A[C>A]T": 1,  # 100 G>T
        "A[T>G]T": 2,  # 600 A>C (A A T -> A T T) and chr2 1000 T>G
        "A[C>T]T": 2,  # 800 C>T and 1300 G>A
        "A[C>G]T": 1,  # 900 G>C
    }
    assert found == expected
    # every passing SNV lies on a contig of the FASTA: the step lists nothing
    excluded = read(tmp_path / "results" / "wes" / "excluded.tsv")
    assert (tmp_path / "results" / "wes" / "excluded" / "sbs96.tsv").exists()
    assert not (excluded["step"] == "sbs96").any()
