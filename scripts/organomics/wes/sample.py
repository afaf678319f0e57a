"""Per-sample job: read a sample's VCF(s) or MAF, apply the filters and targets, tidy the rows."""

from __future__ import annotations

import gzip
import logging
from collections import Counter

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.wes.annotation import is_nonsynonymous, maf_class
from organomics.wes.maf import read_maf
from organomics.wes.targets import Targets, norm_chrom
from organomics.wes.vcf import ROW_FIELDS, Filters, read_vcf

log = logging.getLogger(__name__)

COLUMNS = [
    "sample",
    "chrom",
    "pos",
    "ref",
    "alt",
    "filter",
    "depth",
    "alt_count",
    "vaf",
    "gene",
    "consequence",
    "variant_class",
    "hgvsp",
    "nonsynonymous",
    "source",
]
REASONS = ("filter", "depth", "alt_reads", "vaf", "symbolic", "off_target")


def file_kind(path: str) -> str:
    """'vcf' or 'maf', from the name, else from the first line."""
    name = str(path).lower().removesuffix(".gz").removesuffix(".bgz")
    if name.endswith((".vcf", ".bcf")):
        return "vcf"
    if name.endswith((".maf", ".maf.txt")):
        return "maf"
    opener = gzip.open if str(path).lower().endswith((".gz", ".bgz")) else open
    try:
        with opener(path, "rt") as handle:
            first = handle.readline()
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise InputError(path, f"cannot read: {err}") from None
    if first.startswith("##fileformat=VCF"):
        return "vcf"
    if first.startswith(("#version", "Hugo_Symbol")):
        return "maf"
    raise InputError(path, "neither a VCF (##fileformat=VCF) nor a MAF (Hugo_Symbol ...)")


def _vcf_table(
    path: str, filters: Filters, wes_id: str, counts: Counter, threads: int
) -> pd.DataFrame:
    # only passing alleles are kept: memory follows the passing calls, not the file
    rows = list(read_vcf(path, filters, wes_id=wes_id, counts=counts, threads=threads))
    table = pd.DataFrame.from_records(rows, columns=list(ROW_FIELDS))
    table["vaf"] = table["vaf"].astype(float).round(4)
    table["variant_class"] = [
        maf_class(c, r, a) if c else ""
        for c, r, a in zip(table["consequence"], table["ref"], table["alt"], strict=True)
    ]
    table["nonsynonymous"] = [is_nonsynonymous(c) for c in table["consequence"]]
    return table


def sample_variants(
    sample: str,
    paths: list[str],
    filters: Filters | None = None,
    wes_id: str = "",
    targets: Targets | None = None,
    threads: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(passing variants, filter counts) for one sample; several files (e.g. Strelka2 SNV + indel
    VCFs) are concatenated. `wes_id` picks the VCF tumour column or the MAF barcode (MAF default:
    the sample id). `threads` > 1 adds htslib decompression threads."""
    filters = filters or Filters()
    counts: Counter = Counter()
    parts = []
    for path in paths:
        kind = file_kind(path)
        if kind == "vcf":
            part = _vcf_table(path, filters, wes_id, counts, threads)
        else:
            part = read_maf(path, wes_id or sample, filters, counts)
        part["source"] = str(path)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    table["chrom"] = [norm_chrom(str(c)) for c in table["chrom"]]
    table["pos"] = table["pos"].astype(np.int64)
    if targets is not None and len(table):
        inside = targets.contains(table["chrom"].to_numpy(), table["pos"].to_numpy())
        counts["off_target"] += int((~inside).sum())
        table = table[inside]
    # the same allele from two files (e.g. overlapping SNV/indel calls) counts once
    before = len(table)
    table = table.drop_duplicates(["chrom", "pos", "ref", "alt"])
    counts["duplicate"] += before - len(table)
    table.insert(0, "sample", sample)
    table = table[COLUMNS].reset_index(drop=True)
    table["nonsynonymous"] = table["nonsynonymous"].astype(bool)
    counts["passing"] = len(table)
    summary = pd.DataFrame(
        {
            "sample": sample,
            "step": ["records", "alleles", *REASONS, "duplicate", "passing"],
            "n": [counts[k] for k in ("records", "alleles", *REASONS, "duplicate", "passing")],
        }
    )
    log.info("%s: %s", sample, dict(zip(summary["step"], summary["n"], strict=True)))
    return table, summary
