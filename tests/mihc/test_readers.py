"""Readers for each vendor format on tiny real-shaped tables; counts and distances by hand."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from organomics.errors import InputError
from organomics.mihc import readers, sample

DATA = Path(__file__).parent / "data"


def counts_of(summary, region="all"):
    table = summary.counts
    table = table[(table["kind"] == "phenotype") & (table["region"] == region)]
    return dict(zip(table["name"], table["n_cells"], strict=True)), int(table["n_total"].iloc[0])


def spatial_of(summary, phenotype, region="all"):
    table = summary.spatial
    row = table[(table["phenotype"] == phenotype) & (table["region"] == region)].iloc[0]
    return row["median_distance_um"], row["fraction_within"], row["n_cells"]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("halo_object_data.csv", "halo"),
        ("inform_cell_seg_data.txt", "inform"),
        ("inform_phenotype_columns.txt", "inform"),
        ("qupath_detections.tsv", "qupath"),
        ("qupath_v04_detections.tsv", "qupath"),
        ("mcmicro_quantification.csv", "mcmicro"),
    ],
)
def test_detect_format(name, fmt):
    header, _, _ = readers.read_header(DATA / name)
    assert readers.detect_format(header) == fmt


HALO = {
    "markers": {"CD3": {}, "CD8": {}, "PanCK": {}},  # default "<NAME> Positive Classification"
    "phenotypes": {"T": "CD3", "CD8_T": "CD3 & CD8", "Tumour": "PanCK & ~CD3"},
    "region": "Classifier Label",
    "tumour": "Tumour",
    "within_um": 30,
}


@pytest.mark.parametrize("chunksize", [2, 1000])
def test_halo(chunksize):
    summary = sample.summarise(str(DATA / "halo_object_data.csv"), HALO, chunksize=chunksize)
    assert counts_of(summary) == ({"T": 3, "CD8_T": 2, "Tumour": 2}, 6)
    assert counts_of(summary, "Tumor") == ({"T": 1, "CD8_T": 1, "Tumour": 2}, 3)
    assert counts_of(summary, "Stroma") == ({"T": 2, "CD8_T": 1, "Tumour": 0}, 3)
    # Centres (XMin+XMax)/2: tumour cells at (5,5) and (5,45); T cells at (25,5), (105,5),
    # (205,205) -> nearest tumour 20, 100 and hypot(200, 160).
    far = math.hypot(200, 160)
    median, within, n = spatial_of(summary, "T")
    assert (median, within, n) == (pytest.approx(100.0), pytest.approx(1 / 3), 3)
    median, within, n = spatial_of(summary, "CD8_T")
    assert (median, within, n) == (pytest.approx((20 + far) / 2), pytest.approx(0.5), 2)
    assert "Tumour" not in set(summary.spatial["phenotype"])


def test_halo_intensity_threshold_and_aliases():
    settings = {
        **HALO,
        # Intensity with a threshold; the column name is matched ignoring case and punctuation.
        "markers": {
            "CD3": {},
            "CD8": {"column": "cd8 cell intensity", "threshold": 10},
            "PanCK": {},
        },
    }
    summary = sample.summarise(str(DATA / "halo_object_data.csv"), settings)
    assert counts_of(summary)[0]["CD8_T"] == 2


INFORM = {
    "markers": {
        "CD8": {},  # the "Phenotype" column, positive when it names "CD8+"
        "CK": {},
        "CD8i": {
            "column": "Entire Cell CD8 (Opal 520) Mean (Normalized Counts, Total Weighting)",
            "threshold": 10,
        },
    },
    "phenotypes": {"CD8_T": "CD8", "CD8_high": "CD8i", "Tumour": "CK"},
    "region": "Tissue Category",
    "tumour": "Tumour",
    "within_um": 30,
    "pixels_per_micron": 2,
    "area_column": "Tissue Category Area (pixels)",
    "area_unit": "pixels",
}


def test_inform_missing_intensity_is_an_error_by_default():
    # Line 5 of the file has "#N/A" in the CD8 intensity: never counted as negative.
    with pytest.raises(InputError) as error:
        sample.summarise(str(DATA / "inform_cell_seg_data.txt"), INFORM)
    assert error.value.row == 5
    assert error.value.column == INFORM["markers"]["CD8i"]["column"]
    assert "has no value" in str(error.value) and "mihc.missing: exclude" in str(error.value)


def test_inform_pixels_fields_and_tissue_area():
    settings = {**INFORM, "missing": "exclude"}
    summary = sample.summarise(str(DATA / "inform_cell_seg_data.txt"), settings)
    table = summary.counts.query("kind == 'phenotype' and region == 'all'").set_index("name")
    # By hand: 6 cells; CD8_high (intensity >= 10) is decided for 5 (line 5 has "#N/A") and
    # holds for 3 of them; the phenotype-column markers are decided for all 6.
    assert table["n_cells"].to_dict() == {"CD8_T": 3, "CD8_high": 3, "Tumour": 2}
    assert table["n_total"].to_dict() == {"CD8_T": 6, "CD8_high": 5, "Tumour": 6}
    assert table["n_undecided"].to_dict() == {"CD8_T": 0, "CD8_high": 1, "Tumour": 0}
    assert counts_of(summary, "tumor") == ({"CD8_T": 1, "CD8_high": 1, "Tumour": 2}, 3)
    excluded = summary.excluded
    assert len(excluded) == 1 and "file lines 5" in excluded["reason"].iloc[0]
    assert "'CD8_high' undecided" in excluded["reason"].iloc[0]
    # Pixels / 2 = microns. Field 1: CD8 at (70,50) and (250,250), tumour (50,50): 20 and
    # hypot(200,200). Field 2: CD8 at (50,80), its own tumour cell at (50,150): 70 (the
    # field-1 tumour cell 30 µm away is in another image and must not count).
    median, within, n = spatial_of(summary, "CD8_T")
    assert (median, within, n) == (pytest.approx(70.0), pytest.approx(1 / 3), 3)
    # Tissue area: one value per (image, category), pixels² / 4 -> µm², then mm².
    areas = summary.counts.drop_duplicates("region").set_index("region")["tissue_area_mm2"]
    assert areas["tumor"] == pytest.approx((400_000 + 200_000) / 4 * 1e-6)
    assert areas["stroma"] == pytest.approx((600_000 + 300_000) / 4 * 1e-6)
    assert areas["all"] == pytest.approx(1_500_000 / 4 * 1e-6)


def test_inform_phenotype_per_marker_columns():
    settings = {
        "markers": {"CD3": {}, "CD8": {}, "CK": {}},  # "Phenotype CD3" ... with CD3+/CD3-
        "phenotypes": {"T": "CD3", "CD8_T": "CD3 & CD8", "Tumour": "CK & ~CD3"},
    }
    # This header states no unit anywhere (no "(pixels)" or "micron" column): the user must.
    with pytest.raises(InputError) as error:
        sample.summarise(str(DATA / "inform_phenotype_columns.txt"), settings)
    assert error.value.column == "Cell X Position" and "coordinate_unit" in str(error.value)
    settings.update(coordinate_unit="pixels", pixels_per_micron=2)
    summary = sample.summarise(str(DATA / "inform_phenotype_columns.txt"), settings)
    assert counts_of(summary) == ({"T": 2, "CD8_T": 1, "Tumour": 1}, 4)
    assert summary.points["x"].tolist() == [5.0, 15.0, 150.0, 300.0]


def test_qupath_class_tokens_and_measurements():
    settings = {
        "markers": {
            "CD8": {},  # Class "CD8" or "CD3: CD8" (not "CD80")
            "CD3": {},
            "Tumor": {},
            "CD8i": {"column": "Cell: CD8 mean", "threshold": 10},
        },
        "phenotypes": {"CD8": "CD8", "CD3CD8": "CD3 & CD8", "CD8i": "CD8i", "Tumour": "Tumor"},
        "region": "Parent",
        "tumour": "Tumour",
    }
    summary = sample.summarise(str(DATA / "qupath_detections.tsv"), settings)
    assert counts_of(summary) == ({"CD8": 2, "CD3CD8": 1, "CD8i": 2, "Tumour": 1}, 5)
    assert counts_of(summary, "Tumor region")[1] == 2
    median, _, _ = spatial_of(summary, "CD8")  # (25,10) and (200,10) from tumour (10,10)
    assert median == pytest.approx((15 + 190) / 2)


def test_qupath_04_column_aliases():
    settings = {
        "markers": {"CD8": {"column": "Cell: CD8 mean", "threshold": 10}, "Tumor": {}},
        "phenotypes": {"CD8_T": "CD8", "Tumour": "Tumor"},
        "tumour": "Tumour",
    }
    layout = readers.resolve_layout(DATA / "qupath_v04_detections.tsv", settings)
    assert layout.markers["CD8"].column == "Cell: CD8: Mean"
    assert layout.markers["Tumor"].column == "Classification"
    assert layout.x == ["Centroid X µm"]
    summary = sample.summarise(str(DATA / "qupath_v04_detections.tsv"), settings)
    assert counts_of(summary) == ({"CD8_T": 1, "Tumour": 1}, 3)
    assert spatial_of(summary, "CD8_T")[0] == pytest.approx(10.0)


def test_mcmicro_thresholds_and_pixels():
    settings = {
        "markers": {
            "CD3": {"threshold": 1000},
            "CD8": {"column": "CD8a", "threshold": 1000},
            "KRT": {"column": "Keratin", "threshold": 1000},
        },
        "phenotypes": {"T": "CD3", "CD8_T": "CD3 & CD8", "Tumour": "KRT"},
        "tumour": "Tumour",
        "pixels_per_micron": 2,
    }
    summary = sample.summarise(str(DATA / "mcmicro_quantification.csv"), settings)
    assert counts_of(summary) == ({"T": 2, "CD8_T": 1, "Tumour": 2}, 4)
    # T cells at (65,50) and (350,350) µm; tumour at (50,50) and (80,50).
    median, within, _ = spatial_of(summary, "T")
    assert median == pytest.approx((15 + math.hypot(270, 300)) / 2)
    assert within == pytest.approx(0.5)


def test_gzipped_table_and_denominator(tmp_path):
    table = pd.read_csv(DATA / "halo_object_data.csv")
    path = tmp_path / "cells.csv.gz"
    table.to_csv(path, index=False)
    settings = {**HALO, "denominator": "~PanCK"}  # fractions among non-tumour cells
    summary = sample.summarise(str(path), settings)
    assert counts_of(summary) == ({"T": 3, "CD8_T": 2, "Tumour": 0}, 4)


def test_composition_classes_do_not_overlap():
    settings = {**HALO, "composition": ["CD8_T", "T", "Tumour"]}
    summary = sample.summarise(str(DATA / "halo_object_data.csv"), settings)
    table = summary.counts
    table = table[(table["kind"] == "composition") & (table["region"] == "all")]
    assert dict(zip(table["name"], table["n_cells"], strict=True)) == {
        "CD8_T": 2,
        "T": 1,  # CD3+ cells not already counted as CD8_T
        "Tumour": 2,
        "other": 1,
    }


# ---- errors -------------------------------------------------------------------------------


def test_missing_marker_column_lists_close_names():
    settings = {**HALO, "markers": {"CD3": {}, "CD8": {"column": "CD8 Positive Clasification"}}}
    with pytest.raises(InputError) as caught:
        readers.resolve_layout(DATA / "halo_object_data.csv", settings)
    message = str(caught.value)
    assert "halo_object_data.csv" in message
    assert "marker 'CD8'" in message and "'CD8 Positive Clasification'" in message
    assert "close names: 'CD8 Positive Classification'" in message


def test_missing_default_column_for_unknown_marker():
    settings = {"markers": {"FOXP3": {}}, "phenotypes": {"Treg": "FOXP3"}}
    with pytest.raises(InputError, match="FOXP3 Positive Classification"):
        readers.resolve_layout(DATA / "halo_object_data.csv", settings)


def test_non_numeric_intensity_names_row_and_column(tmp_path):
    table = pd.read_csv(DATA / "halo_object_data.csv", dtype=str)
    table.loc[3, "CD8 Cell Intensity"] = "high"
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False)
    settings = {
        **HALO,
        "markers": {**HALO["markers"], "CD8": {"column": "CD8 Cell Intensity", "threshold": 10}},
    }
    with pytest.raises(InputError) as caught:
        sample.summarise(str(path), settings, chunksize=2)
    message = str(caught.value)
    assert "row 5" in message  # header is line 1, the fourth cell is line 5
    assert "column 'CD8 Cell Intensity'" in message and "'high'" in message


def test_intensity_without_threshold_is_an_error():
    settings = {**HALO, "markers": {**HALO["markers"], "CD8": {"column": "CD8 Cell Intensity"}}}
    with pytest.raises(InputError, match="not a 0/1 classification; set `threshold`"):
        sample.summarise(str(DATA / "halo_object_data.csv"), settings)


@pytest.mark.parametrize(
    ("phenotypes", "message"),
    [
        (
            {"T": "CD3 & & CD8"},
            "phenotype 'T': expected a marker name, '~' or '(', found '&' at position 7",
        ),
        ({"T": "CD3 & FOXP3"}, "phenotype 'T': unknown marker 'FOXP3'"),
    ],
)
def test_bad_expression_in_config(phenotypes, message):
    with pytest.raises(InputError) as caught:
        sample.parse_config({**HALO, "phenotypes": phenotypes})
    assert message in str(caught.value)


def test_points_are_thinned_deterministically():
    summary = sample.summarise(str(DATA / "halo_object_data.csv"), HALO, max_points=3)
    again = sample.summarise(str(DATA / "halo_object_data.csv"), HALO, max_points=3)
    assert len(summary.points) == 3
    pd.testing.assert_frame_equal(summary.points, again.points)


def test_nearest_distances_match_brute_force():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 100, 300), rng.uniform(0, 100, 300)
    field = rng.integers(0, 2, 300)
    targets = rng.random(300) < 0.2
    got = sample.nearest_distances(x, y, field, targets)
    for i in range(300):
        same = (field == field[i]) & targets
        assert got[i] == pytest.approx(np.min(np.hypot(x[same] - x[i], y[same] - y[i])))


def test_check_head_catches_bad_values_early(tmp_path):
    table = pd.read_csv(DATA / "halo_object_data.csv", dtype=str)
    table.loc[1, "XMin"] = "n/a?"
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False)
    layout = readers.resolve_layout(path, HALO)
    with pytest.raises(InputError, match="row 3, column 'XMin': expected a number"):
        readers.check_head(layout)
    readers.check_head(readers.resolve_layout(DATA / "halo_object_data.csv", HALO))


def write(tmp_path, name, header, rows):
    path = tmp_path / name
    path.write_text("\n".join("\t".join(map(str, r)) for r in [header, *rows]) + "\n")
    return path


INFORM_HEADER = ["Sample Name", "Phenotype", "Cell X Position", "Cell Y Position"]


@pytest.mark.parametrize(
    ("unit_column", "expected_x"),
    [
        # inForm states the export's unit in its distance/area columns, not in the position.
        ("Distance from Tissue Category Edge (pixels)", 50.0),  # 100 px / 2 px/µm
        ("Distance from Tissue Category Edge (microns)", 100.0),  # already µm: no scaling
    ],
)
def test_inform_unit_from_header(tmp_path, unit_column, expected_x):
    path = write(tmp_path, "c.txt", [*INFORM_HEADER, unit_column], [["S", "CD8+", 100, 10, 1]])
    settings = {"markers": {"CD8": {}}, "phenotypes": {"T": "CD8"}, "pixels_per_micron": 2}
    layout = readers.resolve_layout(path, settings)
    assert layout.coordinate_source == f"header column {unit_column!r}"
    summary = sample.summarise(str(path), settings)
    assert summary.points["x"].tolist() == [expected_x]


def test_qupath_pixel_centroids_need_the_pixel_size(tmp_path):
    header = ["Image", "Class", "Centroid X px", "Centroid Y px"]
    path = write(tmp_path, "q.tsv", header, [["S.tif", "CD8", 30, 40]])
    settings = {"markers": {"CD8": {}}, "phenotypes": {"T": "CD8"}}
    with pytest.raises(InputError) as error:
        readers.resolve_layout(path, settings)
    assert error.value.column == "Centroid X px" and "pixels_per_micron" in str(error.value)
    layout = readers.resolve_layout(path, {**settings, "pixels_per_micron": 4})
    assert (layout.coordinate_unit, layout.microns_per_unit) == ("pixels", 0.25)
    assert "at 4 px/µm" in layout.scale_text()


@pytest.mark.parametrize(
    ("column", "configured", "coordinates", "to_mm2"),
    [
        # inForm: the area column's unit is also the export's length unit.
        ("Tissue Category Area (pixels)", "auto", "auto", 1e-6 / 4),  # 2 px/µm: 4 px²/µm²
        ("Tissue Category Area (square microns)", "auto", "auto", 1e-6),
        ("Region Area (μm²)", "auto", "um", 1e-6),
        ("Tissue area", "mm2", "um", 1.0),  # no unit in the name: the config says
    ],
)
def test_area_unit_from_column_name(tmp_path, column, configured, coordinates, to_mm2):
    path = write(tmp_path, "a.txt", [*INFORM_HEADER, column], [["S", "CD8+", 1, 1, 10]])
    settings = {
        "markers": {"CD8": {}},
        "phenotypes": {"T": "CD8"},
        "coordinate_unit": coordinates,
        "pixels_per_micron": 2,
        "area_column": column,
        "area_unit": configured,
    }
    assert readers.resolve_layout(path, settings).area_to_mm2 == pytest.approx(to_mm2)


def test_area_unit_errors(tmp_path):
    path = write(
        tmp_path,
        "a.txt",
        [*INFORM_HEADER, "Area", "Tissue Category Area (pixels)"],
        [["S", "CD8+", 1, 1, 10, 10]],
    )
    base = {"markers": {"CD8": {}}, "phenotypes": {"T": "CD8"}, "pixels_per_micron": 2}
    with pytest.raises(InputError, match="not stated in the column name") as error:
        readers.resolve_layout(path, {**base, "area_column": "Area"})
    assert error.value.column == "Area"
    with pytest.raises(InputError, match="area_unit is 'um2' but the column name says 'pixels'"):
        settings = {**base, "area_column": "Tissue Category Area (pixels)", "area_unit": "um2"}
        readers.resolve_layout(path, settings)


def test_halo_microns_and_mcmicro_pixels_are_logged(caplog):
    with caplog.at_level("INFO"):
        sample.summarise(str(DATA / "halo_object_data.csv"), HALO)
    assert "coordinates in µm (HALO object data (XMin..YMax are in microns))" in caplog.text
