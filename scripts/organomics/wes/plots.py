"""WES figures: paired TMB/neoantigens, shared/private bars, oncoplot, SBS6, CCF scatter."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from organomics.pairing import paired_patients  # noqa: E402
from organomics.plots import SITE_COLOURS, paired_plot  # noqa: E402
from organomics.stats import subset_all  # noqa: E402
from organomics.wes.cohort import SBS6  # noqa: E402

# Oncoplot classes in priority order (a sample with several hits in a gene shows the first).
CLASS_COLOURS = {
    "Nonsense_Mutation": "#d62728",
    "Frame_Shift_Del": "#1f77b4",
    "Frame_Shift_Ins": "#9467bd",
    "Splice_Site": "#ff7f0e",
    "Translation_Start_Site": "#8c564b",
    "Nonstop_Mutation": "#e377c2",
    "In_Frame_Del": "#bcbd22",
    "In_Frame_Ins": "#17becf",
    "Missense_Mutation": "#2ca02c",
    "Other_Nonsynonymous": "#7f7f7f",
}


def _annotation(comparison: pd.DataFrame | None, metric: str) -> str:
    if comparison is None or comparison.empty or metric not in set(comparison["metric"]):
        return ""
    note = ""
    if "subset" in comparison.columns:  # the simultaneous pairs' test, a sensitivity check
        alike = comparison[
            (comparison["subset"] == "simultaneous") & (comparison["metric"] == metric)
        ]
        if len(alike) and alike["n_pairs"].iloc[0] > 0:
            row = alike.iloc[0]
            note = f"\n{int(row['n_pairs'])} simultaneous pairs: p={float(row['p_value']):.3g}"
    row = subset_all(comparison).set_index("metric").loc[metric]
    return f"n={int(row['n_pairs'])} pairs, {row['test']}: p={float(row['p_value']):.3g}" + note


def paired_metric(
    table: pd.DataFrame,
    value: str,
    reference: str,
    compare: str,
    comparison: pd.DataFrame | None = None,
    ylabel: str = "",
    title: str = "",
    sampling: dict | None = None,
) -> plt.Figure:
    """Box per site with one line per patient joining its two samples.

    Parameters
    ----------
    table
        One row per sample with ``patient``, ``site`` and `value`.
    value
        The measure (e.g. ``tmb``).
    reference, compare
        The two site labels.
    comparison
        site_comparison.tsv: its row for `value` (n pairs, test, p) is written under the axis.
    ylabel, title
        Axis texts.
    sampling
        params ``sampling`` of the workflow (``days_apart``: patient -> days between its two
        biopsies or None, ``within_days``): simultaneous pairs are drawn solid with their days
        apart (`organomics.plots.paired_plot`); None or no days draws every line alike.

    Returns
    -------
    matplotlib.figure.Figure
    """
    sampling = sampling or {}
    fig, ax = plt.subplots(figsize=(4.2, 4.4))
    if table.empty or table[value].isna().all():
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        paired_plot(
            ax, table, value, reference, compare, title=title, ylabel=ylabel,
            days_apart=sampling.get("days_apart"), within_days=sampling.get("within_days", 30),
        )  # fmt: skip
        note = _annotation(comparison, value)
        if note:
            ax.set_xlabel(note, fontsize=7)
    return fig


def shared_private_bars(table: pd.DataFrame, reference: str, compare: str) -> plt.Figure:
    """Stacked bars per patient: shared, private to the reference site, private to the other.

    Parameters
    ----------
    table
        shared_private.tsv (patient, shared, private_<reference>, private_<compare>).
    reference, compare
        The two site labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    columns = ["shared", f"private_{reference}", f"private_{compare}"]
    data = table.assign(total=table[columns].sum(axis=1)).sort_values("total", ascending=False)
    fig, ax = plt.subplots(figsize=(max(5, 0.28 * len(data) + 2), 4))
    bottom = np.zeros(len(data))
    colours = ["0.55", SITE_COLOURS[0], SITE_COLOURS[1]]
    labels = ["shared", f"private {reference}", f"private {compare}"]
    x = np.arange(len(data))
    for column, colour, label in zip(columns, colours, labels, strict=True):
        # float: a cohort without a paired patient gives an empty (object) column
        heights = data[column].to_numpy(dtype=float)
        ax.bar(x, heights, bottom=bottom, color=colour, label=label, width=0.8)
        bottom += heights
    ax.set_xticks(x, data["patient"], rotation=90, fontsize=7)
    ax.set_ylabel("passing variants")
    ax.set_title("Shared and private mutations per patient")
    ax.legend(frameon=False, fontsize=8)
    return fig


def oncoplot(
    mutations: pd.DataFrame,
    samples: list[dict],
    genes: list[str],
    reference: str,
    compare: str,
) -> plt.Figure:
    """Two panels (one per site) of the top genes x paired patients, coloured by class.

    Parameters
    ----------
    mutations
        mutations.tsv.gz (sample, patient, site, gene, variant_class, nonsynonymous, ...).
    samples
        ``{"sample", "patient", "site"}`` of every WES sample.
    genes
        The genes (rows), most mutated first.
    reference, compare
        The two site labels (left and right panel).

    Returns
    -------
    matplotlib.figure.Figure
    """
    patients = sorted(paired_patients(samples, reference, compare))
    classes = list(CLASS_COLOURS)
    code = {c: i + 1 for i, c in enumerate(classes)}
    hits = mutations[mutations["nonsynonymous"] & mutations["gene"].isin(genes)].copy()
    hits["cls"] = hits["variant_class"].where(
        hits["variant_class"].isin(classes), "Other_Nonsynonymous"
    )
    hits["code"] = hits["cls"].map(code)
    best = hits.groupby(["site", "gene", "patient"])["code"].min()
    fig, axes = plt.subplots(
        1, 2, figsize=(max(6, 0.22 * len(patients) * 2 + 3), 0.3 * max(len(genes), 3) + 1.8),
        sharey=True,
    )  # fmt: skip
    cmap = ListedColormap(["#f0f0f0", *CLASS_COLOURS.values()])
    for ax, site in zip(axes, (reference, compare), strict=True):
        grid = np.zeros((len(genes), len(patients)))
        for (s, gene, patient), value in best.items():
            if s == site and patient in patients and gene in genes:
                grid[genes.index(gene), patients.index(patient)] = value
        ax.imshow(grid, cmap=cmap, vmin=0, vmax=len(classes), aspect="auto", interpolation="none")
        ax.set_xticks(range(len(patients)), patients, rotation=90, fontsize=6)
        ax.set_yticks(range(len(genes)), genes, fontsize=7)
        mutated = (grid > 0).sum(axis=1)
        ax.set_title(f"{site} (n={len(patients)})")
        for i, n in enumerate(mutated):
            ax.text(len(patients) - 0.3, i, f" {100 * n / max(len(patients), 1):.0f}%",
                    va="center", fontsize=6)  # fmt: skip
    present = sorted(set(hits["cls"]), key=classes.index)
    handles = [Patch(color=CLASS_COLOURS[c], label=c) for c in present]
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=min(5, len(handles)), fontsize=7,
                   frameon=False, bbox_to_anchor=(0.5, -0.03))  # fmt: skip
    fig.suptitle("Top mutated genes (non-synonymous) by site, paired patients")
    return fig


def sbs6_by_site(spectrum: pd.DataFrame, reference: str, compare: str) -> plt.Figure:
    """Mean SBS6 fraction per site with each sample as a dot.

    Parameters
    ----------
    spectrum
        sbs6.tsv (sample, site, substitution, fraction).
    reference, compare
        The two site labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    x = np.arange(len(SBS6))
    width = 0.38
    for offset, site, colour in ((-width / 2, reference, SITE_COLOURS[0]),
                                 (width / 2, compare, SITE_COLOURS[1])):  # fmt: skip
        data = spectrum[spectrum["site"] == site]
        if data.empty:
            continue
        wide = data.pivot_table(index="sample", columns="substitution", values="fraction")
        wide = wide.reindex(columns=list(SBS6)).fillna(0)
        ax.bar(x + offset, wide.mean(), width=width, color=colour, alpha=0.5,
               label=f"{site} (n={len(wide)})")  # fmt: skip
        for j, column in enumerate(SBS6):
            ax.scatter(np.full(len(wide), x[j] + offset), wide[column], s=5, color=colour)
    ax.set_xticks(x, SBS6)
    ax.set_ylabel("fraction of single-base substitutions")
    ax.set_title("SBS6 spectrum by site (passing SNVs)")
    ax.legend(frameon=False)
    return fig


def ccf_class_colours(reference: str, compare: str) -> dict[str, str]:
    """Colour of each clonal class of `clonality.variant_classes`, for the CCF plots.

    Parameters
    ----------
    reference, compare
        The two site labels; they name the private classes.

    Returns
    -------
    dict of str to str
        Class name to hex colour; a site's private classes take the site's colour (SITE_COLOURS),
        darker for clonal and lighter for subclonal, so that the plots match the site plots.
    """
    return {
        "shared_clonal": "#2ca02c",
        "shared_subclonal": "#9467bd",
        "shared_mixed": "#ff7f0e",
        f"private_{reference}_clonal": SITE_COLOURS[0],
        f"private_{reference}_subclonal": "#9ecae1",
        f"private_{compare}_clonal": SITE_COLOURS[1],
        f"private_{compare}_subclonal": "#fcaeae",
        "unknown": "#bbbbbb",
    }


def ccf_scatter(classes: pd.DataFrame, reference: str, compare: str) -> plt.Figure:
    """CCF at the reference site against the compare site, one panel per patient.

    Parameters
    ----------
    classes
        clonality_variants.tsv (patient, ccf_<ref>, ccf_<cmp>, class); a variant not called at
        a site has CCF 0 there, one without copy number is left out.
    reference, compare
        Site labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    patients = list(dict.fromkeys(classes["patient"])) if len(classes) else []
    if not patients:
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.text(0.5, 0.5, "no patient with copy number at both sites", ha="center",
                va="center", transform=ax.transAxes)  # fmt: skip
        ax.set_axis_off()
        return fig
    columns = min(6, len(patients))
    rows = int(np.ceil(len(patients) / columns))
    fig, axes = plt.subplots(
        rows, columns, figsize=(2.1 * columns, 2.1 * rows + 0.6), sharex=True, sharey=True,
        squeeze=False,
    )  # fmt: skip
    colours = ccf_class_colours(reference, compare)
    for ax, patient in zip(axes.flat, patients, strict=False):
        own = classes[classes["patient"] == patient]
        for name, colour in colours.items():
            hit = own[own["class"] == name]
            ax.scatter(hit[f"ccf_{reference}"], hit[f"ccf_{compare}"], s=8, color=colour,
                       alpha=0.8, linewidths=0)  # fmt: skip
        ax.plot([0, 1], [0, 1], color="0.8", lw=0.6, zorder=0)
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(patient, fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(patients) :]:
        ax.set_axis_off()
    fig.supxlabel(f"CCF {reference}", fontsize=9)
    fig.supylabel(f"CCF {compare}", fontsize=9)
    handles = [Patch(color=c, label=n.replace("_", " ")) for n, c in colours.items()]
    fig.legend(handles=handles, loc="upper center", ncol=4, fontsize=6, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / (2.1 * rows + 0.6)))
    return fig


def signature_exposures(
    exposures: pd.DataFrame, reference: str, compare: str, comparison: pd.DataFrame | None = None
) -> plt.Figure:
    """Stacked signature exposures per sample, one panel per site, patients in the same order.

    Parameters
    ----------
    exposures
        signatures.tsv (sample, patient, site, signature, exposure).
    reference, compare
        Site labels.
    comparison
        signatures_comparison.tsv: each signature's paired p-value is added to its legend label.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if exposures.empty:
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.text(0.5, 0.5, "no sample refitted", ha="center", va="center",
                transform=ax.transAxes)  # fmt: skip
        ax.set_axis_off()
        return fig
    names = list(dict.fromkeys(exposures["signature"]))
    patients = list(dict.fromkeys(exposures["patient"]))
    colours = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    p_values = {}
    if comparison is not None and len(comparison) and "p_value" in comparison:
        comparison = subset_all(comparison)
        p_values = dict(zip(comparison["signature"], comparison["p_value"], strict=True))
    width = max(6.0, 0.22 * len(patients) * 2 + 2.5)
    fig, axes = plt.subplots(2, 1, figsize=(width, 5.6), sharex=True, sharey=True)
    for ax, site in zip(axes, (reference, compare), strict=True):
        own = exposures[exposures["site"] == site]
        wide = own.pivot_table(index="patient", columns="signature", values="exposure")
        wide = wide.reindex(index=patients, columns=names)
        x = np.arange(len(patients))
        bottom = np.zeros(len(patients))
        for k, name in enumerate(names):
            values = wide[name].fillna(0).to_numpy()
            label = name if name not in p_values else f"{name} (paired p={p_values[name]:.2g})"
            ax.bar(x, values, bottom=bottom, width=0.8, color=colours(k), label=label)
            bottom += values
        missing = wide.isna().all(axis=1).to_numpy()
        ax.scatter(x[missing], np.full(missing.sum(), 0.5), marker="x", color="0.6", s=12)
        ax.set_ylabel(f"{site}\nexposure (fraction)")
        ax.set_ylim(0, 1)
    axes[-1].set_xticks(np.arange(len(patients)), patients, rotation=90, fontsize=7)
    axes[0].set_title("Signature exposures per sample (NNLS refit; x: none refitted at the site)")
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False)
    fig.tight_layout()
    return fig
