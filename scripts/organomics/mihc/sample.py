"""One sample's cell table -> phenotype counts per region, nearest-tumour distances, plot points."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from organomics.errors import InputError
from organomics.mihc import expr
from organomics.mihc.readers import DEFAULT_CHUNKSIZE, Layout, iter_chunks, resolve_layout

log = logging.getLogger(__name__)

ALL = "all"  # the region label of the whole sample
OTHER = "other"  # composition class of cells matching no listed phenotype
COUNT_COLUMNS = ["kind", "region", "name", "n_cells", "n_total", "tissue_area_mm2"]
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


@dataclass
class Phenotypes:
    """Parsed phenotype, denominator and composition definitions of the mihc config block."""

    phenotypes: dict[str, expr.Node]
    denominator: expr.Node | None
    composition: list[str]
    tumour: str | None


def parse_config(settings: Mapping, source: str = "config mihc") -> Phenotypes:
    """Parse every expression against the configured markers; errors name the key and position."""
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


@dataclass
class SampleSummary:
    counts: pd.DataFrame  # COUNT_COLUMNS; kind = phenotype | composition
    spatial: pd.DataFrame  # SPATIAL_COLUMNS
    points: pd.DataFrame  # x, y, label: a deterministic subsample for plots


class _Codes:
    """Stable integer codes for labels seen across chunks."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def encode(self, values: np.ndarray) -> np.ndarray:
        uniques, inverse = np.unique(values.astype(str), return_inverse=True)
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
) -> SampleSummary:
    """Stream one cell table and summarise it; memory grows with cells only by a few bytes each."""
    definitions = parse_config(settings)
    layout = layout or resolve_layout(path, settings)
    names = list(definitions.phenotypes)
    regions, fields = _Codes(), _Codes()
    xs, ys, region_parts, field_parts, class_parts = [], [], [], [], []
    pheno_parts: list[np.ndarray] = []
    denom_parts: list[np.ndarray] = []
    areas: dict[tuple[str, str], float] = {}
    n_cells = 0
    for chunk in iter_chunks(layout, chunksize):
        n_cells += chunk.n
        masks = np.column_stack(
            [expr.evaluate(node, chunk.markers) for node in definitions.phenotypes.values()]
        ).reshape(chunk.n, len(names))
        denom = (
            expr.evaluate(definitions.denominator, chunk.markers)
            if definitions.denominator is not None
            else np.ones(chunk.n, dtype=bool)
        )
        region = chunk.region if chunk.region is not None else np.full(chunk.n, ALL, object)
        region_parts.append(regions.encode(region))
        if chunk.field is not None:
            field_parts.append(fields.encode(chunk.field))
        pheno_parts.append(masks)
        denom_parts.append(denom)
        # First listed phenotype wins, so composition classes never overlap.
        classes = np.full(chunk.n, len(definitions.composition), dtype=np.int16)
        for k in reversed(range(len(definitions.composition))):
            classes[masks[:, names.index(definitions.composition[k])]] = k
        class_parts.append(classes)
        if chunk.x is not None:
            xs.append(chunk.x.astype(np.float32))
            ys.append(chunk.y.astype(np.float32))
        if chunk.area is not None:
            field_labels = chunk.field if chunk.field is not None else np.full(chunk.n, "", object)
            frame = pd.DataFrame({"f": field_labels, "r": region, "a": chunk.area}).dropna()
            for (f, r), a in frame.groupby(["f", "r"], sort=False)["a"].first().items():
                areas.setdefault((str(f), str(r)), float(a))
    if n_cells == 0:
        raise InputError(path, "the cell table has no cells")
    log.info("%s: %d cells read as %s", path, n_cells, layout.format)
    region_code = np.concatenate(region_parts)
    masks = np.concatenate(pheno_parts)
    denom = np.concatenate(denom_parts)
    classes = np.concatenate(class_parts)
    counts = _counts(definitions, names, regions.labels, region_code, masks, denom, classes, areas)

    spatial = pd.DataFrame(columns=SPATIAL_COLUMNS)
    points = pd.DataFrame({"x": [], "y": [], "label": []})
    if xs:
        x, y = np.concatenate(xs), np.concatenate(ys)
        field_code = np.concatenate(field_parts) if field_parts else np.zeros(n_cells, np.int32)
        if definitions.tumour is not None:
            radius = float(settings.get("within_um", 30.0))
            spatial = _spatial(
                definitions, names, regions.labels, region_code, field_code, x, y, masks, radius
            )
        points = _points(definitions, x, y, classes, field_code, max_points)
    return SampleSummary(counts, spatial, points)


def _region_groups(region_labels: list[str], region_code: np.ndarray):
    """(label, mask) for every region plus `all`; `all` alone when the table has no regions."""
    yield ALL, np.ones(len(region_code), dtype=bool)
    for code, label in enumerate(region_labels):
        if label != ALL:
            yield label, region_code == code


def _counts(definitions, names, region_labels, region_code, masks, denom, classes, areas):
    area_by_region: dict[str, float] = {}
    for (_, r), a in areas.items():
        area_by_region[r] = area_by_region.get(r, 0.0) + a
    rows = []
    for label, in_region in _region_groups(region_labels, region_code):
        if label == ALL:
            area = sum(area_by_region.values()) if area_by_region else np.nan
        else:
            area = area_by_region.get(label, np.nan)
        keep = denom & in_region
        n_total = int(np.count_nonzero(keep))
        n_by_phenotype = np.count_nonzero(masks & keep[:, None], axis=0)
        for name, n in zip(names, n_by_phenotype, strict=True):
            rows.append(("phenotype", label, name, int(n), n_total, area))
        class_counts = np.bincount(classes[keep], minlength=len(definitions.composition) + 1)
        for name, n in zip([*definitions.composition, OTHER], class_counts, strict=True):
            rows.append(("composition", label, name, int(n), n_total, area))
    return pd.DataFrame(rows, columns=COUNT_COLUMNS)


def nearest_distances(
    x: np.ndarray, y: np.ndarray, field_code: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """Distance from every cell to the nearest target cell of the same field (NaN when none)."""
    distances = np.full(len(x), np.nan)
    for code in np.unique(field_code):
        in_field = field_code == code
        target_xy = np.column_stack([x[in_field & targets], y[in_field & targets]])
        if len(target_xy) == 0:
            continue
        tree = cKDTree(target_xy)
        query = np.column_stack([x[in_field], y[in_field]]).astype(float)
        distances[in_field] = tree.query(query, k=1)[0]
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


def _points(definitions, x, y, classes, field_code, max_points):
    """Cells of the first field, thinned deterministically, labelled by composition class."""
    first = field_code == field_code[0]
    index = np.flatnonzero(first)
    if len(index) > max_points:
        index = np.sort(np.random.default_rng(0).choice(index, max_points, replace=False))
    labels = np.array([*definitions.composition, OTHER], dtype=object)[classes[index]]
    return pd.DataFrame({"x": x[index], "y": y[index], "label": labels})
