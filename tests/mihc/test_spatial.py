"""Margin compartments and neighbourhood counts against brute-force distance computations."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from organomics.mihc import spatial

DATA = Path(__file__).parent / "data"


def random_cells(seed, n=150, side=200.0, n_fields=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, side, n).round(1)
    y = rng.uniform(0, side, n).round(1)
    field = rng.integers(0, n_fields, n)
    masks = rng.random((n, 3)) < [0.3, 0.4, 0.2]
    return x, y, field, masks


def brute_mean(x, y, field, masks, a, b, radius):
    """Mean over a-cells of the other b-cells within radius: the full distance matrix."""
    xy = np.column_stack([x, y])
    close = cdist(xy, xy) <= radius
    close &= field[:, None] == field[None, :]
    np.fill_diagonal(close, False)  # a cell is not its own neighbour
    counts = close[masks[:, a]][:, masks[:, b]].sum(axis=1)
    return counts.mean(), close.sum()


@pytest.mark.parametrize("seed,n_fields", [(0, 1), (1, 2), (2, 3)])
def test_mean_neighbours_match_brute_force(seed, n_fields):
    x, y, field, masks = random_cells(seed, n_fields=n_fields)
    region = np.zeros(len(x), np.int32)
    table = spatial.neighbourhood(
        x, y, field, ["A", "B", "C"], masks, [], region, [20, 50], 0, 10_000, 0
    )
    n = len(x)
    for a, from_name in enumerate("ABC"):
        for b, to_name in enumerate("ABC"):
            for radius in (20, 50):
                row = table[
                    (table["from_phenotype"] == from_name)
                    & (table["to_phenotype"] == to_name)
                    & (table["radius_um"] == radius)
                ].iloc[0]
                mean, total = brute_mean(x, y, field, masks, a, b, radius)
                assert row["mean_neighbours"] == pytest.approx(mean)
                # expected by hand: D * (n_a n_b - n_ab) / (n (n - 1)) / n_a
                n_a, n_b = masks[:, a].sum(), masks[:, b].sum()
                n_ab = (masks[:, a] & masks[:, b]).sum()
                expected = total * (n_a * n_b - n_ab) / (n * (n - 1)) / n_a
                assert row["expected_neighbours"] == pytest.approx(expected)
                assert row["log2_ratio"] == pytest.approx(
                    np.log2((mean * n_a + 1) / (expected * n_a + 1))
                )


def test_expected_is_the_mean_over_all_relabellings():
    # Tiny pattern: the exact expectation equals the average over every permutation of labels.
    from itertools import permutations

    x = np.array([0.0, 3.0, 0.0, 10.0, 13.0])
    y = np.array([0.0, 4.0, 5.0, 0.0, 0.0])
    masks = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0]], bool)
    field = np.zeros(5, int)
    table = spatial.neighbourhood(x, y, field, ["A", "B"], masks, [], field, [5], 0, 100, 0)
    row = table.query("from_phenotype == 'A' and to_phenotype == 'B'").iloc[0]
    totals = []
    for order in permutations(range(5)):
        relabelled = masks[list(order)]
        mean, _ = brute_mean(x, y, field, relabelled, 0, 1, 5.0)
        totals.append(mean * relabelled[:, 0].sum())
    assert row["expected_neighbours"] * 3 == pytest.approx(np.mean(totals))
    # by hand: A-cell 0 has B-cells 1 and 2 at exactly 5 (3-4-5 triangle; <= counts), A-cell 2
    # has B-cell 1 at 3.2 (not itself), A-cell 4 none: (2 + 1 + 0) / 3
    assert row["mean_neighbours"] == pytest.approx((2 + 1 + 0) / 3)


def test_permutation_p_is_never_zero_and_finds_clustering():
    rng = np.random.default_rng(3)
    # A-cells packed in one corner, B-cells spread: A-A enriched.
    xa, ya = rng.uniform(0, 30, 60), rng.uniform(0, 30, 60)
    xb, yb = rng.uniform(0, 300, 200), rng.uniform(0, 300, 200)
    x, y = np.concatenate([xa, xb]), np.concatenate([ya, yb])
    masks = np.zeros((260, 2), bool)
    masks[:60, 0] = True
    masks[60:, 1] = True
    zeros = np.zeros(260, int)
    table = spatial.neighbourhood(x, y, zeros, ["A", "B"], masks, [], zeros, [20], 99, 10_000, 0)
    aa = table.query("from_phenotype == 'A' and to_phenotype == 'A'").iloc[0]
    assert aa["log2_ratio"] > 1
    assert aa["p_value"] == pytest.approx(1 / 100)  # (1 + 0) / (1 + 99): no relabelling as far
    assert (table["p_value"] > 0).all()


def test_regions_count_pairs_within_the_region():
    x, y, field, masks = random_cells(5, n=120)
    region = (x > 100).astype(np.int32)
    table = spatial.neighbourhood(
        x, y, field, ["A", "B", "C"], masks, ["Tumor", "Stroma"], region, [30], 0, 10_000, 0
    )
    assert set(table["region"]) == {"all", "Tumor", "Stroma"}
    inside = region == 1
    row = table.query("region == 'Stroma' and from_phenotype == 'A' and to_phenotype == 'B'")
    mean, _ = brute_mean(x[inside], y[inside], field[inside], masks[inside], 0, 1, 30)
    assert row["mean_neighbours"].item() == pytest.approx(mean)


def test_thinned_permutations_keep_exact_observed_counts():
    x, y, field, masks = random_cells(7, n=300)
    zeros = np.zeros(300, int)
    full = spatial.neighbourhood(x, y, field, ["A", "B", "C"], masks, [], zeros, [40], 19, 1000, 0)
    thin = spatial.neighbourhood(x, y, field, ["A", "B", "C"], masks, [], zeros, [40], 19, 100, 0)
    pd.testing.assert_series_equal(full["mean_neighbours"], thin["mean_neighbours"])
    assert (thin["permuted_cells"] == 100).all() and (full["permuted_cells"] == 300).all()


def test_margin_compartments_of_a_half_plane_tumour():
    # Tumour cells fill x < 500, other cells x >= 500, on a 10 µm lattice: the border is x = 500.
    grid = np.arange(5.0, 1000.0, 10.0)
    x, y = (a.ravel() for a in np.meshgrid(grid, grid[:40]))
    tumour = x < 500
    field = np.zeros(len(x), int)
    margin = spatial.margin_compartments(x, y, field, tumour, 100.0, 50.0, 0.5, 10.0)
    names = np.array(spatial.COMPARTMENTS)[margin.compartment]
    # by hand: |x - 500| <= 100 (pixel centres at 5, 15, ...: 495..505 are 5 µm from it)
    distance = np.abs(x - 500)
    assert (names[distance < 95] == "margin").all()
    assert (names[(distance > 105) & tumour] == "core").all()
    assert (names[(distance > 105) & ~tumour] == "stroma").all()
    assert np.allclose(np.abs(margin.border_distance), distance, atol=10)
    assert np.all(np.sign(margin.border_distance) == np.where(tumour, 1, -1))
    # margin band 200 µm wide over the 400 µm high lattice (+ the 60 µm raster pad): ~0.092 mm²
    assert margin.area_mm2["margin"] == pytest.approx(0.2 * 0.46, rel=0.15)


def test_margin_without_tumour_is_all_stroma():
    x, y, field, _ = random_cells(1)
    margin = spatial.margin_compartments(x, y, field, np.zeros(len(x), bool), 100, 50, 0.5, 10)
    assert (margin.compartment == 2).all() and np.isnan(margin.border_distance).all()


def test_cross_k_matches_spatstat_isotropic():
    # tests/mihc/data/kcross_spatstat.tsv: spatstat.explore 3.0-6 (Debian r-cran-spatstat.explore)
    # Kcross(X, "A", "B", r = c(0, 5, 10, 15, 20), correction = c("border", "isotropic")) on the
    # 90 points of kcross_points.tsv in owin(c(0, 100), c(0, 80)); script in data/PROVENANCE.md.
    points = pd.read_csv(DATA / "kcross_points.tsv", sep="\t")
    reference = pd.read_csv(DATA / "kcross_spatstat.tsv", sep="\t").set_index("r")
    # four unlabelled cells at the corners make the window the bounding rectangle spatstat had
    x = np.concatenate([points["x"], [0, 100, 0, 100]])
    y = np.concatenate([points["y"], [0, 0, 80, 80]])
    masks = np.zeros((len(x), 2), bool)
    masks[: len(points), 0] = points["type"] == "A"
    masks[: len(points), 1] = points["type"] == "B"
    zeros = np.zeros(len(x), int)
    radii = [5, 10, 15, 20]
    _, cross = spatial.neighbourhood_and_k(
        x, y, zeros, ["A", "B"], masks, [], zeros, radii, 19, 10_000, 0
    )
    ab = cross.query("from_phenotype == 'A' and to_phenotype == 'B'").set_index("radius_um")
    for radius in radii:
        assert ab.loc[radius, "k_function"] == pytest.approx(reference.loc[radius, "isotropic"])
        assert ab.loc[radius, "l_function"] == pytest.approx(
            np.sqrt(reference.loc[radius, "isotropic"] / np.pi)
        )
    assert (ab["window_mm2"] == 0.008).all()  # 100 x 80 µm
    assert cross["p_value"].between(1 / 20, 1).all()


def test_ripley_weight_of_a_circle_cut_by_one_edge():
    # by hand: a circle of radius 2 centred 1 from the left edge loses the arc of half-angle
    # acos(1/2) = pi/3 on each side, 2 pi/3 of 2 pi: weight 1 / (1 - 1/3) = 1.5
    box = np.array([[0.0, 100.0, 0.0, 100.0]])
    weight = spatial.ripley_weights(np.array([1.0]), np.array([50.0]), np.array([2.0]), box)
    assert weight[0] == pytest.approx(1.5)


def test_knn_composition_matches_brute_force():
    x, y, field, masks = random_cells(11, n=120, n_fields=2)
    classes = masks.argmax(axis=1) + (~masks.any(axis=1)) * 3  # 0..3, 3 = none
    index, composition = spatial.knn_composition(x, y, field, classes, 4, 5, 10_000, 0)
    assert np.array_equal(index, np.arange(120))
    xy = np.column_stack([x, y])
    distance = cdist(xy, xy)
    distance[field[:, None] != field[None, :]] = np.inf  # other images are never neighbours
    for i in (0, 17, 99):
        nearest = np.argsort(distance[i], kind="stable")[:5]  # includes the cell itself
        by_hand = np.bincount(classes[nearest], minlength=4) / 5
        assert np.allclose(composition[i], by_hand)
    sub_index, sub = spatial.knn_composition(x, y, field, classes, 4, 5, 30, 0)
    assert len(sub_index) == 30 and np.allclose(sub, composition[sub_index])


def test_permutation_counts_unchanged_by_the_speed_work():
    # Pinned: (1 + k) numerators of the neighbourhood and cross-K permutation p-values (49
    # relabellings, so p = n / 50) that the code before the issue-18 speed work (commit 43e9086,
    # fancy-indexed int32 stacks) gave on this input; the same RNG draws must give the same k.
    rng = np.random.default_rng(7)
    x, y = rng.uniform(0, 200, 300).round(1), rng.uniform(0, 200, 300).round(1)
    field, masks = rng.integers(0, 2, 300), rng.random((300, 3)) < [0.3, 0.4, 0.2]
    region = (x > 100).astype(np.int32)
    table, cross_k = spatial.neighbourhood_and_k(
        x, y, field, ["A", "B"], masks[:, :2], ["Tumor", "Stroma"], region, [20, 40], 49, 10_000, 0
    )
    numerators = [33, 19, 17, 4, 17, 4, 46, 43, 21, 44, 27, 47, 27, 47, 47, 10, 5, 26, 11, 8, 11]
    numerators += [8, 44, 26]
    assert (table["p_value"] * 50).round(9).tolist() == numerators
    assert (cross_k["p_value"] * 50).round(9).tolist() == [37, 47, 34, 10, 40, 28, 36, 25]
