"""Capture targets: BED / interval list reading, merging, callable Mb and on-target tests."""

from __future__ import annotations

import gzip
from dataclasses import dataclass

import numpy as np

from organomics.errors import InputError


def norm_chrom(chrom: str) -> str:
    """Chromosome name without a 'chr' prefix, so that UCSC and Ensembl names match.

    Parameters
    ----------
    chrom
        A chromosome name as a VCF, MAF or target file writes it.

    Returns
    -------
    str
        The name with any case of a leading 'chr' removed; 'M' (from 'chrM') becomes 'MT'.
    """
    c = chrom[3:] if chrom[:3].lower() == "chr" else chrom
    return "MT" if c == "M" else c


@dataclass
class Targets:
    """Merged, sorted half-open intervals per normalised chromosome."""

    starts: dict[str, np.ndarray]
    ends: dict[str, np.ndarray]

    @property
    def size_bp(self) -> int:
        return int(sum(int((self.ends[c] - self.starts[c]).sum()) for c in self.starts))

    @property
    def size_mb(self) -> float:
        return self.size_bp / 1e6

    def contains(self, chroms, positions) -> np.ndarray:
        """Boolean mask: 1-based `positions` inside a target on the (normalised) chromosome."""
        chroms = np.asarray(chroms, dtype=object)
        positions = np.asarray(positions, dtype=np.int64)
        inside = np.zeros(len(positions), dtype=bool)
        for chrom in set(chroms.tolist()):
            starts = self.starts.get(chrom)
            if starts is None:
                continue
            sel = chroms == chrom
            zero_based = positions[sel] - 1
            i = np.searchsorted(starts, zero_based, side="right") - 1
            ok = i >= 0
            inside_sel = np.zeros(sel.sum(), dtype=bool)
            inside_sel[ok] = zero_based[ok] < self.ends[chrom][i[ok]]
            inside[sel] = inside_sel
        return inside


def merge_intervals(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge overlapping or book-ended half-open intervals.

    Merged targets make the callable size count each base once and keep `Targets.contains` a
    single binary search per position.

    Parameters
    ----------
    starts, ends
        Integer arrays of 0-based starts and exclusive ends of one chromosome, in any order.

    Returns
    -------
    starts, ends : numpy.ndarray
        The merged intervals, sorted and disjoint (int64 ends).
    """
    order = np.lexsort((ends, starts))
    starts, ends = starts[order], ends[order]
    running_end = np.maximum.accumulate(ends)
    # a new block starts where the interval begins after everything before it has ended
    new_block = np.ones(len(starts), dtype=bool)
    new_block[1:] = starts[1:] > running_end[:-1]
    block = np.cumsum(new_block) - 1
    merged_starts = starts[new_block]
    merged_ends = np.zeros(len(merged_starts), dtype=np.int64)
    np.maximum.at(merged_ends, block, ends)
    return merged_starts, merged_ends


BED_COLUMNS = ("chrom", "chromStart", "chromEnd")
INTERVAL_LIST_COLUMNS = ("contig", "start", "end")


def _integer(path: str, text: str, line_no: int, column: str) -> int:
    """A start or end coordinate; anything but a whole number names file, line and column."""
    try:
        return int(text)
    except ValueError:
        raise InputError(
            path, f"expected an integer coordinate, got {text!r}", row=line_no, column=column
        ) from None


def read_targets(path: str) -> Targets:
    """Read a BED (0-based half-open) or Picard interval list (1-based closed) file, merged.

    A file is taken as a Picard interval list when it has a SAM-style '@HD'/'@SQ' header;
    other header lines (track, browser, #, @) are skipped; a `.gz` file is read with gzip.

    Parameters
    ----------
    path
        The capture targets file of the config.

    Returns
    -------
    Targets
        Merged half-open intervals per chromosome (names normalised by `norm_chrom`).

    Raises
    ------
    InputError
        Naming the file, the line and the column (BED: chrom, chromStart, chromEnd; interval
        list: contig, start, end) of the first line that is not an interval (fewer than 3
        tab-separated columns, a coordinate that is not an integer, a negative start, an end
        before its start); also for an unreadable file or one without intervals.
    """
    one_based = False
    per_chrom: dict[str, tuple[list[int], list[int]]] = {}
    opener = gzip.open if str(path).endswith(".gz") else open
    line_no = 0
    try:
        with opener(path, "rt") as handle:
            for line_no, line in enumerate(handle, start=1):
                if line.startswith(("@HD", "@SQ")):
                    one_based = True
                if not line.strip() or line.startswith(("#", "@", "track", "browser")):
                    continue
                fields = line.rstrip("\r\n").split("\t")
                names = INTERVAL_LIST_COLUMNS if one_based else BED_COLUMNS
                if len(fields) < 3:
                    text = line.strip()
                    hint = " (separated by spaces? BED columns are tab-separated)" * (" " in text)
                    raise InputError(
                        path,
                        f"expected at least 3 tab-separated columns ({', '.join(names)}), got "
                        f"{len(fields)}: {text[:60]!r}{hint}",
                        row=line_no,
                        column=names[len(fields)],
                    )
                start, end = (_integer(path, fields[i], line_no, names[i]) for i in (1, 2))
                if one_based:
                    start -= 1
                if start < 0:
                    first = "1 (interval lists are 1-based)" if one_based else "0"
                    raise InputError(
                        path, f"start {fields[1]} is below {first}", row=line_no, column=names[1]
                    )
                if end < start:
                    raise InputError(
                        path,
                        f"end {fields[2]} is before start {fields[1]}",
                        row=line_no,
                        column=names[2],
                    )
                s, e = per_chrom.setdefault(norm_chrom(fields[0]), ([], []))
                s.append(start)
                e.append(end)
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise InputError(path, f"cannot read targets: {err}", row=line_no or None) from None
    if not per_chrom:
        raise InputError(path, "no intervals found")
    starts, ends = {}, {}
    for chrom, (s, e) in per_chrom.items():
        starts[chrom], ends[chrom] = merge_intervals(
            np.asarray(s, dtype=np.int64), np.asarray(e, dtype=np.int64)
        )
    return Targets(starts, ends)
