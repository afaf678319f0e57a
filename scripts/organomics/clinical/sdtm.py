"""Read CDISC SDTM tumour domains (TU identification + TR results) into the long lesion table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from organomics.clinical.lesions import COLUMNS, check_lesions
from organomics.errors import InputError
from organomics.tables import read_table

TU_REQUIRED = ("USUBJID", "TULNKID", "TULOC")
TR_REQUIRED = ("USUBJID", "TRLNKID", "TRTESTCD")
ROLE_WORDS = {"TARGET": "target", "NON-TARGET": "non_target", "NON TARGET": "non_target"}
ROLE_WORDS |= {"NONTARGET": "non_target", "NEW": "new"}
STATE_WORDS = {"PRESENT": "present", "ABSENT": "absent", "UNEQUIVOCAL PROGRESSION": "progression"}
STATE_WORDS |= {"PROGRESSION": "progression", "NOT PRESENT": "absent"}
SIZE_TESTS = ("LDIAM", "SAXIS")  # longest diameter; short axis (nodal lesions)
UNIT_TO_MM = {"MM": 1.0, "CM": 10.0, "": 1.0}


def _read_domain(path: str | Path, required: tuple[str, ...]) -> pd.DataFrame:
    """A domain as strings from CSV/TSV or SAS transport (.xpt, the FDA submission format)."""
    if str(path).lower().endswith(".xpt"):
        # pyreadstat, not pandas.read_sas: pandas 2.3 decodes an IBM-float zero as 5.4e-79,
        # which would turn a vanished target lesion (0 mm) into a tiny one and block CR.
        import pyreadstat

        try:
            table, _ = pyreadstat.read_xport(str(path))
        except (OSError, pyreadstat.ReadstatError) as error:
            raise InputError(path, f"not a readable SAS transport file: {error}") from None
        table = table.astype(object).where(table.notna(), np.nan)
        table = table.map(_as_text)
        missing = [column for column in required if column not in table.columns]
        if missing:
            raise InputError(path, f"missing required column(s) {', '.join(missing)}")
        return table
    return read_table(path, required=required)


def _as_text(value):
    """A transport-file cell as the text a CSV would hold (integers without a trailing .0)."""
    if pd.isna(value):
        return np.nan
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _column(table: pd.DataFrame, *names: str) -> pd.Series:
    """The first of `names` that the domain has (SDTM allows either), else empty."""
    for name in names:
        if name in table.columns:
            return table[name].fillna("").astype(str).str.strip()
    return pd.Series("", index=table.index)


def _one_evaluator(
    table: pd.DataFrame, prefix: str, path: str | Path, evaluator: str | None
) -> pd.DataFrame:
    """The records of one evaluator (--EVALID, else --EVAL); several without a choice is an error.

    Independent-review data hold each lesion once per reader (e.g. RADIOLOGIST 1, RADIOLOGIST 2,
    INVESTIGATOR); taking whichever record comes first would mix readers silently.
    """
    who = _column(table, f"{prefix}EVALID")
    who = who.where(who != "", _column(table, f"{prefix}EVAL")).str.upper()
    found = sorted(set(who) - {""})
    if evaluator is None:
        if len(found) > 1:
            raise InputError(
                path,
                f"records of {len(found)} evaluators ({', '.join(found)}); choose one with "
                "config clinical.sdtm.evaluator",
                column=f"{prefix}EVALID",
            )
        return table
    keep = who == evaluator.strip().upper()
    if not keep.any():
        raise InputError(
            path,
            f"no record of evaluator {evaluator!r} (config clinical.sdtm.evaluator); "
            f"evaluators found: {', '.join(found) or 'none'}",
            column=f"{prefix}EVALID",
        )
    return table[keep]


def read_sdtm(
    tu_path: str | Path, tr_path: str | Path, evaluator: str | None = None
) -> pd.DataFrame:
    """TU gives each lesion's organ (TULOC) and role (TUORRES/TUSTRESC); TR its measurements.

    Parameters
    ----------
    tu_path, tr_path
        The TU and TR domains (CSV/TSV or SAS transport).
    evaluator
        The reader whose records to use (TREVALID/TUEVALID, else TREVAL/TUEVAL) when the domains
        hold several; None when they hold one.

    Returns
    -------
    pandas.DataFrame
        The checked lesion table. Sizes come from TRTESTCD LDIAM (SAXIS for nodal lesions),
        statuses from TUMSTATE; the day is TRDY when present, else VISITDY. Nodal lesions are those
        whose TULOC names a lymph node. Two different sizes or statuses for one lesion and day are
        an error naming the row.
    """
    tu = _read_domain(tu_path, TU_REQUIRED)
    tr = _read_domain(tr_path, TR_REQUIRED)
    tu["line"] = np.arange(len(tu)) + 2
    tr["line"] = np.arange(len(tr)) + 2
    tu = _one_evaluator(tu, "TU", tu_path, evaluator)
    tr = _one_evaluator(tr, "TR", tr_path, evaluator)
    tu = tu.assign(
        patient=_column(tu, "USUBJID"),
        lesion=_column(tu, "TULNKID"),
        organ=_column(tu, "TULOC").str.lower(),
        role_word=_column(tu, "TUSTRESC", "TUORRES").str.upper(),
    )
    for _, row in tu[~tu["role_word"].isin(ROLE_WORDS)].head(1).iterrows():
        raise InputError(
            tu_path,
            f"patient {row['patient']}, lesion {row['lesion']}: unknown lesion role "
            f"{row['role_word']!r}; expected TARGET, NON-TARGET or NEW",
            row=row["line"],
            column="TUORRES",
        )
    tu["role"] = tu["role_word"].map(ROLE_WORDS)
    tu["nodal"] = tu["organ"].str.contains("lymph node").map({True: "true", False: "false"})
    identity = tu.drop_duplicates(["patient", "lesion"]).set_index(["patient", "lesion"])
    tr = tr.assign(
        patient=_column(tr, "USUBJID"),
        lesion=_column(tr, "TRLNKID"),
        test=_column(tr, "TRTESTCD").str.upper(),
        result=_column(tr, "TRSTRESC", "TRORRES"),
        numeric=_column(tr, "TRSTRESN"),
        unit=_column(tr, "TRSTRESU", "TRORRESU").str.upper(),
    )
    day = _column(tr, "TRDY")
    tr["day"] = day.where(day != "", _column(tr, "VISITDY"))
    known = tr.set_index(["patient", "lesion"]).index.isin(identity.index)
    for _, row in tr[~known].head(1).iterrows():
        raise InputError(
            tr_path,
            f"patient {row['patient']}, lesion {row['lesion']}: TRLNKID not in the TU domain",
            row=row["line"],
            column="TRLNKID",
        )
    records = []
    for (patient, lesion, day), rows in tr.groupby(["patient", "lesion", "day"], sort=False):
        lesion_info = identity.loc[(patient, lesion)]
        if day == "":
            dated = rows["TRDTC"].iloc[0] if "TRDTC" in rows.columns else ""
            hint = (
                f" (TRDTC {dated} is not used: study days need the reference start date, so add "
                "TRDY = TRDTC - RFSTDTC, or VISITDY)"
                if isinstance(dated, str) and dated.strip()
                else ""
            )
            raise InputError(
                tr_path,
                f"patient {patient}, lesion {lesion}: neither TRDY nor VISITDY is set{hint}",
                row=int(rows["line"].iloc[0]),
                column="TRDY",
            )
        sizes = rows[rows["test"].isin(SIZE_TESTS)]
        if lesion_info["nodal"] == "true" and (sizes["test"] == "SAXIS").any():
            sizes = sizes[sizes["test"] == "SAXIS"]
        for test in ("LDIAM", "SAXIS", "TUMSTATE"):
            same = rows[rows["test"] == test]
            values = (same["numeric"].where(same["numeric"] != "", same["result"])).str.upper()
            if values.nunique() > 1:
                raise InputError(
                    tr_path,
                    f"patient {patient}, lesion {lesion}: {len(same)} different {test} records "
                    f"for day {day} ({', '.join(values)})",
                    row=int(same["line"].iloc[1]),
                    column="TRTESTCD",
                )
        diameter = np.nan
        if len(sizes):
            size = sizes.iloc[0]
            text = size["numeric"] or size["result"]
            try:
                diameter = float(text) * UNIT_TO_MM[size["unit"]]
            except (ValueError, KeyError):
                raise InputError(
                    tr_path,
                    f"patient {patient}, lesion {lesion}: size {text!r} {size['unit']} "
                    "is not a number in mm or cm",
                    row=int(size["line"]),
                    column="TRSTRESN",
                ) from None
        states = rows.loc[rows["test"] == "TUMSTATE", "result"].str.upper()
        status = STATE_WORDS.get(states.iloc[0], states.iloc[0].lower()) if len(states) else ""
        try:
            day_number = float(day)
        except ValueError:
            raise InputError(
                tr_path,
                f"patient {patient}, lesion {lesion}: study day {day!r} is not a number",
                row=int(rows["line"].iloc[0]),
                column="TRDY",
            ) from None
        records.append(
            {
                "patient": patient,
                "lesion": lesion,
                "organ": lesion_info["organ"],
                "role": lesion_info["role"],
                "day": day_number,
                "diameter_mm": diameter,
                "nodal": lesion_info["nodal"],
                "status": status,
                "line": int(rows["line"].iloc[0]),
            }
        )
    table = pd.DataFrame(records, columns=[*COLUMNS, "line"])
    return check_lesions(table, tr_path)
