"""Cohort tables from per-sample counts: fractions, densities, composition, spatial and tests."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.excluded import COLUMNS as EXCLUDED_COLUMNS
from organomics.excluded import Exclusions
from organomics.mihc import spatial
from organomics.mihc.sample import SPATIAL_COLUMNS as sample_spatial_columns
from organomics.pairing import paired_patients
from organomics.stats import TIE_RTOL, bh, by_subset, paired_site_comparison
from organomics.tables import read_tsv

# SciPy's stats is imported in the functions that use it, not here: the Snakefile imports this
# module at parse time, in every run and cluster job (tests/test_parse_time.py)

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


def _read_per_sample(
    paths: Sequence[str], records: Sequence[Mapping], region: bool = True
) -> pd.DataFrame:
    if len(paths) != len(records):
        raise ValueError(f"{len(paths)} per-sample tables for {len(records)} samples")
    frames = []
    for path, record in zip(paths, records, strict=True):
        frame = read_tsv(path)
        if region:
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


def site_comparison(
    fractions: pd.DataFrame,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired Wilcoxon of each patient's compare vs reference fraction, per phenotype and region.

    Parameters
    ----------
    fractions
        cell_fractions (`fractions_tables`).
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: all, simultaneous, BH within each); None (no collection
        days) leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        One row per phenotype and region (organomics.stats.paired_site_comparison's columns).
    """
    return paired_site_comparison(
        fractions, "fraction", ["phenotype", "region"], reference, compare, simultaneous
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


def spatial_comparison(
    spatial: pd.DataFrame,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired tests of median distance and fraction within the radius, per phenotype/region.

    Parameters
    ----------
    spatial
        spatial_distances (`spatial_table`).
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: all, simultaneous, BH within each); None (no collection
        days) leaves the table as it was.

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
        long, "value", ["measure", "phenotype", "region"], reference, compare, simultaneous
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


MARGIN_COLUMNS = ["sample", "patient", "site", *spatial.MARGIN_COLUMNS]
IMMUNE_COLUMNS = ["sample", "patient", "site", "phenotype", "density_core", "density_margin"]
IMMUNE_COLUMNS += ["density_stroma", "immune_phenotype"]
CLASS_RANK = {"desert": 0, "excluded": 1, "inflamed": 2}
SIGN_TEST = "exact sign test on the class (inflamed > excluded > desert), two-sided"
NEIGHBOURHOOD_COLUMNS = ["sample", *spatial.NEIGHBOUR_COLUMNS]


def margin_table(margin_paths: Sequence[str], records: Sequence[Mapping]) -> pd.DataFrame:
    """Per-sample compartment densities (margin/{sample}.tsv) in one table.

    Parameters
    ----------
    margin_paths
        The per-sample margin tables, in `records` order.
    records
        ``sample``, ``patient`` and ``site`` of each sample.

    Returns
    -------
    pandas.DataFrame
        `MARGIN_COLUMNS`, samples in `records` order (empty when no tumour phenotype is set).
    """
    table = _read_per_sample(margin_paths, records, region=False)
    if table.empty:
        return pd.DataFrame(columns=MARGIN_COLUMNS)
    return table[MARGIN_COLUMNS].reset_index(drop=True)


def immune_phenotypes(
    margin: pd.DataFrame, phenotypes: Sequence[str], core_per_mm2: float, margin_per_mm2: float
) -> pd.DataFrame:
    """Inflamed, excluded or desert per sample and phenotype from its compartment densities.

    inflamed: density in the tumour core >= `core_per_mm2`; else excluded: density in the
    invasive margin >= `margin_per_mm2`; else desert. Both comparisons use the branch's tie
    tolerance, so a density exactly at a cut-off reaches it. A sample without a tumour core
    (no core area) has no class.

    Parameters
    ----------
    margin
        margin_densities (`margin_table`).
    phenotypes
        Phenotypes to classify; names not in `margin` are skipped.
    core_per_mm2, margin_per_mm2
        config mihc.immune_phenotype cut-offs (cells/mm²).

    Returns
    -------
    pandas.DataFrame
        `IMMUNE_COLUMNS`, one row per sample and phenotype.
    """
    rows = []
    known = set(margin["phenotype"]) if len(margin) else set()
    for phenotype in [p for p in phenotypes if p in known]:
        chosen = margin[margin["phenotype"] == phenotype]
        wide = chosen.set_index(["sample", "patient", "site", "compartment"])[
            "density_per_mm2"
        ].unstack("compartment")
        order = list(dict.fromkeys(chosen[["sample", "patient", "site"]].itertuples(False, None)))
        wide = wide.reindex(pd.MultiIndex.from_tuples(order))  # samples in sheet order
        for (sample, patient, site), row in wide.iterrows():
            core, band, stroma = (row.get(c, np.nan) for c in spatial.COMPARTMENTS)
            rows.append(
                {
                    "sample": sample,
                    "patient": patient,
                    "site": site,
                    "phenotype": phenotype,
                    "density_core": core,
                    "density_margin": band,
                    "density_stroma": stroma,
                    "immune_phenotype": immune_class(core, band, core_per_mm2, margin_per_mm2),
                }
            )
    return pd.DataFrame(rows, columns=IMMUNE_COLUMNS)


def _reaches(value: float, cutoff: float) -> bool:
    """value >= cutoff with the tie tolerance (a density equal to the cut-off reaches it)."""
    return value - cutoff >= -TIE_RTOL * max(abs(cutoff), 1.0)


def immune_class(core: float, band: float, core_per_mm2: float, margin_per_mm2: float) -> str:
    """inflamed, excluded, desert (or "" when the sample has no tumour core).

    Parameters
    ----------
    core, band
        Densities (cells/mm²) in the tumour core and the invasive margin.
    core_per_mm2, margin_per_mm2
        The cut-offs.

    Returns
    -------
    str
        The class.
    """
    if pd.isna(core):
        return ""
    if _reaches(core, core_per_mm2):
        return "inflamed"
    if not pd.isna(band) and _reaches(band, margin_per_mm2):
        return "excluded"
    return "desert"


def immune_comparison(
    immune: pd.DataFrame,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired comparison of the immune class between sites, per phenotype (exact sign test).

    Parameters
    ----------
    immune
        immune_phenotype (`immune_phenotypes`).
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: all, simultaneous, BH within each); None (no collection
        days) leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        phenotype, n_pairs, n_unpaired, <class>_<site> (samples of each class at each paired
        site), n_higher_<compare> / n_lower_<compare> / n_same (pairs whose compare class
        ranks above, below or equal to the reference's), statistic (n_higher), p_value (exact
        binomial sign test over the pairs that differ, two-sided), p_adj (BH across
        phenotypes), test, correction; after a first column ``subset`` when `simultaneous` is
        given.
    """
    if simultaneous is None:
        return _immune_sign_tests(immune, reference, compare)
    return by_subset(
        lambda table: _immune_sign_tests(table, reference, compare), immune, simultaneous
    )


def _immune_sign_tests(immune: pd.DataFrame, reference: str, compare: str) -> pd.DataFrame:
    from scipy import stats

    rows = []
    classified = immune[immune["immune_phenotype"].astype(str) != ""]
    for phenotype in dict.fromkeys(immune["phenotype"]):
        chosen = classified[classified["phenotype"] == phenotype]
        wide = chosen.pivot_table(
            index="patient", columns="site", values="immune_phenotype", aggfunc="first"
        )
        both = wide.dropna(subset=[s for s in (reference, compare) if s in wide.columns])
        if not {reference, compare} <= set(wide.columns):
            both = wide.iloc[0:0]
        n_unpaired = int(chosen["patient"].nunique() - len(both))
        row = {"phenotype": phenotype, "n_pairs": len(both), "n_unpaired": n_unpaired}
        for site in (reference, compare):
            values = both[site] if len(both) else pd.Series(dtype=str)
            for name in CLASS_RANK:
                row[f"{name}_{site}"] = int((values == name).sum())
        if len(both):
            delta = both[compare].map(CLASS_RANK) - both[reference].map(CLASS_RANK)
        else:
            delta = pd.Series(dtype=float)
        higher, lower = int((delta > 0).sum()), int((delta < 0).sum())
        row |= {
            f"n_higher_{compare}": higher,
            f"n_lower_{compare}": lower,
            "n_same": int((delta == 0).sum()),
            "statistic": higher,
            "p_value": (
                stats.binomtest(higher, higher + lower, 0.5).pvalue if higher + lower else np.nan
            ),
            "test": SIGN_TEST,
        }
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_adj"] = bh(table["p_value"])
    table["correction"] = f"Benjamini-Hochberg across {int(table['p_value'].notna().sum())} tests"
    return table


def margin_comparison(
    margin: pd.DataFrame,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired Wilcoxon of each phenotype's density per compartment (compare vs reference).

    Parameters
    ----------
    margin
        margin_densities (`margin_table`).
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: all, simultaneous, BH within each); None (no collection
        days) leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        One row per compartment and phenotype, organomics.stats.paired_site_comparison's
        columns (BH across all rows).
    """
    values = margin.dropna(subset=["density_per_mm2"])
    if values.empty:
        return pd.DataFrame(columns=["compartment", "phenotype", "n_pairs", "n_unpaired"])
    return paired_site_comparison(
        values, "density_per_mm2", ["compartment", "phenotype"], reference, compare, simultaneous
    )


def neighbourhood_table(paths: Sequence[str], records: Sequence[Mapping]) -> pd.DataFrame:
    """Per-sample neighbourhood counts (neighbourhood/{sample}.tsv) with a sample column.

    Parameters
    ----------
    paths
        The per-sample neighbourhood tables, in `records` order.
    records
        ``sample``, ``patient`` and ``site`` of each sample.

    Returns
    -------
    pandas.DataFrame
        `NEIGHBOURHOOD_COLUMNS`.
    """
    table = _read_per_sample(paths, records)
    if table.empty:
        return pd.DataFrame(columns=NEIGHBOURHOOD_COLUMNS)
    return table[NEIGHBOURHOOD_COLUMNS].reset_index(drop=True)


def neighbourhood_comparison(
    table: pd.DataFrame,
    records: Sequence[Mapping],
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired Wilcoxon of log2_ratio per ordered phenotype pair and radius, whole samples.

    Parameters
    ----------
    table
        neighbourhood (`neighbourhood_table`); rows of region ``all`` are tested.
    records
        ``sample``, ``patient`` and ``site`` of each sample.
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: all, simultaneous, BH within each); None (no collection
        days) leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        One row per from_phenotype, to_phenotype and radius_um with the columns of
        organomics.stats.paired_site_comparison (effect: median paired difference of
        log2_ratio, compare - reference; BH across the whole family).
    """
    ids = pd.DataFrame(list(records))[["sample", "patient", "site"]].astype(str)
    whole = table[table["region"].astype(str) == "all"].dropna(subset=["log2_ratio"])
    whole = whole.assign(sample=whole["sample"].astype(str)).merge(ids, on="sample")
    if whole.empty:
        return pd.DataFrame(columns=["from_phenotype", "to_phenotype", "radius_um", "n_pairs"])
    return paired_site_comparison(
        whole,
        "log2_ratio",
        ["from_phenotype", "to_phenotype", "radius_um"],
        reference,
        compare,
        simultaneous,
    )


CROSS_K_TABLE_COLUMNS = ["sample", *spatial.CROSS_K_COLUMNS]


def cross_k_table(paths: Sequence[str], records: Sequence[Mapping]) -> pd.DataFrame:
    """Per-sample cross-type K/L functions (cross_k/{sample}.tsv) with a sample column.

    Parameters
    ----------
    paths
        The per-sample tables, in `records` order.
    records
        ``sample``, ``patient`` and ``site`` of each sample.

    Returns
    -------
    pandas.DataFrame
        `CROSS_K_TABLE_COLUMNS`.
    """
    table = _read_per_sample(paths, records)
    if table.empty:
        return pd.DataFrame(columns=CROSS_K_TABLE_COLUMNS)
    return table[CROSS_K_TABLE_COLUMNS].reset_index(drop=True)


def cross_k_comparison(
    table: pd.DataFrame,
    records: Sequence[Mapping],
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired Wilcoxon of l_difference (L - expected L) per ordered phenotype pair and radius.

    Parameters
    ----------
    table
        cross_k (`cross_k_table`).
    records
        ``sample``, ``patient`` and ``site`` of each sample.
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: all, simultaneous, BH within each); None (no collection
        days) leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        One row per from_phenotype, to_phenotype and radius_um with the columns of
        organomics.stats.paired_site_comparison (BH across the whole family).
    """
    ids = pd.DataFrame(list(records))[["sample", "patient", "site"]].astype(str)
    values = table.dropna(subset=["l_difference"])
    values = values.assign(sample=values["sample"].astype(str)).merge(ids, on="sample")
    if values.empty:
        return pd.DataFrame(columns=["from_phenotype", "to_phenotype", "radius_um", "n_pairs"])
    return paired_site_comparison(
        values,
        "l_difference",
        ["from_phenotype", "to_phenotype", "radius_um"],
        reference,
        compare,
        simultaneous,
    )


CN_ABUNDANCE_COLUMNS = ["sample", "patient", "site", "cn", "n_cells", "n_total", "fraction"]


def cellular_neighbourhoods(
    paths: Sequence[str], records: Sequence[Mapping], n_clusters: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cluster every sample's k-nearest-neighbour compositions into cellular neighbourhoods.

    KMeans (scikit-learn, k-means++, 10 starts, fixed `seed`) on the composition vectors of all
    samples' index cells, as Schürch et al. (2020) and scimap's spatial_cluster do; CNs are
    numbered by decreasing size.

    Parameters
    ----------
    paths
        The per-sample composition tables (knn/{sample}.parquet: one column per class), in
        `records` order.
    records
        ``sample``, ``patient`` and ``site`` of each sample.
    n_clusters, seed
        config mihc.cellular_neighbourhoods.clusters and seed.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        CN profiles (cn, n_cells, then the mean fraction of each class) and the abundance per
        sample (`CN_ABUNDANCE_COLUMNS`, every CN of every sample, 0 when absent).
    """
    from sklearn.cluster import KMeans  # imported here: only this step needs scikit-learn

    frames = []
    for path, record in zip(paths, records, strict=True):
        frame = pd.read_parquet(path)
        frames.append(frame.assign(sample=str(record["sample"])))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    classes = [c for c in table.columns if c != "sample"]
    if len(table) < n_clusters:
        empty = pd.DataFrame(columns=["cn", "n_cells", *classes])
        return empty, pd.DataFrame(columns=CN_ABUNDANCE_COLUMNS)
    model = KMeans(n_clusters=n_clusters, random_state=seed, n_init=10)
    labels = model.fit_predict(table[classes].to_numpy())
    # number CNs by size so that CN1 is the commonest whatever KMeans' order
    order = np.argsort(-np.bincount(labels, minlength=n_clusters), kind="stable")
    rank = np.empty(n_clusters, dtype=int)
    rank[order] = np.arange(1, n_clusters + 1)
    table["cn"] = [f"CN{r}" for r in rank[labels]]
    names = [f"CN{r}" for r in range(1, n_clusters + 1)]
    profiles = table.groupby("cn")[classes].mean().reindex(names)
    profiles.insert(0, "n_cells", table.groupby("cn").size().reindex(names).fillna(0).astype(int))
    counts = pd.crosstab(table["sample"], table["cn"]).reindex(columns=names, fill_value=0)
    rows = []
    for record in records:
        sample = str(record["sample"])
        got = counts.loc[sample] if sample in counts.index else pd.Series(0, index=names)
        total = int(got.sum())
        for cn in names:
            n = int(got[cn])
            rows.append(
                (sample, record["patient"], record["site"], cn, n, total,
                 n / total if total else np.nan)
            )  # fmt: skip
    abundance = pd.DataFrame(rows, columns=CN_ABUNDANCE_COLUMNS)
    return profiles.reset_index(names="cn"), abundance


def cn_comparison(
    abundance: pd.DataFrame,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired Wilcoxon of each cellular neighbourhood's abundance (fraction of index cells).

    Parameters
    ----------
    abundance
        The abundance table of `cellular_neighbourhoods`.
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: all, simultaneous, BH within each); None (no collection
        days) leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        One row per CN, organomics.stats.paired_site_comparison's columns (BH across CNs).
    """
    values = abundance.dropna(subset=["fraction"])
    if values.empty:
        return pd.DataFrame(columns=["cn", "n_pairs", "n_unpaired"])
    return paired_site_comparison(values, "fraction", ["cn"], reference, compare, simultaneous)
