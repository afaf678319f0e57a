"""Everything a step leaves out (patient, sample, lesion, row), each with its reason, logged."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from organomics.tables import read_table, write_tsv

COLUMNS = ["step", "level", "item", "patient", "site", "reason"]
log = logging.getLogger(__name__)


class Exclusions:
    """Collects the exclusions of one workflow step; each is logged as a warning when added.

    Parameters
    ----------
    step
        The step that excludes (e.g. ``"response"``, ``"deseq2"``); the table's first column.
    """

    def __init__(self, step: str) -> None:
        self.step = step
        self.rows: list[dict[str, str]] = []

    def add(self, level: str, item: str, reason: str, patient: str = "", site: str = "") -> None:
        """Record one excluded `level` (patient, sample, lesion, row, ...) and say so in the log."""
        row = {"step": self.step, "level": level, "item": str(item), "patient": str(patient)}
        row.update(site=str(site), reason=reason)
        self.rows.append(row)
        where = f" ({', '.join(v for v in (str(patient), str(site)) if v)})" if patient else ""
        log.warning("%s: excluded %s %s%s: %s", self.step, level, item, where, reason)

    def table(self) -> pd.DataFrame:
        """The exclusions as a table with COLUMNS (no rows when nothing was left out)."""
        return pd.DataFrame(self.rows, columns=COLUMNS)

    def write(self, path: str | Path) -> None:
        """Write the table atomically; a step with no exclusions writes the header alone."""
        if not self.rows:
            log.info("%s: nothing excluded", self.step)
        write_tsv(self.table(), path)


def combine(paths: Iterable[str | Path], out: str | Path) -> pd.DataFrame:
    """Concatenate the per-step exclusion tables of one branch into its excluded.tsv.

    Parameters
    ----------
    paths
        The steps' exclusion tables (as written by `Exclusions.write`); each must have COLUMNS.
        No paths gives a table with the header alone.
    out
        The branch's excluded.tsv, written atomically.

    Returns
    -------
    pandas.DataFrame
        The combined table with COLUMNS in order, all strings, "" for empty cells.

    Raises
    ------
    InputError
        When a table lacks one of COLUMNS (from `read_table`).
    """
    frames = [read_table(path, required=COLUMNS, dtype=str) for path in paths]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    table = table[COLUMNS].fillna("")
    write_tsv(table, out)
    return table
