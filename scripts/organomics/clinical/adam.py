"""CDISC ADaM export of the per-site derivation: ADTR (sums of diameters) and ADRS (responses)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from organomics.clinical import irecist, recist
from organomics.tables import atomic_path

CRITERIA = "RECIST 1.1"
IRECIST = "iRECIST"
# admiralonco's aval_resp(): the numeric code of each response in AVAL
RESPONSE_CODE = {"CR": 1, "PR": 2, "SD": 3, "NON-CR/NON-PD": 4, "PD": 5, "NE": 6}
# iRECIST in the same order (iUPD, unconfirmed progression, takes the unused 4 of a per-site
# derivation, which never gives NON-CR/NON-PD: every evaluable site has a target lesion)
RESPONSE_CODE |= {"iCR": 1, "iPR": 2, "iSD": 3, "iUPD": 4, "iCPD": 5}
LABELS = {
    "STUDYID": "Study Identifier",
    "USUBJID": "Unique Subject Identifier",
    "PARAMCD": "Parameter Code",
    "PARAM": "Parameter",
    "PARCAT1": "Parameter Category 1",
    "PARCAT2": "Parameter Category 2",
    "AVISIT": "Analysis Visit",
    "AVISITN": "Analysis Visit (N)",
    "ADY": "Analysis Relative Day",
    "AVAL": "Analysis Value",
    "AVALC": "Analysis Value (C)",
    "BASE": "Baseline Value",
    "NADIR": "Nadir Value",
    "CHG": "Change from Baseline",
    "PCHG": "Percent Change from Baseline",
    "CHGNAD": "Change from Nadir",
    "PCHGNAD": "Percent Change from Nadir",
    "ABLFL": "Baseline Record Flag",
}
ADTR_COLUMNS = ["STUDYID", "USUBJID", "PARAMCD", "PARAM", "PARCAT1", "AVISIT", "AVISITN", "ADY"]
ADTR_COLUMNS += ["AVAL", "BASE", "NADIR", "CHG", "PCHG", "CHGNAD", "PCHGNAD", "ABLFL"]
ADRS_COLUMNS = ["STUDYID", "USUBJID", "PARAMCD", "PARAM", "PARCAT1", "PARCAT2", "AVISIT"]
ADRS_COLUMNS += ["AVISITN", "ADY", "AVALC", "AVAL"]
DATASET_LABELS = {
    "ADTR": "Tumor Results Analysis Dataset",
    "ADRS": "Tumor Response Analysis Dataset",
}


def options_from(block: dict, confirmation_days: int | None = None) -> recist.Options:
    """The RECIST options of config `clinical`, every field of recist.Options the block sets.

    Parameters
    ----------
    block
        The config `clinical` block.
    confirmation_days
        When given, replaces the block's confirmation_days (the confirmed derivation).

    Returns
    -------
    organomics.clinical.recist.Options
    """
    names = {field.name for field in dataclasses.fields(recist.Options)}
    options = recist.Options(**{k: v for k, v in block.items() if k in names})
    if confirmation_days is not None:
        options = dataclasses.replace(options, confirmation_days=confirmation_days)
    return options


def paramcd(site: str) -> str:
    """ADTR PARAMCD of a site's sum of diameters: SDIAM plus the site label (8 characters)."""
    return f"SDIAM{site.upper()}"[:8]


def adtr(
    timepoints: pd.DataFrame,
    responses: pd.DataFrame,
    baseline_days: pd.Series,
    studyid: str,
) -> pd.DataFrame:
    """ADTR: each site's target sum at baseline and every scan, with baseline and nadir changes.

    Parameters
    ----------
    timepoints, responses
        recist.assess output (target_sum_mm, nadir_mm; baseline_sum_mm).
    baseline_days
        Baseline day per (patient, site): the latest day <= 0 of the site's target lesions.
    studyid
        STUDYID.

    Returns
    -------
    pandas.DataFrame
        ADTR_COLUMNS. AVAL is the sum in mm (missing at a scan with a target unmeasured); NADIR
        the smallest earlier sum, baseline included (blank at baseline); CHG = AVAL - BASE,
        PCHG = 100 CHG / BASE, CHGNAD = AVAL - NADIR, PCHGNAD = 100 CHGNAD / NADIR (missing when
        NADIR is 0). Sums are in integer hundredths of a mm before the division (recist.py).
    """
    rows = []
    points = dict(iter(timepoints.groupby(["patient", "site"], sort=False)))
    for response in responses.itertuples(index=False):
        site = response.site
        base = round(100 * response.baseline_sum_mm)
        common = {
            "STUDYID": studyid,
            "USUBJID": response.patient,
            "PARAMCD": paramcd(site),
            "PARAM": f"Sum of Diameters of Target Lesions at Site {site} (mm)",
            "PARCAT1": site,
        }
        rows.append(
            {
                **common,
                "AVISIT": "BASELINE",
                "AVISITN": 0,
                "ADY": float(baseline_days[(response.patient, site)]),
                "AVAL": base / 100,
                "BASE": base / 100,
                "ABLFL": "Y",
            }
        )
        scans = points.get((response.patient, site), timepoints.iloc[0:0]).sort_values("day")
        for number, scan in enumerate(scans.itertuples(index=False), start=1):
            nadir = round(100 * scan.nadir_mm)
            row = {
                **common,
                "AVISIT": f"DAY {scan.day:g}",
                "AVISITN": number,
                "ADY": float(scan.day),
                "AVAL": math.nan,
                "BASE": base / 100,
                "NADIR": nadir / 100,
                "ABLFL": "",
            }
            if not pd.isna(scan.target_sum_mm):
                value = round(100 * scan.target_sum_mm)
                row.update(
                    AVAL=value / 100,
                    CHG=(value - base) / 100,
                    PCHG=100 * (value - base) / base,
                    CHGNAD=(value - nadir) / 100,
                    PCHGNAD=100 * (value - nadir) / nadir if nadir else math.nan,
                )
            rows.append(row)
    return pd.DataFrame(rows, columns=ADTR_COLUMNS)


def _first_day(scans: pd.DataFrame, first_pd: float, response: str) -> float:
    """Day of the first scan with `response` up to the first PD (the BOR's ADY)."""
    up_to = scans if math.isnan(first_pd) else scans[scans["day"] <= first_pd]
    days = up_to.loc[up_to["response"] == response, "day"]
    return float(days.min()) if len(days) else math.nan


PARAMS = {
    "OVR": "Overall Response",
    "BOR": "Best Overall Response",
    "CBOR": "Confirmed Best Overall Response",
    "RSP": "Confirmed Response (CR or PR)",
}


def _record(ids: tuple, code: str, value: str, day: float, visit: str = "", number=np.nan):
    """One ADRS row; ids = (STUDYID, USUBJID, site, criteria)."""
    studyid, patient, site, criteria = ids
    return {
        "STUDYID": studyid,
        "USUBJID": patient,
        "PARAMCD": code,
        "PARAM": f"{PARAMS[code]} at Site {site} by {criteria}",
        "PARCAT1": site,
        "PARCAT2": criteria,
        "AVISIT": visit,
        "AVISITN": number,
        "ADY": day,
        "AVALC": value,
        "AVAL": RESPONSE_CODE.get(value, {"Y": 1, "N": 0}.get(value, np.nan)),
    }


def adrs(
    timepoints: pd.DataFrame,
    responses: pd.DataFrame,
    confirmed: pd.DataFrame,
    studyid: str,
    criteria: str = CRITERIA,
) -> pd.DataFrame:
    """ADRS: per site, OVR at every scan, BOR, confirmed BOR (CBOR) and responder (RSP).

    Parameters
    ----------
    timepoints, responses
        recist.assess output with confirmation off (OVR and BOR).
    confirmed
        recist.assess's response table with confirmation on (CBOR, RSP).
    studyid
        STUDYID.
    criteria
        PARCAT2 (the response criteria).

    Returns
    -------
    pandas.DataFrame
        ADRS_COLUMNS; PARCAT1 is the site and PARCAT2 the criteria, AVAL the admiralonco code of
        AVALC (CR 1, PR 2, SD 3, PD 5, NE 6; RSP: Y 1, N 0); ADY of BOR/CBOR is the first scan
        with that response (empty for NE).
    """
    rows = []
    points = dict(iter(timepoints.groupby(["patient", "site"], sort=False)))
    cbor = confirmed.set_index(["patient", "site"])["best_response"]
    for response in responses.itertuples(index=False):
        site = response.site
        scans = points.get((response.patient, site), timepoints.iloc[0:0]).sort_values("day")
        ids = (studyid, response.patient, site, criteria)
        for number, scan in enumerate(scans.itertuples(index=False), start=1):
            rows.append(
                _record(ids, "OVR", scan.response, float(scan.day), f"DAY {scan.day:g}", number)
            )
        # iRECIST looks past the first progression (a reset site may still respond)
        first_pd = float(getattr(response, "first_pd_day", math.nan))
        bor = response.best_response
        rows.append(_record(ids, "BOR", bor, _first_day(scans, first_pd, bor)))
        best = cbor[(response.patient, site)]
        rows.append(_record(ids, "CBOR", best, _first_day(scans, first_pd, best)))
        rsp = "Y" if best in ("CR", "PR", "iCR", "iPR") else "N"
        rows.append(
            _record(ids, "RSP", rsp, _first_day(scans, first_pd, best) if rsp == "Y" else np.nan)
        )
    return pd.DataFrame(rows, columns=ADRS_COLUMNS)


def baseline_days(sited: pd.DataFrame) -> pd.Series:
    """Baseline day per (patient, site): the latest day <= 0 of a target lesion there.

    Parameters
    ----------
    sited
        The lesion table with `site` (recist.assign_sites).

    Returns
    -------
    pandas.Series
        Indexed by (patient, site).
    """
    before = sited[(sited["role"] == "target") & (sited["day"] <= 0)]
    return before.groupby(["patient", "site"])["day"].max()


def write_dataset(table: pd.DataFrame, name: str, xpt: str | Path, csv: str | Path) -> None:
    """Write one dataset as SAS transport v5 (names and labels) and CSV, each atomically.

    Parameters
    ----------
    table
        ADTR or ADRS.
    name
        ``ADTR`` or ``ADRS`` (member name and dataset label).
    xpt, csv
        The two output files.
    """
    table = table.copy()
    for column in table.columns:
        if table[column].dtype == object:
            table[column] = table[column].fillna("").astype(str)
        else:
            table[column] = table[column].astype(float)
    with atomic_path(xpt) as tmp:
        pyreadstat.write_xport(
            table,
            str(tmp),
            file_label=DATASET_LABELS[name],
            column_labels=[LABELS[column] for column in table.columns],
            table_name=name,
            file_format_version=5,
        )
    with atomic_path(csv) as tmp:
        table.to_csv(tmp, index=False, na_rep="", float_format="%.10g")


def _rederive(timepoints: pd.DataFrame, responses: pd.DataFrame, best) -> pd.DataFrame:
    """`responses` with best_response recomputed by `best` from each site's timepoints."""
    points = dict(iter(timepoints.groupby(["patient", "site"], sort=False)))
    empty = timepoints.iloc[0:0]
    values = [
        best(points.get((patient, site), empty).sort_values("day").reset_index(drop=True))
        for patient, site in responses[["patient", "site"]].itertuples(index=False)
    ]
    return responses.assign(best_response=values)


def derive(
    sited: pd.DataFrame, reference: str, compare: str, block: dict, confirmation_days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ADTR and ADRS of every evaluable patient and site, ADRS under RECIST 1.1 and iRECIST.

    Parameters
    ----------
    sited
        The lesion table with `site`.
    reference, compare
        The two site labels.
    block
        The config `clinical` block (its RECIST options, `irecist` window; studyid from
        `adam_studyid`).
    confirmation_days
        Days to a confirming scan for CBOR and RSP: config confirmation_days when set, else this.

    Returns
    -------
    tuple of pandas.DataFrame
        (ADTR, ADRS). OVR and BOR are unconfirmed (the block's other options, e.g.
        min_sd_days, apply); CBOR and RSP are confirmed. ADRS holds the RECIST 1.1 rows, then
        the iRECIST rows (PARCAT2), derived by organomics.clinical.irecist.
    """
    studyid = block.get("adam_studyid") or "ORGANOMICS"
    unconfirmed = dataclasses.replace(options_from(block), confirmation_days=None)
    confirming = options_from(block, block.get("confirmation_days") or confirmation_days)
    timepoints, responses = recist.assess(sited, reference, compare, unconfirmed)
    window = irecist.IrecistOptions(**(block.get("irecist") or {}))
    i_points, i_responses = irecist.assess(
        sited, reference, compare, unconfirmed, window, responses
    )
    # The timepoints do not depend on confirmation: only the best responses are derived again
    # (assessing the lesions twice more doubled the step's time on the demo).
    confirmed = _rederive(timepoints, responses, lambda s: recist._best_response(s, confirming)[0])
    i_confirmed = _rederive(i_points, i_responses, lambda s: irecist.best_response(s, confirming))
    tr = adtr(timepoints, responses, baseline_days(sited), studyid)
    rs = pd.concat(
        [
            adrs(timepoints, responses, confirmed, studyid),
            adrs(i_points, i_responses, i_confirmed, studyid, IRECIST),
        ],
        ignore_index=True,
    )
    return tr, rs
