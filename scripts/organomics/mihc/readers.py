"""Cell tables from HALO, inForm, QuPath, MCMICRO or generic exports, read in bounded chunks.

Each reader resolves, from the header alone, which columns hold the coordinates, region,
field, tissue area and markers, and in which unit the coordinates and areas are (`Layout`), so
that a missing column or an unknown unit is reported before any cell is read; `iter_chunks`
then streams only those columns (`usecols` + `chunksize`) and yields canonical chunks:
coordinates in microns and, per marker, a boolean call and whether the call is known.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.tables import open_text

FORMATS = ("halo", "inform", "qupath", "mcmicro", "generic")
# inForm writes "#N/A" for a missing measurement; HALO and QuPath write "NaN" or nothing.
NA_VALUES = ["", "NA", "N/A", "#N/A", "NaN", "nan"]
DEFAULT_CHUNKSIZE = 200_000

# Coordinate columns (first found wins). QuPath has renamed these between versions.
COORDINATES = {
    "halo": (["XMin", "XMax"], ["YMin", "YMax"]),
    "inform": (["Cell X Position"], ["Cell Y Position"]),
    "qupath": (
        # "px" when the image has no pixel calibration; bare "Centroid X" states no unit.
        ["Centroid X µm", "Centroid X um", "Centroid X [µm]", "Centroid X px", "Centroid X"],
        ["Centroid Y µm", "Centroid Y um", "Centroid Y [µm]", "Centroid Y px", "Centroid Y"],
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
COORDINATE_UNITS = ("auto", "um", "pixels")
AREA_UNITS = {"um2": 1e-6, "mm2": 1.0, "pixels": None}
MISSING_POLICIES = ("error", "exclude")
# Where a format states no unit, what its writer is documented to use. HALO object data give
# XMin..YMax in microns of the calibrated image; mcquant (MCMICRO) writes X/Y_centroid in pixels
# of the registered image. inForm, QuPath and generic tables must say it (header or config).
FORMAT_UNITS = {
    "halo": ("um", "HALO object data (XMin..YMax are in microns)"),
    "mcmicro": ("pixels", "MCMICRO/mcquant (X_centroid, Y_centroid are in pixels)"),
}


@dataclass(frozen=True)
class MarkerRule:
    """How one marker is called positive: value >= threshold, or text naming `positive`."""

    name: str
    column: str
    threshold: float | None = None  # numeric rule; None with positive=None means a 0/1 column
    positive: str | None = None  # text rule, e.g. "CD8+" in an inForm phenotype column
    # QuPath leaves Class empty for an unclassified cell: a call (negative), not a missing value.
    empty_is_negative: bool = False

    @property
    def is_text(self) -> bool:
        """True for a text rule (a token naming positive cells)."""
        return self.positive is not None

    def pattern(self) -> re.Pattern:
        """The regular expression finding `positive` as a whole token in a cell's text."""
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
    pixels_per_micron: float | None = None
    coordinate_unit: str = "um"
    coordinate_source: str = ""  # where the unit came from (header column, format, config)
    missing: str = "error"  # a missing marker value: error | exclude (undecided cells)
    region: str | None = None
    field: str | None = None
    area: str | None = None
    area_to_mm2: float = 1e-6
    area_source: str = ""
    markers: dict[str, MarkerRule] = dataclasses.field(default_factory=dict)

    @property
    def has_coordinates(self) -> bool:
        """True when the table has x and y columns."""
        return bool(self.x and self.y)

    def scale_text(self) -> str:
        """The coordinate and area scales used, and where each came from, for the log."""
        if not self.has_coordinates:
            text = "no coordinates"
        elif self.coordinate_unit == "pixels":
            text = (
                f"coordinates in pixels ({self.coordinate_source}) at "
                f"{1 / self.microns_per_unit:g} px/µm (config pixels_per_micron)"
            )
        else:
            text = f"coordinates in µm ({self.coordinate_source})"
        if self.area:
            scale = f"x {self.area_to_mm2:g} -> mm² ({self.area_source})"
            text += f"; tissue area {self.area!r} {scale}"
        return text

    def usecols(self) -> list[str]:
        """The columns a chunk reads: coordinates, region, field, area and markers."""
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
    region: np.ndarray | None  # str objects; "" for a cell outside every region
    field: np.ndarray | None
    area: np.ndarray | None  # tissue area of the cell's (field, region), in mm²
    markers: dict[str, np.ndarray]
    known: dict[str, np.ndarray]  # False where the marker value is missing (exclude policy)


def read_header(path: str | Path) -> tuple[list[str], str, str]:
    """A cell table's header line.

    Parameters
    ----------
    path
        The cell table (CSV/TSV, optionally gzipped).

    Returns
    -------
    (list of str, str, str)
        Column names (stripped, quotes removed), the separator (tab or comma, whichever splits
        the header more) and the encoding that read it (UTF-8, else Latin-1).

    Raises
    ------
    InputError
        When the file is missing, unreadable or has an empty first line.
    """
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            with open_text(path, encoding) as handle:
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
    """Which tool wrote a cell table, from its column names.

    Parameters
    ----------
    header
        The table's column names.

    Returns
    -------
    str
        ``halo``, ``inform``, ``qupath``, ``mcmicro``, or ``generic`` when none matches.
    """
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
    """The header's spelling of a column: exact, else the same letters and digits.

    Parameters
    ----------
    header
        The table's column names.
    wanted
        The name asked for (config or format default).

    Returns
    -------
    str or None
        The matching header name; None when none or several match ignoring case, spaces and
        punctuation.
    """
    if wanted in header:
        return wanted
    matches = [name for name in header if _key(name) == _key(wanted)]
    return matches[0] if len(matches) == 1 else None


def close_names(header: list[str], wanted: str, n: int = 5) -> list[str]:
    """Header names that look like `wanted` (difflib, then shared first word), for error messages.

    Parameters
    ----------
    header
        The table's column names.
    wanted
        The name that was not found.
    n
        At most this many names.

    Returns
    -------
    list of str
        The closest names first.
    """
    close = difflib.get_close_matches(wanted, header, n=n, cutoff=0.5)
    word = wanted.split()[0] if wanted.split() else wanted
    close += [name for name in header if word.lower() in name.lower() and name not in close]
    return close[:n]


def _missing(path: str, header: list[str], wanted: str, what: str) -> InputError:
    close = close_names(header, wanted)
    hint = f"; close names: {', '.join(repr(c) for c in close)}" if close else ""
    return InputError(path, f"{what}: column not found{hint}", column=wanted)


def default_marker_column(fmt: str, name: str, header: list[str]) -> str:
    """Where a marker lives when the config gives no `column`.

    Parameters
    ----------
    fmt
        The table's format.
    name
        The marker's name.
    header
        The table's column names.

    Returns
    -------
    str
        HALO ``<NAME> Positive Classification``, inForm ``Phenotype <NAME>`` (else
        ``Phenotype``), QuPath's class column, otherwise `name`.
    """
    if fmt == "halo":
        return f"{name} Positive Classification"
    if fmt == "inform":
        return f"Phenotype {name}" if f"Phenotype {name}" in header else "Phenotype"
    if fmt == "qupath":
        return next((c for c in CLASS_COLUMNS if c in header), "Class")
    return name


def marker_rule(fmt: str, name: str, spec: Mapping, header: list[str], path: str) -> MarkerRule:
    """Resolve one `markers:` entry against a header.

    Parameters
    ----------
    fmt
        The table's format.
    name
        The marker's name.
    spec
        Its config entry (``column``, ``threshold``, ``positive``; any may be absent).
    header
        The table's column names.
    path
        The table (for errors).

    Returns
    -------
    MarkerRule
        The column and how a value in it is called positive (threshold, 0/1, or a text token:
        inForm ``<NAME>+`` and QuPath ``<NAME>`` by default).

    Raises
    ------
    InputError
        When the column is not in the header, listing close names.
    """
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
        name,
        column,
        None if threshold is None else float(threshold),
        positive and str(positive),
        empty_is_negative=fmt == "qupath" and column in CLASS_COLUMNS,
    )


def unit_in_name(name: str) -> str | None:
    """The length unit a column name states.

    Parameters
    ----------
    name
        A column name, e.g. ``Centroid X µm`` or ``Cell X Position (pixels)``.

    Returns
    -------
    str or None
        ``"um"`` (µm, um, micron), ``"pixels"`` (px, pixel) or None.
    """
    lowered = name.lower()
    if re.search(r"(?<![a-z])px(?![a-z])|pixel", lowered):
        return "pixels"
    if re.search(r"[µμ]m|(?<![a-z])um(?![a-z0-9])|micron", lowered):
        return "um"
    return None


def _area_unit_in_name(name: str) -> str | None:
    """The area unit a column name states: um2, mm2, pixels, or None."""
    lowered = name.lower().replace("μ", "µ")
    if re.search(r"square mm|mm²|mm\^?2(?![0-9])", lowered):
        return "mm2"
    return {"um": "um2", "pixels": "pixels"}.get(unit_in_name(name) or "")


def _stated_unit(columns: list[str]) -> tuple[str | None, str | None]:
    """(unit, column) stated by the first of `columns` whose name carries a unit."""
    for column in columns:
        unit = unit_in_name(column)
        if unit:
            return unit, column
    return None, None


def _coordinate_unit(path: str, fmt: str, header: list[str], layout: Layout, wanted: str):
    """(unit, source) of the coordinates: the header where it says, else the format, else config.

    inForm names the unit in its distance and area columns, not in `Cell X Position` itself:
    as phenoptr's `read_cell_seg_data` does, a header with a "micron" column is in microns and
    one with "(pixels)" columns (and none in microns) is in pixels.
    """
    unit, column = _stated_unit(layout.x + layout.y)
    if unit is None and fmt == "inform":
        unit, column = _stated_unit([c for c in header if "micron" in c.lower()])
        if unit is None:
            unit, column = _stated_unit([c for c in header if "(pixels)" in c.lower()])
    if unit is not None:
        if wanted != "auto" and wanted != unit:
            raise InputError(
                path,
                f"config mihc.coordinate_unit is {wanted!r} but the header says {unit!r}",
                column=column,
            )
        return unit, f"header column {column!r}"
    if wanted != "auto":
        return wanted, "config coordinate_unit"
    if fmt in FORMAT_UNITS:
        return FORMAT_UNITS[fmt]
    raise InputError(
        path,
        "the coordinates' unit (µm or pixels) is not stated in the header; set "
        "mihc.coordinate_unit (um or pixels)",
        column=layout.x[0],
    )


def _area_scale(path: str, column: str, wanted: str, layout: Layout) -> tuple[float, str]:
    """(factor to mm², source) of a tissue-area column: its header's unit, else area_unit."""
    stated = _area_unit_in_name(column)
    if stated and wanted not in ("auto", stated):
        raise InputError(
            path,
            f"config mihc.area_unit is {wanted!r} but the column name says {stated!r}",
            column=column,
        )
    unit = stated or wanted
    if unit == "auto":
        raise InputError(
            path,
            "the tissue area's unit is not stated in the column name; set mihc.area_unit "
            "(um2, mm2 or pixels)",
            column=column,
        )
    if unit not in AREA_UNITS:
        raise InputError(path, f"unknown area_unit {unit!r}; use auto or one of {list(AREA_UNITS)}")
    source = "header" if stated else "config area_unit"
    if unit == "pixels":
        if layout.coordinate_unit != "pixels" and not layout.pixels_per_micron:
            raise InputError(
                path, "the tissue area is in pixels; set mihc.pixels_per_micron", column=column
            )
        per_um = layout.pixels_per_micron
        return 1e-6 / per_um**2, f"{source}: pixels at {per_um:g} px/µm"
    return AREA_UNITS[unit], f"{source}: {unit}"


def resolve_layout(path: str | Path, settings: Mapping) -> Layout:
    """Check a table's header against the mihc config block and say where each value lives.

    Parameters
    ----------
    path
        The cell table (CSV/TSV, optionally gzipped).
    settings
        The `mihc` config block (format, markers, region, field, x_column, y_column,
        coordinate_unit, pixels_per_micron, area_column, area_unit, missing).

    Returns
    -------
    Layout
        Columns, units (with where each unit came from) and marker rules of the table.
    """
    path = str(path)
    header, sep, encoding = read_header(path)
    fmt = settings.get("format", "auto") or "auto"
    if fmt == "auto":
        fmt = detect_format(header)
    elif fmt not in FORMATS:
        raise InputError(path, f"unknown mihc format {fmt!r}; use auto or one of {FORMATS}")
    missing = settings.get("missing") or "error"
    if missing not in MISSING_POLICIES:
        raise InputError(path, f"unknown mihc.missing {missing!r}; use {MISSING_POLICIES}")
    layout = Layout(path=path, format=fmt, sep=sep, encoding=encoding, missing=missing)

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
    per_um = settings.get("pixels_per_micron")
    layout.pixels_per_micron = float(per_um) if per_um else None
    if layout.has_coordinates:
        wanted = settings.get("coordinate_unit") or "auto"
        if wanted not in COORDINATE_UNITS:
            raise InputError(path, f"unknown coordinate_unit {wanted!r}; use {COORDINATE_UNITS}")
        unit, source = _coordinate_unit(path, fmt, header, layout, wanted)
        layout.coordinate_unit, layout.coordinate_source = unit, source
        if unit == "pixels":
            if not layout.pixels_per_micron:
                raise InputError(
                    path,
                    f"coordinates are in pixels ({source}); set mihc.pixels_per_micron to the "
                    "images' resolution (e.g. 2 for Vectra/Polaris 20x)",
                    column=layout.x[0],
                )
            layout.microns_per_unit = 1.0 / layout.pixels_per_micron

    for key, what in (("region", "region"), ("field", "field"), ("area_column", "tissue area")):
        wanted = settings.get(key)
        if wanted:
            column = find_column(header, wanted)
            if column is None:
                raise _missing(path, header, wanted, what)
            setattr(layout, "area" if key == "area_column" else key, column)
    if layout.field is None:
        layout.field = next((c for c in FIELD_COLUMNS[fmt] if c in header), None)
    if layout.area:
        unit = settings.get("area_unit") or "auto"
        layout.area_to_mm2, layout.area_source = _area_scale(path, layout.area, unit, layout)

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


def _marker_values(
    rule: MarkerRule, values: pd.Series, path: str, first_row: int
) -> tuple[np.ndarray, np.ndarray]:
    """(positive, known) per cell; `known` is False where the value is missing."""
    if rule.is_text:
        known = values.notna().to_numpy(dtype=bool) | rule.empty_is_negative
        text = values.astype("string").fillna("")
        return text.str.contains(rule.pattern(), regex=True).to_numpy(dtype=bool), known
    numbers = _numeric(values, path, rule.column, first_row)
    known = ~np.isnan(numbers)
    if rule.threshold is None:
        odd = known & (numbers != 0) & (numbers != 1)
        if odd.any():
            position = int(np.flatnonzero(odd)[0])
            raise InputError(
                path,
                f"marker {rule.name!r}: value {numbers[position]:g} is not a 0/1 classification;"
                " set `threshold` for an intensity column",
                row=first_row + position,
                column=rule.column,
            )
        return known & (numbers >= 1), known
    return known & (numbers >= rule.threshold), known


def check_head(layout: Layout, nrows: int = 100) -> None:
    """Convert the first cells as the job will, so bad values there fail before any job runs.

    Parameters
    ----------
    layout
        The table's resolved layout (`resolve_layout`).
    nrows
        Cells converted.

    Raises
    ------
    InputError
        For the first bad value (file line and column).
    """
    next(iter_chunks(layout, chunksize=nrows, nrows=nrows), None)


def iter_chunks(
    layout: Layout, chunksize: int = DEFAULT_CHUNKSIZE, nrows: int | None = None
) -> Iterator[Chunk]:
    """Stream the table's needed columns, chunk by chunk, as canonical cells.

    Parameters
    ----------
    layout
        The table's resolved layout (`resolve_layout`).
    chunksize
        Cells per chunk (bounds memory).
    nrows
        Read only this many cells (None: all).

    Yields
    ------
    Chunk
        Coordinates in µm, region, field, tissue area in mm² and marker calls of the chunk's
        cells, with the file line of its first cell.

    Raises
    ------
    InputError
        For an unreadable table or a bad value (file line and column), and for a missing
        marker value under ``missing: error``.
    """
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
    # An empty region cell is a cell outside every region: counted in `all` only.
    region = frame[layout.region].fillna("").to_numpy(dtype=object) if layout.region else None
    fields = frame[layout.field].fillna("").to_numpy(dtype=object) if layout.field else None
    area = None
    if layout.area:
        area = _numeric(frame[layout.area], path, layout.area, first_row) * layout.area_to_mm2
    markers, known = {}, {}
    for name, rule in layout.markers.items():
        markers[name], known[name] = _marker_values(rule, frame[rule.column], path, first_row)
        if layout.missing == "error" and not known[name].all():
            # Counting a cell without a value as negative would bias every fraction down.
            position = int(np.flatnonzero(~known[name])[0])
            raise InputError(
                path,
                f"marker {name!r} has no value (empty, NA, #N/A or NaN); fix the export, or set"
                " mihc.missing: exclude to leave such cells out of the n of the phenotypes"
                " that need the marker",
                row=first_row + position,
                column=rule.column,
            )
    return Chunk(first_row, len(frame), x, y, region, fields, area, markers, known)
