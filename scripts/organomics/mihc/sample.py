"""One sample's cell table -> phenotype counts per region, nearest-tumour distances, plot points."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from organomics.errors import InputError
from organomics.excluded import Exclusions
from organomics.mihc import expr
from organomics.mihc import spatial as spatial_lib
from organomics.mihc.readers import (
    COORDINATES,
    DEFAULT_CHUNKSIZE,
    Layout,
    iter_chunks,
    resolve_layout,
)

# SciPy's spatial is imported in the functions that use it, not here: the Snakefile imports this
# module at parse time, in every run and cluster job (tests/test_parse_time.py)

log = logging.getLogger(__name__)

ALL = "all"  # the region label of the whole sample
OTHER = "other"  # composition class of cells matching no listed phenotype
UNDECIDED = "undecided"  # cells whose class a missing marker value leaves open (plots only)
COUNT_COLUMNS = ["kind", "region", "name", "n_cells", "n_total", "n_undecided", "tissue_area_mm2"]
SPATIAL_COLUMNS = [
    "region",
    "phenotype",
    "n_cells",
    "n_tumour",
    "median_distance_um",
    "fraction_within",
    "radius_um",
]
MAX_POINTS = 20_000
SHOWN_ROWS = 10  # file lines listed per exclusion (the count gives the rest)
SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "mihc.schema.yaml"


def with_defaults(settings: Mapping) -> dict:
    """The `mihc` block with the schema's defaults filled in (as snakemake's validate does).

    Library calls outside the workflow (benchmarks, tests) get the same defaults as a run; the
    schema stays their one source.

    Parameters
    ----------
    settings
        A `mihc` config block, possibly partial.

    Returns
    -------
    dict
        A copy with every missing key (and nested key) set to its schema default.
    """

    def fill(block, schema):
        block = dict(block)
        for key, spec in (schema.get("properties") or {}).items():
            if key not in block and "default" in spec:
                block[key] = spec["default"]
            if spec.get("type") == "object" and "properties" in spec and block.get(key) is not None:
                block[key] = fill(block[key], spec)
        return block

    return fill(settings, yaml.safe_load(SCHEMA.read_text(encoding="utf-8")))


@dataclass
class Phenotypes:
    """Parsed phenotype, denominator and composition definitions of the mihc config block."""

    phenotypes: dict[str, expr.Node]
    denominator: expr.Node | None
    composition: list[str]
    tumour: str | None


def parse_config(settings: Mapping, source: str = "config mihc") -> Phenotypes:
    """Parse every phenotype, denominator and composition entry against the configured markers.

    Parameters
    ----------
    settings
        The `mihc` config block (markers, phenotypes, denominator, composition, tumour).
    source
        What the settings are, for error messages.

    Returns
    -------
    Phenotypes
        The parsed expressions, the composition classes (all phenotypes when not set) and the
        tumour phenotype.

    Raises
    ------
    InputError
        For no markers or phenotypes, a bad expression (naming the key and position), a
        composition entry or tumour that is not a phenotype.
    """
    markers = list((settings.get("markers") or {}).keys())
    if not markers:
        raise InputError(source, "no markers configured (mihc.markers)")
    phenotypes = {}
    for name, text in (settings.get("phenotypes") or {}).items():
        try:
            phenotypes[str(name)] = expr.parse(str(text), markers)
        except expr.ExpressionError as error:
            raise InputError(source, f"phenotype {name!r}: {error}") from None
    if not phenotypes:
        raise InputError(source, "no phenotypes configured (mihc.phenotypes)")
    denominator = None
    if settings.get("denominator"):
        try:
            denominator = expr.parse(str(settings["denominator"]), markers)
        except expr.ExpressionError as error:
            raise InputError(source, f"denominator: {error}") from None
    composition = list(settings.get("composition") or phenotypes)
    for name in composition:
        if name not in phenotypes:
            raise InputError(source, f"composition lists {name!r}, which is not a phenotype")
    tumour = settings.get("tumour") or None
    if tumour is not None and tumour not in phenotypes:
        raise InputError(
            source, f"tumour phenotype {tumour!r} is not one of {', '.join(phenotypes)}"
        )
    return Phenotypes(phenotypes, denominator, composition, tumour)


def check_layout(layout: Layout, definitions: Phenotypes) -> None:
    """Stop a table that cannot give what the config asks for, naming the column it lacks.

    Parameters
    ----------
    layout
        The table's resolved layout.
    definitions
        The parsed config (`parse_config`).

    Raises
    ------
    InputError
        When a tumour phenotype is set and the table has no coordinate columns.
    """
    if definitions.tumour is not None and not layout.has_coordinates:
        # Without coordinates the distance tables would be empty without saying why.
        xs, ys = COORDINATES[layout.format]
        raise InputError(
            layout.path,
            f"no coordinate columns (looked for {', '.join(xs + ys)}); nearest-tumour distances"
            " need them: set mihc.x_column/y_column, or mihc.tumour: null",
            column=xs[0],
        )


@dataclass
class SampleSummary:
    """What one cell table gives: counts, spatial summaries, plot points and exclusions."""

    counts: pd.DataFrame  # COUNT_COLUMNS; kind = phenotype | composition
    spatial: pd.DataFrame  # SPATIAL_COLUMNS
    points: pd.DataFrame  # x, y, label, compartment: a deterministic subsample for plots
    excluded: pd.DataFrame  # organomics.excluded.COLUMNS: cells and samples left out, and why
    margin: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=spatial_lib.MARGIN_COLUMNS)
    )
    neighbourhood: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=spatial_lib.NEIGHBOUR_COLUMNS)
    )
    cells: pd.DataFrame | None = None  # per placed cell (keep_cells): the AnnData export
    cross_k: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=spatial_lib.CROSS_K_COLUMNS)
    )
    knn: pd.DataFrame = field(default_factory=pd.DataFrame)  # k-NN class fractions per cell


class _Rows:
    """Count of cells of one kind and their first file lines, across chunks."""

    def __init__(self) -> None:
        self.n = 0
        self.lines: list[int] = []

    def add(self, mask: np.ndarray, first_row: int) -> None:
        hits = np.flatnonzero(mask)
        self.n += len(hits)
        room = SHOWN_ROWS - len(self.lines)
        if room > 0:
            self.lines += [int(first_row + i) for i in hits[:room]]

    def text(self) -> str:
        more = f", ... ({self.n - len(self.lines)} more)" if self.n > len(self.lines) else ""
        return f"file lines {', '.join(map(str, self.lines))}{more}"


class _Codes:
    """Stable integer codes for labels seen across chunks."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def encode(self, values: np.ndarray) -> np.ndarray:
        # pandas' hash factorisation: much faster than sorting strings with np.unique
        inverse, uniques = pd.factorize(values.astype(str))
        mapping = np.array([self.index.setdefault(u, len(self.index)) for u in uniques])
        return mapping[inverse].astype(np.int32) if len(values) else np.zeros(0, np.int32)

    @property
    def labels(self) -> list[str]:
        return list(self.index)


def summarise(
    path: str,
    settings: Mapping,
    chunksize: int = DEFAULT_CHUNKSIZE,
    layout: Layout | None = None,
    max_points: int = MAX_POINTS,
    record: Mapping | None = None,
    keep_cells: bool = False,
) -> SampleSummary:
    """Stream one cell table and summarise it; memory grows with cells only by a few bytes each.

    Parameters
    ----------
    path
        The sample's cell table.
    settings
        The `mihc` config block.
    chunksize, layout, max_points
        Cells per chunk read; a resolved layout (else from the header); plot points kept.
    record
        The sample's sheet ids (`sample`, `patient`, `site`) for the exclusion table.
    keep_cells
        Also return one row per placed cell (coordinates, region, phenotypes, compartment).

    Returns
    -------
    SampleSummary
        Counts per region and phenotype, nearest-tumour distances, margin compartments,
        neighbourhood counts, plot points, and every cell or sample left out of a count with
        its reason (also logged).
    """
    settings = with_defaults(settings)
    record = dict(record or {})
    sample_id = str(record.get("sample", path))
    excluded = Exclusions("sample")
    ids = {"patient": str(record.get("patient", "")), "site": str(record.get("site", ""))}
    definitions = parse_config(settings)
    layout = layout or resolve_layout(path, settings)
    check_layout(layout, definitions)
    log.info("%s: read as %s; %s", path, layout.format, layout.scale_text())
    names = list(definitions.phenotypes)
    regions, fields = _Codes(), _Codes()
    xs, ys, region_parts, field_parts, class_parts = [], [], [], [], []
    pheno_parts: list[np.ndarray] = []
    decided_parts: list[np.ndarray] = []
    denom_parts: list[np.ndarray] = []
    denom_known_parts: list[np.ndarray] = []
    areas: dict[tuple[str, str], float] = {}
    no_xy, no_region = _Rows(), _Rows()
    undecided = {name: _Rows() for name in names}
    n_cells = 0
    for chunk in iter_chunks(layout, chunksize):
        n_cells += chunk.n
        evaluated = [
            expr.evaluate_known(node, chunk.markers, chunk.known)
            for node in definitions.phenotypes.values()
        ]
        masks = np.column_stack([v for v, _ in evaluated]).reshape(chunk.n, len(names))
        decided = np.column_stack([k for _, k in evaluated]).reshape(chunk.n, len(names))
        if definitions.denominator is not None:
            denom, denom_known = expr.evaluate_known(
                definitions.denominator, chunk.markers, chunk.known
            )
        else:
            denom, denom_known = np.ones(chunk.n, bool), np.ones(chunk.n, bool)
        for j, name in enumerate(names):
            undecided[name].add(~(decided[:, j] & denom_known), chunk.first_row)
        region = chunk.region if chunk.region is not None else np.full(chunk.n, ALL, object)
        if chunk.region is not None:
            no_region.add(region == "", chunk.first_row)
        region_parts.append(regions.encode(region))
        if chunk.field is not None:
            field_parts.append(fields.encode(chunk.field))
        pheno_parts.append(masks)
        decided_parts.append(decided)
        denom_parts.append(denom)
        denom_known_parts.append(denom_known)
        class_parts.append(_classes(definitions, names, masks, decided))
        if chunk.x is not None:
            xs.append(chunk.x.astype(np.float32))
            ys.append(chunk.y.astype(np.float32))
            no_xy.add(np.isnan(chunk.x) | np.isnan(chunk.y), chunk.first_row)
        if chunk.area is not None:
            field_labels = chunk.field if chunk.field is not None else np.full(chunk.n, "", object)
            frame = pd.DataFrame({"f": field_labels, "r": region, "a": chunk.area}).dropna()
            for (f, r), a in frame.groupby(["f", "r"], sort=False)["a"].first().items():
                areas.setdefault((str(f), str(r)), float(a))
    log.info("%s: %d cells", path, n_cells)
    if n_cells == 0:
        excluded.add(
            "sample",
            sample_id,
            "the cell table has a header but no cells: no fractions, left out of the paired tests",
            **ids,
        )
    if no_region.n:
        excluded.add(
            "cells",
            f"{sample_id}: {no_region.n} of {n_cells} cells",
            f"no {layout.region!r} (outside every region): counted in region 'all' only; "
            + no_region.text(),
            **ids,
        )
    for name, rows in undecided.items():
        if rows.n:
            excluded.add(
                "cells",
                f"{sample_id}: {rows.n} of {n_cells} cells",
                f"phenotype {name!r} undecided (a marker value is missing; mihc.missing: "
                f"exclude): left out of its n_cells and n_total; {rows.text()}",
                **ids,
            )
    region_code = _concat(region_parts, np.int32)
    masks = _concat(pheno_parts, bool, (0, len(names)))
    decided = _concat(decided_parts, bool, (0, len(names)))
    denom = _concat(denom_parts, bool) & _concat(denom_known_parts, bool)
    denom_unknown = ~_concat(denom_known_parts, bool)
    classes = _concat(class_parts, np.int16)
    counts = _counts(
        definitions,
        names,
        regions.labels,
        region_code,
        masks,
        decided,
        denom,
        denom_unknown,
        classes,
        areas,
    )

    spatial = pd.DataFrame(columns=SPATIAL_COLUMNS)
    points = pd.DataFrame({"x": [], "y": [], "label": [], "compartment": []})
    margin_rows = pd.DataFrame(columns=spatial_lib.MARGIN_COLUMNS)
    neighbourhood = pd.DataFrame(columns=spatial_lib.NEIGHBOUR_COLUMNS)
    cross_k = pd.DataFrame(columns=spatial_lib.CROSS_K_COLUMNS)
    knn = pd.DataFrame(columns=[*definitions.composition, OTHER])
    cells = None
    if xs and n_cells:
        if no_xy.n:
            excluded.add(
                "cells",
                f"{sample_id}: {no_xy.n} of {n_cells} cells",
                "no coordinates: counted in fractions, left out of distances and plots; "
                + no_xy.text(),
                **ids,
            )
        x, y = np.concatenate(xs), np.concatenate(ys)
        field_code = np.concatenate(field_parts) if field_parts else np.zeros(n_cells, np.int32)
        if definitions.tumour is not None:
            radius = float(settings.get("within_um", 30.0))
            spatial = _spatial(
                definitions,
                names,
                regions.labels,
                region_code,
                field_code,
                x,
                y,
                masks & decided,
                radius,
            )
        positive = masks & decided
        compartment = np.full(n_cells, -1, dtype=np.int8)
        border = np.full(n_cells, np.nan)
        if definitions.tumour is not None:
            region_settings = settings["tumour_region"]
            margin = spatial_lib.margin_compartments(
                x,
                y,
                field_code,
                positive[:, names.index(definitions.tumour)],
                float(settings["margin_um"]),
                float(region_settings["radius_um"]),
                float(region_settings["min_fraction"]),
                float(region_settings["grid_um"]),
            )
            compartment, border = margin.compartment, margin.border_distance
            margin_rows = spatial_lib.margin_table(margin, names, positive)
            log.info("%s: compartment areas (mm²) %s", path, margin.area_mm2)
        neighbours = settings["neighbourhood"]
        neighbourhood, cross_k = spatial_lib.neighbourhood_and_k(
            x,
            y,
            field_code,
            names,
            positive,
            regions.labels,
            region_code,
            neighbours["radii_um"],
            int(neighbours["permutations"]),
            int(neighbours["max_cells"]),
            int(neighbours["seed"]),
        )
        windows = settings["cellular_neighbourhoods"]
        class_names = [*definitions.composition, OTHER]
        _, composition = spatial_lib.knn_composition(
            x,
            y,
            field_code,
            classes,
            len(class_names),
            int(windows["k"]),
            int(windows["max_cells"]),
            int(windows["seed"]),
        )
        knn = pd.DataFrame(composition, columns=class_names)
        points = _points(definitions, x, y, classes, field_code, max_points, compartment)
        if keep_cells:
            cells = _cells(definitions, names, x, y, regions.labels, region_code, field_code)
            cells = cells.assign(**_cell_columns(definitions, names, positive, classes))
            cells["compartment"] = _compartment_labels(compartment)
            cells["border_distance_um"] = border
            cells = cells[~np.isnan(x) & ~np.isnan(y)].reset_index(drop=True)
    return SampleSummary(
        counts, spatial, points, excluded.table(), margin_rows, neighbourhood, cells, cross_k, knn
    )


def _concat(parts: list[np.ndarray], dtype, empty_shape=(0,)) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(empty_shape, dtype=dtype)


def _classes(definitions, names, masks, decided) -> np.ndarray:
    """Composition class per cell: the first listed phenotype that holds, else `other`.

    A cell whose earlier phenotypes a missing value leaves open is `undecided` (code n + 1).
    """
    n_classes = len(definitions.composition)
    classes = np.full(len(masks), n_classes, dtype=np.int16)
    assigned = np.zeros(len(masks), dtype=bool)
    blocked = np.zeros(len(masks), dtype=bool)
    for k, name in enumerate(definitions.composition):
        j = names.index(name)
        hit = ~assigned & ~blocked & masks[:, j] & decided[:, j]
        classes[hit] = k
        assigned |= hit
        blocked |= ~assigned & ~decided[:, j]
    classes[blocked & ~assigned] = n_classes + 1
    return classes


def _region_groups(region_labels: list[str], region_code: np.ndarray):
    """(label, mask) for every region plus `all`; `all` alone when the table has no regions."""
    yield ALL, np.ones(len(region_code), dtype=bool)
    for code, label in enumerate(region_labels):
        if label not in (ALL, ""):
            yield label, region_code == code


def _counts(
    definitions,
    names,
    region_labels,
    region_code,
    masks,
    decided,
    denom,
    denom_unknown,
    classes,
    areas,
):
    area_by_region: dict[str, float] = {}
    for (_, r), a in areas.items():
        if r:
            area_by_region[r] = area_by_region.get(r, 0.0) + a
    rows = []
    n_classes = len(definitions.composition)
    for label, in_region in _region_groups(region_labels, region_code):
        if label == ALL:
            area = sum(area_by_region.values()) if area_by_region else np.nan
        else:
            area = area_by_region.get(label, np.nan)
        keep = denom & in_region
        n_unknown_denom = int(np.count_nonzero(denom_unknown & in_region))
        # A phenotype's n counts only the cells it is decided for (missing: exclude).
        n_total = np.count_nonzero(decided & keep[:, None], axis=0)
        n_by_phenotype = np.count_nonzero(masks & decided & keep[:, None], axis=0)
        n_undecided = np.count_nonzero(~decided & keep[:, None], axis=0) + n_unknown_denom
        for j, name in enumerate(names):
            row = ("phenotype", label, name, int(n_by_phenotype[j]), int(n_total[j]))
            rows.append((*row, int(n_undecided[j]), area))
        counted = classes[keep]
        class_counts = np.bincount(counted, minlength=n_classes + 2)
        n_open = int(class_counts[n_classes + 1]) + n_unknown_denom
        n_decided = int(len(counted) - class_counts[n_classes + 1])
        for name, n in zip([*definitions.composition, OTHER], class_counts, strict=False):
            rows.append(("composition", label, name, int(n), n_decided, n_open, area))
    return pd.DataFrame(rows, columns=COUNT_COLUMNS)


def nearest_distances(
    x: np.ndarray, y: np.ndarray, field_code: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """Distance from every cell to the nearest target cell of the same field.

    Parameters
    ----------
    x, y
        Cell coordinates (µm); NaN for cells without coordinates (never a target, never
        measured).
    field_code
        Integer code of each cell's image; cells of different images are never neighbours.
    targets
        Boolean mask of the target (tumour) cells.

    Returns
    -------
    numpy.ndarray
        The distance per cell (µm), NaN where its field has no placed target.
    """
    from scipy.spatial import cKDTree

    distances = np.full(len(x), np.nan)
    placed = ~np.isnan(x) & ~np.isnan(y)  # cells without coordinates are neither end
    for code in np.unique(field_code):
        in_field = (field_code == code) & placed
        target_xy = np.column_stack([x[in_field & targets], y[in_field & targets]])
        if len(target_xy) == 0:
            continue
        tree = cKDTree(target_xy, balanced_tree=False, compact_nodes=False)  # faster build
        # A target's nearest target is itself (distance 0): only the others need the query.
        others = in_field & ~targets
        query = np.column_stack([x[others], y[others]]).astype(float)
        distances[others] = tree.query(query, k=1)[0]
        distances[in_field & targets] = 0.0
    return distances


def _spatial(definitions, names, region_labels, region_code, field_code, x, y, masks, radius):
    tumour = masks[:, names.index(definitions.tumour)]
    distances = nearest_distances(x, y, field_code, tumour)
    finite = ~np.isnan(distances) & ~np.isnan(x) & ~np.isnan(y)
    rows = []
    for label, in_region in _region_groups(region_labels, region_code):
        n_tumour = int(np.count_nonzero(tumour & in_region))
        for j, name in enumerate(names):
            if name == definitions.tumour:
                continue
            d = distances[masks[:, j] & in_region & finite]
            rows.append(
                (
                    label,
                    name,
                    len(d),
                    n_tumour,
                    float(np.median(d)) if len(d) else np.nan,
                    float(np.mean(d <= radius)) if len(d) else np.nan,
                    radius,
                )
            )
    return pd.DataFrame(rows, columns=SPATIAL_COLUMNS)


def _class_labels(definitions, classes):
    return np.array([*definitions.composition, OTHER, UNDECIDED], dtype=object)[classes]


def _compartment_labels(compartment):
    """Compartment name per cell ("" where none: no tumour phenotype, or no coordinates)."""
    names = np.array([*spatial_lib.COMPARTMENTS, ""], dtype=object)
    return names[np.where(compartment < 0, len(spatial_lib.COMPARTMENTS), compartment)]


def _points(definitions, x, y, classes, field_code, max_points, compartment):
    """Cells of the first field, thinned deterministically, labelled by composition class."""
    first = (field_code == field_code[0]) & ~np.isnan(x) & ~np.isnan(y)
    index = np.flatnonzero(first)
    if len(index) > max_points:
        index = np.sort(np.random.default_rng(0).choice(index, max_points, replace=False))
    labels = _class_labels(definitions, classes[index])
    compartments = _compartment_labels(compartment[index])
    return pd.DataFrame(
        {"x": x[index], "y": y[index], "label": labels, "compartment": compartments}
    )


def _cells(definitions, names, x, y, region_labels, region_code, field_code):
    """One row per cell: coordinates (µm), region and image."""
    regions = np.array(region_labels or [ALL], dtype=object)
    return pd.DataFrame(
        {
            "x_um": x.astype(float),
            "y_um": y.astype(float),
            "region": regions[region_code] if len(region_labels) else ALL,
            "field": field_code.astype(int),
        }
    )


def _cell_columns(definitions, names, positive, classes):
    """Per-cell phenotype calls (True = positive and decided) and composition class."""
    columns = {name: positive[:, j] for j, name in enumerate(names)}
    columns["class"] = _class_labels(definitions, classes)
    return columns
