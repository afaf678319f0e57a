"""Which patients have both sites: the one definition every paired step and table uses.

A patient is *paired* in a layer when it has a sample (or, for a measure, a non-missing value) at
the reference site and at the compare site. `results/pairing.tsv` is written with `site_table`
from the sample sheet; each step applies the same functions to what it actually measured (a
sample whose file yields nothing is not a pair there).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd


def site_table(
    records: Iterable[Mapping[str, str]] | pd.DataFrame, reference: str, compare: str
) -> pd.DataFrame:
    """Per patient, the sample at each site and whether both are there.

    Parameters
    ----------
    records
        Rows with ``sample``, ``patient`` and ``site`` (one sample per patient and site).
    reference, compare
        The two site labels (config ``sites.reference`` / ``sites.compare``).

    Returns
    -------
    pandas.DataFrame
        ``patient, sample_<reference>, sample_<compare>, paired``; patients in order of first
        appearance, "" for a missing site.
    """
    table = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    if table.empty:
        columns = ["patient", f"sample_{reference}", f"sample_{compare}", "paired"]
        return pd.DataFrame(columns=columns)
    table = table[["sample", "patient", "site"]].astype(str)
    patients = list(dict.fromkeys(table["patient"]))
    wide = table.pivot(index="patient", columns="site", values="sample")
    wide = wide.reindex(index=patients, columns=[reference, compare]).fillna("")
    result = pd.DataFrame(
        {
            "patient": patients,
            f"sample_{reference}": wide[reference].to_numpy(),
            f"sample_{compare}": wide[compare].to_numpy(),
        }
    )
    result["paired"] = (result[f"sample_{reference}"] != "") & (result[f"sample_{compare}"] != "")
    return result


def paired_patients(
    records: Iterable[Mapping[str, str]] | pd.DataFrame, reference: str, compare: str
) -> dict[str, dict[str, str]]:
    """The paired patients and their two samples.

    Parameters
    ----------
    records
        Rows with ``sample``, ``patient`` and ``site``.
    reference, compare
        The two site labels.

    Returns
    -------
    dict
        ``{patient: {reference: sample, compare: sample}}`` in order of first appearance.
    """
    table = site_table(records, reference, compare)
    table = table[table["paired"]]
    return {
        row.patient: {reference: row[f"sample_{reference}"], compare: row[f"sample_{compare}"]}
        for _, row in table.iterrows()
    }


def paired_values(
    long: pd.DataFrame, value: str, reference: str, compare: str
) -> tuple[pd.DataFrame, int]:
    """A measure per paired patient at both sites.

    Parameters
    ----------
    long
        Rows with ``patient``, ``site`` and `value`; several rows for one patient and site are
        averaged, missing values ignored.
    value
        The measure's column.
    reference, compare
        The two site labels.

    Returns
    -------
    (pandas.DataFrame, int)
        Patients (index) x ``[reference, compare]`` for the patients with a value at both
        sites, and the number of patients with a value at one site only.
    """
    measured = long.dropna(subset=[value])
    wide = measured.pivot_table(index="patient", columns="site", values=value, aggfunc="mean")
    wide = wide.reindex(columns=[reference, compare])
    n_unpaired = int(wide.notna().sum(axis=1).eq(1).sum())
    return wide.dropna(), n_unpaired


# Sheet column of the sampling day (integer days from treatment start, negative before).
COLLECTION_DAY = "collection_day"
SUBSETS = ("all", "simultaneous")


def collection_days(records: Iterable[Mapping[str, str]] | pd.DataFrame) -> dict[str, int]:
    """The sampling day of every sample that has one.

    Parameters
    ----------
    records
        Rows with ``sample`` and, optionally, ``collection_day`` (integers as text or numbers;
        empty or missing cells are left out).

    Returns
    -------
    dict
        ``{sample: day}``; empty when the column is absent.
    """
    table = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    if table.empty or COLLECTION_DAY not in table.columns:
        return {}
    days = {}
    for sample, day in zip(table["sample"], table[COLLECTION_DAY], strict=True):
        if pd.notna(day) and str(day).strip() != "":
            days[str(sample)] = int(str(day).strip())
    return days


def days_between(
    records: Iterable[Mapping[str, str]] | pd.DataFrame, reference: str, compare: str
) -> dict[str, int]:
    """Days from the reference to the compare biopsy of every paired patient with both days.

    Parameters
    ----------
    records
        Rows with ``sample``, ``patient``, ``site`` and ``collection_day``.
    reference, compare
        The two site labels.

    Returns
    -------
    dict
        ``{patient: day(compare) - day(reference)}`` (negative: the compare site was sampled
        first); patients without both days are left out.
    """
    table = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    days = collection_days(table)
    pairs = paired_patients(table, reference, compare) if days else {}
    return {
        patient: days[samples[compare]] - days[samples[reference]]
        for patient, samples in pairs.items()
        if samples[reference] in days and samples[compare] in days
    }


def simultaneous_patients(
    records: Iterable[Mapping[str, str]] | pd.DataFrame,
    reference: str,
    compare: str,
    within_days: int,
) -> list[str] | None:
    """The paired patients whose two sites were sampled within `within_days` of each other.

    Parameters
    ----------
    records
        Rows with ``sample``, ``patient``, ``site`` and, optionally, ``collection_day``.
    reference, compare
        The two site labels.
    within_days
        config ``pairs.simultaneous_days``; ``|day(compare) - day(reference)| <= within_days``
        (integers, so the boundary is exact).

    Returns
    -------
    list of str or None
        The simultaneous patients in order of first appearance, or None when the sheet has no
        collection day at all (then no paired test gets a ``subset`` column).
    """
    table = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    if not collection_days(table):
        return None
    gaps = days_between(table, reference, compare)
    return [patient for patient, gap in gaps.items() if abs(gap) <= int(within_days)]
