"""Demo HALO object-data tables: fewer CD8+ T and CD56dim NK cells in LM than in PL."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

MARKERS = ("DAPI", "CD3", "CD8", "CD16", "CD56", "PanCK")
# Cell types drawn per sample, with their marker profile (1 = positive).
CELL_TYPES = {
    "CD8_T": {"CD3": 1, "CD8": 1},
    "CD4_T": {"CD3": 1},
    "CD56dim_NK": {"CD56": 1, "CD16": 1},
    "CD56bright_NK": {"CD56": 1},
    "Tumour": {"PanCK": 1},
    "Stroma": {},
}
# Median PL fractions, and the LM/PL ratio that the demo's paired test should recover.
PL_FRACTIONS = {
    "CD8_T": 0.12,
    "CD4_T": 0.10,
    "CD56dim_NK": 0.05,
    "CD56bright_NK": 0.015,
    "Tumour": 0.40,
}
LM_RATIO = {"CD8_T": 0.5, "CD56dim_NK": 0.45}
# Share of CD8 T cells placed inside tumour nests (PL, LM): closer to tumour in PL.
INFILTRATION = {False: 0.5, True: 0.25}
CD16_THRESHOLD = 10.0  # the demo calls CD16 from its intensity column, the rest from 0/1 calls

CONFIG = {
    "format": "auto",
    "markers": {
        "CD3": {"column": "CD3 Positive Classification"},
        "CD8": {"column": "CD8 Positive Classification"},
        "CD16": {"column": "CD16 Cell Intensity", "threshold": CD16_THRESHOLD},
        "CD56": {"column": "CD56 Positive Classification"},
        "PanCK": {"column": "PanCK Positive Classification"},
    },
    "phenotypes": {
        "CD8_T": "CD3 & CD8",
        "CD4_T": "CD3 & ~CD8",
        "CD56dim_NK": "CD56 & CD16 & ~CD3",
        "CD56bright_NK": "CD56 & ~CD16 & ~CD3",
        "Tumour": "PanCK & ~CD3",
    },
    "region": "Classifier Label",
    "tumour": "Tumour",
    "within_um": 30,
}


def _sample_table(
    rng: np.random.Generator, sample: str, fractions: dict, n: int, side: float, infiltration: float
):
    """One HALO-like object table: tumour nests, immune cells partly infiltrating them."""
    probabilities = np.array(list(fractions.values()))
    probabilities *= min(1.0, 0.95 / probabilities.sum())  # keep some unmarked stroma
    counts = rng.multinomial(n, [*probabilities, 1.0 - probabilities.sum()])
    types = np.repeat([*fractions, "Stroma"], counts)
    nests = rng.uniform(0.2 * side, 0.8 * side, size=(4, 2))
    x = rng.uniform(0, side, n)
    y = rng.uniform(0, side, n)
    near_nest = (types == "Tumour") | ((types == "CD8_T") & (rng.random(n) < infiltration))
    which = rng.integers(0, len(nests), n)
    spread = np.where(types == "Tumour", 0.07 * side, 0.11 * side)
    x = np.where(near_nest, nests[which, 0] + rng.normal(0, 1, n) * spread, x).clip(0, side)
    y = np.where(near_nest, nests[which, 1] + rng.normal(0, 1, n) * spread, y).clip(0, side)
    order = rng.permutation(n)
    types, x, y = types[order], x[order], y[order]
    to_nest = np.min(np.hypot(x[:, None] - nests[:, 0], y[:, None] - nests[:, 1]), axis=1)
    radius = rng.uniform(3.5, 6.0, n)
    table = {
        "Image Location": f"\\\\scanner\\mihc\\{sample}.qptiff",
        "Analysis Region": "Layer 1",
        "Algorithm Name": "HighPlex FL v4.1.3",
        "Object Id": np.arange(n),
        "Classifier Label": np.where(to_nest < 0.15 * side, "Tumor", "Stroma"),
        "XMin": np.floor(x - radius).astype(int),
        "XMax": np.ceil(x + radius).astype(int),
        "YMin": np.floor(y - radius).astype(int),
        "YMax": np.ceil(y + radius).astype(int),
    }
    for marker in MARKERS:
        carriers = [name for name, profile in CELL_TYPES.items() if profile.get(marker)]
        positive = np.isin(types, carriers) | (marker == "DAPI")
        low, high = rng.gamma(2.0, 1.0, n), rng.gamma(9.0, 3.0, n) + CD16_THRESHOLD
        intensity = np.where(positive, high, low)
        table[f"{marker} Positive Classification"] = positive.astype(int)
        table[f"{marker} Cell Intensity"] = np.round(intensity, 2)
    table["Cell Area (µm²)"] = np.round(np.pi * radius**2, 1)
    return pd.DataFrame(table)


def _write_gzip_csv(table: pd.DataFrame, path: Path) -> None:
    """gzip with mtime 0 so the same seed gives byte-identical files."""
    text = io.StringIO()
    table.to_csv(text, index=False)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(text.getvalue().encode("utf-8"))


def _samples(cohort) -> list[tuple[str, str]]:
    """(patient, site) of every demo sample: both sites of each pair, plus the unpaired ones."""
    samples = [(p, s) for p in cohort.pairs for s in (cohort.reference, cohort.compare)]
    for extra in getattr(cohort, "unpaired_samples", []) or []:
        patient, site = (
            (extra["patient"], extra["site"]) if isinstance(extra, dict) else extra.rsplit("_", 1)
        )
        if (patient, site) not in samples:
            samples.append((patient, site))
    return samples


def write(outdir: Path, prefix: str, cohort) -> tuple[dict[str, dict[str, str]], dict]:
    """Write outdir/mihc/<sample>.csv.gz for the demo cohort; return sheet cells and config."""
    folder = Path(outdir) / "mihc"
    folder.mkdir(parents=True, exist_ok=True)
    rng = cohort.rng("mihc")
    n_cells = int(getattr(cohort, "n_mihc_cells", 2000) or 2000)
    patient_effect = {}
    sheet: dict[str, dict[str, str]] = {}
    for patient, site in _samples(cohort):
        # A patient's two sites share a baseline, so the paired test sees the site effect.
        base = patient_effect.setdefault(
            patient, {k: v * np.exp(rng.normal(0, 0.35)) for k, v in PL_FRACTIONS.items()}
        )
        fractions = {
            k: v
            * (LM_RATIO.get(k, 1.0) if site == cohort.compare else 1.0)
            * np.exp(rng.normal(0, 0.15))
            for k, v in base.items()
        }
        area_mm2 = round(float(rng.uniform(0.45, 0.8)), 3)
        side = float(np.sqrt(area_mm2) * 1000.0)
        sample = cohort.sample_id(patient, site)
        infiltration = INFILTRATION[site == cohort.compare]
        table = _sample_table(rng, sample, fractions, n_cells, side, infiltration)
        name = f"{sample}.csv.gz"
        _write_gzip_csv(table, folder / name)
        sheet[sample] = {"mihc": f"{prefix}/mihc/{name}", "area_mm2": f"{area_mm2:g}"}
    return sheet, {k: v for k, v in CONFIG.items()}
