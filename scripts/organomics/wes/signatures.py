"""Refitting of reference mutational signatures (COSMIC SBS) to each sample's SBS96 counts."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.excluded import Exclusions
from organomics.pairing import paired_patients
from organomics.stats import paired_site_comparison
from organomics.tables import read_table, to_number
from organomics.wes.sbs96 import SBS96

# SciPy's optimize is imported in the functions that use it, not here: the Snakefile imports this
# module at parse time, in every run and cluster job (tests/test_parse_time.py)

log = logging.getLogger(__name__)

# Processes known to act in lung cancer: clock-like (SBS1, SBS5), APOBEC (SBS2, SBS13), tobacco
# (SBS4), reactive oxygen species (SBS18). Refitting all 86 signatures to an exome's few hundred
# mutations spreads them over look-alike signatures; a short list keeps exposures interpretable.
DEFAULT_FIT = ["SBS1", "SBS2", "SBS4", "SBS5", "SBS13", "SBS18"]
COLUMNS = [
    "sample", "patient", "site", "signature", "exposure", "ci_low", "ci_high", "n_mutations",
    "cosine",
]  # fmt: skip


@dataclass
class Settings:
    """Refitting settings (config ``wes.signatures``)."""

    SCHEMA_SECTION = "wes.signatures"
    matrix: str = "resources/wes/COSMIC_v3.4_SBS_GRCh38_exome.tsv.gz"
    fit: list[str] | None = field(default_factory=lambda: list(DEFAULT_FIT))
    min_mutations: int = 20
    n_boot: int = 1000
    ci_level: float = 0.95
    seed: int = 0


def read_signatures(path: str, names: list[str] | None = None) -> pd.DataFrame:
    """Reference signatures as a 96 x K table in `SBS96` row order.

    Parameters
    ----------
    path
        TSV (``.gz`` ok) with a first column of SBS96 classes (``Type`` in COSMIC's files, e.g.
        ``A[C>A]A``) and one column of probabilities per signature.
    names
        Signatures to keep, in this order (None: every column).

    Returns
    -------
    pandas.DataFrame
        Index SBS96 (COSMIC order), one float column per signature, each rescaled to sum to 1.

    Raises
    ------
    InputError
        A class missing or repeated, a cell that is not a number, a negative or all-zero
        signature, or a requested name the file lacks (naming the columns it has).
    """
    table = read_table(path)
    first = table.columns[0]
    classes = table[first].astype(str).str.strip()
    missing = [name for name in SBS96 if name not in set(classes)]
    if missing or classes.duplicated().any():
        repeated = classes[classes.duplicated()].tolist()
        problem = f"lacks {', '.join(missing[:3])}" if missing else f"repeats {repeated[0]}"
        raise InputError(
            path, f"not a 96-class SBS table: column {first!r} {problem}", column=first
        )
    columns = list(table.columns[1:])
    if names is not None:
        unknown = [name for name in names if name not in columns]
        if unknown:
            raise InputError(
                path,
                f"no signature {', '.join(unknown)} (config wes.signatures.fit); the file has "
                f"{', '.join(columns[:10])}{' ...' if len(columns) > 10 else ''}",
            )
        columns = list(names)
    values = pd.DataFrame({c: to_number(table, c, path, allow_missing=False) for c in columns})
    values.index = classes
    values = values.loc[SBS96]
    for column in columns:
        total = float(values[column].sum())
        if (values[column] < 0).any() or total <= 0:
            raise InputError(
                path, "a signature needs non-negative values summing above 0", column=column
            )
    return values / values.sum()


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two non-negative vectors.

    Used as the goodness of fit of a refit: the reconstructed catalogue against the observed one.

    Parameters
    ----------
    a, b
        Vectors of equal length, e.g. SBS96 counts and their reconstruction.

    Returns
    -------
    float
        The cosine of the angle between them (0 to 1 for non-negative vectors); NaN when either
        is all zero.
    """
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / norm) if norm > 0 else np.nan


def refit(counts: np.ndarray, signatures: np.ndarray) -> np.ndarray:
    """Exposure fractions of one catalogue by non-negative least squares.

    Parameters
    ----------
    counts
        96 mutation counts (or any non-negative catalogue).
    signatures
        96 x K matrix, each column a signature summing to 1.

    Returns
    -------
    numpy.ndarray
        K fractions summing to 1: the NNLS coefficients (``min ||S h - counts||, h >= 0``,
        scipy.optimize.nnls) divided by their sum; all zero for an empty catalogue.
    """
    from scipy.optimize import nnls

    coefficients, _ = nnls(signatures, np.asarray(counts, dtype=float))
    total = coefficients.sum()
    return coefficients / total if total > 0 else coefficients


def refit_sample(
    counts: np.ndarray,
    signatures: np.ndarray,
    n_boot: int,
    level: float,
    rng: np.random.Generator,
) -> dict[str, np.ndarray | float]:
    """Exposures of one sample with percentile bootstrap intervals.

    Parameters
    ----------
    counts
        The sample's 96 SBS counts.
    signatures
        96 x K reference matrix.
    n_boot
        Bootstrap catalogues: each draws the sample's n mutations again from its own 96-class
        frequencies (multinomial) and is refitted.
    level
        Confidence level of the percentile interval.
    rng
        Random generator of this sample.

    Returns
    -------
    dict
        ``exposure``, ``ci_low``, ``ci_high`` (arrays of K fractions), ``cosine`` (of the
        reconstruction ``S h`` and the counts).
    """
    from scipy.optimize import nnls

    counts = np.asarray(counts, dtype=float)
    n = int(round(counts.sum()))
    coefficients, _ = nnls(signatures, counts)
    exposure = coefficients / coefficients.sum() if coefficients.sum() > 0 else coefficients
    draws = rng.multinomial(n, counts / counts.sum(), size=n_boot) if n else np.zeros((0, 96))
    boot = np.array([refit(draw, signatures) for draw in draws]).reshape(-1, signatures.shape[1])
    tail = (1 - level) / 2 * 100
    low, high = (
        np.percentile(boot, [tail, 100 - tail], axis=0) if len(boot) else (exposure, exposure)
    )
    return {
        "exposure": exposure,
        "ci_low": low,
        "ci_high": high,
        "cosine": cosine(signatures @ coefficients, counts),
    }


def sample_rng(seed: int, sample: str) -> np.random.Generator:
    """The bootstrap random stream of one sample.

    Seeded by the config's seed and a CRC32 of the sample id, so that a sample gets the same
    draws whatever the cohort's order or size (adding a sample does not change the others).

    Parameters
    ----------
    seed
        The config's random seed.
    sample
        The sample's id.

    Returns
    -------
    numpy.random.Generator
        A generator of its own for the sample.
    """
    return np.random.default_rng([seed, zlib.crc32(sample.encode())])


def cohort_signatures(
    sbs96: pd.DataFrame,
    samples: list[dict],
    signatures: pd.DataFrame,
    settings: Settings,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None = None,
) -> dict:
    """Exposures per sample, per-site summaries and paired site tests.

    Parameters
    ----------
    sbs96
        sbs96.tsv (``sample`` and the 96 classes).
    samples
        ``{"sample", "patient", "site"}`` of every WES sample.
    signatures
        `read_signatures` table of the signatures to fit.
    settings
        min_mutations, n_boot, ci_level, seed.
    reference, compare
        Site labels.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: all, simultaneous); None (no collection days) leaves the table
        as it was.

    Returns
    -------
    dict
        ``signatures`` (signatures.tsv: COLUMNS, one row per fitted sample and signature),
        ``by_site`` (site, signature, n_samples, mean_exposure, median_exposure, n_nonzero),
        ``comparison`` (paired tests of the exposure per signature), ``excluded``
        (Exclusions, step ``signatures``).
    """
    matrix = signatures.to_numpy(dtype=float)
    names = list(signatures.columns)
    counts = sbs96.set_index("sample").reindex(columns=SBS96).fillna(0)
    excluded = Exclusions("signatures")
    rows, fitted = [], []
    for record in samples:
        sample = record["sample"]
        catalogue = counts.loc[sample].to_numpy(float) if sample in counts.index else np.zeros(96)
        n = int(round(catalogue.sum()))
        if n < settings.min_mutations:
            excluded.add(
                "sample",
                sample,
                f"{n} SNVs in sbs96.tsv, fewer than wes.signatures.min_mutations "
                f"({settings.min_mutations}): not refitted",
                record["patient"],
                record["site"],
            )
            continue
        fit = refit_sample(
            catalogue, matrix, settings.n_boot, settings.ci_level,
            sample_rng(settings.seed, sample),
        )  # fmt: skip
        fitted.append(record)
        for k, name in enumerate(names):
            rows.append(
                {
                    **{key: record[key] for key in ("sample", "patient", "site")},
                    "signature": name,
                    "exposure": fit["exposure"][k],
                    "ci_low": fit["ci_low"][k],
                    "ci_high": fit["ci_high"][k],
                    "n_mutations": n,
                    "cosine": fit["cosine"],
                }
            )
    table = pd.DataFrame(rows, columns=COLUMNS)
    for patient, sites in paired_patients(samples, reference, compare).items():
        done = {r["sample"] for r in fitted}
        missing = [site for site in (reference, compare) if sites[site] not in done]
        if len(missing) == 1:
            excluded.add(
                "patient",
                patient,
                f"the {missing[0]} sample was not refitted: left out of the paired tests",
                patient,
                missing[0],
            )
    comparison = (
        paired_site_comparison(table, "exposure", ["signature"], reference, compare, simultaneous)
        if len(table)
        else pd.DataFrame(columns=["signature", "n_pairs", "n_unpaired"])
    )
    return {
        "signatures": table,
        "by_site": site_summary(table, names, reference, compare),
        "comparison": comparison,
        "excluded": excluded,
    }


def site_summary(table: pd.DataFrame, names: list[str], reference: str, compare: str):
    """Per site and signature: samples fitted, mean and median exposure, samples above 0.

    Parameters
    ----------
    table
        The long exposure table (columns site, signature, exposure), one row per sample and
        signature.
    names
        The signatures, in the order of the rows.
    reference, compare
        The two site labels; the reference site's rows come first.

    Returns
    -------
    pandas.DataFrame
        site, signature, n_samples, mean_exposure, median_exposure (NaN without samples) and
        n_nonzero.
    """
    rows = []
    for site in (reference, compare):
        own = table[table["site"] == site]
        for name in names:
            values = own.loc[own["signature"] == name, "exposure"].to_numpy(float)
            rows.append(
                {
                    "site": site,
                    "signature": name,
                    "n_samples": len(values),
                    "mean_exposure": values.mean() if len(values) else np.nan,
                    "median_exposure": np.median(values) if len(values) else np.nan,
                    "n_nonzero": int((values > 0).sum()),
                }
            )
    return pd.DataFrame(rows)
