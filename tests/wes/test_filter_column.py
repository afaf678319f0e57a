"""FILTER-column prefilter: the same rows and counts as htslib parsing every record, real files."""

from __future__ import annotations

import gzip
import io
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from organomics.errors import InputError
from organomics.wes import vcf as vcf_module
from organomics.wes.filter_column import copy_pass_records, mostly_failing
from organomics.wes.vcf import Filters, read_vcf

DATA = Path(__file__).parent / "data"
MUTECT = str(DATA / "mutect2_vep.vcf")
# (file, tumour column): real PureCN 2.4.0 files (PROVENANCE.md) and the hand-written Mutect2+VEP
FILES = [
    (MUTECT, ""),
    (str(DATA / "purecn_issue62.vcf.gz"), "example_pat.tumour"),
    (str(DATA / "purecn_example_mutect2.vcf.gz"), ""),
    (str(DATA / "purecn_issue184.vcf.gz"), "TC_098_1.2"),
]


@pytest.fixture
def prefilter(monkeypatch):
    """Prefilter every file (the reader otherwise decides by its first records)."""
    monkeypatch.setattr(vcf_module, "mostly_failing", lambda _: True)


def read(path, wes_id, filters=None):
    counts = Counter()
    rows = list(read_vcf(path, filters, wes_id=wes_id, counts=counts))
    return rows, dict(counts)


@pytest.mark.parametrize(("path", "wes_id"), FILES)
def test_same_rows_and_counts_as_parsing_every_record(path, wes_id, monkeypatch):
    monkeypatch.setattr(vcf_module, "mostly_failing", lambda _: True)
    prefiltered = read(path, wes_id)
    monkeypatch.setattr(vcf_module, "mostly_failing", lambda _: False)  # htslib reads all
    assert prefiltered == read(path, wes_id)


def test_counts_of_the_real_issue62_file():
    # zcat | grep -v '^#' | awk: 1,000 records, 1,002 ALT alleles, 917 LowQual and 83 '.'
    out = io.BytesIO()
    found = copy_pass_records(str(DATA / "purecn_issue62.vcf.gz"), out)
    assert (found.n_records, found.n_failed_alleles, found.n_filter_dot) == (1000, 1002, 83)
    assert list(found.line_numbers) == []
    assert out.getvalue().count(b"\n") == 55  # the header only: grep -n '^#CHROM' gives 55


def test_pass_records_copied_with_their_file_lines():
    out = io.BytesIO()
    found = copy_pass_records(str(DATA / "purecn_example_vcf.vcf.gz"), out)
    with gzip.open(DATA / "purecn_example_vcf.vcf.gz", "rb") as handle:
        lines = handle.readlines()
    passing = [n for n, line in enumerate(lines, 1) if line.split(b"\t")[6:7] == [b"PASS"]]
    assert len(passing) == 9  # cut -f7 | sort | uniq -c: 9 PASS, 2,322 REJECT
    assert list(found.line_numbers) == passing
    header = [line for line in lines if line.startswith(b"#")]
    assert out.getvalue() == b"".join(header + [lines[n - 1] for n in passing])
    assert (found.n_records, found.n_failed_alleles) == (2331, 2322)


def test_prefilter_only_files_that_mostly_fail_filter(tmp_path):
    assert mostly_failing(str(DATA / "purecn_issue62.vcf.gz"))  # LowQual and '.'
    assert mostly_failing(str(DATA / "purecn_example_vcf.vcf.gz"))  # 2,322 of 2,331 REJECT
    assert not mostly_failing(str(DATA / "purecn_issue184.vcf.gz"))  # all PASS
    assert not mostly_failing(MUTECT)  # 10 of 12 PASS
    empty = tmp_path / "empty.vcf"
    empty.write_text("".join(line for line in open(MUTECT) if line.startswith("#")))
    assert not mostly_failing(str(empty))


def test_failing_records_are_counted_not_parsed():
    # the excerpt's 3 records are REJECT and carry float DP in an Integer field: never parsed
    # with pass_only, so no error, and all three are counted as failing FILTER
    path = str(DATA / "purecn_mutect1_excerpt.vcf.gz")
    rows, counts = read(path, "LIB-02240e4")
    assert rows == []
    assert (counts["records"], counts["filter"]) == (3, 3)
    with pytest.raises(InputError, match="row 42"):  # read in full, the first record fails
        read(path, "LIB-02240e4", Filters(pass_only=False))


def test_malformed_pass_record_is_named_by_its_file_line():
    # real MuTect 1 file: its first PASS record is file line 82 (awk '$7=="PASS"{print NR}')
    path = DATA / "purecn_example_vcf.vcf.gz"
    with gzip.open(path, "rt") as handle:
        first_pass = next(n for n, line in enumerate(handle, 1) if "\tPASS\t" in line)
    assert first_pass == 82
    with pytest.raises(InputError) as err:
        read(str(path), "LIB-02240e4")
    message = str(err.value)
    assert f"row {first_pass}," in message
    assert "FORMAT/DP" in message and "chr1:16893675" in message


def test_short_record_names_its_line(tmp_path, prefilter):
    lines = Path(MUTECT).read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    lines[first + 2] = "chr1\t300\t.\tC\n"
    path = tmp_path / "short.vcf"
    path.write_text("".join(lines))
    with pytest.raises(InputError, match=rf"row {first + 3}\b.*4 tab-separated fields"):
        read(str(path), "")


def test_blank_lines_are_not_records(tmp_path, prefilter):
    # htslib reads a blank line as a record with an empty contig; the prefilter skips it
    path = tmp_path / "blank.vcf"
    path.write_text(Path(MUTECT).read_text() + "\n")
    assert read(str(path), "")[1]["records"] == 12


def test_bcf_is_read_by_htslib(tmp_path):
    import pysam

    bcf = tmp_path / "calls.bcf"
    with (
        pysam.VariantFile(MUTECT) as source,
        pysam.VariantFile(str(bcf), "wb", header=source.header) as out,
    ):
        for record in source:
            out.write(record)
    assert not mostly_failing(str(bcf))


def test_scratch_file_is_removed_also_when_reading_stops_early(tmp_path, monkeypatch, prefilter):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    read(MUTECT, "")
    assert list(tmp_path.iterdir()) == []
    records = read_vcf(MUTECT)
    next(records)
    assert len(list(tmp_path.glob("organomics-*.vcf"))) == 1
    records.close()
    assert list(tmp_path.iterdir()) == []
