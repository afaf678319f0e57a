"""Read and check the long lesion table (one row per lesion per assessment)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.tables import read_table, to_number

REQUIRED = ("patient", "lesion", "organ", "role", "day", "diameter_mm")
COLUMNS = ("patient", "lesion", "organ", "role", "day", "diameter_mm", "nodal", "status")
ROLES = {
    "target": "target",
    "non_target": "non_target",
    "non-target": "non_target",
    "nontarget": "non_target",
    "new": "new",
}
STATUSES = {
    "present": "present",
    "absent": "absent",
    "progression": "progression",
    "unequivocal progression": "progression",
}
TRUE_WORDS = {"true", "yes", "y", "1", "t"}
FALSE_WORDS = {"false", "no", "n", "0", "f", ""}


def read_lesions(path: str | Path) -> pd.DataFrame:
    """The flat lesion table, normalised and checked (see check_lesions).

    Parameters
    ----------
    path
        TSV/CSV with patient, lesion, organ, role, day, diameter_mm and optional nodal, status.

    Returns
    -------
    pandas.DataFrame
        The checked table (`check_lesions`).

    Raises
    ------
    organomics.errors.InputError
        A missing column, text in a number column or a broken lesion rule, naming the row.
    """
    table = read_table(path, required=REQUIRED)
    for column in ("nodal", "status"):
        if column not in table.columns:
            table[column] = np.nan
    table["line"] = np.arange(len(table)) + 2  # header is line 1
    table["day"] = to_number(table, "day", path, allow_missing=False)
    table["diameter_mm"] = to_number(table, "diameter_mm", path, allow_missing=True)
    return check_lesions(table[[*COLUMNS, "line"]], path)


def _where(row: pd.Series) -> str:
    return f"patient {row['patient']}, lesion {row['lesion']}"


def check_lesions(table: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """Normalise words and enforce the lesion table's rules with errors naming patient and lesion.

    Parameters
    ----------
    table
        COLUMNS plus `line` (the row's line in the file, or record number).
    path
        The input named in errors.

    Returns
    -------
    pandas.DataFrame
        Organ and role lower case (role one of target, non_target, new), nodal boolean, status
        present/absent/progression for non-target and new lesions ("" for targets), sorted by
        patient, lesion and day.

    Raises
    ------
    organomics.errors.InputError
        An empty id, unknown role or status, a target without diameter, a negative diameter, an
        organ/role/nodal that changes between assessments, two rows for one day, a lesion
        without baseline or a new lesion at baseline.
    """
    table = table.copy()
    table["day"] = table["day"].astype(float)
    table["diameter_mm"] = table["diameter_mm"].astype(float)
    for column in ("patient", "lesion"):
        empty = table[column].isna() | (table[column].astype(str).str.strip() == "")
        if empty.any():
            row = table[empty].iloc[0]
            raise InputError(path, "must not be empty", row=row["line"], column=column)
        table[column] = table[column].astype(str).str.strip()
    table["organ"] = table["organ"].fillna("").astype(str).str.strip().str.lower()
    table["role"] = table["role"].fillna("").astype(str).str.strip().str.lower()
    for _, row in table[~table["role"].isin(ROLES)].head(1).iterrows():
        raise InputError(
            path,
            f"{_where(row)}: unknown role {row['role']!r}; use target, non_target or new",
            row=row["line"],
            column="role",
        )
    table["role"] = table["role"].map(ROLES)
    nodal = table["nodal"].fillna("").astype(str).str.strip().str.lower()
    for _, row in table[~nodal.isin(TRUE_WORDS | FALSE_WORDS)].head(1).iterrows():
        raise InputError(
            path,
            f"{_where(row)}: nodal must be true or false, got {row['nodal']!r}",
            row=row["line"],
            column="nodal",
        )
    table["nodal"] = nodal.isin(TRUE_WORDS)
    status = table["status"].fillna("").astype(str).str.strip().str.lower()
    non_target = table["role"] == "non_target"
    # New lesions keep a status too: `absent` once gone (iRECIST resets need it).
    with_status = non_target | (table["role"] == "new")
    # A non-target or new lesion with no status at an assessment is taken as still present.
    status = status.where(~(with_status & (status == "")), "present")
    bad_status = with_status & ~status.isin(STATUSES)
    for _, row in table[bad_status].head(1).iterrows():
        raise InputError(
            path,
            f"{_where(row)}: unknown non-target status {row['status']!r}; "
            "use present, absent or progression",
            row=row["line"],
            column="status",
        )
    table["status"] = status.map(STATUSES).where(with_status, "")
    targets = table["role"] == "target"
    for _, row in table[targets & table["diameter_mm"].isna()].head(1).iterrows():
        raise InputError(
            path,
            f"{_where(row)}: target lesion without diameter on day {row['day']:g}",
            row=row["line"],
            column="diameter_mm",
        )
    for _, row in table[table["diameter_mm"] < 0].head(1).iterrows():
        raise InputError(
            path, f"{_where(row)}: negative diameter", row=row["line"], column="diameter_mm"
        )
    for column in ("organ", "role", "nodal"):
        varying = table.groupby(["patient", "lesion"])[column].nunique() > 1
        for patient, lesion in varying[varying].index[:1]:
            raise InputError(
                path,
                f"patient {patient}, lesion {lesion}: {column} changes between assessments",
                column=column,
            )
    repeated = table.duplicated(["patient", "lesion", "day"])
    for _, row in table[repeated].head(1).iterrows():
        raise InputError(
            path,
            f"{_where(row)}: two rows for day {row['day']:g}",
            row=row["line"],
            column="day",
        )
    tracked = table[table["role"] != "new"]
    first_day = tracked.groupby(["patient", "lesion"])["day"].min()
    for (patient, lesion), day in first_day[first_day > 0].head(1).items():
        raise InputError(
            path,
            f"patient {patient}, lesion {lesion}: no baseline assessment (first on day {day:g}; "
            "baseline is the latest assessment on or before day 0)",
            column="day",
        )
    new = table[(table["role"] == "new") & (table["day"] <= 0)]
    for _, row in new.head(1).iterrows():
        raise InputError(
            path,
            f"{_where(row)}: a new lesion cannot be recorded at baseline (day {row['day']:g})",
            row=row["line"],
            column="role",
        )
    return table.sort_values(["patient", "lesion", "day"]).reset_index(drop=True)
