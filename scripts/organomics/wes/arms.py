"""Fraction of the genome altered and arm-level gains, losses and LOH from copy-number segments."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from organomics.pairing import paired_patients
from organomics.stats import compare_measures
from organomics.tables import read_tsv
from organomics.wes.clonality import at_least, round_half_up

AUTOSOMES = [str(n) for n in range(1, 23)]
EVENTS = ("gain", "loss", "loh")
ARM_COLUMNS = ["sample", "patient", "site", "arm", "coverage", "mean_cn", *EVENTS]
SUMMARY_COLUMNS = [
    "sample", "patient", "site", "ploidy", "baseline_cn", "fga", "fraction_loh",
    "n_arms_called", "n_arm_gains", "n_arm_losses", "n_arm_loh",
]  # fmt: skip


def read_arms(path: str) -> pd.DataFrame:
    """Read the bundled chromosome-arm table.

    Parameters
    ----------
    path
        The arm table (a TSV of the workflow's resources).

    Returns
    -------
    pandas.DataFrame
        Columns chrom and arm (strings), start and end (1-based, inclusive) and scored (bool:
        whether the arm counts in the arm-level calls).
    """
    arms = read_tsv(path, dtype={"chrom": str, "arm": str})
    return arms.astype({"scored": bool})


def _states(segments: pd.DataFrame, baseline: float) -> dict[str, np.ndarray]:
    total = segments["total_cn"].to_numpy(float)
    minor = segments["minor_cn"].to_numpy(float)
    return {
        "gain": total > baseline,
        "loss": total < baseline,
        # one allele lost while the other remains (a homozygous deletion is a loss, not LOH)
        "loh": (minor == 0) & (total > 0),
    }


def sample_copy_number(
    segments: pd.DataFrame,
    arms: pd.DataFrame,
    arm_fraction: float = 0.9,
    min_coverage: float = 0.5,
) -> tuple[dict, pd.DataFrame]:
    """Ploidy, FGA, LOH fraction and arm-level events of one sample.

    Parameters
    ----------
    segments
        `copynumber.read_segments` table.
    arms
        `read_arms` table of the sample's genome build.
    arm_fraction
        An arm has an event when at least this fraction of its segmented length has it
        (PureCN's callLOH uses 0.9 for whole-arm LOH).
    min_coverage
        Arms whose segments cover less than this fraction of their length are not called.

    Returns
    -------
    summary : dict
        ploidy (length-weighted mean total copy number of the autosomal segments),
        baseline_cn (the ploidy rounded half up, at least 1), fga (fraction of the segmented
        autosomal length whose total copy number differs from the baseline), fraction_loh
        (fraction of the segmented autosomal length with a minor allele of 0 among segments
        with a minor allele), and the counts of arms called, gained, lost and with LOH.
    per_arm : pandas.DataFrame
        arm, coverage, mean_cn, gain, loss, loh per scored autosomal arm (events empty where the
        arm is not called, loh empty without allele-specific copy number).
    """
    auto = segments[segments["chrom"].isin(AUTOSOMES)]
    length = (auto["end"] - auto["start"] + 1).to_numpy(float)
    if not length.sum():
        empty = {k: np.nan for k in SUMMARY_COLUMNS[3:]}
        return empty, pd.DataFrame(columns=ARM_COLUMNS[3:])
    ploidy = float((auto["total_cn"].to_numpy(float) * length).sum() / length.sum())
    baseline = max(1.0, float(round_half_up(np.array([ploidy]))[0]))
    states = _states(auto, baseline)
    known_minor = auto["minor_cn"].notna().to_numpy()
    summary = {
        "ploidy": ploidy,
        "baseline_cn": baseline,
        "fga": float(length[states["gain"] | states["loss"]].sum() / length.sum()),
        "fraction_loh": (
            float(length[states["loh"]].sum() / length[known_minor].sum())
            if known_minor.any()
            else np.nan
        ),
    }
    rows = []
    scored = arms[arms["scored"] & arms["chrom"].isin(AUTOSOMES)]
    for arm in scored.itertuples(index=False):
        own = auto[auto["chrom"] == arm.chrom]
        overlap = np.clip(
            np.minimum(own["end"].to_numpy(), arm.end)
            - np.maximum(own["start"].to_numpy(), arm.start)
            + 1,
            0,
            None,
        ).astype(float)
        covered = overlap.sum()
        row = {"arm": arm.arm, "coverage": covered / (arm.end - arm.start + 1)}
        row["mean_cn"] = (
            float((own["total_cn"].to_numpy(float) * overlap).sum() / covered)
            if covered
            else np.nan
        )
        called = covered > 0 and at_least(np.array([row["coverage"]]), min_coverage)[0]
        arm_states = _states(own, baseline)
        for event in EVENTS:
            if not called:
                row[event] = pd.NA
                continue
            weights = overlap
            if event == "loh":
                known = own["minor_cn"].notna().to_numpy()
                weights = overlap * known
                if not weights.sum():
                    row[event] = pd.NA
                    continue
            share = weights[arm_states[event]].sum() / weights.sum()
            row[event] = bool(at_least(np.array([share]), arm_fraction)[0])
        rows.append(row)
    per_arm = pd.DataFrame(rows, columns=ARM_COLUMNS[3:])
    for event in EVENTS:
        per_arm[event] = per_arm[event].astype("boolean")
    summary["n_arms_called"] = int(per_arm["gain"].notna().sum())
    summary["n_arm_gains"] = int(per_arm["gain"].eq(True).sum())
    summary["n_arm_losses"] = int(per_arm["loss"].eq(True).sum())
    summary["n_arm_loh"] = (
        int(per_arm["loh"].eq(True).sum()) if per_arm["loh"].notna().any() else pd.NA
    )
    return summary, per_arm


def paired_arm_events(per_arm: pd.DataFrame, samples: list[dict], reference: str, compare: str):
    """Per paired patient, every arm event called at either site: shared or private.

    Parameters
    ----------
    per_arm
        arm_events.tsv rows (sample, arm, gain, loss, loh).
    samples
        ``{"sample", "patient", "site"}`` of the samples with copy number.
    reference, compare
        Site labels.

    Returns
    -------
    pandas.DataFrame
        patient, arm, event, in_<ref>, in_<cmp>, class (``shared``, ``private_<site>``); only
        arms called at both sites.
    """
    rows = []
    indexed = per_arm.set_index(["sample", "arm"])
    measured = set(indexed.index.get_level_values(0))
    for patient, sites in paired_patients(samples, reference, compare).items():
        ref, cmp = sites[reference], sites[compare]
        if ref not in measured or cmp not in measured:
            continue
        a, b = indexed.loc[ref], indexed.loc[cmp]
        for arm in a.index.intersection(b.index):
            for event in EVENTS:
                x, y = a.at[arm, event], b.at[arm, event]
                if x is pd.NA or y is pd.NA or not (x or y):
                    continue
                kind = "shared" if x and y else f"private_{reference if x else compare}"
                rows.append(
                    {"patient": patient, "arm": arm, "event": event,
                     f"in_{reference}": bool(x), f"in_{compare}": bool(y), "class": kind}
                )  # fmt: skip
    columns = ["patient", "arm", "event", f"in_{reference}", f"in_{compare}", "class"]
    return pd.DataFrame(rows, columns=columns)


def copy_number_comparison(
    summary: pd.DataFrame,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """Paired site tests of the per-sample copy-number measures (exact Wilcoxon, BH across them).

    Parameters
    ----------
    summary
        The cohort's per-sample table (SUMMARY_COLUMNS): patient, site, fga, fraction_loh,
        n_arm_gains, n_arm_losses and n_arm_loh; NaN values are dropped.
    reference, compare
        The two site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: all, simultaneous); None (no collection days) leaves the table
        as it was.

    Returns
    -------
    pandas.DataFrame
        `organomics.stats.paired_site_comparison` with one row per metric that some sample has;
        only the columns metric, n_pairs and n_unpaired (no rows) when no sample has any.
    """
    return compare_measures(
        summary,
        ("fga", "fraction_loh", "n_arm_gains", "n_arm_losses", "n_arm_loh"),
        reference,
        compare,
        simultaneous,
    )


def cohort_copy_number(
    records: list[dict],
    segments: dict[str, pd.DataFrame],
    arms: pd.DataFrame,
    reference: str,
    compare: str,
    arm_fraction: float = 0.9,
    min_coverage: float = 0.5,
    simultaneous: Collection[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every copy-number table of the cohort.

    Parameters
    ----------
    records
        ``{"sample", "patient", "site"}`` of the samples with a copy-number file.
    segments
        Each of those samples' `copynumber.read_segments` table.
    arms
        `read_arms` table.
    reference, compare
        Site labels.
    arm_fraction, min_coverage
        See `sample_copy_number`.
    simultaneous
        See `copy_number_comparison`.

    Returns
    -------
    dict
        ``summary`` (copy_number.tsv), ``arms`` (arm_events.tsv), ``paired``
        (arm_events_paired.tsv), ``comparison`` (copy_number_comparison.tsv).
    """
    rows, per_arm = [], []
    for record in records:
        meta = {k: record[k] for k in ("sample", "patient", "site")}
        summary, arm_table = sample_copy_number(
            segments[record["sample"]], arms, arm_fraction, min_coverage
        )
        rows.append({**meta, **summary})
        per_arm.append(arm_table.assign(**meta))
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    for column in SUMMARY_COLUMNS[7:]:
        summary[column] = summary[column].astype("Int64")
    arm_events = (
        pd.concat(per_arm, ignore_index=True)[ARM_COLUMNS]
        if per_arm
        else pd.DataFrame(columns=ARM_COLUMNS)
    )
    return {
        "summary": summary,
        "arms": arm_events,
        "paired": paired_arm_events(arm_events, records, reference, compare),
        "comparison": copy_number_comparison(summary, reference, compare, simultaneous),
    }
