"""Demo HALO object-data tables: fewer CD8+ T and CD56dim NK cells in LM, excluded from its core."""

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
# Where CD8 T cells sit (PL, LM): spread over tumour and stroma in PL (inflamed); in LM most
# crowd the invasive margin and the rest stay in the stroma (immune-excluded).
MARGIN_SHARE = 0.75  # LM CD8 T cells in a band around the border (sd MARGIN_SD_UM)
MARGIN_SD_UM = 35.0
TUMOUR_SIDE = 0.97  # share of tumour cells inside the tumour region (the rest scattered)
STROMA_SIDE = 0.95  # share of unmarked stromal cells outside it
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
    rng: np.random.Generator,
    sample: str,
    fractions: dict,
    n: int,
    side: float,
    excluded: bool,
    geometry: np.random.Generator | None = None,
):
    """One HALO-like object table: a tumour mass with a wavy border, stroma, immune cells.

    The tumour fills x < border(y) (about the left half of the image). CD8 T cells are spread
    over the whole image, or with `excluded` crowd the border (the invasive margin) and the
    stroma but stay out of the tumour core. Positions come from `geometry` (default `rng`);
    `rng` makes the same draws as the earlier nest layout did, so that the compositions of
    every later sample, and the figures other layers build on them, stay as they were.
    """
    geometry = geometry or rng
    probabilities = np.array(list(fractions.values()))
    probabilities *= min(1.0, 0.95 / probabilities.sum())  # keep some unmarked stroma
    counts = rng.multinomial(n, [*probabilities, 1.0 - probabilities.sum()])
    types = np.repeat([*fractions, "Stroma"], counts)
    # The earlier layout's draws (4 nests, x, y, infiltration, nest, two offsets), discarded.
    rng.uniform(size=(4, 2)), rng.uniform(size=n), rng.uniform(size=n), rng.random(n)
    rng.integers(0, 4, n), rng.normal(0, 1, n), rng.normal(0, 1, n)
    phase, waves = geometry.uniform(0, 2 * np.pi), geometry.uniform(1.0, 2.0)

    def border(y):
        return side * (0.5 + 0.06 * np.sin(2 * np.pi * waves * y / side + phase))

    y = geometry.uniform(0, side, n)
    edge = border(y)
    x = geometry.uniform(0, side, n)
    tumour_side = geometry.uniform(0, 1, n) * edge
    stroma_side = edge + geometry.uniform(0, 1, n) * (side - edge)
    x = np.where((types == "Tumour") & (geometry.random(n) < TUMOUR_SIDE), tumour_side, x)
    x = np.where((types == "Stroma") & (geometry.random(n) < STROMA_SIDE), stroma_side, x)
    if excluded:
        cd8 = types == "CD8_T"
        at_margin = cd8 & (geometry.random(n) < MARGIN_SHARE)
        x = np.where(cd8, stroma_side, x)
        x = np.where(at_margin, edge + geometry.normal(0, MARGIN_SD_UM, n), x)
    x = x.clip(0, side)
    order = rng.permutation(n)
    types, x, y, edge = types[order], x[order], y[order], edge[order]
    radius = rng.uniform(3.5, 6.0, n)
    table = {
        "Image Location": f"\\\\scanner\\mihc\\{sample}.qptiff",
        "Analysis Region": "Layer 1",
        "Algorithm Name": "HighPlex FL v4.1.3",
        "Object Id": np.arange(n),
        "Classifier Label": np.where(x < edge, "Tumor", "Stroma"),
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
    geometry = cohort.rng("mihc_geometry")  # its own stream: positions only
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
        table = _sample_table(
            rng, sample, fractions, n_cells, side, site == cohort.compare, geometry
        )
        name = f"{sample}.csv.gz"
        _write_gzip_csv(table, folder / name)
        sheet[sample] = {"mihc": f"{prefix}/mihc/{name}", "area_mm2": f"{area_mm2:g}"}
    return sheet, {k: v for k, v in CONFIG.items()}
