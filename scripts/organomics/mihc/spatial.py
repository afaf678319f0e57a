"""Tumour margin compartments (raster of tumour dominance) and neighbourhood counts (cKDTree)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from organomics.stats import TIE_RTOL

# SciPy's ndimage and spatial are imported in the functions that use them, not here: the
# Snakefile imports this module at parse time, in every run and cluster job
# (tests/test_parse_time.py)
if TYPE_CHECKING:
    from scipy.spatial import cKDTree

log = logging.getLogger(__name__)

CORE, MARGIN, STROMA = "core", "margin", "stroma"
COMPARTMENTS = (CORE, MARGIN, STROMA)
MAX_PIXELS = 40_000_000  # a field's raster is coarsened beyond this (bounded memory)
MARGIN_COLUMNS = [
    "compartment",
    "phenotype",
    "n_cells",
    "n_total",
    "area_mm2",
    "density_per_mm2",
    "fraction",
]
NEIGHBOUR_COLUMNS = [
    "region",
    "from_phenotype",
    "to_phenotype",
    "radius_um",
    "n_from",
    "mean_neighbours",
    "expected_neighbours",
    "log2_ratio",
    "p_value",
    "n_to",
    "n_permutations",
    "permuted_cells",
    "test",
]
CROSS_K_COLUMNS = [
    "region",
    "from_phenotype",
    "to_phenotype",
    "radius_um",
    "n_from",
    "n_to",
    "k_function",
    "l_function",
    "expected_l",
    "l_difference",
    "p_value",
    "n_permutations",
    "permuted_cells",
    "window_mm2",
    "correction",
]
CROSS_K_CORRECTION = "Ripley isotropic, window = bounding rectangle of each image's cells"
PERMUTATION_BATCH = 4_000_000  # labels or pair codes per stack of relabellings (memory)
MAX_RIPLEY_WEIGHT = 100.0  # as spatstat's edge.Ripley(maxweight = 100)
PERMUTATION_TEST = "random relabelling of phenotypes within the {scope}, two-sided"


@dataclass
class Margin:
    """Compartment of every cell and the tissue area of each compartment."""

    compartment: np.ndarray  # int8 code into COMPARTMENTS per cell, -1 without coordinates
    border_distance: np.ndarray  # µm to the tumour border, > 0 inside the tumour region
    area_mm2: dict[str, float]  # tissue area per compartment


def margin_compartments(
    x: np.ndarray,
    y: np.ndarray,
    field_code: np.ndarray,
    tumour: np.ndarray,
    margin_um: float,
    radius_um: float,
    min_fraction: float,
    grid_um: float,
) -> Margin:
    """Tumour core, invasive margin and stroma of every cell, from tumour-cell geometry.

    Each field is rasterised on a square grid of `grid_um`. A grid point is tissue when a cell
    lies within `radius_um` of it, and tumour when tumour cells make up at least `min_fraction`
    of those cells (tumour cells dominate the neighbourhood). The tumour border is the boundary
    of the tumour pixels; the distance of a pixel to it is the Euclidean distance transform to
    the nearest pixel of the other class (stroma tissue for tumour pixels, tumour for stroma
    pixels) less half a pixel. Tumour or stroma patches smaller than the disk of `radius_um`
    (counting noise) take the class around them. A cell takes its pixel's class and distance:
    margin within `margin_um` of the border on either side, else core (tumour side) or stroma.
    Areas are tissue pixels per compartment times grid_um². Cells are binned to pixel
    centres, so distances and areas are exact to about one grid step.

    Parameters
    ----------
    x, y
        Cell coordinates (µm), NaN for cells without coordinates.
    field_code
        Integer image code per cell; each image is its own raster.
    tumour
        Boolean mask of tumour cells.
    margin_um, radius_um, min_fraction, grid_um
        Half-width of the margin band, the neighbourhood radius and tumour share that make a
        point tumour, the raster step (config mihc.margin_um and mihc.tumour_region).

    Returns
    -------
    Margin
        Compartment code (index into `COMPARTMENTS`, -1 without coordinates) and signed border
        distance per cell (NaN for a field without tumour or stroma), tissue area per
        compartment in mm².
    """
    n = len(x)
    compartment = np.full(n, -1, dtype=np.int8)
    distance = np.full(n, np.nan)
    area = dict.fromkeys(COMPARTMENTS, 0.0)
    placed = ~np.isnan(x) & ~np.isnan(y)
    for code in np.unique(field_code):
        cells = np.flatnonzero((field_code == code) & placed)
        if len(cells) == 0:
            continue
        comp, dist, pixels, step = _field_margin(
            x[cells], y[cells], tumour[cells], margin_um, radius_um, min_fraction, grid_um
        )
        compartment[cells], distance[cells] = comp, dist
        for k, name in enumerate(COMPARTMENTS):
            area[name] += pixels[k] * step * step / 1e6
    return Margin(compartment, distance, area)


def _disk_offsets(radius_px: float) -> list[tuple[int, int]]:
    """(row offset, half-width) of the pixel rows of a disk: dx² + dy² <= radius²."""
    half = int(np.floor(radius_px))
    limit = radius_px**2 * (1 + TIE_RTOL)  # a pixel exactly at the radius is inside
    return [
        (dx, int(np.floor(np.sqrt(max(limit - dx * dx, 0.0))))) for dx in range(-half, half + 1)
    ]


def _disk_sum(counts: np.ndarray, radius_px: float) -> np.ndarray:
    """Sum of `counts` over the disk around every pixel: exact integers from row prefix sums."""
    offsets = _disk_offsets(radius_px)
    half = offsets[-1][0]
    nx, ny = counts.shape
    padded = np.pad(counts.astype(np.int32), half)
    prefix = np.zeros((nx + 2 * half, ny + 2 * half + 1), dtype=np.int32)
    np.cumsum(padded, axis=1, out=prefix[:, 1:])
    total = np.zeros((nx, ny), dtype=np.int32)
    for dx, width in offsets:
        rows = prefix[half + dx : half + dx + nx]
        total += rows[:, half + width + 1 : half + width + 1 + ny]
        total -= rows[:, half - width : half - width + ny]
    return total


def _disk_pixels(radius_px: float) -> int:
    return sum(2 * width + 1 for _, width in _disk_offsets(radius_px))


def _field_margin(x, y, tumour, margin_um, radius_um, min_fraction, grid_um):
    step = float(grid_um)
    pad = radius_um + step
    x0, y0 = x.min() - pad, y.min() - pad
    shape = (
        int((x.max() + pad - x0) // step) + 1,
        int((y.max() + pad - y0) // step) + 1,
    )
    while shape[0] * shape[1] > MAX_PIXELS:  # bounded memory on huge or mis-scaled fields
        step *= 2
        shape = (int((x.max() + pad - x0) // step) + 1, int((y.max() + pad - y0) // step) + 1)
        log.warning("margin raster coarsened to %g µm (field %.0f µm wide)", step, x.ptp())
    ix = ((x - x0) // step).astype(np.int64)
    iy = ((y - y0) // step).astype(np.int64)
    flat = ix * shape[1] + iy
    size = shape[0] * shape[1]
    cells = np.bincount(flat, minlength=size).reshape(shape)
    tumours = np.bincount(flat[tumour], minlength=size).reshape(shape)
    near = _disk_sum(cells, radius_um / step)
    near_tumour = _disk_sum(tumours, radius_um / step)
    tissue = near > 0
    # share >= min_fraction, with the branch's tie tolerance at the boundary
    is_tumour = tissue & (near_tumour > 0)
    is_tumour &= near_tumour - min_fraction * near >= -TIE_RTOL * np.maximum(near, 1.0)
    # Patches smaller than the neighbourhood disk are counting noise, not tissue structure: a
    # stroma speck inside a tumour nest would otherwise put a false border (and margin) there.
    min_pixels = _disk_pixels(radius_um / step)
    is_tumour = _drop_specks(is_tumour, tissue, min_pixels)
    is_tumour = ~_drop_specks(~is_tumour & tissue, tissue, min_pixels) & tissue
    is_stroma = tissue & ~is_tumour
    # Border pixels: tumour pixels with a stroma pixel beside them (4-neighbours); the border
    # itself runs half a pixel outside their centres.
    border = np.zeros(shape, dtype=bool)
    border[1:] |= is_tumour[1:] & is_stroma[:-1]
    border[:-1] |= is_tumour[:-1] & is_stroma[1:]
    border[:, 1:] |= is_tumour[:, 1:] & is_stroma[:, :-1]
    border[:, :-1] |= is_tumour[:, :-1] & is_stroma[:, 1:]
    if border.any():
        from scipy import ndimage

        to_border = ndimage.distance_transform_edt(~border).astype(np.float32) * step
        dist = np.where(is_tumour, to_border + step / 2, -(to_border - step / 2))
    else:  # all tumour (core) or all stroma: no border in this image
        dist = np.where(is_tumour, np.inf, -np.inf)
    in_margin = np.abs(dist) - margin_um <= TIE_RTOL * max(margin_um, 1.0)
    code = np.where(in_margin, 1, np.where(is_tumour, 0, 2)).astype(np.int8)
    pixels = [int(np.count_nonzero(tissue & (code == k))) for k in range(3)]
    cell_dist = dist[ix, iy]
    cell_dist = np.where(np.isfinite(cell_dist), cell_dist, np.nan)
    return code[ix, iy], cell_dist, pixels, step


def _drop_specks(mask: np.ndarray, tissue: np.ndarray, min_pixels: float) -> np.ndarray:
    """`mask` without its connected patches (8-connected) of fewer than `min_pixels` pixels."""
    from scipy import ndimage

    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_pixels
    keep[0] = False
    return keep[labels] & tissue


def margin_table(margin: Margin, names: Sequence[str], masks: np.ndarray) -> pd.DataFrame:
    """Cells, densities and fractions of each phenotype per compartment.

    Parameters
    ----------
    margin
        `margin_compartments` of the sample.
    names
        Phenotype names, the columns of `masks`.
    masks
        Cells × phenotypes, True where the cell is (decidedly) of the phenotype.

    Returns
    -------
    pandas.DataFrame
        `MARGIN_COLUMNS`: one row per compartment and phenotype; n_total is the compartment's
        placed cells, density_per_mm2 = n_cells / area_mm2 (NaN without area), fraction =
        n_cells / n_total.
    """
    rows = []
    for k, compartment in enumerate(COMPARTMENTS):
        inside = margin.compartment == k
        n_total = int(np.count_nonzero(inside))
        area = margin.area_mm2[compartment]
        for j, name in enumerate(names):
            n_cells = int(np.count_nonzero(masks[:, j] & inside))
            rows.append(
                (
                    compartment,
                    name,
                    n_cells,
                    n_total,
                    area,
                    n_cells / area if area > 0 else np.nan,
                    n_cells / n_total if n_total else np.nan,
                )
            )
    return pd.DataFrame(rows, columns=MARGIN_COLUMNS)


def pair_counts(
    x: np.ndarray,
    y: np.ndarray,
    field_code: np.ndarray,
    codes: np.ndarray,
    n_codes: int,
    radii: Sequence[float],
) -> np.ndarray:
    """Ordered neighbour pairs between cell classes at each radius, a cell never its own.

    One cKDTree per class and field; `cKDTree.count_neighbors` counts pairs at distance <= r
    at all radii in one dual-tree pass without listing them, so memory stays flat.

    Parameters
    ----------
    x, y
        Placed cell coordinates (µm).
    field_code
        Image code per cell; cells of different images are never neighbours.
    codes
        Class code per cell, 0 .. n_codes - 1.
    n_codes
        Number of classes.
    radii
        Radii (µm), increasing.

    Returns
    -------
    numpy.ndarray
        counts[r, p, q]: ordered pairs (i, j), i != j, i of class p, j of class q, at distance
        <= radii[r] (symmetric in p, q).
    """
    radii = np.asarray(radii, dtype=float)
    counts = np.zeros((len(radii), n_codes, n_codes), dtype=np.int64)
    for field in np.unique(field_code):
        in_field = field_code == field
        field_codes = codes[in_field]
        order = np.argsort(field_codes, kind="stable")
        bounds = np.cumsum(np.bincount(field_codes, minlength=n_codes))
        fx, fy = x[in_field][order], y[in_field][order]
        trees = {}
        for code in np.flatnonzero(np.bincount(field_codes, minlength=n_codes)):
            start = bounds[code - 1] if code else 0
            trees[int(code)] = _tree(fx[start : bounds[code]], fy[start : bounds[code]])
        keys = sorted(trees)
        for a_index, a in enumerate(keys):
            for b in keys[a_index:]:
                found = np.asarray(trees[a].count_neighbors(trees[b], radii), dtype=np.int64)
                if a == b:
                    found = found - trees[a].n  # each cell pairs with itself at distance 0
                    counts[:, a, a] += found
                else:
                    counts[:, a, b] += found
                    counts[:, b, a] += found
    return counts


def pair_list(
    x: np.ndarray, y: np.ndarray, field_code: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every unordered pair of cells of one image within `radius`, with its distance.

    Parameters
    ----------
    x, y
        Placed cell coordinates (µm).
    field_code
        Image code per cell; pairs never cross images.
    radius
        The largest distance (µm) kept.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        First and second cell index (int32, first < second) and distance (µm).
    """
    firsts, seconds = [], []
    for field in np.unique(field_code):
        index = np.flatnonzero(field_code == field)
        tree = _tree(x[index], y[index])
        pairs = tree.query_pairs(radius, output_type="ndarray")
        firsts.append(index[pairs[:, 0]].astype(np.int32))
        seconds.append(index[pairs[:, 1]].astype(np.int32))
    first = np.concatenate(firsts) if firsts else np.zeros(0, np.int32)
    second = np.concatenate(seconds) if seconds else np.zeros(0, np.int32)
    distance = np.hypot(x[first] - x[second], y[first] - y[second])
    return first, second, distance


def _patterns(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of `masks` and each cell's row code (bit-packed, no row sort)."""
    n_names = masks.shape[1]
    if n_names > 62:  # bit-packing holds 62 phenotypes; beyond, sort the rows
        patterns, pattern = np.unique(masks, axis=0, return_inverse=True)
        return patterns, pattern.reshape(-1).astype(np.int64)
    packed = masks.astype(np.int64) @ (np.int64(1) << np.arange(n_names, dtype=np.int64))
    values, pattern = np.unique(packed, return_inverse=True)
    patterns = ((values[:, None] >> np.arange(n_names)) & 1).astype(bool)
    return patterns, pattern.reshape(-1).astype(np.int64)


def _tree(x: np.ndarray, y: np.ndarray) -> cKDTree:
    """A cKDTree of points; the unbalanced, uncompacted build is several times faster here."""
    from scipy.spatial import cKDTree

    return cKDTree(np.column_stack([x, y]), balanced_tree=False, compact_nodes=False)


def _phenotype_counts(code_counts: np.ndarray, patterns: np.ndarray) -> np.ndarray:
    """counts[r, a, b] between phenotypes from counts between mask patterns (rows of patterns)."""
    weights = patterns.astype(np.int64)
    return np.einsum("pa,rpq,qb->rab", weights, code_counts, weights)


def _expected(total_pairs, n, masks_count, overlap):
    """Ordered (a, b) pairs expected when phenotype labels are permuted among the n cells."""
    if n < 2:
        return np.zeros((len(total_pairs), *overlap.shape))
    joint = (np.outer(masks_count, masks_count) - overlap) / (n * (n - 1.0))
    return total_pairs[:, None, None] * joint[None, :, :]


def neighbourhood(*args, **kwargs) -> pd.DataFrame:
    """The neighbourhood table of `neighbourhood_and_k` alone.

    Parameters
    ----------
    *args, **kwargs
        As `neighbourhood_and_k`.

    Returns
    -------
    pandas.DataFrame
        `NEIGHBOUR_COLUMNS`.
    """
    return neighbourhood_and_k(*args, **kwargs)[0]


def neighbourhood_and_k(
    x: np.ndarray,
    y: np.ndarray,
    field_code: np.ndarray,
    names: Sequence[str],
    masks: np.ndarray,
    region_labels: Sequence[str],
    region_code: np.ndarray,
    radii: Sequence[float],
    permutations: int,
    max_cells: int,
    seed: int,
) -> pd.DataFrame:
    """Mean neighbours of every ordered phenotype pair, against random relabelling.

    For each `from` phenotype a and `to` phenotype b: mean_neighbours is the mean over a-cells
    of the number of other b-cells within radius (a cell is never its own neighbour; a cell of
    both phenotypes counts for both). expected_neighbours is its exact mean when the phenotype
    labels (each cell's row of `masks`) are permuted among the placed cells of the sample (or
    region): D (n_a n_b - n_ab) / (n (n - 1)) / n_a, D the ordered neighbour pairs, n_ab the
    cells of both. log2_ratio = log2((O + 1) / (E + 1)) on the totals O = n_a mean, E = n_a
    expected: one pseudo-pair keeps empty pairs finite. p_value: the same relabelling done
    `permutations` times, two-sided on |count - expected|, (1 + k) / (1 + B). Above `max_cells`
    placed cells, the permutations run on a random subset of `max_cells` cells (independent
    thinning keeps the random-labelling null), with that subset's own expectation.

    Parameters
    ----------
    x, y, field_code
        Cell coordinates (µm, NaN without) and image code.
    names, masks
        Phenotype names and cells × phenotypes mask (decided and positive).
    region_labels, region_code
        Region names and code per cell; rows for region `all` and each named region (pairs
        and relabelling within the region).
    radii, permutations, max_cells, seed
        config mihc.neighbourhood.

    The cross-type K function of the same (possibly thinned: K does not change under
    independent thinning) cells is K_ab(r) = |W| / (n_a n_b) sum over a-cells i and other
    b-cells j within r of e_ij, e_ij Ripley's isotropic edge correction for the circle around
    i through j in i's image window (the bounding rectangle of the image's cells; |W| their
    summed area), as spatstat's Kcross(correction = "isotropic") for one image. L = sqrt(K /
    pi); expected_l is L of K's exact mean under the same relabelling, l_difference = L -
    expected_l (> 0: b-cells closer to a-cells than by chance), p_value from the same
    permutations on the weighted counts.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        `NEIGHBOUR_COLUMNS`, one row per region, ordered phenotype pair and radius; and
        `CROSS_K_COLUMNS`, one row per ordered phenotype pair and radius (region ``all``).
    """
    radii = sorted(float(r) for r in radii)
    placed = ~np.isnan(x) & ~np.isnan(y)
    x, y, field_code = x[placed], y[placed], field_code[placed]
    masks, region_code = masks[placed], region_code[placed]
    patterns, pattern = _patterns(masks)
    groups = [("all", np.ones(len(x), bool), None)]
    named = [(k, label) for k, label in enumerate(region_labels) if label not in ("all", "")]
    for k, label in named:
        groups.append((label, region_code == k, k))
    n_patterns = len(patterns)
    n_regions = max(len(region_labels), 1)
    # One dual-tree pass over (region, pattern) classes gives every group's counts.
    combined = region_code.astype(np.int64) * n_patterns + pattern
    counts = pair_counts(x, y, field_code, combined, n_regions * n_patterns, radii)
    counts = counts.reshape(len(radii), n_regions, n_patterns, n_regions, n_patterns)
    subset = np.arange(len(x))
    if len(x) > max_cells:
        subset = np.sort(np.random.default_rng(seed).choice(len(x), max_cells, replace=False))
        log.info("neighbourhood permutations on %d of %d cells", max_cells, len(x))
    first, second, distance = pair_list(x[subset], y[subset], field_code[subset], radii[-1])
    within = [distance <= r * (1 + TIE_RTOL) for r in radii]
    rows = []
    for label, members, k in groups:
        if k is None:
            block = counts.sum(axis=(1, 3))
        else:
            block = counts[:, k, :, k, :]
        observed = _phenotype_counts(block, patterns)
        n = int(members.sum())
        n_each = masks[members].sum(axis=0).astype(float)
        overlap = masks[members].T.astype(float) @ masks[members].astype(float)
        expected = _expected(block.sum(axis=(1, 2)).astype(float), n, n_each, overlap)
        _, _, p_values = _permutation_p(
            pattern[subset],
            patterns,
            members[subset],
            first,
            second,
            within,
            permutations,
            seed,
        )
        if k is None:
            cross_k = _cross_k(
                x[subset],
                y[subset],
                field_code[subset],
                _boxes(x, y, field_code),
                names,
                pattern[subset],
                patterns,
                (first, second, distance, within),
                radii,
                permutations,
                seed,
            )
        scope = "sample" if k is None else "region"
        for a, from_name in enumerate(names):
            for b, to_name in enumerate(names):
                for r, radius in enumerate(radii):
                    n_from = int(n_each[a])
                    obs, exp = float(observed[r, a, b]), float(expected[r, a, b])
                    rows.append(
                        (
                            label,
                            from_name,
                            to_name,
                            radius,
                            n_from,
                            obs / n_from if n_from else np.nan,
                            exp / n_from if n_from else np.nan,
                            np.log2((obs + 1) / (exp + 1)) if n_from else np.nan,
                            p_values[r, a, b] if n_from else np.nan,
                            int(n_each[b]),
                            permutations,
                            int(members[subset].sum()),
                            PERMUTATION_TEST.format(scope=scope),
                        )
                    )
    return pd.DataFrame(rows, columns=NEIGHBOUR_COLUMNS), cross_k


def _boxes(x, y, field_code) -> dict[int, tuple[float, float, float, float]]:
    """Each image's window: the bounding rectangle of its placed cells."""
    boxes = {}
    for field in np.unique(field_code):
        chosen = field_code == field
        boxes[int(field)] = (x[chosen].min(), x[chosen].max(), y[chosen].min(), y[chosen].max())
    return boxes


def _cross_k(x, y, field_code, boxes, names, pattern, patterns, pairs, radii, permutations, seed):
    """Cross-type K and L functions with Ripley's isotropic correction (see `neighbourhood`)."""
    first, second, distance, within = pairs
    box = np.array([boxes[int(f)] for f in range(max(boxes) + 1)] if boxes else np.zeros((0, 4)))
    forward = ripley_weights(x[first], y[first], distance, box[field_code[first]])
    backward = ripley_weights(x[second], y[second], distance, box[field_code[second]])
    members = np.ones(len(x), dtype=bool)
    observed, expected, p_values = _permutation_p(
        pattern, patterns, members, first, second, within, permutations, seed, (forward, backward)
    )
    area = sum((b[1] - b[0]) * (b[3] - b[2]) for b in boxes.values())
    n_each = patterns[pattern].sum(axis=0).astype(float)
    rows = []
    for a, from_name in enumerate(names):
        for b, to_name in enumerate(names):
            counted = n_each[a] and n_each[b] and area > 0  # K needs both types and a window
            scale = area / (n_each[a] * n_each[b]) if counted else np.nan
            for r, radius in enumerate(radii):
                k_value = observed[r, a, b] * scale
                k_expected = expected[r, a, b] * scale
                l_value, l_expected = np.sqrt(k_value / np.pi), np.sqrt(k_expected / np.pi)
                rows.append(
                    (
                        "all",
                        from_name,
                        to_name,
                        radius,
                        int(n_each[a]),
                        int(n_each[b]),
                        k_value,
                        l_value,
                        l_expected,
                        l_value - l_expected,
                        p_values[r, a, b] if np.isfinite(scale) else np.nan,
                        permutations,
                        len(x),
                        round(area / 1e6, 6),
                        CROSS_K_CORRECTION,
                    )
                )
    return pd.DataFrame(rows, columns=CROSS_K_COLUMNS)


def _permutation_p(
    pattern, patterns, members, first, second, within, permutations, seed, weights=None
):
    """Observed and expected counts of every phenotype pair in one group, and their two-sided
    permutation p; with `weights` (i -> j and j -> i per pair) the counts are weighted sums."""
    n_patterns, n_radii = len(patterns), len(within)
    n_names = patterns.shape[1]
    in_group = members[first] & members[second]
    chosen = [np.flatnonzero(keep & in_group) for keep in within]
    pair_sets = [(first[c], second[c]) for c in chosen]
    if weights is None:
        totals = np.array([2.0 * len(c) for c in chosen])
    else:
        pair_weights = [(weights[0][c], weights[1][c]) for c in chosen]
        totals = np.array([w.sum() + v.sum() for w, v in pair_weights])
    index = np.flatnonzero(members)
    n = len(index)
    n_each = patterns[pattern[index]].sum(axis=0).astype(float)
    overlap = patterns[pattern[index]].T.astype(float) @ patterns[pattern[index]].astype(float)
    expected = _expected(totals, n, n_each, overlap)
    size = n_patterns * n_patterns

    def phenotype_counts(stack):
        """counts[m, r, a, b] for a stack of m labellings (rows of `stack`)."""
        m = len(stack)
        offset = (np.arange(m, dtype=np.int64) * size)[:, None]
        out = np.zeros((m, n_radii, n_names, n_names))
        for r, (i, j) in enumerate(pair_sets):
            # np.take gives C-ordered rows (stack[:, i] is Fortran-ordered, so every ravel below
            # copied): ten times faster for the same labels.
            left = np.take(stack, i, axis=1).astype(np.int64, copy=False)
            right = np.take(stack, j, axis=1).astype(np.int64, copy=False)
            if weights is not None:
                backward = (offset + right * n_patterns + left).ravel()
            # in place: left is a fresh gathered copy, and the temporaries were most of the time
            left *= n_patterns
            left += right
            left += offset
            forward = left.ravel()
            if weights is None:
                half = np.bincount(forward, minlength=m * size).reshape(m, n_patterns, n_patterns)
                ordered = half + half.transpose(0, 2, 1)
            else:
                ordered = np.bincount(forward, np.tile(pair_weights[r][0], m), minlength=m * size)
                ordered += np.bincount(backward, np.tile(pair_weights[r][1], m), m * size)
                ordered = ordered.reshape(m, n_patterns, n_patterns)
            weights_ab = patterns.astype(np.int64)
            out[:, r] = np.einsum("pa,mpq,qb->mab", weights_ab, ordered, weights_ab)
        return out

    observed = phenotype_counts(pattern[None])[0]
    deviation = np.abs(observed - expected)
    tolerance = TIE_RTOL * np.maximum(np.abs(expected), 1.0)
    exceed = np.zeros_like(observed)
    rng = np.random.default_rng(seed)
    # Relabellings are counted in stacks (one bincount per radius for the whole stack), the
    # stack sized so that it holds at most PERMUTATION_BATCH labels or pair codes.
    widest = max([len(pattern), *(len(i) for i, _ in pair_sets)])
    batch = max(1, min(permutations, PERMUTATION_BATCH // max(widest, 1)))
    done = 0
    while done < permutations:
        m = min(batch, permutations - done)
        # int64 up front: the pair codes need int64, and converting every radius's gathered
        # labels again cost a quarter of the step's time.
        stack = np.repeat(pattern[None].astype(np.int64), m, axis=0)
        for row in stack:
            row[index] = rng.permutation(pattern[index])
        exceed += (np.abs(phenotype_counts(stack) - expected) >= deviation - tolerance).sum(0)
        done += m
    return observed, expected, (1.0 + exceed) / (1.0 + permutations)


def ripley_weights(
    x: np.ndarray, y: np.ndarray, distance: np.ndarray, box: np.ndarray
) -> np.ndarray:
    """Ripley's isotropic edge correction in a rectangle, as spatstat's edge.Ripley.

    Parameters
    ----------
    x, y
        Centre of each circle (the `from` cell), µm.
    distance
        Radius of each circle (the pair's distance).
    box
        xmin, xmax, ymin, ymax of each circle's window (rows).

    Returns
    -------
    numpy.ndarray
        1 / (fraction of the circle's circumference inside the window), 1 for a zero radius,
        at most `MAX_RIPLEY_WEIGHT` (spatstat's `maxweight`: a circle almost wholly outside a
        degenerate window, e.g. cells on one line).
    """
    left, right = x - box[:, 0], box[:, 1] - x
    down, up = y - box[:, 2], box[:, 3] - y
    radius = np.where(distance > 0, distance, 1.0)

    def half_angle(edge):  # half the arc cut off by an edge closer than the radius
        return np.arccos(np.clip(edge / radius, 0.0, 1.0))

    c_left, c_right, c_down, c_up = (half_angle(e) for e in (left, right, down, up))
    outside = (
        np.minimum(c_left, np.arctan2(up, left))
        + np.minimum(c_left, np.arctan2(down, left))
        + np.minimum(c_right, np.arctan2(up, right))
        + np.minimum(c_right, np.arctan2(down, right))
        + np.minimum(c_up, np.arctan2(left, up))
        + np.minimum(c_up, np.arctan2(right, up))
        + np.minimum(c_down, np.arctan2(left, down))
        + np.minimum(c_down, np.arctan2(right, down))
    )
    inside = np.maximum(1.0 - outside / (2 * np.pi), 1.0 / MAX_RIPLEY_WEIGHT)
    return np.where(distance > 0, 1.0 / inside, 1.0)


def knn_composition(
    x: np.ndarray,
    y: np.ndarray,
    field_code: np.ndarray,
    classes: np.ndarray,
    n_classes: int,
    k: int,
    max_cells: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Class composition of the k nearest cells (the cell itself included) of index cells.

    Parameters
    ----------
    x, y, field_code
        Cell coordinates (µm, NaN without) and image code; neighbours come from the same image.
    classes
        Composition class code of every cell, 0 .. n_classes - 1.
    n_classes
        Number of classes.
    k
        Neighbourhood size (scimap's and Schürch et al.'s window of the k nearest cells).
    max_cells
        Index cells: all placed cells, or a random subset of this many (the abundances are
        fractions, so a subset estimates them without bias).
    seed
        Seed of the subset.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Index cell numbers and their composition (rows sum to 1; fewer than k cells in an
        image: all of them).
    """
    placed = np.flatnonzero(~np.isnan(x) & ~np.isnan(y))
    index = placed
    if len(placed) > max_cells:
        index = np.sort(np.random.default_rng(seed).choice(placed, max_cells, replace=False))
    composition = np.zeros((len(index), n_classes))
    for field in np.unique(field_code[placed]):
        members = placed[field_code[placed] == field]
        queries = np.flatnonzero(field_code[index] == field)
        if len(queries) == 0:
            continue
        size = min(k, len(members))
        tree = _tree(x[members], y[members])
        _, found = tree.query(np.column_stack([x[index[queries]], y[index[queries]]]), k=size)
        found = np.asarray(found).reshape(len(queries), size)
        neighbour_classes = classes[members[found]]
        for c in range(n_classes):
            composition[queries, c] = (neighbour_classes == c).mean(axis=1)
    return index, composition
