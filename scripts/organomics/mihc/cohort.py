"""Cohort tables from per-sample counts: fractions, densities, composition, spatial and tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.excluded import COLUMNS as EXCLUDED_COLUMNS
from organomics.excluded import Exclusions
from organomics.mihc.sample import SPATIAL_COLUMNS as sample_spatial_columns
from organomics.pairing import paired_patients
from organomics.stats import paired_site_comparison
from organomics.tables import read_tsv

FRACTION_COLUMNS = [
    "sample",
    "patient",
    "site",
    "region",
    "phenotype",
    "n_cells",
    "n_total",
    "n_undecided",
    "fraction",
    "density_per_mm2",
]
COMPOSITION_COLUMNS = [
    "sample",
    "patient",
    "site",
    "region",
    "class",
    "n_cells",
    "n_total",
    "n_undecided",
    "fraction",
]
# The per-sample spatial table with the sheet's ids in front.
SPATIAL_COLUMNS = ["sample", "patient", "site", *sample_spatial_columns]
SPATIAL_MEASURES = ("median_distance_um", "fraction_within")


def sheet_area(value: object, sample: str, source: str = "sample sheet") -> float:
    """The sheet's `area_mm2` cell as a positive float, NaN when empty.

    Parameters
    ----------
    value
        The cell as read (string, number, None or NaN).
    sample
        The sample's id (the row named in an error).
    source
        What the cell belongs to, for the error message.

    Returns
    -------
    float
        The area in mm², NaN for an empty cell.

    Raises
    ------
    InputError
        When the cell is not a number or not positive, naming the sample and ``area_mm2``.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
        return np.nan
    try:
        area = float(value)
    except ValueError:
        raise InputError(
            source, f"expected an area in mm² (a number), got {value!r}", sample, "area_mm2"
        ) from None
    if not area > 0:
        raise InputError(source, f"area must be > 0, got {value!r}", sample, "area_mm2")
    return area


def _read_per_sample(paths: Sequence[str], records: Sequence[Mapping]) -> pd.DataFrame:
    if len(paths) != len(records):
        raise ValueError(f"{len(paths)} per-sample tables for {len(records)} samples")
    frames = []
    for path, record in zip(paths, records, strict=True):
        frame = read_tsv(path)
        frame["region"] = frame["region"].astype(str)
        for key in ("sample", "patient", "site"):
            frame[key] = record[key]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def fractions_tables(
    count_paths: Sequence[str],
    records: Sequence[Mapping],
    areas: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cell fractions and composition from the per-sample count tables.

    Density uses the sheet's area_mm2 for region `all` when given, else the tissue area the
    cell table reported for that region; empty when neither is known.

    Parameters
    ----------
    count_paths
        The per-sample count tables (counts/{sample}.tsv), in `records` order.
    records
        ``sample``, ``patient`` and ``site`` of each sample.
    areas
        The sheet's area_mm2 cell by sample ("" or missing when not given).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        cell_fractions (`FRACTION_COLUMNS`) and composition (`COMPOSITION_COLUMNS`), samples in
        `records` order.

    Raises
    ------
    InputError
        For an area_mm2 cell that is not a positive number.
    """
    areas = areas or {}
    counts = _read_per_sample(count_paths, records)
    if counts.empty:
        return pd.DataFrame(columns=FRACTION_COLUMNS), pd.DataFrame(columns=COMPOSITION_COLUMNS)
    counts["fraction"] = np.where(
        counts["n_total"] > 0,
        counts["n_cells"] / counts["n_total"].where(counts["n_total"] > 0),
        np.nan,
    )
    sheet = counts["sample"].map(lambda s: sheet_area(areas.get(s), s))
    area = counts["tissue_area_mm2"].astype(float)
    area = np.where((counts["region"] == "all") & sheet.notna(), sheet, area)
    counts["density_per_mm2"] = counts["n_cells"] / area
    phenotypes = counts[counts["kind"] == "phenotype"].rename(columns={"name": "phenotype"})
    composition = counts[counts["kind"] == "composition"].rename(columns={"name": "class"})
    return (
        phenotypes[FRACTION_COLUMNS].reset_index(drop=True),
        composition[COMPOSITION_COLUMNS].reset_index(drop=True),
    )


def site_comparison(fractions: pd.DataFrame, reference: str, compare: str) -> pd.DataFrame:
    """Paired Wilcoxon of each patient's compare vs reference fraction, per phenotype and region.

    Parameters
    ----------
    fractions
        cell_fractions (`fractions_tables`).
    reference, compare
        The two site labels.

    Returns
    -------
    pandas.DataFrame
        One row per phenotype and region (organomics.stats.paired_site_comparison's columns).
    """
    return paired_site_comparison(
        fractions, "fraction", ["phenotype", "region"], reference, compare
    )


def spatial_table(spatial_paths: Sequence[str], records: Sequence[Mapping]) -> pd.DataFrame:
    """Per-sample nearest-tumour distance summaries, one row per sample/region/phenotype.

    Parameters
    ----------
    spatial_paths
        The per-sample spatial tables (spatial/{sample}.tsv), in `records` order.
    records
        ``sample``, ``patient`` and ``site`` of each sample.

    Returns
    -------
    pandas.DataFrame
        `SPATIAL_COLUMNS`, samples in `records` order.
    """
    table = _read_per_sample(spatial_paths, records)
    if table.empty:
        return pd.DataFrame(columns=SPATIAL_COLUMNS)
    return table[SPATIAL_COLUMNS].reset_index(drop=True)


def spatial_comparison(spatial: pd.DataFrame, reference: str, compare: str) -> pd.DataFrame:
    """Paired tests of median distance and fraction within the radius, per phenotype/region.

    Parameters
    ----------
    spatial
        spatial_distances (`spatial_table`).
    reference, compare
        The two site labels.

    Returns
    -------
    pandas.DataFrame
        One row per measure (`SPATIAL_MEASURES`), phenotype and region; the columns of
        organomics.stats.paired_site_comparison after ``measure``.
    """
    if spatial.empty:
        return pd.DataFrame(
            columns=["measure", "phenotype", "region", "n_pairs", f"median_{reference}"]
            + [f"median_{compare}", "median_difference", "statistic", "p_value", "p_adj", "test"]
        )
    long = spatial.melt(
        id_vars=["patient", "site", "phenotype", "region"],
        value_vars=list(SPATIAL_MEASURES),
        var_name="measure",
    ).dropna(subset=["value"])
    return paired_site_comparison(
        long, "value", ["measure", "phenotype", "region"], reference, compare
    )


def exclusions_table(
    sample_paths: Sequence[str], records: Sequence[Mapping], reference: str, compare: str
) -> pd.DataFrame:
    """Everything the branch left out: the per-sample jobs' cells and samples, unpaired samples.

    Parameters
    ----------
    sample_paths
        The per-sample exclusion tables (organomics.excluded.COLUMNS), in `records` order.
    records
        sample, patient and site of every mihc sample.
    reference, compare
        The site labels; a patient without both is left out of the paired tests.

    Returns
    -------
    pd.DataFrame
        One row per exclusion with step, level, item, patient, site and reason.
    """
    frames = [read_tsv(path, dtype=str) for path in sample_paths]
    pairing = Exclusions("pairing")
    paired = paired_patients(records, reference, compare)
    for record in records:
        patient, site = str(record["patient"]), str(record["site"])
        if patient not in paired:
            other = compare if site == reference else reference
            pairing.add(
                "sample",
                str(record["sample"]),
                f"no {other} cell table for this patient: kept in the per-sample tables, "
                "left out of the paired tests",
                patient=patient,
                site=site,
            )
    frames = [frame for frame in [*frames, pairing.table()] if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=EXCLUDED_COLUMNS)
    return pd.concat(frames, ignore_index=True)[EXCLUDED_COLUMNS].fillna("")
