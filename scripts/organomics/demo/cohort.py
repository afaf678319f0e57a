"""Who is in a demo cohort: patients, matched sample pairs and the size knobs for each layer."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class DemoCohort:
    """Sizes and ids of a demo cohort; every layer draws from its own seeded stream."""

    seed: int = 0
    n_patients: int = 52
    n_pairs: int = 27
    n_sc_pairs: int = 6
    n_genes: int = 3000
    n_cells: int = 800
    n_variants: int = 400
    n_mihc_cells: int = 2500
    reference: str = "PL"
    compare: str = "LM"
    patients: list[str] = field(init=False)

    def __post_init__(self) -> None:
        if not 1 <= self.n_pairs <= self.n_patients - 1:
            raise ValueError("need 1 <= pairs < patients (one patient gives the unpaired sample)")
        if not 1 <= self.n_sc_pairs <= self.n_pairs:
            raise ValueError("need 1 <= sc-pairs <= pairs")
        width = max(2, len(str(self.n_patients)))
        object.__setattr__(
            self, "patients", [f"P{number:0{width}d}" for number in range(1, self.n_patients + 1)]
        )

    @property
    def pairs(self) -> list[str]:
        """Patients with a sample at both sites for the molecular layers."""
        return self.patients[: self.n_pairs]

    @property
    def sc_pairs(self) -> list[str]:
        """Patients with single-cell RNA at both sites (collected simultaneously)."""
        return self.pairs[: self.n_sc_pairs]

    @property
    def unpaired_samples(self) -> list[str]:
        """One single-site sample, so that every layer shows how unpaired samples are handled."""
        return [self.sample_id(self.patients[self.n_pairs], self.reference)]

    def sample_id(self, patient: str, site: str) -> str:
        return f"{patient}_{site}"

    def rng(self, salt: str) -> np.random.Generator:
        """An independent, reproducible random stream for one layer."""
        return np.random.default_rng([self.seed, zlib.crc32(salt.encode())])

    def collection_days(self) -> dict[str, int]:
        """Sampling day of every molecular sample (days from treatment start, negative before).

        The reference site is biopsied before treatment; the single-cell pairs are the
        simultaneous ones (compare site within 30 days, the first exactly 30 days later, the
        boundary), the other pairs' compare site later (the first of them exactly 31 days
        later, just outside). Drawn from their own stream, so no other demo file changes.
        """
        rng = self.rng("collection_day")
        days = {}
        for patient in self.patients[: self.n_pairs + 1]:
            reference_day = int(rng.integers(-60, -5))
            days[self.sample_id(patient, self.reference)] = reference_day
            if patient not in self.pairs:
                continue
            if patient in self.sc_pairs:
                gap = 30 if patient == self.sc_pairs[0] else int(rng.integers(-30, 31))
            else:
                first_later = (
                    patient == self.pairs[self.n_sc_pairs]
                    if self.n_sc_pairs < self.n_pairs
                    else False
                )
                gap = 31 if first_later else int(rng.integers(60, 420))
            days[self.sample_id(patient, self.compare)] = reference_day + gap
        return days
