"""WES reader tests: tiny hand-written VCFs (Mutect2+VEP, Strelka2, SnpEff), real PureCN files."""

from __future__ import annotations

import gzip
import shutil
from collections import Counter
from pathlib import Path

import pysam
import pytest

from organomics.errors import InputError
from organomics.wes.annotation import CsqPicker, maf_class, parse_format, vep_allele
from organomics.wes.sample import sample_variants
from organomics.wes.targets import read_targets
from organomics.wes.vcf import Filters, choose_tumour, read_vcf

DATA = Path(__file__).parent / "data"
MUTECT = str(DATA / "mutect2_vep.vcf")


def keyed(table):
    return {(r.chrom, r.pos, r.ref, r.alt): r for r in table.itertuples()}


def test_mutect2_default_filters_hand_counted():
    table, summary = sample_variants("S", [MUTECT])
    steps = dict(zip(summary["step"], summary["n"], strict=True))
    # 12 records, two multi-allelic -> 14 alleles (see data/mutect2_vep.vcf)
    assert steps["records"] == 12
    assert steps["alleles"] == 14
    assert steps["filter"] == 2  # weak_evidence at 200, '.' at 1100
    assert steps["depth"] == 1  # DP 8 at 300
    assert steps["alt_reads"] == 2  # 2 reads at 400, second ALT (T) at 600
    assert steps["vaf"] == 1  # AF 0.03 at 500
    assert steps["symbolic"] == 1  # '*' at 1300
    assert steps["passing"] == 7
    rows = keyed(table)
    assert set(rows) == {
        ("1", 100, "G", "T"),
        ("1", 600, "A", "C"),
        ("1", 700, "AT", "A"),
        ("1", 800, "C", "T"),
        ("1", 900, "G", "C"),
        ("1", 1300, "G", "A"),
        ("2", 1000, "T", "G"),
    }
    assert int(table["nonsynonymous"].sum()) == 6  # all but the canonical synonymous at 800


def test_csq_rules_pick_then_canonical_then_most_severe():
    rows = keyed(sample_variants("S", [MUTECT])[0])
    # PICK=1 beats the canonical (synonymous) transcript for allele C of the multi-allelic record
    assert rows[("1", 600, "A", "C")].consequence == "stop_gained"
    assert rows[("1", 600, "A", "C")].variant_class == "Nonsense_Mutation"
    # header has PICK but no entry is picked: canonical synonymous wins over non-canonical missense
    assert rows[("1", 800, "C", "T")].consequence == "synonymous_variant"
    assert not rows[("1", 800, "C", "T")].nonsynonymous
    # neither PICK nor CANONICAL set: most severe entry
    assert rows[("1", 900, "G", "C")].consequence == "splice_donor_variant&intron_variant"
    assert rows[("1", 900, "G", "C")].variant_class == "Splice_Site"
    # deletion: VEP allele '-' matched
    assert rows[("1", 700, "AT", "A")].gene == "STK11"
    assert rows[("1", 700, "AT", "A")].variant_class == "Frame_Shift_Del"
    assert rows[("1", 100, "G", "T")].hgvsp == "p.Gly12Cys"


def test_csq_most_severe_without_pick_or_canonical_fields():
    picker = CsqPicker(["Allele", "Consequence", "SYMBOL"])
    csq = "T|intron_variant|A,T|synonymous_variant|A,T|missense_variant&splice_region_variant|A"
    assert picker.pick(csq, "C", ["T"], 0)[1] == "missense_variant&splice_region_variant"
    picker = CsqPicker(["Allele", "Consequence", "SYMBOL", "ALLELE_NUM"])
    csq = "A|stop_gained|X|1,G|missense_variant|X|2"
    assert picker.pick(csq, "C", ["A", "G"], 1) == ("X", "missense_variant", "")


def test_vep_allele_trimming():
    assert vep_allele("AT", ["A"], "A") == "-"
    assert vep_allele("A", ["AT"], "AT") == "T"
    assert vep_allele("A", ["G", "AT"], "AT") == "AT"  # first bases differ: no trimming
    assert vep_allele("C", ["T"], "T") == "T"
    assert maf_class("frameshift_variant", "A", "AT") == "Frame_Shift_Ins"
    assert maf_class("3_prime_UTR_variant", "A", "T") == "3'UTR"


def test_each_filter_threshold_moves_counts():
    base = len(sample_variants("S", [MUTECT])[0])
    assert len(sample_variants("S", [MUTECT], Filters(pass_only=False))[0]) == base + 2
    assert len(sample_variants("S", [MUTECT], Filters(min_tumor_depth=5))[0]) == base + 1
    # min_tumor_alt 2 admits 400 (AF .02 then fails VAF) and T at 600 (AF .048 fails VAF)
    assert len(sample_variants("S", [MUTECT], Filters(min_tumor_alt=2))[0]) == base
    # ... and with min_vaf 0.01 those two plus 500 (6 reads, AF .03) pass: 7 + 3
    assert len(sample_variants("S", [MUTECT], Filters(min_tumor_alt=2, min_vaf=0.01))[0]) == 10
    assert len(sample_variants("S", [MUTECT], Filters(min_vaf=0.25))[0]) == 5  # AF>=.25 only


def test_targets_merge_and_on_target_with_chr_prefixes():
    targets = read_targets(str(DATA / "targets.bed"))
    # 50-620 (three merged), 690-700, 799-800, 1000-1400 -> 570 + 10 + 1 + 400
    assert targets.size_bp == 981
    table, summary = sample_variants("S", [MUTECT], targets=targets)
    steps = dict(zip(summary["step"], summary["n"], strict=True))
    assert steps["off_target"] == 2  # 1:900 (between targets) and chr2:1000 (no chr2 target)
    assert len(table) == 5
    assert int(table["nonsynonymous"].sum()) == 4


def test_targets_real_grch38_exome_chr21(tmp_path):
    # first 400 chr21 intervals of SigProfilerMatrixGenerator's GRCh38_exome.interval_list
    path = DATA / "GRCh38_exome_chr21_head.bed.gz"
    total = 0
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if not line.startswith(("@", "track")):
                _, start, end = line.split()[:3]
                total += int(end) - int(start)
    # the kit's intervals do not overlap, so merging keeps the plain sum
    assert read_targets(str(path)).size_bp == total


def test_strelka2_snv_and_indel_files_for_one_sample():
    paths = [str(DATA / "strelka2.somatic.snvs.vcf"), str(DATA / "strelka2.somatic.indels.vcf")]
    table, summary = sample_variants("S", paths)
    steps = dict(zip(summary["step"], summary["n"], strict=True))
    assert (steps["filter"], steps["alt_reads"], steps["vaf"]) == (1, 2, 1)
    rows = keyed(table)
    assert set(rows) == {("1", 100, "G", "T"), ("1", 700, "AT", "A")}
    snv = rows[("1", 100, "G", "T")]
    assert (snv.alt_count, snv.depth, snv.vaf) == (15, 60, 0.25)  # TU / (TU + GU), tier 1
    indel = rows[("1", 700, "AT", "A")]
    assert indel.alt_count == 12 and indel.vaf == pytest.approx(12 / 42, abs=1e-4)  # TIR/(TIR+TAR)


def test_snpeff_first_entry_per_allele_and_only_column_is_tumour():
    rows = keyed(sample_variants("S", [str(DATA / "snpeff_ann.vcf")])[0])
    assert rows[("1", 100, "G", "T")].consequence == "missense_variant"
    assert rows[("1", 100, "G", "C")].consequence == "synonymous_variant"
    assert rows[("1", 200, "CAAG", "C")].nonsynonymous  # disruptive_inframe_deletion
    assert rows[("1", 200, "CAAG", "C")].variant_class == "In_Frame_Del"
    assert not rows[("1", 300, "A", "G")].nonsynonymous


def test_real_purecn_mutect2_file():
    path = str(DATA / "purecn_example_mutect2.vcf.gz")
    # unfiltered Mutect2 calls: every FILTER is '.', so PASS-only keeps nothing
    assert sample_variants("S", [path])[0].empty
    table = sample_variants("S", [path], Filters(pass_only=False, min_vaf=0.1))[0]
    # AF of the 11 records: 0.072 and 0.074 are below 0.1, the other nine pass (zcat | cut)
    assert len(table) == 9
    assert table.iloc[0][["chrom", "pos", "alt_count", "depth"]].tolist() == ["1", 182597, 16, 126]


def test_tumour_column_choice():
    header = "##tumor_sample=T1\n##normal_sample=N1\n"
    assert choose_tumour("x.vcf", ["N1", "T1"], header) == "T1"
    assert choose_tumour("x.vcf", ["N1", "T1", "T2"], header, wes_id="T2") == "T2"
    assert choose_tumour("x.vcf", ["NORMAL", "TUMOR"], "") == "TUMOR"
    assert choose_tumour("x.vcf", ["A", "B"], "", wes_id="B") == "B"
    with pytest.raises(InputError, match="cannot tell which column"):
        choose_tumour("x.vcf", ["A", "B"], "")
    with pytest.raises(InputError, match="wes_id 'C' is not a sample column"):
        choose_tumour("x.vcf", ["A", "B"], "", wes_id="C")


def test_error_vcf_without_sample_columns(tmp_path):
    lines = Path(MUTECT).read_text().splitlines()
    sites_only = [line for line in lines if line.startswith("##")]
    sites_only.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]))
    path = tmp_path / "sites.vcf"
    path.write_text("\n".join(sites_only) + "\nchr1\t100\t.\tG\tT\t.\tPASS\tDP=1\n")
    with pytest.raises(InputError, match="no FORMAT and sample columns") as err:
        list(read_vcf(str(path)))
    assert str(path) in str(err.value)


def test_error_csq_header_without_consequence(tmp_path):
    text = Path(MUTECT).read_text().replace("Allele|Consequence|IMPACT", "Allele|Effect|IMPACT")
    path = tmp_path / "bad_csq.vcf"
    path.write_text(text)
    with pytest.raises(InputError, match="lacks a 'Consequence' field") as err:
        sample_variants("S", [str(path)])
    assert str(path) in str(err.value)


def test_error_truncated_bgzip(tmp_path):
    good = tmp_path / "good.vcf.gz"
    pysam.tabix_compress(MUTECT, str(good))
    data = good.read_bytes()
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(data[:-28])  # drop the BGZF end-of-file block only
    with pytest.raises(InputError, match="truncated bgzip") as err:
        sample_variants("S", [str(cut)])
    assert str(cut) in str(err.value)
    cut.write_bytes(data[: len(data) // 2])  # cut inside a block
    with pytest.raises(InputError, match=str(cut)):
        sample_variants("S", [str(cut)])


def test_error_names_record_line_for_malformed_record(tmp_path):
    # PureCN's MuTect1 example writes float DP values into an Integer FORMAT field; its 3 records
    # are REJECT, so they are parsed only with pass_only off (see test_filter_column.py)
    path = tmp_path / "mutect1.vcf.gz"
    shutil.copy(DATA / "purecn_mutect1_excerpt.vcf.gz", path)
    with pytest.raises(InputError) as err:
        sample_variants("S", [str(path)], Filters(pass_only=False), wes_id="LIB-02240e4")
    assert "row 42" in str(err.value)  # 41 header lines, the first record fails
    assert str(path) in str(err.value)


def test_reader_streams():
    counts = Counter()
    gen = read_vcf(MUTECT, counts=counts)
    first = next(gen)  # a generator: records are read lazily
    assert first[:4] == ("chr1", 100, "G", "T")


def test_parse_format_of_vep_and_snpeff_headers():
    assert (
        parse_format("Consequence annotations from Ensembl VEP. Format: Allele|Consequence")[1]
        == "Consequence"
    )
    ann = "Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name ' "
    assert parse_format(ann) == ["Allele", "Annotation", "Annotation_Impact", "Gene_Name"]


def test_picard_interval_list_is_one_based(tmp_path):
    path = tmp_path / "targets.interval_list"
    path.write_text(
        "@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:248956422\n"
        "chr1\t101\t200\t+\tt1\nchr1\t150\t300\t+\tt2\nchr1\t400\t400\t+\tt3\n"
    )
    targets = read_targets(str(path))
    assert targets.size_bp == 200 + 1  # 101-300 merged, plus the single base 400
    inside = targets.contains(["1"] * 6, [100, 101, 300, 301, 400, 401]).tolist()
    assert inside == [False, True, True, False, True, False]


def test_filter_column_as_written_pass_dot_and_several(tmp_path):
    # FILTER as the file writes it (cut -f2,7 of data/mutect2_vep.vcf: weak_evidence at 200,
    # '.' at 1100, PASS elsewhere), and two filters joined by ';' as in the file; read with
    # pass_only off so that every record with reads reaches the table
    text = (
        Path(MUTECT)
        .read_text()
        .replace(
            "##FILTER=<ID=weak_evidence,",
            '##FILTER=<ID=clustered_events,Description="Clustered events">\n'
            "##FILTER=<ID=weak_evidence,",
        )
    )
    lines = text.splitlines(keepends=True)
    at_100 = next(i for i, line in enumerate(lines) if line.startswith("chr1\t100\t"))
    fields = lines[at_100].split("\t")
    fields[6] = "weak_evidence;clustered_events"
    lines[at_100] = "\t".join(fields)
    path = tmp_path / "filters.vcf"
    path.write_text("".join(lines))
    no_limits = Filters(pass_only=False, min_tumor_depth=0, min_tumor_alt=0, min_vaf=0.0)
    filters = {(row[0], row[1]): row[4] for row in read_vcf(str(path), no_limits)}
    assert filters[("chr1", 100)] == "weak_evidence;clustered_events"
    assert filters[("chr1", 200)] == "weak_evidence"
    assert filters[("chr1", 1100)] == "."
    assert filters[("chr1", 300)] == "PASS"
