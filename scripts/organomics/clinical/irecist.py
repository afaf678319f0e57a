"""Per-organ iRECIST (Seymour et al., Lancet Oncol 2017): iUPD, its confirmation as iCPD, reset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from organomics.clinical import recist
from organomics.clinical.rates import CI_METHOD, _exact_binomial
from organomics.errors import InputError
from organomics.pairing import paired_values
from organomics.stats import bh

CATEGORIES = ("iCR", "iPR", "iSD", "iUPD", "iCPD", "NE")
CONTROLLED = ("iCR", "iPR", "iSD")
PROGRESSED = ("iUPD", "iCPD")
MAX_NEW_TARGETS = 5  # new-lesion targets in all (per site: each site is assessed on its own)
MAX_NEW_TARGETS_PER_ORGAN = 2
CONFIRM_GROWTH = recist.PD_ABSOLUTE  # +5 mm (500 hundredths) since the iUPD scan
TIMEPOINT_COLUMNS = [
    "patient",
    "site",
    "day",
    "target_sum_mm",
    "new_target_sum_mm",
    "new_lesions",
    "recist_response",
    "days_since_iupd",
    "response",
    "reason",
]
RESPONSE_COLUMNS = [
    "patient",
    "site",
    "best_response",
    "iupd_day",
    "icpd_day",
    "reset_day",
    "pseudoprogression",
    "recist_best_response",
]


@dataclass(frozen=True)
class IrecistOptions:
    """iRECIST settings (config clinical.irecist); defaults are the schema's."""

    SCHEMA_SECTION: ClassVar[str] = "clinical.irecist"

    confirm_window_days: list[int] = field(default_factory=lambda: [28, 56])

    def __post_init__(self):
        """A window is two whole days, the first not after the last."""
        window = list(self.confirm_window_days)
        if len(window) != 2 or not all(isinstance(day, int) for day in window):
            raise InputError(
                None, f"config clinical.irecist.confirm_window_days must be two days, got {window}"
            )
        if window[0] > window[1]:
            raise InputError(
                None,
                f"config clinical.irecist.confirm_window_days {window}: the first day is after "
                "the last",
            )


def new_lesion_roles(rows: pd.DataFrame) -> dict[str, str]:
    """Each new lesion of one site as a new-lesion `target` or `non_target`.

    Parameters
    ----------
    rows
        The site's lesion rows with `size` (integer hundredths of a mm).

    Returns
    -------
    dict
        Lesion -> role. A new lesion measured when first seen is a new-lesion target while
        there is room: up to MAX_NEW_TARGETS in all and MAX_NEW_TARGETS_PER_ORGAN per organ,
        taken in order of appearance, then largest first, then by lesion id; every other new
        lesion (not measurable, or over the limits) is a new non-target.
    """
    new = rows[rows["role"] == "new"].sort_values("day")
    first = new.groupby("lesion", sort=False).head(1)
    order = first.assign(
        measurable=first["size"].notna(),
        minus_size=-first["size"].fillna(0).astype(float),
    ).sort_values(["day", "minus_size", "lesion"])
    roles: dict[str, str] = {}
    per_organ: dict[str, int] = {}
    n_targets = 0
    for lesion, organ, measurable in zip(
        order["lesion"], order["organ"], order["measurable"], strict=True
    ):
        room = n_targets < MAX_NEW_TARGETS and per_organ.get(organ, 0) < MAX_NEW_TARGETS_PER_ORGAN
        if measurable and room:
            roles[lesion] = "target"
            n_targets += 1
            per_organ[organ] = per_organ.get(organ, 0) + 1
        else:
            roles[lesion] = "non_target"
    return roles


def _new_state(new_rows: pd.DataFrame, roles: dict[str, str], day: float) -> dict:
    """New lesions at `day`: each keeps its last recorded state until it is recorded absent."""
    if new_rows.empty:
        return {"present": set(), "ever": set(), "target_sum": 0, "progressing": set()}
    seen = new_rows[new_rows["day"] <= day]
    last = seen.sort_values("day").groupby("lesion").tail(1)
    present = last[recist.new_lesion_present(last)]
    targets = present[present["lesion"].map(roles) == "target"]
    progressing = present[
        (present["lesion"].map(roles) == "non_target") & (present["status"] == "progression")
    ]
    return {
        "present": set(present["lesion"]),
        "ever": set(last["lesion"]),
        "target_sum": int(targets["size"].fillna(0).sum()),
        "progressing": set(progressing["lesion"]),
    }


def _mm(hundredths: int) -> str:
    return f"{hundredths / 100:g} mm"


def assess_site(
    rows: pd.DataFrame, options: recist.Options, irecist_options: IrecistOptions
) -> tuple[pd.DataFrame, dict] | None:
    """iRECIST timepoint responses and best response of one patient at one site.

    Each scan first gets its RECIST 1.1 reading from the target and non-target lesions
    (`recist._timepoint`, the same integer-hundredths arithmetic and nadir) plus the new
    lesions still present. Then:

    - no iUPD pending: RECIST PD is iUPD (the first one is RECIST 1.1's first PD); otherwise
      iCR, iPR or iSD, or NE when a target was not measured;
    - iUPD pending, scan `confirm_window_days` (inclusive) after the iUPD scan: iCPD when,
      compared with the iUPD scan, the target sum grew by >= 5 mm (the iUPD scan's sum must be
      complete; a partial sum now can only grow), the new-lesion target sum grew by >= 5 mm,
      a non-target or new non-target lesion now progresses that did not at iUPD, or a new
      lesion is there that was not seen by the iUPD scan;
    - otherwise, when the scan no longer meets RECIST PD (sum under the bar from the nadir, no
      non-target progression, no new lesion present) with every target measured, the bar resets
      to iCR, iPR or iSD (a pseudoprogression); else it stays iUPD;
    - iCPD is final.

    Parameters
    ----------
    rows
        One patient's lesion rows at one site (role new included).
    options
        RECIST options: confirmation of iCR/iPR and the minimum SD duration, as for RECIST 1.1.
    irecist_options
        The iCPD confirmation window.

    Returns
    -------
    tuple or None
        (timepoint table, summary dict); None when RECIST 1.1 finds the site not evaluable.
    """
    rows = recist._with_sizes(rows)
    if recist.not_evaluable(rows) is not None:
        return None
    low, high = irecist_options.confirm_window_days
    tracked = rows[(rows["role"] != "new") & (rows["day"] <= 0)]
    baseline = tracked.sort_values("day").groupby("lesion").tail(1).set_index("lesion")
    targets = baseline[baseline["role"] == "target"][["size", "nodal"]]
    non_targets = baseline.index[baseline["role"] == "non_target"].tolist()
    baseline_sum = int(targets["size"].sum())
    old_rows = rows[rows["role"] != "new"]
    new_rows = rows[(rows["role"] == "new") & (rows["day"] > 0)]
    roles = new_lesion_roles(new_rows)
    nadir = baseline_sum
    state, iupd = "none", None
    iupd_day = icpd_day = reset_day = np.nan
    points = []
    for day in sorted(rows.loc[rows["day"] > 0, "day"].unique()):
        point = recist._timepoint(day, old_rows, targets, non_targets, baseline_sum, nadir)
        new = _new_state(new_rows, roles, day)
        at_day = old_rows[(old_rows["day"] == day) & (old_rows["role"] == "non_target")]
        progressing = set(at_day.loc[at_day["status"] == "progression", "lesion"])
        reasons = [part for part in point["pd_reason"].split("+") if part]
        if new["present"]:
            reasons.append("new_lesion")
        recist_response = "PD" if reasons else point["response"]
        since = day - iupd["day"] if state == "iupd" else np.nan
        if state == "icpd":
            response, reason = "iCPD", f"iCPD confirmed on day {icpd_day:g}"
        elif state == "iupd":
            triggers = []
            growth = point["target_sum"] - iupd["target_sum"]
            if iupd["complete"] and growth >= CONFIRM_GROWTH:
                triggers.append(f"target sum +{_mm(growth)} since iUPD")
            new_growth = new["target_sum"] - iupd["new_target_sum"]
            if new_growth >= CONFIRM_GROWTH:
                triggers.append(f"new-lesion target sum +{_mm(new_growth)} since iUPD")
            for lesion in sorted(progressing - iupd["progressing"]):
                triggers.append(f"non-target {lesion} progressed")
            for lesion in sorted(new["progressing"] - iupd["new_progressing"]):
                triggers.append(f"new non-target {lesion} progressed")
            for lesion in sorted(new["present"] - iupd["new_ever"]):
                triggers.append(f"another new lesion {lesion}")
            in_window = low <= since <= high
            if triggers and in_window:
                state, icpd_day = "icpd", day
                response = "iCPD"
                reason = f"iUPD of day {iupd['day']:g} confirmed {since:g} days on: "
                reason += "; ".join(triggers)
            elif not reasons and point["complete"]:
                state, response = "none", f"i{point['response']}"
                reset_day = day if np.isnan(reset_day) else reset_day
                reason = f"reset: no longer RECIST PD ({point['response']} from baseline/nadir)"
                if triggers:
                    reason += f"; growth outside the {low}-{high} day window ignored"
            else:
                response = "iUPD"
                if triggers:
                    reason = f"iUPD stands: {'; '.join(triggers)}, but {since:g} days after "
                    reason += f"iUPD is outside the {low}-{high} day confirmation window"
                elif reasons:
                    reason = f"iUPD stands: still RECIST PD ({'+'.join(reasons)}) without "
                    reason += "a confirming increase"
                else:
                    reason = "iUPD stands: not every target lesion measured"
        elif recist_response == "PD":
            state, response = "iupd", "iUPD"
            iupd_day = day if np.isnan(iupd_day) else iupd_day
            iupd = {
                "day": day,
                "target_sum": point["target_sum"],
                "complete": point["complete"],
                "new_target_sum": new["target_sum"],
                "progressing": progressing,
                "new_progressing": new["progressing"],
                "new_ever": new["ever"],
            }
            reason = f"RECIST 1.1 PD ({'+'.join(reasons)}): unconfirmed progression"
        elif recist_response == "NE":
            response, reason = "NE", "not every target lesion measured"
        else:
            response = f"i{recist_response}"
            reason = f"RECIST 1.1 {recist_response}"
        points.append(
            {
                "day": day,
                "target_sum_mm": point["target_sum_mm"],
                "new_target_sum_mm": new["target_sum"] / 100,
                "new_lesions": ";".join(sorted(new["present"])),
                "recist_response": recist_response,
                "days_since_iupd": since,
                "response": response,
                "reason": reason,
            }
        )
        if point["complete"]:
            nadir = min(nadir, point["target_sum"])
    timepoints = pd.DataFrame(points, columns=TIMEPOINT_COLUMNS[2:])
    summary = {
        "best_response": best_response(timepoints, options),
        "iupd_day": iupd_day,
        "icpd_day": icpd_day,
        "reset_day": reset_day,
        "pseudoprogression": not np.isnan(reset_day),
    }
    return timepoints, summary


def best_response(timepoints: pd.DataFrame, options: recist.Options) -> str:
    """iRECIST best overall response of one site from its timepoint responses.

    The best of iCR, iPR and iSD over every scan (iUPD does not end the search: a reset site may
    still respond), with RECIST 1.1's confirmation and minimum-SD options applied as for
    RECIST (iUPD and iCPD count as PD there); without any of them iCPD when progression was
    confirmed, else iUPD when one was seen, else NE.

    Parameters
    ----------
    timepoints
        The site's iRECIST timepoints (`response`, `day`) in day order.
    options
        RECIST options (confirmation_days and its knobs, min_sd_days).

    Returns
    -------
    str
        One of CATEGORIES.
    """
    plain = [
        "PD" if response in PROGRESSED else response.removeprefix("i")
        for response in timepoints["response"]
    ]
    days = timepoints["day"].tolist()
    best = "NE"
    for position, response in enumerate(plain):
        if response in ("CR", "PR") and options.confirmation_days:
            if not recist.confirmed(plain, days, position, options):
                response = "SD"
        if response == "SD" and options.min_sd_days and days[position] < options.min_sd_days:
            response = "NE"
        if response != "PD" and recist.RANK[response] > recist.RANK[best]:
            best = response
    if best != "NE":
        return f"i{best}"
    responses = set(timepoints["response"])
    return "iCPD" if "iCPD" in responses else "iUPD" if "iUPD" in responses else "NE"


def assess(
    lesions: pd.DataFrame,
    reference: str,
    compare: str,
    options: recist.Options,
    irecist_options: IrecistOptions,
    recist_responses: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All patients and sites: (iRECIST timepoint table, iRECIST response table).

    Parameters
    ----------
    lesions
        Lesion rows with a `site` column (`recist.assign_sites`).
    reference, compare
        The two site labels.
    options, irecist_options
        RECIST options and the iCPD confirmation window.
    recist_responses
        The RECIST 1.1 organ response table, for the `recist_best_response` column (computed
        here when not given).

    Returns
    -------
    tuple of pandas.DataFrame
        TIMEPOINT_COLUMNS (every scan with its reason) and RESPONSE_COLUMNS; the evaluable
        patients and sites are RECIST 1.1's (the others are in its exclusion table).
    """
    if recist_responses is None:
        recist_responses = recist.assess(lesions, reference, compare, options)[1]
    recist_best = recist_responses.set_index(["patient", "site"])["best_response"]
    point_tables, summaries = [], []
    groups = dict(iter(lesions.groupby(["patient", "site"], sort=True)))
    order = {reference: 0, compare: 1}
    for (patient, site), rows in sorted(groups.items(), key=lambda i: (i[0][0], order[i[0][1]])):
        result = assess_site(rows, options, irecist_options)
        if result is None:
            continue
        timepoints, summary = result
        if len(timepoints):
            point_tables.append(timepoints.assign(patient=patient, site=site))
        summaries.append(
            {
                "patient": patient,
                "site": site,
                **summary,
                "recist_best_response": recist_best.get((patient, site), np.nan),
            }
        )
    timepoints = (
        pd.concat(point_tables, ignore_index=True)[TIMEPOINT_COLUMNS]
        if point_tables
        else pd.DataFrame(columns=TIMEPOINT_COLUMNS)
    )
    return timepoints, pd.DataFrame(summaries, columns=RESPONSE_COLUMNS)


def response_rates(
    recist_responses: pd.DataFrame,
    irecist_responses: pd.DataFrame,
    reference: str,
    compare: str,
) -> pd.DataFrame:
    """ORR, DCR and pseudoprogression per site under RECIST 1.1 and iRECIST.

    Parameters
    ----------
    recist_responses, irecist_responses
        The organ response tables (best_response; iRECIST with pseudoprogression).
    reference, compare
        The two site labels.

    Returns
    -------
    pandas.DataFrame
        Per criteria and site: n, responders, orr and its Clopper-Pearson 95% CI,
        disease_control, dcr and its CI, progressed (PD; iUPD or iCPD), n_iupd (sites with an
        iUPD), pseudoprogression (iUPD later reset), pseudoprogression_rate (of n_iupd) and
        ci_method. iRECIST pseudoprogression columns are empty for RECIST 1.1 rows.
    """
    # deferred: statsmodels costs ~0.5 s to import and the ADaM step never computes a rate
    from statsmodels.stats.proportion import proportion_confint

    rows = []
    for criteria, table, prefix in (
        ("RECIST 1.1", recist_responses, ""),
        ("iRECIST", irecist_responses, "i"),
    ):
        for site in (reference, compare):
            at_site = table[table["site"] == site]
            best = at_site["best_response"]
            n = len(best)
            row = {"criteria": criteria, "site": site, "n": n}
            for name, label, categories in (
                ("responders", "orr", ("CR", "PR")),
                ("disease_control", "dcr", ("CR", "PR", "SD")),
            ):
                count = int(best.isin([prefix + c for c in categories]).sum())
                low, high = proportion_confint(count, n, method="beta") if n else (np.nan,) * 2
                row |= {
                    name: count,
                    label: count / n if n else np.nan,
                    f"{label}_ci_low": low,
                    f"{label}_ci_high": high,
                }
            progressed = PROGRESSED if prefix else ("PD",)
            row["progressed"] = int(best.isin(progressed).sum())
            if prefix:
                n_iupd = int(at_site["iupd_day"].notna().sum())
                pseudo = int(at_site["pseudoprogression"].astype(bool).sum())
                row |= {
                    "n_iupd": n_iupd,
                    "pseudoprogression": pseudo,
                    "pseudoprogression_rate": pseudo / n_iupd if n_iupd else np.nan,
                }
            else:
                row |= {"n_iupd": np.nan, "pseudoprogression": np.nan}
                row["pseudoprogression_rate"] = np.nan
            row["ci_method"] = CI_METHOD
            rows.append(row)
    return pd.DataFrame(rows)


def _pattern(best: pd.Series, controlled: tuple, progressed: tuple) -> pd.Series:
    return best.map(
        lambda value: (
            "controlled" if value in controlled else "progressed" if value in progressed else ""
        )
    )


def mixed_response(
    recist_responses: pd.DataFrame,
    irecist_responses: pd.DataFrame,
    reference: str,
    compare: str,
) -> pd.DataFrame:
    """Per patient evaluable at both sites: does one site progress while the other is controlled?

    A site is controlled with best response CR, PR or SD (iCR, iPR, iSD) and progressed with PD
    (iUPD or iCPD: never controlled); NE sites leave the patient out of that criteria's pattern.

    Parameters
    ----------
    recist_responses, irecist_responses
        The organ response tables.
    reference, compare
        The two site labels.

    Returns
    -------
    pandas.DataFrame
        patient, best_<reference>, best_<compare> (iRECIST), pattern (iRECIST),
        recist_pattern: `<compare>_progressed_<reference>_controlled`, the opposite, or
        `concordant` ("" when a site is NE under that criteria).
    """
    names = {
        ("controlled", "progressed"): f"{compare}_progressed_{reference}_controlled",
        ("progressed", "controlled"): f"{reference}_progressed_{compare}_controlled",
    }
    out = None
    for column, table, controlled, progressed in (
        ("pattern", irecist_responses, CONTROLLED, PROGRESSED),
        ("recist_pattern", recist_responses, ("CR", "PR", "SD"), ("PD",)),
    ):
        coded = table.assign(state=_pattern(table["best_response"], controlled, progressed))
        wide = coded.pivot(index="patient", columns="site", values="state")
        wide = wide.reindex(columns=[reference, compare]).dropna()
        pattern = [
            "" if "" in pair else names.get(pair, "concordant")
            for pair in zip(wide[reference], wide[compare], strict=True)
        ]
        part = pd.DataFrame({"patient": wide.index, column: pattern})
        out = part if out is None else out.merge(part, on="patient", how="outer")
    best = irecist_responses.pivot(index="patient", columns="site", values="best_response")
    out = out.merge(
        best.reindex(columns=[reference, compare])
        .rename(columns={reference: f"best_{reference}", compare: f"best_{compare}"})
        .reset_index(),
        on="patient",
        how="left",
    )
    columns = ["patient", f"best_{reference}", f"best_{compare}", "pattern", "recist_pattern"]
    return out[columns].fillna({"pattern": "", "recist_pattern": ""}).sort_values("patient")


def site_comparison(
    irecist_responses: pd.DataFrame, mixed: pd.DataFrame, reference: str, compare: str
) -> pd.DataFrame:
    """Paired site tests under iRECIST: ORR, DCR and pseudoprogression (exact McNemar), mixed.

    Parameters
    ----------
    irecist_responses
        The iRECIST organ response table.
    mixed
        `mixed_response`.
    reference, compare
        The two site labels.

    Returns
    -------
    pandas.DataFrame
        Rows irecist_orr, irecist_dcr, pseudoprogression (patients evaluable at both sites;
        a site without iUPD counts as no pseudoprogression) and irecist_mixed_response (exact
        binomial on the two mixed patterns): n, discordant counts, values per site, effect and
        its description, p_value, test, p_adj (Benjamini-Hochberg across the 4) and correction.
    """
    rows = []
    flags = {
        "irecist_orr": irecist_responses["best_response"].isin(("iCR", "iPR")),
        "irecist_dcr": irecist_responses["best_response"].isin(CONTROLLED),
        "pseudoprogression": irecist_responses["pseudoprogression"].astype(bool),
    }
    for metric, flag in flags.items():
        paired, _ = paired_values(
            irecist_responses.assign(hit=flag.astype(float)), "hit", reference, compare
        )
        at_reference, at_compare = paired[reference] == 1, paired[compare] == 1
        better_reference = int((at_reference & ~at_compare).sum())
        better_compare = int((at_compare & ~at_reference).sum())
        n = len(paired)
        what = "pseudoprogression" if metric == "pseudoprogression" else "proportion"
        rows.append(
            {
                "metric": metric,
                "n": n,
                f"discordant_{reference}_only": better_reference,
                f"discordant_{compare}_only": better_compare,
                f"value_{reference}": at_reference.mean() if n else np.nan,
                f"value_{compare}": at_compare.mean() if n else np.nan,
                "effect": (at_compare.mean() - at_reference.mean()) if n else np.nan,
                "effect_measure": f"paired difference in {what} ({compare} - {reference})",
                "p_value": _exact_binomial(better_reference, better_compare),
                "test": "McNemar exact (binomial on discordant pairs), two-sided",
            }
        )
    compare_progressed = int(
        (mixed["pattern"] == f"{compare}_progressed_{reference}_controlled").sum()
    )
    reference_progressed = int(
        (mixed["pattern"] == f"{reference}_progressed_{compare}_controlled").sum()
    )
    n_patterned = int((mixed["pattern"] != "").sum())
    n_mixed = compare_progressed + reference_progressed
    rows.append(
        {
            "metric": "irecist_mixed_response",
            "n": n_patterned,
            f"discordant_{reference}_only": reference_progressed,
            f"discordant_{compare}_only": compare_progressed,
            f"value_{reference}": np.nan,
            f"value_{compare}": np.nan,
            "effect": compare_progressed / n_mixed if n_mixed else np.nan,
            "effect_measure": (
                f"share of mixed responses with {compare} progressing and {reference} "
                f"controlled ({n_mixed} of {n_patterned} patients mixed)"
            ),
            "p_value": _exact_binomial(reference_progressed, compare_progressed),
            "test": "exact binomial on the two mixed patterns (H0 = 0.5), two-sided",
        }
    )
    table = pd.DataFrame(rows)
    table["p_adj"] = bh(table["p_value"])
    table["correction"] = "Benjamini-Hochberg across the 4 iRECIST tests"
    return table
