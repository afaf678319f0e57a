"""Demo VCFs past a full exome's calls are padded with filtered calls that change no result."""

from __future__ import annotations

import pysam

from organomics.demo import wes as demo_wes
from organomics.demo.cohort import DemoCohort
from organomics.wes.sample import sample_variants
from organomics.wes.targets import read_targets
from organomics.wes.vcf import Filters

SIZES = dict(seed=3, n_patients=3, n_pairs=1, n_sc_pairs=1)
# from 600 records per VCF the capture is a full 45 Mb exome; 20,000 then asks for padding
FULL_EXOME, PADDED = 600, 20_000


def records(path):
    with pysam.VariantFile(str(path)) as vcf:
        return [(r.contig, r.pos, r.ref, r.alts, tuple(r.filter)) for r in vcf]


def test_padding_reaches_the_record_count_and_keeps_every_passing_call(tmp_path):
    plain, padded = tmp_path / "plain", tmp_path / "padded"
    demo_wes.write(plain, "plain", DemoCohort(n_variants=FULL_EXOME, **SIZES))
    demo_wes.write(padded, "padded", DemoCohort(n_variants=PADDED, **SIZES))
    vcf_plain, vcf_padded = plain / "wes" / "P01_PL.vcf.gz", padded / "wes" / "P01_PL.vcf.gz"
    before, after = records(vcf_plain), records(vcf_padded)
    assert len(before) < len(after) == PADDED
    # the padding is filtered, sorted into place and never lands on a real call's position
    added = [r for r in after if r not in before]
    assert len(added) == PADDED - len(before)
    assert all(r[4] and r[4] != ("PASS",) for r in added)
    order = [(int(r[0].removeprefix("chr")), r[1]) for r in after]
    assert order == sorted(order) and len(set(order)) == len(order)
    assert [r for r in after if r in before] == before
    # and the per-sample reader's table is identical with or without it
    targets = read_targets(str(plain / "wes" / "capture_targets.bed.gz"))
    table_plain, _ = sample_variants("s", [str(vcf_plain)], Filters(), "", targets)
    table_padded, summary = sample_variants("s", [str(vcf_padded)], Filters(), "", targets)
    assert table_plain.drop(columns="source").equals(table_padded.drop(columns="source"))
    assert dict(zip(summary["step"], summary["n"], strict=True))["records"] == PADDED
