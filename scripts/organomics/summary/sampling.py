"""Sampling time: every headline site comparison on all pairs and on the simultaneous pairs."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from organomics.plots import paired_plot
from organomics.stats import paired_site_comparison


def site_tests(
    measures: pd.DataFrame,
    samples: pd.DataFrame,
    reference: str,
    compare: str,
    simultaneous: Collection[str] | None,
) -> pd.DataFrame:
    """The paired LM vs PL test of every headline measure, repeated on the simultaneous pairs.

    Parameters
    ----------
    measures
        ``sample, layer, measure, value`` (`organomics.summary.response.sample_measures`).
    samples
        The sheet's ``sample, patient, site``.
    reference, compare
        The two site labels.
    simultaneous
        `organomics.pairing.simultaneous_patients` (None: no collection days, ``all`` only).

    Returns
    -------
    pandas.DataFrame
        `organomics.stats.paired_site_comparison` by layer and measure (exact Wilcoxon
        signed-rank, BH across the measures within each subset), with the ``subset`` column
        (``all``, ``simultaneous``) when `simultaneous` is given.
    """
    sheet = samples[["sample", "patient", "site"]].astype(str)
    long = measures.merge(sheet, on="sample", how="inner")
    return paired_site_comparison(
        long, "value", ["layer", "measure"], reference, compare, simultaneous
    )


def figure(
    measures: pd.DataFrame,
    samples: pd.DataFrame,
    tests: pd.DataFrame,
    reference: str,
    compare: str,
    days_apart: Mapping[str, int],
    within_days: int,
    top: int = 12,
) -> plt.Figure:
    """Paired plots of the `top` measures (smallest p over all pairs) with the biopsies' timing.

    Parameters
    ----------
    measures, samples
        As in `site_tests`.
    tests
        `site_tests`' table (its p-values pick the measures; the titles give both subsets).
    reference, compare
        The two site labels.
    days_apart
        Patient -> days between its biopsies (`organomics.pairing.days_between`): lines of
        simultaneous pairs solid, the others dotted, each labelled with its days.
    within_days
        config pairs.simultaneous_days.
    top
        How many measures to draw.

    Returns
    -------
    matplotlib.figure.Figure
    """
    sheet = samples[["sample", "patient", "site"]].astype(str)
    long = measures.merge(sheet, on="sample", how="inner")
    overall = tests[tests["subset"] == "all"] if "subset" in tests.columns else tests
    chosen = overall.dropna(subset=["p_value"]).sort_values("p_value").head(top)
    n = max(1, len(chosen))
    columns = min(n, 4)
    rows = int(np.ceil(n / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 3.2 * rows), squeeze=False)
    for ax, row in zip(axes.flat, chosen.to_dict("records"), strict=False):
        part = long[(long["layer"] == row["layer"]) & (long["measure"] == row["measure"])]
        texts = [f"all p={row['p_value']:.2g} (n={row['n_pairs']})"]
        if "subset" in tests.columns:
            same = tests[
                (tests["subset"] == "simultaneous")
                & (tests["layer"] == row["layer"])
                & (tests["measure"] == row["measure"])
            ]
            if len(same):
                texts.append(
                    f"simult. p={same['p_value'].iloc[0]:.2g} (n={same['n_pairs'].iloc[0]})"
                )
        paired_plot(ax, part, "value", reference, compare, ", ".join(texts), row["measure"],
                    days_apart=days_apart, within_days=within_days)  # fmt: skip
        ax.title.set_fontsize(6)
        ax.yaxis.label.set_fontsize(6)
    for ax in list(axes.flat)[len(chosen) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"paired sites: solid lines sampled within {within_days} days (labelled with the days "
        f"from the {reference} to the {compare} biopsy), dotted further apart",
        fontsize=8,
    )
    fig.tight_layout()
    return fig
