"""WES branch end to end on real caller VCFs: NYGC COLO829 (VEP-annotated), Strelka, Mutect2.

One `snakemake wes` run on a two-patient cohort. Every expected number is recomputed here from
the VCF text with a few lines of Python (no htslib, no organomics), and the paired test with
scipy. Sources and subsetting: tests/realdata/data/wes/PROVENANCE.md.
"""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml
from scipy import stats

DATA = Path(__file__).parent / "data" / "wes"
NYGC = DATA / "colo829_nygc_v6_chr7.vcf.gz"  # Mutect2 + Strelka2 + Lancet consensus, VEP 93
LANCET = DATA / "colo829_lancet2_twotech_chr7.vcf.gz"  # Lancet2 two-technology truth set
STRELKA = DATA / "strelka1_somatic_indels.vcf"  # Strelka somatic indels (TAR/TIR), no CSQ
PURECN = Path(__file__).parents[1] / "wes" / "data" / "purecn_example_mutect2.vcf.gz"
TUMOUR = "COLO-829-NovaSeq"  # the NYGC files name no ##tumor_sample: the sheet's wes_id says
EXOME_MB = 35.8
# The workflow's documented defaults (config/README.md, wes.filters)
MIN_DEPTH, MIN_ALT, MIN_VAF = 10, 3, Decimal("0.05")
# TMB's non-synonymous SO terms (config/README.md); the COLO829 excerpts hold none of the terms
# VEP ranks above them (transcript_ablation etc., asserted below), so "any CSQ entry has one of
# these terms" is the same as "the most severe entry is non-synonymous"
NONSYNONYMOUS = {
    "missense_variant",
    "stop_gained",
    "stop_lost",
    "start_lost",
    "frameshift_variant",
    "inframe_insertion",
    "inframe_deletion",
    "splice_acceptor_variant",
    "splice_donor_variant",
    "protein_altering_variant",
}
MORE_SEVERE = {
    "transcript_ablation",
    "transcript_amplification",
    "feature_elongation",
    "feature_truncation",
}


def records(path: Path):
    """(header lines, #CHROM columns, data rows split on tabs) from the VCF text."""
    opener = gzip.open if path.suffix == ".gz" else open
    header, rows = [], []
    with opener(path, "rt") as handle:
        for line in handle:
            if line.startswith("##"):
                header.append(line)
            elif line.startswith("#"):
                columns = line.rstrip("\n").split("\t")
            else:
                rows.append(line.rstrip("\n").split("\t"))
    return header, columns, rows


def passing_by_hand(path: Path, tumour: str) -> dict[tuple, bool]:
    """{(chrom, pos, ref, alt): non-synonymous} of the alleles that pass the default filters.

    Mutect2-style FORMAT (AD, DP, AF): depth = DP (else the sum of AD), alt reads = AD[1],
    VAF = AF as written.
    Strelka indels: tier-1 DP, alt reads = TIR[0], VAF = TIR / (TIR + TAR), tier 1.
    """
    header, columns, rows = records(path)
    csq_fields = None
    for line in header:
        if line.startswith("##INFO=<ID=CSQ,"):
            csq_fields = line.split("Format: ")[1].split('"')[0].split("|")
    i_tumour = columns.index(tumour)
    passing = {}
    for row in rows:
        if row[6] != "PASS" or "," in row[4]:
            continue  # the excerpts are bi-allelic (asserted in the test)
        values = dict(zip(row[8].split(":"), row[i_tumour].split(":"), strict=True))
        if "TIR" in values:
            tir, tar = int(values["TIR"].split(",")[0]), int(values["TAR"].split(",")[0])
            depth, alt_reads = int(values["DP"]), tir
            vaf = Decimal(tir) / Decimal(tir + tar) if tir + tar else Decimal(0)
        else:
            depth_reads = [int(n) for n in values["AD"].split(",")]
            # 13 NYGC records write AD:AF without DP: depth is then the sum of AD
            depth = int(values["DP"]) if "DP" in values else sum(depth_reads)
            alt_reads = depth_reads[1]
            vaf = Decimal(values["AF"])
        if depth < MIN_DEPTH or alt_reads < MIN_ALT or vaf < MIN_VAF:
            continue
        nonsynonymous = False
        info = dict(item.split("=", 1) for item in row[7].split(";") if "=" in item)
        if csq_fields and "CSQ" in info:
            i_consequence = csq_fields.index("Consequence")
            terms = {
                term
                for entry in info["CSQ"].split(",")
                for term in entry.split("|")[i_consequence].split("&")
            }
            assert not terms & MORE_SEVERE
            nonsynonymous = bool(terms & NONSYNONYMOUS)
        passing[(row[0], int(row[1]), row[3], row[4])] = nonsynonymous
    return passing


@pytest.fixture(scope="module")
def run(tmp_path_factory, snakemake_runner):
    work = tmp_path_factory.mktemp("wes_realdata")
    sheet = pd.DataFrame(
        {
            "sample": ["C1_PL", "C1_LM", "S2_PL", "S2_LM"],
            "patient": ["C1", "C1", "S2", "S2"],
            "site": ["PL", "LM", "PL", "LM"],
            "wes": [NYGC, LANCET, STRELKA, PURECN],
            "wes_id": [TUMOUR, TUMOUR, "", ""],
        }
    )
    sheet.to_csv(work / "samples.tsv", sep="\t", index=False)
    config = {
        "samples": "samples.tsv",
        # the Strelka and PureCN files carry no CSQ/ANN: accepted, their TMB left empty
        "wes": {"exome_size_mb": EXOME_MB, "allow_unannotated": True, "drivers": ["BRAF"]},
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake_runner(work, "wes", "--configfile", "config.yaml")
    return work / "results" / "wes"


def read(path):
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])


def test_excerpts_are_biallelic_and_vep_annotated():
    for path in (NYGC, LANCET):
        header, _, rows = records(path)
        assert any(line.startswith('##VEP="v93"') for line in header)
        assert all("," not in row[4] for row in rows)


def test_tmb_counts_match_the_vcf_text(run):
    tmb = read(run / "tmb.tsv").set_index("sample")
    for sample, path in (("C1_PL", NYGC), ("C1_LM", LANCET)):
        expected = passing_by_hand(path, TUMOUR)
        nonsynonymous = sum(expected.values())
        assert tmb.at[sample, "n_pass"] == len(expected)
        assert tmb.at[sample, "n_nonsynonymous"] == nonsynonymous
        # tables are written with 6 significant digits
        assert tmb.at[sample, "tmb"] == pytest.approx(nonsynonymous / EXOME_MB, rel=1e-5)
    # by hand: 2,559 and 2,421 alleles pass on chr7; 10 and 9 of them are non-synonymous
    assert tmb.loc[["C1_PL", "C1_LM"], "n_pass"].tolist() == [2559, 2421]
    assert tmb.loc[["C1_PL", "C1_LM"], "n_nonsynonymous"].tolist() == [10, 9]
    # Strelka indels: 13 of 20 pass; unannotated, so non-synonymous count and TMB unknown
    strelka = passing_by_hand(STRELKA, "TUMOR")
    assert tmb.at["S2_PL", "n_pass"] == len(strelka) == 13
    assert pd.isna(tmb.at["S2_PL", "n_nonsynonymous"]) and pd.isna(tmb.at["S2_PL", "tmb"])
    # PureCN's Mutect2 example has FILTER '.' on all 11 records: none passes
    assert tmb.at["S2_LM", "n_pass"] == 0


def test_filter_summary_accounts_for_every_record(run):
    summary = read(run / "filter_summary.tsv").set_index("sample")
    steps = ["filter", "depth", "alt_reads", "vaf", "symbolic", "off_target", "duplicate"]
    for sample, path in (("C1_PL", NYGC), ("C1_LM", LANCET), ("S2_PL", STRELKA), ("S2_LM", PURECN)):
        n_records = len(records(path)[2])
        row = summary.loc[sample]
        assert row["records"] == row["alleles"] == n_records
        assert row[steps].sum() + row["passing"] == n_records
    # the Lancet2 set's 52 chr7 freeBayes records carry FILTER '.' (counted by hand with awk)
    assert summary.at["C1_LM", "filter"] == 52
    assert summary.at["S2_LM", "filter"] == 11


def test_shared_private_and_braf_driver(run):
    nygc = set(passing_by_hand(NYGC, TUMOUR))
    lancet = set(passing_by_hand(LANCET, TUMOUR))
    shared = read(run / "shared_private.tsv").set_index("patient")
    assert shared.at["C1", "shared"] == len(nygc & lancet)
    assert shared.at["C1", "private_PL"] == len(nygc - lancet)
    assert shared.at["C1", "private_LM"] == len(lancet - nygc)
    assert shared.at["C1", "jaccard"] == pytest.approx(len(nygc & lancet) / len(nygc | lancet))
    # COLO829's BRAF V600E (chr7:140753336 A>T, COSM476) is called in both sets
    assert ("chr7", 140753336, "A", "T") in nygc & lancet
    drivers = read(run / "drivers.tsv")
    braf = drivers.query("patient == 'C1' and gene == 'BRAF'")
    assert braf[["in_PL", "in_LM"]].to_numpy().tolist() == [[True, True]]


def test_site_comparison_pairs_only_known_tmb(run):
    comparison = read(run / "site_comparison.tsv").set_index("metric")
    tmb = read(run / "tmb.tsv").set_index("sample")
    row = comparison.loc["tmb"]
    # S2's PL TMB is unknown: one pair (C1), S2 counted as unpaired
    assert row["n_pairs"] == 1 and row["n_unpaired"] == 1
    difference = tmb.at["C1_LM", "tmb"] - tmb.at["C1_PL", "tmb"]
    assert row["median_difference"] == pytest.approx(difference)
    # scipy's exact signed-rank test on one pair: p = 1
    expected = stats.wilcoxon([tmb.at["C1_PL", "tmb"]], [tmb.at["C1_LM", "tmb"]], method="exact")
    assert row["p_value"] == pytest.approx(expected.pvalue)


def test_excluded_lists_what_the_tables_leave_out(run):
    excluded = read(run / "excluded.tsv")
    by_item = dict(zip(excluded["item"], excluded["reason"], strict=True))
    assert "without CSQ/ANN" in by_item["S2_PL"]
    assert "no variant passes the filters" in by_item["S2_LM"]
    assert "filter 11" in by_item["S2_LM"]
    assert set(excluded["step"]) == {"cohort"}
