"""Read user tables with clear errors and write result tables atomically."""

from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from organomics.errors import InputError


def separator_for(path: str | Path) -> str:
    """Comma for .csv(.gz), tab otherwise (TSV, TXT and tool outputs)."""
    name = str(path).lower().removesuffix(".gz")
    return "," if name.endswith(".csv") else "\t"


def read_table(
    path: str | Path,
    required: Iterable[str] = (),
    dtype: dict | type | None = str,
    comment: str | None = None,
    **kwargs,
) -> pd.DataFrame:
    """Read a TSV/CSV (optionally gzipped); missing required columns raise InputError.

    Values are read as strings by default so that each caller converts and checks its own
    columns and can name the bad cell.
    """
    try:
        table = pd.read_csv(
            path,
            sep=separator_for(path),
            dtype=dtype,
            keep_default_na=False,
            na_values=[""],
            comment=comment,
            **kwargs,
        )
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (EOFError, gzip.BadGzipFile, OSError) as error:
        raise InputError(path, f"cannot read the file ({error}); is it truncated?") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputError(path, f"not a valid table: {error}") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, "the file is empty") from None
    table.columns = [str(column).strip() for column in table.columns]
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise InputError(
            path,
            f"missing required column(s) {', '.join(missing)}; found {', '.join(table.columns)}",
        )
    return table


def to_number(table: pd.DataFrame, column: str, path: str | Path, allow_missing: bool) -> pd.Series:
    """Convert a column to float; the first non-numeric cell raises InputError naming its row."""
    values = pd.to_numeric(table[column], errors="coerce")
    bad = values.isna() & table[column].notna()
    if not allow_missing:
        bad |= table[column].isna()
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        shown = table[column].iloc[position]
        # +2: one for the header line, one because rows are 1-based.
        raise InputError(path, f"expected a number, got {shown!r}", row=position + 2, column=column)
    return values


def write_tsv(table: pd.DataFrame, path: str | Path, float_format: str = "%.6g") -> None:
    """Write a tab-separated table via a temporary file so a failure leaves no partial output."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        table.to_csv(tmp, sep="\t", index=False, na_rep="", float_format=float_format)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
