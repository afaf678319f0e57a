"""Cell tables from HALO, inForm, QuPath, MCMICRO or generic exports, read in bounded chunks.

Each reader resolves, from the header alone, which columns hold the coordinates, region,
field, tissue area and markers (`Layout`), so that a missing column is reported before any
cell is read; `iter_chunks` then streams only those columns (`usecols` + `chunksize`) and
yields canonical chunks: coordinates in microns and one boolean array per marker.
"""

from __future__ import annotations

import dataclasses
import difflib
import gzip
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from organomics.errors import InputError

FORMATS = ("halo", "inform", "qupath", "mcmicro", "generic")
# inForm writes "#N/A" for a missing measurement; HALO and QuPath write "NaN" or nothing.
NA_VALUES = ["", "NA", "N/A", "#N/A", "NaN", "nan"]
DEFAULT_CHUNKSIZE = 200_000

# Coordinate columns (first found wins). QuPath has renamed these between versions.
COORDINATES = {
    "halo": (["XMin", "XMax"], ["YMin", "YMax"]),
    "inform": (["Cell X Position"], ["Cell Y Position"]),
    "qupath": (
        ["Centroid X µm", "Centroid X um", "Centroid X [µm]", "Centroid X"],
        ["Centroid Y µm", "Centroid Y um", "Centroid Y [µm]", "Centroid Y"],
    ),
    "mcmicro": (["X_centroid"], ["Y_centroid"]),
    "generic": (["x", "X", "x_um", "Centroid X"], ["y", "Y", "y_um", "Centroid Y"]),
}
# One image per field: cells of different fields share coordinates and are never neighbours.
FIELD_COLUMNS = {
    "halo": ["Image Location", "Image File Name"],
    "inform": ["Sample Name"],
    "qupath": ["Image"],
    "mcmicro": [],
    "generic": [],
}
CLASS_COLUMNS = ["Class", "Classification"]  # QuPath 0.2/0.3 vs 0.4+
PIXEL_FORMATS = ("inform", "mcmicro")  # coordinates in pixels; divided by pixels_per_micron
AREA_UNITS = {"um2": 1e-6, "mm2": 1.0, "pixels": None}


@dataclass(frozen=True)
class MarkerRule:
    """How one marker is called positive: value >= threshold, or text naming `positive`."""

    name: str
    column: str
    threshold: float | None = None  # numeric rule; None with positive=None means a 0/1 column
    positive: str | None = None  # text rule, e.g. "CD8+" in an inForm phenotype column

    @property
    def is_text(self) -> bool:
        return self.positive is not None

    def pattern(self) -> re.Pattern:
        # A whole token: "CD8+" matches "CD8+" and "CD3+CD8+" but not "CD8-"; "CD8" never "CD80".
        tail = r"(?![A-Za-z0-9])" if self.positive[-1:].isalnum() else ""
        return re.compile(r"(?<![A-Za-z0-9])" + re.escape(self.positive) + tail)


@dataclass
class Layout:
    """Columns of one cell table, resolved from its header."""

    path: str
    format: str
    sep: str
    encoding: str
    x: list[str] = dataclasses.field(default_factory=list)
    y: list[str] = dataclasses.field(default_factory=list)
    microns_per_unit: float = 1.0
    region: str | None = None
    field: str | None = None
    area: str | None = None
    area_to_mm2: float = 1e-6
    markers: dict[str, MarkerRule] = dataclasses.field(default_factory=dict)

    @property
    def has_coordinates(self) -> bool:
        return bool(self.x and self.y)

    def usecols(self) -> list[str]:
        columns = [*self.x, *self.y, self.region, self.field, self.area]
        columns += [rule.column for rule in self.markers.values()]
        return list(dict.fromkeys(c for c in columns if c))


@dataclass
class Chunk:
    """Canonical cells of one chunk; `first_row` is the file line of the first cell."""

    first_row: int
    n: int
    x: np.ndarray | None
    y: np.ndarray | None
    region: np.ndarray | None  # str objects
    field: np.ndarray | None
    area: np.ndarray | None  # tissue area of the cell's (field, region), in mm²
    markers: dict[str, np.ndarray]


def _open_text(path: str | Path, encoding: str):
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


def read_header(path: str | Path) -> tuple[list[str], str, str]:
    """Column names, separator (tab or comma, whichever splits the header more) and encoding."""
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            with _open_text(path, encoding) as handle:
                line = handle.readline()
            break
        except UnicodeDecodeError:
            continue
        except FileNotFoundError:
            raise InputError(path, "file not found") from None
        except (OSError, EOFError) as error:
            raise InputError(path, f"cannot read the file ({error})") from None
    line = line.rstrip("\r\n")
    if not line.strip():
        raise InputError(path, "the file is empty (no header line)")
    sep = "\t" if line.count("\t") >= line.count(",") else ","
    header = [name.strip().strip('"') for name in line.split(sep)]
    return header, sep, encoding


def detect_format(header: list[str]) -> str:
    """Which tool wrote this table, from its column names (`generic` when none matches)."""
    names = set(header)
    if {"XMin", "XMax", "YMin", "YMax"} <= names and (
        "Object Id" in names or any(n.endswith("Positive Classification") for n in names)
    ):
        return "halo"
    if "Cell X Position" in names or ("Cell ID" in names and "Tissue Category" in names):
        return "inform"
    if any(n.startswith("Centroid X") for n in names) and (
        names & {"Class", "Classification", "Parent", "Object type", "Object ID"}
    ):
        return "qupath"
    if "CellID" in names and "X_centroid" in names:
        return "mcmicro"
    return "generic"


def _key(name: str) -> str:
    """Spelling-insensitive key: 'Cell: CD8: Mean' and 'cell: CD8 mean' are one column."""
    name = name.replace("µ", "u").replace("μ", "u").lower()
    return re.sub(r"[^a-z0-9+]", "", name)


def find_column(header: list[str], wanted: str) -> str | None:
    """The header's spelling of `wanted`: exact, else the same letters and digits."""
    if wanted in header:
        return wanted
    matches = [name for name in header if _key(name) == _key(wanted)]
    return matches[0] if len(matches) == 1 else None


def close_names(header: list[str], wanted: str, n: int = 5) -> list[str]:
    """Header names that look like `wanted` (difflib), for error messages."""
    close = difflib.get_close_matches(wanted, header, n=n, cutoff=0.5)
    word = wanted.split()[0] if wanted.split() else wanted
    close += [name for name in header if word.lower() in name.lower() and name not in close]
    return close[:n]


def _missing(path: str, header: list[str], wanted: str, what: str) -> InputError:
    close = close_names(header, wanted)
    hint = f"; close names: {', '.join(repr(c) for c in close)}" if close else ""
    return InputError(path, f"{what}: column not found{hint}", column=wanted)


def default_marker_column(fmt: str, name: str, header: list[str]) -> str:
    """Where a marker lives when the config gives no `column`."""
    if fmt == "halo":
        return f"{name} Positive Classification"
    if fmt == "inform":
        return f"Phenotype {name}" if f"Phenotype {name}" in header else "Phenotype"
    if fmt == "qupath":
        return next((c for c in CLASS_COLUMNS if c in header), "Class")
    return name


def marker_rule(fmt: str, name: str, spec: Mapping, header: list[str], path: str) -> MarkerRule:
    """Resolve one `markers:` entry against a header; a missing column lists close names."""
    spec = dict(spec or {})
    wanted = spec.get("column") or default_marker_column(fmt, name, header)
    column = find_column(header, wanted)
    if column is None:
        raise _missing(path, header, wanted, f"marker {name!r}")
    threshold = spec.get("threshold")
    positive = spec.get("positive")
    if positive is None and threshold is None:
        # Vendor phenotype/class columns hold text such as "CD8+" (inForm) or "CD3: CD8" (QuPath).
        if fmt == "inform" and column.startswith("Phenotype"):
            positive = f"{name}+"
        elif fmt == "qupath" and column in CLASS_COLUMNS:
            positive = name
    return MarkerRule(
        name, column, None if threshold is None else float(threshold), positive and str(positive)
    )


def resolve_layout(path: str | Path, settings: Mapping) -> Layout:
    """Check a table's header against the mihc config block and say where each value lives.

    settings: the `mihc` config block (format, markers, region, field, x_column, y_column,
    pixels_per_micron, area_column, area_unit).
    """
    path = str(path)
    header, sep, encoding = read_header(path)
    fmt = settings.get("format", "auto") or "auto"
    if fmt == "auto":
        fmt = detect_format(header)
    elif fmt not in FORMATS:
        raise InputError(path, f"unknown mihc format {fmt!r}; use auto or one of {FORMATS}")
    layout = Layout(path=path, format=fmt, sep=sep, encoding=encoding)

    x_wanted = settings.get("x_column")
    y_wanted = settings.get("y_column")
    if x_wanted or y_wanted:
        for axis, wanted in (("x", x_wanted), ("y", y_wanted)):
            column = find_column(header, wanted or "")
            if column is None:
                raise _missing(path, header, wanted or "", f"{axis} coordinate")
            setattr(layout, axis, [column])
    else:
        xs, ys = COORDINATES[fmt]
        if fmt == "halo":
            found = [find_column(header, c) for c in xs + ys]
            if all(found):
                layout.x, layout.y = found[:2], found[2:]
        else:
            x = next((c for c in (find_column(header, w) for w in xs) if c), None)
            y = next((c for c in (find_column(header, w) for w in ys) if c), None)
            if x and y:
                layout.x, layout.y = [x], [y]
    if fmt in PIXEL_FORMATS or settings.get("coordinates_in_pixels"):
        layout.microns_per_unit = 1.0 / float(settings.get("pixels_per_micron") or 2.0)

    for key, what in (("region", "region"), ("field", "field"), ("area_column", "tissue area")):
        wanted = settings.get(key)
        if wanted:
            column = find_column(header, wanted)
            if column is None:
                raise _missing(path, header, wanted, what)
            setattr(layout, "area" if key == "area_column" else key, column)
    if layout.field is None:
        layout.field = next((c for c in FIELD_COLUMNS[fmt] if c in header), None)
    unit = settings.get("area_unit") or "um2"
    if unit not in AREA_UNITS:
        raise InputError(path, f"unknown area_unit {unit!r}; use one of {list(AREA_UNITS)}")
    factor = AREA_UNITS[unit]
    layout.area_to_mm2 = factor if factor is not None else layout.microns_per_unit**2 * 1e-6

    for name, spec in (settings.get("markers") or {}).items():
        layout.markers[name] = marker_rule(fmt, name, spec, header, path)
    return layout


def _numeric(values: pd.Series, path: str, column: str, first_row: int) -> np.ndarray:
    """Float array; a non-numeric cell raises InputError with its file line."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            path,
            f"expected a number, got {values.iloc[position]!r}",
            row=first_row + position,
            column=column,
        )
    return numbers.to_numpy(dtype=float, na_value=np.nan)


def _marker_values(rule: MarkerRule, values: pd.Series, path: str, first_row: int) -> np.ndarray:
    if rule.is_text:
        text = values.astype("string").fillna("")
        return text.str.contains(rule.pattern(), regex=True).to_numpy(dtype=bool)
    numbers = _numeric(values, path, rule.column, first_row)
    if rule.threshold is None:
        seen = numbers[~np.isnan(numbers)]
        odd = (seen != 0) & (seen != 1)
        if odd.any():
            position = int(np.flatnonzero(~np.isnan(numbers))[np.flatnonzero(odd)[0]])
            raise InputError(
                path,
                f"marker {rule.name!r}: value {numbers[position]:g} is not a 0/1 classification;"
                " set `threshold` for an intensity column",
                row=first_row + position,
                column=rule.column,
            )
        return numbers >= 1
    # NaN compares False: a cell without a measurement is negative.
    return numbers >= rule.threshold


def check_head(layout: Layout, nrows: int = 100) -> None:
    """Convert the first cells as the job will, so bad values there fail before any job runs."""
    next(iter_chunks(layout, chunksize=nrows, nrows=nrows), None)


def iter_chunks(
    layout: Layout, chunksize: int = DEFAULT_CHUNKSIZE, nrows: int | None = None
) -> Iterator[Chunk]:
    """Stream the table's needed columns, chunk by chunk, as canonical cells."""
    text_columns = [c for c in (layout.region, layout.field) if c]
    text_columns += [r.column for r in layout.markers.values() if r.is_text]
    try:
        reader = pd.read_csv(
            layout.path,
            sep=layout.sep,
            encoding=layout.encoding,
            usecols=layout.usecols(),
            dtype={c: str for c in text_columns},
            na_values=NA_VALUES,
            keep_default_na=False,
            chunksize=chunksize,
            nrows=nrows,
            low_memory=False,
        )
        first_row = 2  # line 1 is the header
        for frame in reader:
            frame.columns = [str(c).strip() for c in frame.columns]
            yield _canonical(layout, frame, first_row)
            first_row += len(frame)
    except InputError:
        raise
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as error:
        raise InputError(layout.path, f"cannot read the cell table: {error}") from None
    except ValueError as error:
        raise InputError(layout.path, f"cannot read the cell table: {error}") from None


def _canonical(layout: Layout, frame: pd.DataFrame, first_row: int) -> Chunk:
    path = layout.path
    x = y = None
    if layout.has_coordinates:
        x = np.mean([_numeric(frame[c], path, c, first_row) for c in layout.x], axis=0)
        y = np.mean([_numeric(frame[c], path, c, first_row) for c in layout.y], axis=0)
        x, y = x * layout.microns_per_unit, y * layout.microns_per_unit
    region = frame[layout.region].fillna("NA").to_numpy(dtype=object) if layout.region else None
    fields = frame[layout.field].fillna("").to_numpy(dtype=object) if layout.field else None
    area = None
    if layout.area:
        area = _numeric(frame[layout.area], path, layout.area, first_row) * layout.area_to_mm2
    markers = {
        name: _marker_values(rule, frame[rule.column], path, first_row)
        for name, rule in layout.markers.items()
    }
    return Chunk(first_row, len(frame), x, y, region, fields, area, markers)
