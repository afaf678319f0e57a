"""Read user tables with clear errors and write result tables atomically."""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from organomics.errors import InputError

UNNAMED = re.compile(r"^Unnamed: \d+$")  # pandas' name for an empty header field
DEDUPED = re.compile(r"^.+\.\d+$")  # pandas' rename of a repeated header field


def separator_for(path: str | Path) -> str:
    """Field separator of a table file, chosen by its extension.

    Parameters
    ----------
    path
        The table's path; a ``.gz`` suffix is ignored.

    Returns
    -------
    str
        ``","`` for .csv(.gz), a tab otherwise (TSV, TXT and tool outputs).
    """
    name = str(path).lower().removesuffix(".gz")
    return "," if name.endswith(".csv") else "\t"


def read_table(
    path: str | Path,
    required: Iterable[str] = (),
    dtype: dict | type | None = str,
    comment: str | None = None,
    **kwargs,
) -> pd.DataFrame:
    """Read a user's TSV/CSV (optionally gzipped) as exported by spreadsheets and tools.

    Parameters
    ----------
    path
        The file; `.csv` (and `.csv.gz`) is comma-separated, anything else tab-separated.
    required
        Columns that must be present (InputError naming the ones missing).
    dtype, comment, **kwargs
        Passed to `pandas.read_csv`. Values are read as strings by default so that each caller
        converts and checks its own columns and can name the bad cell.

    Returns
    -------
    pandas.DataFrame
        One column per named header field, whitespace stripped from the names.

    Notes
    -----
    A UTF-8 byte-order mark, CRLF line ends, quoted cells (with the delimiter inside) and
    trailing delimiters (an empty last field on every row or on the header, as spreadsheets
    export them) are read as the user meant them. A row with more non-empty fields than the
    header, a named value under an empty header, or a header named twice is an InputError
    naming the row or column: never a silent shift or loss of data.
    """
    sep = kwargs.pop("sep", separator_for(path))
    header = kwargs.get("header", "infer")
    # index_col=False: rows with one more (empty) field than the header must not turn the
    # first column into the index, which would shift every column by one.
    kwargs.setdefault("index_col", False)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            table = pd.read_csv(
                path,
                sep=sep,
                dtype=dtype,
                keep_default_na=False,
                na_values=[""],
                comment=comment,
                encoding="utf-8-sig",
                **kwargs,
            )
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise InputError(path, f"cannot read the file ({error}); is it truncated?") from None
    except pd.errors.ParserError as error:
        if "Expected" not in str(error):
            raise InputError(path, f"not a valid table: {error}") from None
        # a later row has more fields than the first: fine when the extra ones are empty
        # (a trailing delimiter on some rows), an error naming the row otherwise
        table = _read_trimmed(path, sep, header, dtype, comment, kwargs)
        caught = []
    except UnicodeDecodeError as error:
        raise InputError(path, f"not a valid table: {error}") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, "the file is empty") from None
    except OSError as error:
        raise InputError(path, f"cannot read the file ({error}); is it truncated?") from None
    for warning in caught:
        if issubclass(warning.category, pd.errors.ParserWarning):
            # pandas drops the fields past the header with index_col=False; find the row
            _check_extra_fields(path, sep, len(table.columns), kwargs.get("skiprows"), comment)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    if header is not None:
        table = _drop_unnamed_empty(table, path)
        _check_unique_header(table, path, sep, kwargs.get("skiprows"))
    table.columns = [str(column).strip() for column in table.columns]
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise InputError(
            path,
            f"missing required column(s) {', '.join(missing)}; found {', '.join(table.columns)}",
        )
    return table


def _read_trimmed(path, sep: str, header, dtype, comment, kwargs: dict) -> pd.DataFrame:
    """Re-read a table whose rows end in empty surplus fields, dropping those fields."""
    skip = kwargs.pop("skiprows", None)
    skip = skip if isinstance(skip, int) else 0
    with open_text(path) as handle:
        reader = csv.reader(handle, delimiter=sep)
        rows = [
            fields
            for fields in reader
            if reader.line_num > skip and not (comment and fields and fields[0].startswith(comment))
        ]
    width = len(rows[0]) if rows else 0
    _check_extra_fields(path, sep, width, skip, comment)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator="\n").writerows(row[:width] for row in rows)
    buffer.seek(0)
    return pd.read_csv(
        buffer, sep=sep, dtype=dtype, keep_default_na=False, na_values=[""], **kwargs
    )


def open_text(path: str | Path, encoding: str = "utf-8-sig"):
    """Open a text file for reading, gunzipped when its name ends in .gz (UTF-8, BOM dropped).

    Parameters
    ----------
    path
        The file.
    encoding
        Its encoding; the default reads UTF-8 and drops a byte-order mark.

    Returns
    -------
    io.TextIOBase
        A text handle (universal newlines are left to the caller's parser: ``newline=""``).
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    return opener(path, "rt", encoding=encoding, newline="")


def open_bytes(path: str | Path) -> BinaryIO:
    """Open a plain or (b)gzipped file for reading bytes, telling the two by gzip's magic bytes.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    BinaryIO
        A `gzip.GzipFile` for gzip data (BGZF included), else the plain file.
    """
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    return (gzip.open if gzipped else open)(path, "rb")


def _check_extra_fields(path, sep: str, n_columns: int, skiprows, comment) -> None:
    """Raise for the first row with a non-empty field past the header's columns."""
    skip = skiprows if isinstance(skiprows, int) else 0
    with open_text(path) as handle:
        reader = csv.reader(handle, delimiter=sep)
        for fields in reader:
            if reader.line_num <= skip or (comment and fields and fields[0].startswith(comment)):
                continue
            extra = [field for field in fields[n_columns:] if field.strip()]
            if extra:
                raise InputError(
                    path,
                    f"{len(fields)} fields where the header names {n_columns} columns "
                    f"(extra value {extra[0]!r}); is a delimiter missing from the header or "
                    "one too many in this row?",
                    row=reader.line_num,
                )


def _drop_unnamed_empty(table: pd.DataFrame, path) -> pd.DataFrame:
    """Drop columns without a header name that hold no value (trailing delimiters)."""
    unnamed = [column for column in table.columns if UNNAMED.match(str(column))]
    for column in unnamed:
        values = table[column]
        filled = values.notna() & values.astype(str).str.strip().ne("")
        if filled.any():
            position = int(filled.to_numpy().nonzero()[0][0])
            raise InputError(
                path,
                f"column {table.columns.get_loc(column) + 1} has values (e.g. "
                f"{values.iloc[position]!r}) but no name in the header",
                row=position + 2,
            )
    return table.drop(columns=unnamed)


def _check_unique_header(table: pd.DataFrame, path, sep: str, skiprows) -> None:
    """pandas renames a repeated header `a` to `a.1`; a user's table must name each column once."""
    if not any(DEDUPED.match(str(column)) for column in table.columns):
        return
    skip = skiprows if isinstance(skiprows, int) else 0
    with open_text(path) as handle:
        reader = csv.reader(handle, delimiter=sep)
        names = next((fields for fields in reader if reader.line_num > skip), [])
    names = [name.strip() for name in names]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise InputError(path, f"the header names column(s) {', '.join(repeated)} twice", row=1)


def to_number(table: pd.DataFrame, column: str, path: str | Path, allow_missing: bool) -> pd.Series:
    """Convert a column to float, naming the first cell that is not a number.

    Parameters
    ----------
    table
        A table read as strings (`read_table`).
    column
        The column to convert.
    path
        The table's file, named in the error.
    allow_missing
        Whether empty (NaN) cells are allowed; they become NaN. Otherwise they are errors too.

    Returns
    -------
    pandas.Series
        The column as floats, indexed like `table`.

    Raises
    ------
    InputError
        For the first non-numeric (or, unless `allow_missing`, empty) cell, with its file row
        (header is line 1) and the column.
    """
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


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary file beside `path` to write into; it becomes `path` only when the block ends
    without error, and is deleted otherwise, so that a failed job leaves no partial output.

    Parameters
    ----------
    path
        The output file (its folder is created).

    Yields
    ------
    pathlib.Path
        The temporary file (hidden, same folder, so the final rename is atomic).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_tsv(table: pd.DataFrame, path: str | Path, float_format: str | None = "%.6g") -> None:
    """Write a result table (tab-separated, no index, empty cells for missing) atomically.

    Parameters
    ----------
    table
        The table.
    path
        The output file; ``.gz`` is gzip-compressed with a fixed mtime (reproducible bytes).
    float_format
        Floats with 6 significant digits by default; None writes every digit.
    """
    compression = {"method": "gzip", "mtime": 0} if str(path).endswith(".gz") else None
    with atomic_path(path) as tmp:
        table.to_csv(
            tmp,
            sep="\t",
            index=False,
            na_rep="",
            float_format=float_format,
            compression=compression,
        )


def read_tsv(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read one of the workflow's own result tables (written by `write_tsv`).

    Only empty cells are missing values, so that text such as the gene symbol ``NA`` or the
    sample ``None`` survives; user tables go through `read_table` instead.

    Parameters
    ----------
    path
        A TSV written by this workflow (``.gz`` allowed).
    **kwargs
        Passed to `pandas.read_csv` (e.g. ``dtype``, ``index_col``).

    Returns
    -------
    pandas.DataFrame
    """
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""], **kwargs)
