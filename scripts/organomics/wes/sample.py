"""Per-sample job: read a sample's VCF(s) or MAF, apply the filters and targets, tidy the rows."""

from __future__ import annotations

import gzip
import logging
from collections import Counter
from itertools import islice

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from organomics.errors import InputError
from organomics.wes.annotation import is_nonsynonymous, maf_class
from organomics.wes.maf import check_maf, read_maf
from organomics.wes.targets import Targets, norm_chrom
from organomics.wes.vcf import ROW_FIELDS, Filters, check_vcf, read_vcf

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
# filter_counts rows; `unannotated`: passing alleles from a VCF without CSQ/ANN (TMB unknown)
STEPS = ["records", "alleles", *REASONS, "duplicate", "passing", "unannotated"]


def file_kind(path: str) -> str:
    """Tell a VCF from a MAF, by the name, else by the first line.

    Parameters
    ----------
    path
        A WES file of the sheet (optionally .gz/.bgz compressed).

    Returns
    -------
    str
        ``"vcf"`` (.vcf, .bcf or a ``##fileformat=VCF`` first line) or ``"maf"`` (.maf, .maf.txt
        or a first line starting with ``#version`` or ``Hugo_Symbol``).

    Raises
    ------
    InputError
        When the file cannot be read or is neither.
    """
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


CHUNK_ROWS = 50_000
CATEGORICAL = ("chrom", "ref", "alt", "filter", "gene", "consequence", "variant_class", "source")


def _tidy(rows: list[tuple], targets: Targets | None, counts: Counter) -> pd.DataFrame:
    """One chunk of passing VCF rows as a compact frame, off-target rows dropped."""
    table = pd.DataFrame.from_records(rows, columns=list(ROW_FIELDS))
    table["chrom"] = [norm_chrom(c) for c in table["chrom"]]
    if targets is not None and len(table):
        inside = targets.contains(table["chrom"].to_numpy(), table["pos"].to_numpy())
        counts["off_target"] += int((~inside).sum())
        table = table[inside]
    table["vaf"] = table["vaf"].astype(float).round(4)
    table["variant_class"] = [
        maf_class(c, r, a) if c else ""
        for c, r, a in zip(table["consequence"], table["ref"], table["alt"], strict=True)
    ]
    table["nonsynonymous"] = [is_nonsynonymous(c) for c in table["consequence"]]
    return _compact(table)


def _compact(table: pd.DataFrame) -> pd.DataFrame:
    # repeated strings as categories, unique ones in Arrow buffers: no per-row Python objects
    # survive a chunk, so memory follows the passing calls instead of growing with the file
    for column in CATEGORICAL:
        if column in table:
            table[column] = table[column].astype("category")
    if "hgvsp" in table:
        table["hgvsp"] = table["hgvsp"].astype("string[pyarrow]")
    return table


def _vcf_table(
    path: str, filters: Filters, wes_id: str, counts: Counter, threads: int, targets
) -> pd.DataFrame:
    records = read_vcf(path, filters, wes_id=wes_id, counts=counts, threads=threads)
    chunks = []
    while True:
        rows = list(islice(records, CHUNK_ROWS))  # passing alleles only, a chunk at a time
        if not rows and chunks:
            break
        chunks.append(_tidy(rows, targets, counts))
        if len(rows) < CHUNK_ROWS:
            break
    return _concat(chunks)


def _concat(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate chunks, merging the categories of categorical columns (no object copies)."""
    if len(chunks) == 1:
        return chunks[0]
    columns = {}
    for column in chunks[0].columns:
        parts = [c[column] for c in chunks]
        if isinstance(parts[0].dtype, pd.CategoricalDtype):
            columns[column] = union_categoricals(parts)
        else:
            columns[column] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(columns)


def check_inputs(paths: list[str], wes_id: str = "", require_annotation: bool = False) -> None:
    """Before any job: check each VCF's header and each MAF's columns.

    Parameters
    ----------
    paths
        The sample's VCF/MAF files.
    wes_id
        The sheet's tumour column or MAF barcode ("" = default).
    require_annotation
        A VCF without a CSQ/ANN header line is an error (the workflow's default: TMB needs
        consequences).

    Raises
    ------
    InputError
        Naming the file, the header line and the field: tumour column, CSQ/ANN fields, read
        counts, complete bgzip, MAF columns.
    """
    for path in paths:
        if file_kind(path) == "vcf":
            check_vcf(path, wes_id, require_annotation)
        else:
            check_maf(path)


def sample_variants(
    sample: str,
    paths: list[str],
    filters: Filters | None = None,
    wes_id: str = "",
    targets: Targets | None = None,
    threads: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Passing variants and filter counts of one sample.

    Several files (e.g. Strelka2 SNV + indel VCFs) are concatenated; an allele in two of them
    counts once.

    Parameters
    ----------
    sample
        The sample's id (the tables' sample column).
    paths
        The sample's VCF and/or MAF files (`file_kind` decides how each is read).
    filters
        Depth, alt-read, VAF and FILTER thresholds; the defaults of `vcf.Filters` when None.
    wes_id
        Picks the VCF tumour column or the MAF barcode; "" for the VCF's own choice and, in a MAF,
        the sample id.
    targets
        Capture targets; variants outside them are dropped (counted as off_target). None keeps
        all.
    threads
        More than 1 adds htslib decompression threads for the VCFs.

    Returns
    -------
    variants : pandas.DataFrame
        COLUMNS: one row per passing allele, chromosome without ``chr``, nonsynonymous as bool,
        source the file it came from.
    counts : pandas.DataFrame
        sample, step, n: one row per STEPS entry (records read, alleles, removed per reason,
        duplicates, passing, and passing alleles from a VCF without CSQ/ANN, whose TMB is unknown).

    Raises
    ------
    InputError
        For a file that cannot be read or that `read_vcf` / `read_maf` rejects.
    """
    filters = filters or Filters()
    counts: Counter = Counter()
    parts = []
    for path in paths:
        kind = file_kind(path)
        if kind == "vcf":
            part = _vcf_table(path, filters, wes_id, counts, threads, targets)
            if not check_vcf(path, wes_id):
                # without CSQ/ANN no variant can be non-synonymous: the cohort leaves TMB empty
                counts["unannotated"] += len(part)
        else:
            part = read_maf(path, wes_id or sample, filters, counts)
            part["chrom"] = [norm_chrom(str(c)) for c in part["chrom"]]
            if targets is not None and len(part):
                inside = targets.contains(part["chrom"].to_numpy(), part["pos"].to_numpy())
                counts["off_target"] += int((~inside).sum())
                part = part[inside]
        parts.append(part.assign(source=str(path)))
    if not parts:
        table = pd.DataFrame(columns=COLUMNS)
    elif len(parts) == 1:
        table = parts[0]
    else:
        table = _concat([_compact(p) for p in parts])
    table["pos"] = table["pos"].astype(np.int64)
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
            "step": STEPS,
            "n": [counts[k] for k in STEPS],
        }
    )
    log.info("%s: %s", sample, dict(zip(summary["step"], summary["n"], strict=True)))
    return table, summary
