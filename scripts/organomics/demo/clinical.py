"""Demo lesions (flat table and CDISC SDTM TU/TR) and survival reproducing the study's response."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from organomics.demo.cohort import DemoCohort

# (reference best, compare best, sign of first change at reference, at compare): patients of 52.
# Gives ORR 17/52 vs 11/52, DCR 45/52 vs 35/52, 17 mixed responses (15 compare-up), as published.
PROFILES = (
    (("PR", "PD", -1, 1), 5),
    (("PR", "SD", -1, 1), 2),
    (("SD", "PD", -1, 1), 6),
    (("SD", "SD", -1, 1), 2),
    (("PD", "PR", 1, -1), 1),
    (("SD", "SD", 1, -1), 1),
    (("PR", "PR", -1, -1), 7),
    (("CR", "PR", -1, -1), 2),
    (("PR", "CR", -1, -1), 1),
    (("SD", "SD", -1, -1), 12),
    (("SD", "SD", 1, 1), 7),
    (("PD", "PD", 1, 1), 6),
)
ORGANS = {"reference": "lung", "compare": "liver"}
VISIT_INTERVAL_DAYS = 42


def allocate(n_patients: int) -> list[tuple]:
    """Profiles for n patients: the published counts at 52, else proportional shares."""
    total = sum(count for _, count in PROFILES)
    exact = np.array([count * n_patients / total for _, count in PROFILES])
    counts = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - counts), kind="stable")[: n_patients - counts.sum()]:
        counts[index] += 1
    return [
        profile for (profile, _), count in zip(PROFILES, counts, strict=True) for _ in range(count)
    ]


def multipliers(best: str, sign: int, n_visits: int, rng: np.random.Generator) -> list[float]:
    """Target-sum multipliers of baseline per visit, with margins wide enough for mm rounding."""
    if best == "CR":
        return [rng.uniform(0.5, 0.7)] + [0.0] * (n_visits - 1)
    if best == "PR":
        values = [rng.uniform(0.6, 0.8), rng.uniform(0.45, 0.6)]
        while len(values) < n_visits:
            values.append(values[1] * rng.uniform(0.97, 1.03))
        return values
    if best == "SD":
        first = rng.uniform(0.82, 0.92) if sign < 0 else rng.uniform(1.06, 1.10)
        later = [first * rng.uniform(0.98, 1.03) for _ in range(n_visits - 1)]
        return [first, *later]
    raise ValueError(best)


def progression(mechanism: str, n_visits: int, rng: np.random.Generator) -> list[float]:
    """PD at the first visit (by sum, new lesion or non-target), growth after; maybe a late dip."""
    first = rng.uniform(1.3, 1.5) if mechanism == "target_sum" else rng.uniform(1.06, 1.10)
    values = [first]
    while len(values) < n_visits:
        values.append(values[-1] * rng.uniform(1.0, 1.1))
    if n_visits > 2 and rng.random() < 0.5:
        values[-1] = 0.5  # shrinkage after PD: RECIST ignores it
    return values


def site_lesions(
    patient: str,
    organ: str,
    best: str,
    sign: int,
    days: list[int],
    baseline_days: list[int],
    counter: dict,
    rng: np.random.Generator,
) -> list[dict]:
    """All rows of one site's lesions for one patient."""
    mechanism = rng.choice(["target_sum", "new_lesion", "non_target"]) if best == "PD" else None
    path = (
        progression(mechanism, len(days), rng)
        if best == "PD"
        else multipliers(best, sign, len(days), rng)
    )
    n_targets = int(rng.integers(1, 3))
    diameters = rng.integers(12, 36, size=n_targets).astype(float)
    if diameters.sum() < 30:
        diameters[0] += 30 - diameters.sum()
    has_non_target = mechanism == "non_target" or rng.random() < 0.4
    rows = []

    def lesion_id(kind: str) -> str:
        counter[kind] = counter.get(kind, 0) + 1
        return f"{kind}{counter[kind]:02d}"

    for diameter in diameters:
        lesion = lesion_id("T")
        for position, day in enumerate(baseline_days):
            # An earlier screening scan (first of two baseline days) measured a little smaller.
            scale = 0.9 if position < len(baseline_days) - 1 else 1.0
            rows.append(row(patient, lesion, organ, "target", day, round(diameter * scale)))
        for day, factor in zip(days, path, strict=True):
            rows.append(row(patient, lesion, organ, "target", day, round(diameter * factor)))
    if has_non_target:
        lesion = lesion_id("NT")
        for day in baseline_days:
            rows.append(row(patient, lesion, organ, "non_target", day, status="present"))
        for visit, (day, factor) in enumerate(zip(days, path, strict=True)):
            status = "absent" if factor == 0.0 else "present"
            if mechanism == "non_target" and visit == 0:
                status = "progression"
            rows.append(row(patient, lesion, organ, "non_target", day, status=status))
    if mechanism == "new_lesion":
        rows.append(row(patient, lesion_id("N"), organ, "new", days[0]))
    return rows


def row(patient, lesion, organ, role, day, diameter=None, nodal=False, status="") -> dict:
    return {
        "patient": patient,
        "lesion": lesion,
        "organ": organ,
        "role": role,
        "day": int(day),
        "diameter_mm": diameter,
        "nodal": "true" if nodal else "false",
        "status": status,
    }


def other_organ_lesions(
    patient: str, days: list[int], baseline_days: list[int], counter: dict, rng
) -> list[dict]:
    """Adrenal and nodal targets that organ-specific response must ignore."""
    rows = []
    for organ, nodal in (("adrenal gland", False), ("lymph node", True)):
        if rng.random() < 0.3:
            counter["T"] = counter.get("T", 0) + 1
            lesion = f"T{counter['T']:02d}"
            diameter = float(rng.integers(15, 26))
            for day in baseline_days:
                rows.append(row(patient, lesion, organ, "target", day, round(diameter), nodal))
            for day in days:
                factor = rng.uniform(0.7, 1.3)
                rows.append(
                    row(patient, lesion, organ, "target", day, round(diameter * factor), nodal)
                )
    return rows


def lesion_table(cohort: DemoCohort) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lesions, patients) for the cohort."""
    rng = cohort.rng("clinical")
    profiles = allocate(cohort.n_patients)
    order = rng.permutation(len(profiles))
    lesion_rows, patient_rows = [], []
    for patient, index in zip(cohort.patients, order, strict=True):
        ref_best, cmp_best, ref_sign, cmp_sign = profiles[index]
        both_pd = ref_best == cmp_best == "PD"
        n_visits = 2 if both_pd else int(rng.integers(4, 7))
        days = [VISIT_INTERVAL_DAYS * k + int(rng.integers(-3, 4)) for k in range(1, n_visits + 1)]
        baseline_days = [-int(rng.integers(3, 21))]
        if rng.random() < 0.2:
            baseline_days.insert(0, -45)
        counter: dict = {}
        for best, sign, organ in (
            (ref_best, ref_sign, ORGANS["reference"]),
            (cmp_best, cmp_sign, ORGANS["compare"]),
        ):
            lesion_rows += site_lesions(
                patient, organ, best, sign, days, baseline_days, counter, rng
            )
        lesion_rows += other_organ_lesions(patient, days, baseline_days, counter, rng)
        patient_rows.append(survival(patient, ref_best, cmp_best, ref_sign, cmp_sign, days, rng))
    lesions = irecist_cases(pd.DataFrame(lesion_rows), cohort.rng("clinical_irecist"))
    return lesions, pd.DataFrame(patient_rows)


# What the sites whose RECIST PD is a new lesion show next, in turn (iRECIST cases).
NEW_LESION_CASES = ("grows", "resolves", "another", "unchanged")


def irecist_cases(lesions: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """New-lesion follow-up for iRECIST, after each site's first PD only (RECIST 1.1 unchanged).

    Every site whose first PD is its new lesion gets, in turn (patient order), one of
    NEW_LESION_CASES at its next scan: the new lesion measured (10-18 mm) and 6 mm larger (iCPD
    by the new-lesion target sum), measured and then absent (a reset when the targets allow
    it), a second new lesion not measured (iCPD: another new lesion), or nothing more (iUPD
    stands). Sizes come from their own random stream, so no other demo value changes.
    """
    records = lesions.to_dict("records")
    out = []
    position = 0
    for record in records:
        out.append(record)
        if record["role"] != "new":
            continue
        case = NEW_LESION_CASES[position % len(NEW_LESION_CASES)]
        position += 1
        patient, organ = record["patient"], record["organ"]
        later = sorted({r["day"] for r in records if r["patient"] == patient} - {record["day"]})
        later = [day for day in later if day > record["day"]]
        if not later or case == "unchanged":
            continue
        if case == "another":
            taken = [r["lesion"] for r in records if r["patient"] == patient]
            number = 1 + max(
                int(name[1:]) for name in taken if name[0] == "N" and name[1:].isdigit()
            )
            out.append(row(patient, f"N{number:02d}", organ, "new", later[0]))
            continue
        size = int(rng.integers(10, 19))
        record["diameter_mm"] = size
        if case == "grows":
            out.append(row(patient, record["lesion"], organ, "new", later[0], size + 6))
        else:
            out.append(row(patient, record["lesion"], organ, "new", later[0], status="absent"))
    return pd.DataFrame(out, columns=lesions.columns)


def survival(patient, ref_best, cmp_best, ref_sign, cmp_sign, days, rng) -> dict:
    """PFS from the first PD at either site (else later); worse with compare-site progression."""
    risk = 0.9 * (cmp_best == "PD") + 0.6 * (ref_best == "PD") + 0.5 * (cmp_sign > ref_sign)
    risk -= 0.7 * (ref_best in ("CR", "PR") and cmp_best in ("CR", "PR"))
    if "PD" in (ref_best, cmp_best):
        pfs_days, pfs_event = days[0], 1
    else:
        pfs_days = days[-1] + int(rng.exponential(240 * np.exp(-risk)))
        pfs_event = int(rng.random() < 0.7)
    os_days = pfs_days + int(rng.exponential(360 * np.exp(-risk)))
    return {
        "patient": patient,
        "pfs_days": pfs_days,
        "pfs_event": pfs_event,
        "os_days": os_days,
        "os_event": int(rng.random() < 0.65),
        "age": int(rng.integers(42, 80)),
        "sex": rng.choice(["F", "M"]),
        "pdl1_tps_pct": int(rng.choice([0, 1, 5, 20, 50, 80])),
    }


def to_sdtm(lesions: pd.DataFrame, study: str = "ORGDEMO") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same lesions as CDISC SDTM TU (identification) and TR (results) domains."""
    roles = {"target": "TARGET", "non_target": "NON-TARGET", "new": "NEW"}
    statuses = {"present": "PRESENT", "absent": "ABSENT", "progression": "UNEQUIVOCAL PROGRESSION"}
    visits = {}
    tu_rows, tr_rows = [], []
    for (patient, lesion), rows in lesions.groupby(["patient", "lesion"], sort=False):
        first = rows.iloc[0]
        days = sorted(set(lesions.loc[lesions["patient"] == patient, "day"]))
        visits = {day: number for number, day in enumerate(days, start=1)}
        tu_rows.append(
            {
                "STUDYID": study,
                "DOMAIN": "TU",
                "USUBJID": patient,
                "TUSEQ": len(tu_rows) + 1,
                "TULNKID": lesion,
                "TUTESTCD": "TUMIDENT",
                "TUTEST": "Tumor Identification",
                "TUORRES": roles[first["role"]],
                "TUSTRESC": roles[first["role"]],
                "TULOC": first["organ"].upper(),
                "TUMETHOD": "CT SCAN",
                "VISITNUM": visits[first["day"]],
                "VISITDY": first["day"],
                "TUDY": first["day"],
            }
        )
        for record in rows.itertuples():
            base = {
                "STUDYID": study,
                "DOMAIN": "TR",
                "USUBJID": patient,
                "TRSEQ": len(tr_rows) + 1,
                "TRLNKID": lesion,
                "TRMETHOD": "CT SCAN",
                "VISITNUM": visits[record.day],
                "VISIT": "BASELINE" if record.day <= 0 else f"WEEK {visits[record.day]}",
                "VISITDY": record.day,
                "TRDY": record.day,
            }
            if record.role == "target":
                code = "SAXIS" if record.nodal == "true" else "LDIAM"
                name = "Short Axis" if code == "SAXIS" else "Longest Diameter"
                value = record.diameter_mm
                tr_rows.append(
                    base
                    | {
                        "TRTESTCD": code,
                        "TRTEST": name,
                        "TRORRES": f"{value:g}",
                        "TRORRESU": "mm",
                        "TRSTRESC": f"{value:g}",
                        "TRSTRESN": value,
                        "TRSTRESU": "mm",
                    }
                )
            elif record.role == "new" and pd.notna(record.diameter_mm):
                # A measurable new lesion (iRECIST new-lesion target): its longest diameter.
                value = record.diameter_mm
                tr_rows.append(
                    base
                    | {
                        "TRTESTCD": "LDIAM",
                        "TRTEST": "Longest Diameter",
                        "TRORRES": f"{value:g}",
                        "TRORRESU": "mm",
                        "TRSTRESC": f"{value:g}",
                        "TRSTRESN": value,
                        "TRSTRESU": "mm",
                    }
                )
            else:
                state = statuses.get(record.status, "PRESENT")
                tr_rows.append(
                    base
                    | {
                        "TRTESTCD": "TUMSTATE",
                        "TRTEST": "Tumor State",
                        "TRORRES": state,
                        "TRSTRESC": state,
                    }
                )
    return pd.DataFrame(tu_rows), pd.DataFrame(tr_rows)


def write(outdir: Path, prefix: str, cohort: DemoCohort) -> tuple[dict, dict]:
    """Write clinical/lesions.tsv, clinical/patients.tsv and clinical/sdtm/{tu,tr}.csv."""
    folder = outdir / "clinical"
    (folder / "sdtm").mkdir(parents=True, exist_ok=True)
    lesions, patients = lesion_table(cohort)
    lesions["diameter_mm"] = lesions["diameter_mm"].astype("Int64")
    lesions.to_csv(folder / "lesions.tsv", sep="\t", index=False)
    patients.to_csv(folder / "patients.tsv", sep="\t", index=False)
    tu, tr = to_sdtm(lesions)
    tu.to_csv(folder / "sdtm" / "tu.csv", index=False)
    tr.to_csv(folder / "sdtm" / "tr.csv", index=False)
    block = {
        "lesions": f"{prefix}/clinical/lesions.tsv",
        "patients": f"{prefix}/clinical/patients.tsv",
        "organ_sites": {cohort.reference: ["lung"], cohort.compare: ["liver"]},
    }
    return {}, block
