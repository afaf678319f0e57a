"""Copy-number segment files (FACETS, ASCAT, PureCN, Sequenza, CNVkit, generic) as one table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.tables import read_table
from organomics.wes.targets import norm_chrom

COLUMNS = ["chrom", "start", "end", "total_cn", "minor_cn"]


@dataclass(frozen=True)
class SegmentFormat:
    """How one tool names its columns; `total` may be a sum (ASCAT nMajor + nMinor).

    Attributes
    ----------
    name
        Shown in messages and logs.
    chrom, start, end
        Column names; each entry of `start`/`end` lists accepted spellings in order.
    total
        Total copy-number column(s) (summed when two: ASCAT's nMajor + nMinor).
    minor
        Minor-allele copy-number column(s) (the smaller of two: CNVkit cn1/cn2), or () when the
        format has none.
    zero_based
        Starts are 0-based half-open (BED-like, CNVkit) and become 1-based inclusive.
    sample
        Column naming the sample in cohort files (FACETS `sid`/`ID`, ASCAT `sample`, PureCN
        `Sampleid`).
    """

    name: str
    chrom: str
    start: tuple[str, ...]
    end: tuple[str, ...]
    total: tuple[str, ...]
    minor: tuple[str, ...] = ()
    zero_based: bool = False
    sample: tuple[str, ...] = ()


# Checked in this order; the first whose columns are all in the header wins. Specific tools come
# before the generic table so that, e.g., a CNVkit file is never read as generic.
FORMATS = (
    SegmentFormat(
        "FACETS cncf", "chrom", ("loc.start", "start"), ("loc.end", "end"),
        ("tcn.em",), ("lcn.em",), sample=("sid", "ID"),
    ),
    SegmentFormat(
        "ASCAT segments", "chr", ("startpos",), ("endpos",), ("nMajor", "nMinor"),
        ("nMinor",), sample=("sample",),
    ),
    SegmentFormat("PureCN loh", "chr", ("start",), ("end",), ("C",), ("M",), sample=("Sampleid",)),
    SegmentFormat(
        "Sequenza segments", "chromosome", ("start.pos",), ("end.pos",), ("CNt",), ("B",)
    ),
    SegmentFormat(
        "CNVkit call.cns", "chromosome", ("start",), ("end",), ("cn",), ("cn1", "cn2"),
        zero_based=True,
    ),
    SegmentFormat("generic", "chrom", ("start",), ("end",), ("total_cn",), ("minor_cn",)),
)  # fmt: skip
# Formats whose allele-specific column(s) may be absent: total copy number only (minor empty).
OPTIONAL_MINOR = {"CNVkit call.cns", "generic"}


def detect_format(columns: list[str], path: str) -> SegmentFormat:
    """The format whose columns the header names.

    Parameters
    ----------
    columns
        Header fields of the file.
    path
        For the error message.

    Returns
    -------
    SegmentFormat

    Raises
    ------
    InputError
        When no known format matches, listing what each one needs.
    """
    present = set(columns)
    for fmt in FORMATS:
        has_start = any(c in present for c in fmt.start)
        has_end = any(c in present for c in fmt.end)
        needed = {fmt.chrom, *fmt.total}
        if fmt.name not in OPTIONAL_MINOR:
            needed |= set(fmt.minor)
        if has_start and has_end and needed <= present:
            return fmt
    expected = "; ".join(
        f"{fmt.name}: {', '.join([fmt.chrom, fmt.start[0], fmt.end[0], *fmt.total, *fmt.minor])}"
        for fmt in FORMATS
    )
    raise InputError(
        path,
        f"unknown copy-number segment format (header: {', '.join(columns)}); expected the "
        f"columns of one of: {expected}",
        row=1,
    )


def _numbers(table: pd.DataFrame, column: str, path: str, lines: np.ndarray) -> np.ndarray:
    """A column as floats; text other than an empty/NA cell raises naming file, line, column."""
    raw = table[column]
    missing = raw.isna() | raw.str.strip().isin(["", "NA", "NaN", "nan", "."])
    values = pd.to_numeric(raw.where(~missing), errors="coerce")
    bad = values.isna() & ~missing
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            path, f"expected a number, got {raw.iloc[i]!r}", row=int(lines[i]), column=column
        )
    return values.to_numpy(dtype=float)


def _positions(table, column, path, lines) -> np.ndarray:
    """A coordinate column: a whole number on every row."""
    values = _numbers(table, column, path, lines)
    bad = np.isnan(values) | (values != np.round(values)) | (values < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            path,
            f"expected a whole non-negative position, got {table[column].iloc[i]!r}",
            row=int(lines[i]),
            column=column,
        )
    return values.astype(np.int64)


def _first(present: set[str], names: tuple[str, ...]) -> str:
    return next(name for name in names if name in present)


def _chromosome(value: str, fmt: SegmentFormat) -> str:
    chrom = norm_chrom(str(value).strip())
    if fmt.name == "FACETS cncf":
        # FACETS numbers the sex chromosomes
        chrom = {"23": "X", "24": "Y"}.get(chrom, chrom)
    return chrom


def read_segments(path: str, sample_id: str = "") -> pd.DataFrame:
    """Read one sample's copy-number segments, detecting the tool from the header.

    Parameters
    ----------
    path
        FACETS cncf (``chrom, loc.start|start, loc.end|end, tcn.em, lcn.em``; chromosome 23 is
        X), ASCAT segments (``chr, startpos, endpos, nMajor, nMinor``), PureCN ``_loh.csv``
        (``chr, start, end, C, M``), Sequenza ``_segments.txt`` (``chromosome, start.pos,
        end.pos, CNt, A, B``; quoted or not), CNVkit ``.call.cns`` (``chromosome, start, end,
        cn[, cn1, cn2]``, 0-based starts) or a generic TSV ``chrom, start, end, total_cn[,
        minor_cn]`` (1-based inclusive). CSV when the name ends in .csv.
    sample_id
        In a file holding several samples (a FACETS ``sid``/``ID``, ASCAT ``sample`` or PureCN
        ``Sampleid`` column with more than one value), the sample whose rows are read.

    Returns
    -------
    pandas.DataFrame
        ``chrom`` (no 'chr'; X, Y), ``start``, ``end`` (1-based inclusive), ``total_cn``,
        ``minor_cn`` (empty where the tool gives none), sorted by chromosome and start.

    Raises
    ------
    InputError
        Naming file, line and column: unknown header, text where a number belongs, end before
        start, negative copy number, minor above total, overlapping segments, several samples
        without `sample_id`.

    Notes
    -----
    CNVkit's segments may share their boundary base (a segment ending at 100 and the next
    starting at 99 in 0-based coordinates): such one-base overlaps are given to the earlier
    segment. Any other overlap is an error, since a position would have two copy numbers.
    """
    table = read_table(path, dtype=str)
    fmt = detect_format(list(table.columns), path)
    lines = np.arange(len(table)) + 2  # header is line 1
    present = set(table.columns)
    sample_column = next((c for c in fmt.sample if c in present), None)
    if sample_column is not None:
        ids = table[sample_column].dropna().unique().tolist()
        if len(ids) > 1:
            if sample_id not in ids:
                raise InputError(
                    path,
                    f"the file holds several samples ({', '.join(map(str, ids[:10]))}); "
                    f"{'none is ' + repr(sample_id) if sample_id else 'name one'} (sheet "
                    "column cn_id)",
                    column=sample_column,
                )
            keep = (table[sample_column] == sample_id).to_numpy()
            table, lines = table[keep].reset_index(drop=True), lines[keep]
    start_col, end_col = _first(present, fmt.start), _first(present, fmt.end)
    start = _positions(table, start_col, path, lines)
    end = _positions(table, end_col, path, lines)
    if fmt.zero_based:
        start = start + 1
    backwards = end < start
    if backwards.any():
        i = int(np.flatnonzero(backwards)[0])
        raise InputError(
            path,
            f"segment ends ({table[end_col].iloc[i]}) before it starts "
            f"({table[start_col].iloc[i]})",
            row=int(lines[i]),
            column=end_col,
        )
    totals = [_numbers(table, c, path, lines) for c in fmt.total]
    total = totals[0] if len(totals) == 1 else totals[0] + totals[1]
    minor_cols = [c for c in fmt.minor if c in present]
    if minor_cols:
        minors = [_numbers(table, c, path, lines) for c in minor_cols]
        minor = minors[0] if len(minors) == 1 else np.fmin(minors[0], minors[1])
        # one allele known without the other gives no minor (np.fmin would keep the known one)
        if len(minors) == 2:
            minor[np.isnan(minors[0]) | np.isnan(minors[1])] = np.nan
    else:
        minor = np.full(len(table), np.nan)
    total_col = fmt.total[0]
    _check_copy_numbers(total, minor, path, lines, total_col, minor_cols)
    segments = pd.DataFrame(
        {
            "chrom": [_chromosome(c, fmt) for c in table[fmt.chrom]],
            "start": start,
            "end": end,
            "total_cn": total,
            "minor_cn": minor,
            "_line": lines,
        }
    )
    segments = _resolve_overlaps(segments, path, fmt)
    return segments[COLUMNS].reset_index(drop=True)


def _check_copy_numbers(total, minor, path, lines, total_col, minor_cols) -> None:
    negative = total < 0
    if negative.any():
        i = int(np.flatnonzero(negative)[0])
        raise InputError(path, "negative copy number", row=int(lines[i]), column=total_col)
    above = minor > total  # NaN compares False
    if above.any() or (minor < 0).any():
        i = int(np.flatnonzero(above | (minor < 0))[0])
        raise InputError(
            path,
            f"minor-allele copy number {minor[i]:g} outside 0..total ({total[i]:g})",
            row=int(lines[i]),
            column=minor_cols[-1],
        )


def _resolve_overlaps(segments: pd.DataFrame, path: str, fmt: SegmentFormat) -> pd.DataFrame:
    """Sort by chromosome and start; trim CNVkit's one-base overlaps, refuse any other."""
    order = _chrom_order(segments["chrom"])
    segments = (
        segments.assign(_order=order)
        .sort_values(["_order", "start", "end"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    for _, group in segments.groupby("chrom", sort=False):
        index = group.index.to_numpy()
        for previous, current in zip(index[:-1], index[1:], strict=True):
            prev_end = segments.at[previous, "end"]
            start = segments.at[current, "start"]
            if start > prev_end:
                continue
            overlap = prev_end - start + 1
            cur_end = segments.at[current, "end"]
            if fmt.zero_based and overlap == 1 and cur_end > prev_end:
                segments.at[current, "start"] = prev_end + 1
                continue
            raise InputError(
                path,
                f"segment {segments.at[current, 'chrom']}:{start}-{cur_end} overlaps the "
                f"segment of line {segments.at[previous, '_line']} "
                f"(…-{prev_end}) by {overlap} base(s); a position can have one copy number",
                row=int(segments.at[current, "_line"]),
            )
    return segments


def _chrom_order(chroms: pd.Series) -> np.ndarray:
    """1..22, X, Y, then other names alphabetically."""
    named = {"X": 23, "Y": 24, "MT": 25}

    def key(c: str) -> float:
        if c.isdigit():
            return int(c)
        return named.get(c, 100)

    return np.array([key(c) for c in chroms], dtype=float)


def check_segments(path: str, sample_id: str = "") -> str:
    """Read a copy-number file fully before any job runs, so that a bad file fails the run early.

    The formats are small, so reading the whole file is cheap.

    Parameters
    ----------
    path
        The sample's copy-number file (any format of `read_segments`).
    sample_id
        The sample's id in a file holding several samples (the sheet's cn_id), or "".

    Returns
    -------
    str
        The name of the detected format (e.g. ``"PureCN loh"``, ``"generic"``).

    Raises
    ------
    InputError
        For an unknown header or any problem `read_segments` finds.
    """
    table = read_table(path, dtype=str, nrows=0)
    fmt = detect_format(list(table.columns), path)
    read_segments(path, sample_id)
    return fmt.name


def segment_at(segments: pd.DataFrame, chroms, positions) -> np.ndarray:
    """Row index into `segments` of the segment holding each (chrom, 1-based pos); -1 outside.

    Parameters
    ----------
    segments
        A `read_segments` table (sorted, non-overlapping).
    chroms, positions
        Variant chromosomes (no 'chr') and positions.

    Returns
    -------
    numpy.ndarray
        One index per variant, -1 where no segment covers it.
    """
    chroms = np.asarray(chroms, dtype=object)
    positions = np.asarray(positions, dtype=np.int64)
    found = np.full(len(positions), -1, dtype=np.int64)
    for chrom, group in segments.groupby("chrom", sort=False):
        sel = np.flatnonzero(chroms == chrom)
        if not len(sel):
            continue
        starts = group["start"].to_numpy()
        ends = group["end"].to_numpy()
        i = np.searchsorted(starts, positions[sel], side="right") - 1
        ok = (i >= 0) & (positions[sel] <= ends[np.clip(i, 0, None)])
        found[sel[ok]] = group.index.to_numpy()[i[ok]]
    return found
