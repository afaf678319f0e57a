"""Malformed WES inputs via snakemake: read as meant, or stopped naming file, line and field."""

# Each case writes a one-patient cohort into a temporary directory: P1_PL gets the broken file,
# P1_LM a clean copy of tests/wes/data/mutect2_vep.vcf. Header problems (VCF header, MAF
# columns) are checked at parse time, so a dry run already fails; content problems (a bad
# record, a bad BED line, a pVACseq table) fail the job that reads them, which leaves no output.
# The broken files start from real caller output wherever one exists (sources:
# tests/wes/data/PROVENANCE.md, tests/realdata/data/wes/PROVENANCE.md). Expected line numbers
# are computed from the file text here, never from the reader under test.

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd
import pysam
import pytest
import yaml

TESTS = Path(__file__).resolve().parents[1]
DATA = TESTS / "wes" / "data"
REAL = TESTS / "realdata" / "data" / "wes"
PURECN = DATA / "purecn_example_mutect2.vcf.gz"  # real Mutect2, tumour-only, no CSQ, FILTER '.'
NYGC = REAL / "colo829_nygc_v6_chr7.vcf.gz"  # real VEP-annotated NYGC somatic VCF
NYGC_TUMOUR = "COLO-829-NovaSeq"  # no ##tumor_sample line: the sheet's wes_id names it
HCC1395 = REAL / "hcc1395_seqc2_snv_head.vcf.gz"  # real sites-only VCF (no FORMAT)
SAMPLE_JOB = "results/wes/filter_counts/P1_PL.tsv"  # P1_PL's wes_sample job alone


def vcf_text(path: Path) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return handle.read()


def line_of(text: str, prefix: str) -> int:
    """1-based number of the first line of `text` that starts with `prefix`."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(prefix))


def write_cohort(
    work: Path, wes: str, wes_id: str = "", neoantigens: str = "", settings: dict | None = None
) -> None:
    """P1_PL reads data/<wes> (and data/<neoantigens>); P1_LM a clean Mutect2 + VEP VCF."""
    (work / "data").mkdir(exist_ok=True)
    shutil.copy(DATA / "mutect2_vep.vcf", work / "data" / "lm.vcf")
    sheet = pd.DataFrame(
        {
            "sample": ["P1_PL", "P1_LM"],
            "patient": ["P1", "P1"],
            "site": ["PL", "LM"],
            "wes": [f"data/{wes}", "data/lm.vcf"],
            "wes_id": [wes_id, ""],
            "neoantigens": [f"data/{neoantigens}" if neoantigens else "", ""],
        }
    )
    sheet.to_csv(work / "samples.tsv", sep="\t", index=False)
    config = {"samples": "samples.tsv", "wes": {"exome_size_mb": 30, **(settings or {})}}
    (work / "config.yaml").write_text(yaml.safe_dump(config))


def run(work: Path, runner, *targets: str, dry: bool = False):
    extra = ["-n"] if dry else []
    return runner(work, *targets, "--configfile", "config.yaml", *extra, check=False)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])


# --- broken files: each returns (sheet cells for P1_PL, fragments the message must hold) -----


def truncated_bgzip(work: Path):
    raw = NYGC.read_bytes()
    (work / "data" / "pl.vcf.gz").write_bytes(raw[: len(raw) // 2])  # an interrupted copy
    # the BGZF end-of-file block is gone, which the header check sees before any job
    return {"wes": "pl.vcf.gz", "wes_id": NYGC_TUMOUR}, [
        "data/pl.vcf.gz",
        "truncated bgzip file (no BGZF end-of-file block)",
    ]


def empty_vcf(work: Path):
    (work / "data" / "pl.vcf").write_bytes(b"")
    return {"wes": "pl.vcf"}, ["data/pl.vcf, row 1", "empty file (0 bytes)"]


def empty_vcf_gz(work: Path):
    (work / "data" / "pl.vcf.gz").write_bytes(b"")
    return {"wes": "pl.vcf.gz"}, ["data/pl.vcf.gz, row 1", "empty file (0 bytes)"]


def sites_only(work: Path):
    shutil.copy(HCC1395, work / "data" / "pl.vcf.gz")
    chrom_line = line_of(vcf_text(HCC1395), "#CHROM")  # line 5: four ## lines, then #CHROM
    return {"wes": "pl.vcf.gz"}, [
        f"data/pl.vcf.gz, row {chrom_line}, column 'FORMAT'",
        "VCF has no FORMAT and sample columns",
    ]


def unannotated(work: Path):
    shutil.copy(PURECN, work / "data" / "pl.vcf.gz")
    chrom_line = line_of(vcf_text(PURECN), "#CHROM")  # the header ends without a CSQ/ANN line
    return {"wes": "pl.vcf.gz"}, [
        f"data/pl.vcf.gz, row {chrom_line}, column 'INFO/CSQ'",
        "no INFO/CSQ (VEP) or INFO/ANN (SnpEff) header line",
        "wes.allow_unannotated: true",
    ]


def wrong_wes_id(work: Path):
    shutil.copy(NYGC, work / "data" / "pl.vcf.gz")
    text = vcf_text(NYGC)
    chrom_line = line_of(text, "#CHROM")
    columns = text.splitlines()[chrom_line - 1].split("\t")[9:]  # COLO-829BL-.., COLO-829-..
    return {"wes": "pl.vcf.gz", "wes_id": "COLO-829"}, [
        f"data/pl.vcf.gz, row {chrom_line}",
        "wes_id 'COLO-829' is not a sample column of the #CHROM line",
        f"columns: {', '.join(columns)}",
    ]


def csq_without_consequence(work: Path):
    text = vcf_text(NYGC)
    csq_line = line_of(text, "##INFO=<ID=CSQ,")
    # the NYGC CSQ Format reads Gene|BIOTYPE|CLN_CLINICAL_SIGNIFICANCE|Consequence|...
    assert "|Consequence|" in text.splitlines()[csq_line - 1]
    lines = text.splitlines(keepends=True)
    lines[csq_line - 1] = lines[csq_line - 1].replace("|Consequence|", "|Effect|")
    (work / "data" / "pl.vcf").write_text("".join(lines))
    return {"wes": "pl.vcf", "wes_id": NYGC_TUMOUR}, [
        f"data/pl.vcf, row {csq_line}, column 'INFO/CSQ'",
        "the CSQ header lacks a 'Consequence' field",
    ]


def maf_without(column: str):
    def make(work: Path):
        lines = (DATA / "cohort.maf").read_text().splitlines(True)
        comments = [line for line in lines if line.startswith("#")]  # #version, #annotation.spec
        maf = pd.read_csv(DATA / "cohort.maf", sep="\t", comment="#", dtype=str)
        text = "".join(comments) + maf.drop(columns=column).to_csv(sep="\t", index=False)
        (work / "data" / "cohort.maf").write_text(text)
        # the column header is the line after the two '#' comment lines: line 3
        return {"wes": "cohort.maf", "wes_id": "TCGA-AA-0001-01A"}, [
            f"data/cohort.maf, row {len(comments) + 1}, column '{column}'",
            f"MAF lacks required column(s) {column}",
        ]

    return make


PARSE_TIME = {
    "truncated_bgzip": truncated_bgzip,
    "empty_vcf": empty_vcf,
    "empty_vcf_gz": empty_vcf_gz,
    "sites_only_vcf": sites_only,
    "vcf_without_csq_or_ann": unannotated,
    "wes_id_not_a_column": wrong_wes_id,
    "csq_header_without_consequence": csq_without_consequence,
    "maf_without_tumor_sample_barcode": maf_without("Tumor_Sample_Barcode"),
    "maf_without_t_alt_count": maf_without("t_alt_count"),
}


@pytest.mark.parametrize("case", PARSE_TIME)
def test_bad_header_stops_before_any_job(case, tmp_path, snakemake_runner, clean_failure):
    (tmp_path / "data").mkdir()
    cells, fragments = PARSE_TIME[case](tmp_path)
    write_cohort(tmp_path, **cells)
    clean_failure(run(tmp_path, snakemake_runner, "wes", dry=True), *fragments)
    assert not (tmp_path / "results").exists()


def test_header_only_vcf_is_tmb_zero_and_excluded(tmp_path, snakemake_runner):
    text = vcf_text(NYGC)
    header = "".join(line for line in text.splitlines(True) if line.startswith("#"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pl.vcf").write_text(header)  # a caller run that found nothing
    write_cohort(tmp_path, "pl.vcf", wes_id=NYGC_TUMOUR)
    snakemake_runner(tmp_path, "wes", "--configfile", "config.yaml")
    results = tmp_path / "results" / "wes"
    tmb = read(results / "tmb.tsv").set_index("sample")
    # no record, so nothing passes: TMB is a real 0 (annotated VCF), not unknown
    assert tmb.loc["P1_PL", ["n_pass", "n_nonsynonymous", "tmb"]].tolist() == [0, 0, 0.0]
    excluded = read(results / "excluded.tsv")
    reason = " | ".join(excluded.query("item == 'P1_PL'")["reason"])  # other steps list it too
    assert "no variant passes the filters" in reason
    assert "the file has no variant records" in reason
    counts = read(results / "filter_counts" / "P1_PL.tsv").set_index("step")["n"]
    assert counts[["records", "alleles", "passing"]].tolist() == [0, 0, 0]


def test_unannotated_vcf_runs_with_allow_unannotated(tmp_path, snakemake_runner):
    (tmp_path / "data").mkdir()
    shutil.copy(PURECN, tmp_path / "data" / "pl.vcf.gz")
    # PureCN's example is unfiltered Mutect2 (every FILTER '.'): pass_only off, else none pass
    settings = {"allow_unannotated": True, "filters": {"pass_only": False}}
    write_cohort(tmp_path, "pl.vcf.gz", settings=settings)
    snakemake_runner(tmp_path, "wes", "--configfile", "config.yaml")
    results = tmp_path / "results" / "wes"
    tmb = read(results / "tmb.tsv").set_index("sample")
    # 11 records; depth = sum of AD (no FORMAT DP) 14..537 >= 10, AD alt 3..144 >= 3 and
    # AF 0.072..0.448 >= 0.05 (zcat | cut): all 11 pass, none can be called non-synonymous
    assert tmb.at["P1_PL", "n_pass"] == 11
    assert pd.isna(tmb.at["P1_PL", "n_nonsynonymous"]) and pd.isna(tmb.at["P1_PL", "tmb"])
    assert not pd.isna(tmb.at["P1_LM", "tmb"])  # the annotated sample keeps its TMB
    excluded = read(results / "excluded.tsv")
    reason = " | ".join(excluded.query("item == 'P1_PL'")["reason"])  # other steps list it too
    assert "without CSQ/ANN annotation" in reason


# --- content problems: the header is fine, the job that reads the body stops ---------------


def purecn_with_ad(value: str) -> str:
    """PureCN's example with the tumour AD of chr1:182597 (file line 64) replaced."""
    text = vcf_text(PURECN)
    record = "0/1:110,16:0.155:"  # GT:AD:AF:... of chr1 182597, the third record
    assert text.count(record) == 1
    return text.replace(record, f"0/1:{value}:0.155:")


def non_numeric_ad(work: Path):
    text = purecn_with_ad("110,abc")
    (work / "data" / "pl.vcf").write_text(text)
    line = line_of(text, "chr1\t182597\t")  # 61 header lines + third record = 64
    return {"wes": "pl.vcf"}, [
        f"data/pl.vcf, row {line}, column 'FORMAT/AD'",
        "chr1:182597, sample EU_It: '110,abc' is not an Integer",
    ]


def truncated_plain_gzip(work: Path):
    # `gzip`, not `bgzip`: no BGZF end-of-file block to check, so only reading the body finds
    # the cut (80 % keeps the whole header; htslib stops a few records before the cut)
    data = gzip.compress(vcf_text(NYGC).encode())
    (work / "data" / "pl.vcf.gz").write_bytes(data[: len(data) * 8 // 10])
    return {"wes": "pl.vcf.gz", "wes_id": NYGC_TUMOUR}, [
        "data/pl.vcf.gz, row ",
        "the compressed data is cut short or corrupt",
        "truncated file?",
    ]


def bed_with_text_line(work: Path):
    shutil.copy(NYGC, work / "data" / "pl.vcf.gz")
    lines = (DATA / "targets.bed").read_text().splitlines(True)
    # browser, track, then six intervals: the text line goes after the third interval
    lines.insert(5, "chr1\tabc\t200\n")
    (work / "data" / "targets.bed").write_text("".join(lines))
    return {"wes": "pl.vcf.gz", "wes_id": NYGC_TUMOUR}, [
        "data/targets.bed, row 6, column 'chromStart'",
        "expected an integer coordinate, got 'abc'",
    ]


JOB_TIME = {
    # the file's FILTER is '.' throughout: read with pass_only off, so that the record is parsed
    # (with pass_only, records failing FILTER are counted and never parsed)
    "non_numeric_ad_in_tumour_column": (
        non_numeric_ad,
        {"allow_unannotated": True, "filters": {"pass_only": False}},
    ),
    "truncated_plain_gzip": (truncated_plain_gzip, {}),
}


@pytest.mark.parametrize("case", JOB_TIME)
def test_bad_record_fails_its_job_cleanly(case, tmp_path, snakemake_runner, clean_failure):
    make, settings = JOB_TIME[case]
    (tmp_path / "data").mkdir()
    cells, fragments = make(tmp_path)
    write_cohort(tmp_path, **cells, settings=settings)
    assert run(tmp_path, snakemake_runner, SAMPLE_JOB, dry=True).returncode == 0  # header fine
    result = run(tmp_path, snakemake_runner, SAMPLE_JOB)
    clean_failure(result, *fragments, workdir=tmp_path)
    assert not (tmp_path / SAMPLE_JOB).exists()
    assert not (tmp_path / "results/wes/variants/P1_PL.parquet").exists()


def test_bed_with_text_line_stops_cleanly(tmp_path, snakemake_runner, clean_failure):
    (tmp_path / "data").mkdir()
    cells, fragments = bed_with_text_line(tmp_path)
    write_cohort(tmp_path, **cells, settings={"targets": "data/targets.bed"})
    result = run(tmp_path, snakemake_runner, SAMPLE_JOB)
    clean_failure(result, *fragments, workdir=tmp_path)
    assert not (tmp_path / SAMPLE_JOB).exists()
    assert not (tmp_path / "results/wes/variants/P1_PL.parquet").exists()


def test_bed_with_text_line_stops_before_any_job(tmp_path, snakemake_runner, clean_failure):
    (tmp_path / "data").mkdir()
    cells, fragments = bed_with_text_line(tmp_path)
    write_cohort(tmp_path, **cells, settings={"targets": "data/targets.bed"})
    clean_failure(run(tmp_path, snakemake_runner, "wes", dry=True), *fragments)


def test_missing_ad_fails_the_depth_filter(tmp_path, snakemake_runner):
    # '.' is VCF's missing value, legal in an Integer field: no read counts for this allele,
    # so it cannot show min_tumor_depth reads; it is counted, not an error
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pl.vcf").write_text(purecn_with_ad("."))
    settings = {"allow_unannotated": True, "filters": {"pass_only": False}}
    write_cohort(tmp_path, "pl.vcf", settings=settings)
    snakemake_runner(tmp_path, SAMPLE_JOB, "--configfile", "config.yaml")
    counts = read(tmp_path / SAMPLE_JOB).set_index("step")["n"]
    # all 11 records pass unchanged (see test_unannotated_vcf_runs_with_allow_unannotated);
    # the one without AD fails depth (sum of AD = 0, no FORMAT DP), the first check it meets
    assert counts[["records", "alleles", "filter", "depth", "passing"]].tolist() == [
        11,
        11,
        0,
        1,
        10,
    ]


def pvacseq_without(work: Path, *columns: str) -> None:
    table = pd.read_csv(DATA / "pvacseq.all_epitopes.tsv", sep="\t", dtype=str)
    table.drop(columns=list(columns)).to_csv(work / "data" / "pl.tsv", sep="\t", index=False)


def test_pvacseq_without_any_ic50_column(tmp_path, snakemake_runner, clean_failure):
    (tmp_path / "data").mkdir()
    shutil.copy(DATA / "mutect2_vep.vcf", tmp_path / "data" / "pl.vcf")
    # the reader takes Median MT IC50 Score, else Best MT IC50 Score (config/README.md)
    pvacseq_without(tmp_path, "Median MT IC50 Score", "Best MT IC50 Score")
    write_cohort(tmp_path, "pl.vcf", neoantigens="pl.tsv")
    result = run(tmp_path, snakemake_runner, "results/wes/neoantigens.tsv")
    clean_failure(
        result,
        "data/pl.tsv, row 1, column 'Median MT IC50 Score'",
        "pVACseq table lacks an IC50 column",
        workdir=tmp_path,
    )
    assert not (tmp_path / "results/wes/neoantigens.tsv").exists()
    assert not (tmp_path / "results/wes/tmb.tsv").exists()  # same job: nothing half-written


def test_pvacseq_without_median_uses_best_ic50(tmp_path, snakemake_runner):
    (tmp_path / "data").mkdir()
    shutil.copy(DATA / "mutect2_vep.vcf", tmp_path / "data" / "pl.vcf")
    pvacseq_without(tmp_path, "Median MT IC50 Score")
    write_cohort(tmp_path, "pl.vcf", neoantigens="pl.tsv")
    snakemake_runner(tmp_path, "results/wes/neoantigens.tsv", "--configfile", "config.yaml")
    neo = read(tmp_path / "results/wes/neoantigens.tsv").set_index("sample")
    # Best MT IC50 <= 500 nM, distinct (variant, peptide, HLA): KRAS KLVVVGACGV A*02:01 40.1
    # (twice, two transcripts), KRAS KLVVVGACG A*02:01 300, KRAS VVGACGVGK A*11:01 20, TP53
    # RPILQIITL B*07:02 100; not TP53 A*02:01 2500 or TTN NA: 4 neoantigens of 2 variants
    assert neo.loc["P1_PL", ["n_neoantigens", "n_neoantigen_variants"]].tolist() == [4, 2]


# --- HLA-loss tables and the signature matrix: checked before any job -----------------------

LOHHLA_EXAMPLE = DATA / "hla" / "lohhla_example.10.DNA.HLAlossPrediction_CI.xls"  # real output


def hla_cohort(work: Path, table_text: str, region: str = "") -> None:
    write_cohort(work, "pl.vcf")
    shutil.copy(DATA / "mutect2_vep.vcf", work / "data" / "pl.vcf")
    (work / "data" / "loh.xls").write_text(table_text)
    sheet = pd.read_csv(work / "samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    sheet["hla_loh"] = ["data/loh.xls", ""]
    sheet["hla_loh_id"] = [region, ""]
    sheet.to_csv(work / "samples.tsv", sep="\t", index=False)


def test_lohhla_text_copy_number_stops_before_any_job(tmp_path, snakemake_runner, clean_failure):
    # a decimal comma in LOHHLA's own example output (allele 1's BAFBin copy number)
    text = LOHHLA_EXAMPLE.read_text().replace("\t1.43642422339011\t", "\t1,43642422339011\t")
    hla_cohort(tmp_path, text)
    row = line_of(text, "example_tumor_sorted")
    fragments = (
        "loh.xls",
        f"row {row}",
        "column 'HLA_type1copyNum_withBAFBin'",
        "'1,43642422339011'",
    )
    clean_failure(run(tmp_path, snakemake_runner, "wes", dry=True), *fragments)


def test_lohhla_region_not_in_the_file(tmp_path, snakemake_runner, clean_failure):
    text = LOHHLA_EXAMPLE.read_text()
    second = text.splitlines()[1].replace("example_tumor_sorted", "other_region", 1)
    hla_cohort(tmp_path, text + second + "\n", region="P1_PL_T")
    fragments = ("loh.xls", "regions example_tumor_sorted, other_region; none is 'P1_PL_T'")
    clean_failure(run(tmp_path, snakemake_runner, "wes", dry=True), *fragments)


def test_unknown_signature_stops_before_any_job(tmp_path, snakemake_runner, clean_failure):
    write_cohort(
        tmp_path, "pl.vcf", settings={"fasta": "ref.fa", "signatures": {"fit": ["SBS4", "SBS999"]}}
    )
    shutil.copy(DATA / "mutect2_vep.vcf", tmp_path / "data" / "pl.vcf")
    (tmp_path / "ref.fa").write_text(">chr1\nACGT\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    fragments = ("COSMIC_v3.4_SBS_GRCh38_exome.tsv.gz", "no signature SBS999")
    clean_failure(run(tmp_path, snakemake_runner, "wes", dry=True), *fragments)
