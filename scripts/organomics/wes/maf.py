"""Streaming MAF reader (GDC / vcf2maf columns): one sample's passing variants from a cohort MAF."""

from __future__ import annotations

import gzip
import logging
from collections import Counter
from collections.abc import Iterator

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.wes.annotation import NONSYNONYMOUS_MAF
from organomics.wes.vcf import Filters

log = logging.getLogger(__name__)

REQUIRED = (
    "Hugo_Symbol",
    "Chromosome",
    "Start_Position",
    "Reference_Allele",
    "Tumor_Seq_Allele2",
    "Variant_Classification",
    "Tumor_Sample_Barcode",
    "t_depth",
    "t_ref_count",
    "t_alt_count",
)
OPTIONAL = ("FILTER", "HGVSp_Short")
CHUNK_ROWS = 200_000


def _header(path: str) -> tuple[int, list[str]]:
    """Number of '#' comment lines before the column header, and the header's columns."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rt") as handle:
            skipped = 0
            for line in handle:
                if line.startswith("#"):
                    skipped += 1
                    continue
                return skipped, [c.strip() for c in line.rstrip("\n").split("\t")]
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise InputError(path, f"cannot read MAF: {err}") from None
    raise InputError(path, "empty MAF (no column header)")


def maf_barcodes(path: str) -> list[str]:
    """Distinct Tumor_Sample_Barcode values of a MAF, to list in an error message.

    Reads the whole file in chunks, one column only, so that a large multi-sample MAF is cheap.

    Parameters
    ----------
    path
        The MAF (optionally gzipped; '#' comment lines before the header are skipped).

    Returns
    -------
    list of str
        The barcodes in the order of first appearance.

    Raises
    ------
    InputError
        When the file cannot be read or parsed.
    """
    seen: dict[str, None] = {}
    for chunk in _chunks(path, ["Tumor_Sample_Barcode"]):
        seen.update(dict.fromkeys(chunk["Tumor_Sample_Barcode"].tolist()))
    return list(seen)


def _chunks(path: str, usecols: list[str]) -> Iterator[pd.DataFrame]:
    skipped, _ = _header(path)
    try:
        reader = pd.read_csv(
            path,
            sep="\t",
            skiprows=skipped,
            usecols=usecols,
            dtype=str,
            keep_default_na=False,
            chunksize=CHUNK_ROWS,
            low_memory=False,
        )
        first_line = skipped + 2  # file line of the first data row
        for chunk in reader:
            chunk.index = np.arange(first_line, first_line + len(chunk))
            first_line += len(chunk)
            yield chunk
    except (EOFError, OSError, gzip.BadGzipFile) as err:
        raise InputError(path, f"cannot read MAF ({err}); truncated file?") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(path, f"not a valid MAF: {err}") from None


def _integers(chunk: pd.DataFrame, column: str, path: str) -> np.ndarray:
    values = pd.to_numeric(chunk[column].replace({"": np.nan, ".": np.nan, "NA": np.nan}), "coerce")
    bad = values.isna() & ~chunk[column].isin(["", ".", "NA"])
    if bad.any():
        line = int(chunk.index[bad.to_numpy()][0])
        raise InputError(
            path, f"expected a number, got {chunk.loc[line, column]!r}", row=line, column=column
        )
    return values.to_numpy(dtype=float)


def check_maf(path: str) -> None:
    """Header-only check that the MAF has every required column, before any job runs.

    Parameters
    ----------
    path
        The MAF (optionally gzipped; '#' comment lines before the header are skipped).

    Raises
    ------
    InputError
        Naming the file, the column header's line (after any '#' comment lines) and the first
        missing column of REQUIRED; also for an unreadable or empty file.
    """
    skipped, columns = _header(path)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(
            path,
            f"MAF lacks required column(s) {', '.join(missing)}; required: {', '.join(REQUIRED)}",
            row=skipped + 1,
            column=missing[0],
        )


def read_maf(
    path: str, barcode: str, filters: Filters | None = None, counts: Counter | None = None
) -> pd.DataFrame:
    """Passing variants of one Tumor_Sample_Barcode, with the per-sample table's columns.

    FILTER (when the column exists) must be PASS or '.'; depth = t_depth (else ref + alt counts),
    VAF = t_alt_count / depth. The file is read in chunks so that a cohort MAF need not fit in
    memory for each sample's job.

    Parameters
    ----------
    path
        The MAF (optionally gzipped), with the REQUIRED columns.
    barcode
        The sample's Tumor_Sample_Barcode (the sheet's wes_id).
    filters
        Depth, alt-read, VAF and FILTER thresholds; the defaults of `vcf.Filters` when None.
    counts
        Updated in place with the rows read (``records``, ``alleles``) and the rows removed by
        each filter (``filter``, ``depth``, ``alt_reads``, ``vaf``, each counting rows not already
        removed by an earlier one); a new Counter when None.

    Returns
    -------
    pandas.DataFrame
        chrom, pos, ref, alt, filter, depth, alt_count, vaf (4 decimals), gene, consequence,
        hgvsp, variant_class (MAF Variant_Classification) and nonsynonymous.

    Raises
    ------
    InputError
        For a missing required column, an unreadable file, a non-numeric count or position
        (naming its line), or no row with `barcode` (listing the barcodes the MAF has).
    """
    counts = Counter() if counts is None else counts
    filters = filters or Filters()
    check_maf(path)
    _, columns = _header(path)
    usecols = list(REQUIRED) + [c for c in OPTIONAL if c in columns]
    kept = []
    found = False
    for chunk in _chunks(path, usecols):
        chunk = chunk[chunk["Tumor_Sample_Barcode"] == barcode]
        if chunk.empty:
            continue
        found = True
        n = len(chunk)
        counts["records"] += n
        counts["alleles"] += n
        depth = _integers(chunk, "t_depth", path)
        ref_count = _integers(chunk, "t_ref_count", path)
        alt = _integers(chunk, "t_alt_count", path)
        depth = np.where(np.isnan(depth), ref_count + alt, depth)
        with np.errstate(invalid="ignore", divide="ignore"):
            vaf = np.where(depth > 0, alt / depth, np.nan)
        filt = chunk["FILTER"].to_numpy() if "FILTER" in chunk else np.full(n, ".", dtype=object)
        filt = np.where(filt == "", ".", filt)
        ok = np.ones(n, dtype=bool)
        for reason, fails in (
            ("filter", ~np.isin(filt, ["PASS", "."]) if filters.pass_only else np.zeros(n, bool)),
            ("depth", ~(depth >= filters.min_tumor_depth)),
            ("alt_reads", ~(alt >= filters.min_tumor_alt)),
            ("vaf", ~(vaf >= filters.min_vaf)),
        ):
            counts[reason] += int((ok & fails).sum())
            ok &= ~fails
        sel = chunk[ok]
        kept.append(
            pd.DataFrame(
                {
                    "chrom": sel["Chromosome"].to_numpy(),
                    "pos": _integers(sel, "Start_Position", path).astype(np.int64),
                    "ref": sel["Reference_Allele"].to_numpy(),
                    "alt": sel["Tumor_Seq_Allele2"].to_numpy(),
                    "filter": filt[ok],
                    "depth": depth[ok].astype(np.int64),
                    "alt_count": alt[ok].astype(np.int64),
                    "vaf": np.round(vaf[ok], 4),
                    "gene": sel["Hugo_Symbol"].to_numpy(),
                    "consequence": sel["Variant_Classification"].to_numpy(),
                    "hgvsp": sel["HGVSp_Short"].to_numpy() if "HGVSp_Short" in sel else "",
                    "variant_class": sel["Variant_Classification"].to_numpy(),
                }
            )
        )
    if not found:
        raise InputError(
            path,
            f"no rows with Tumor_Sample_Barcode {barcode!r}; set wes_id to one of: "
            f"{', '.join(maf_barcodes(path)[:20])}",
            column="Tumor_Sample_Barcode",
        )
    table = pd.concat(kept, ignore_index=True)
    table["nonsynonymous"] = table["variant_class"].isin(NONSYNONYMOUS_MAF)
    return table
