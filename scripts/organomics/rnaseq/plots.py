"""Bulk RNA figures: volcano, MA, PCA, distances, heatmap, paired genes, GSEA curves, NES."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.cluster.hierarchy import leaves_list, linkage  # noqa: E402
from scipy.spatial.distance import squareform  # noqa: E402

from organomics.pairing import paired_patients  # noqa: E402
from organomics.plots import SITE_COLOURS, paired_plot  # noqa: E402
from organomics.stats import subset_all  # noqa: E402

GREY = "0.7"


def _label(results: pd.DataFrame) -> pd.Series:
    return results["symbol"].where(results["symbol"].astype(str).ne(""), results["gene"])


def volcano(results, genes_of_interest, alpha, lfc, reference, compare) -> plt.Figure:
    """Volcano plot: log2FC vs -log10 padj, significant genes coloured by direction.

    Parameters
    ----------
    results
        The DESeq2 results table (gene, symbol, log2FoldChange, padj).
    genes_of_interest
        Symbols or gene ids to circle and name (by symbol when there is one).
    alpha, lfc
        Significance: padj < alpha and |log2FoldChange| > lfc (dashed lines).
    reference, compare
        The two site labels (blue and red).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(6, 5))
    table = results.dropna(subset=["padj", "log2FoldChange"]).copy()
    floor = table.loc[table["padj"] > 0, "padj"].min() if (table["padj"] > 0).any() else 1e-300
    table["y"] = -np.log10(table["padj"].clip(lower=floor))
    up = (table["padj"] < alpha) & (table["log2FoldChange"] > lfc)
    down = (table["padj"] < alpha) & (table["log2FoldChange"] < -lfc)
    ax.scatter(*table.loc[~(up | down), ["log2FoldChange", "y"]].T.to_numpy(), s=4, c=GREY)
    ax.scatter(
        *table.loc[up, ["log2FoldChange", "y"]].T.to_numpy(),
        s=6,
        c=SITE_COLOURS[1],
        label=f"higher in {compare} ({int(up.sum())})",
    )
    ax.scatter(
        *table.loc[down, ["log2FoldChange", "y"]].T.to_numpy(),
        s=6,
        c=SITE_COLOURS[0],
        label=f"higher in {reference} ({int(down.sum())})",
    )
    ax.axhline(-np.log10(alpha), color="0.4", lw=0.6, ls="--")
    for x in (-lfc, lfc) if lfc > 0 else ():
        ax.axvline(x, color="0.4", lw=0.6, ls="--")
    labels = _label(table)
    # Labels stacked in two columns (left: lower in compare, right: higher), joined by leader lines,
    # so genes with similar statistics stay readable.
    # genes of interest may be symbols or the matrix's own ids (e.g. Ensembl)
    wanted = labels.isin(genes_of_interest) | table["gene"].astype(str).isin(genes_of_interest)
    hits = table[wanted].assign(_label=labels).sort_values("y")
    stacked = {True: 0, False: 0}
    for _, row in hits.iterrows():
        left = row["log2FoldChange"] < 0
        slot = stacked[left]
        stacked[left] += 1
        ax.scatter([row["log2FoldChange"]], [row["y"]], s=18, facecolor="none", edgecolor="k")
        ax.annotate(
            row["_label"],
            (row["log2FoldChange"], row["y"]),
            xytext=(0.3 if left else 0.7, 0.25 + 0.06 * slot),
            textcoords="axes fraction",
            fontsize=7,
            ha="right" if left else "left",
            arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.3"},
        )
    ax.set_xlabel(f"log2 fold change ({compare} vs {reference})")
    ax.set_ylabel("-log10 adjusted p")
    ax.set_title(f"Paired DESeq2: {compare} vs {reference}")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return fig


def ma(results, alpha, reference, compare) -> plt.Figure:
    """MA plots: mean of normalised counts vs log2FC, MLE and apeGLM-shrunken side by side.

    Parameters
    ----------
    results
        The DESeq2 results table (baseMean, log2FoldChange, log2FoldChange_shrunk, padj).
    alpha
        Genes with padj < alpha are coloured.
    reference, compare
        The two site labels (blue and red).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    table = results.dropna(subset=["log2FoldChange"])
    significant = table["padj"] < alpha
    for ax, column, title in zip(
        axes, ["log2FoldChange", "log2FoldChange_shrunk"], ["MLE", "apeGLM shrunken"], strict=True
    ):
        x = np.log10(table["baseMean"].clip(lower=1e-1))
        ax.scatter(x[~significant], table.loc[~significant, column], s=3, c=GREY)
        ax.scatter(x[significant], table.loc[significant, column], s=4, c=SITE_COLOURS[1])
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xlabel("log10 mean of normalised counts")
        ax.set_title(f"MA plot ({title}); red: padj < {alpha}")
    axes[0].set_ylabel(f"log2 fold change ({compare} vs {reference})")
    return fig


def pca_plot(scores, explained, design, reference, compare) -> plt.Figure:
    """PC1 vs PC2 coloured by site, each paired patient's two samples joined by a line.

    Parameters
    ----------
    scores
        Samples x PCs (``PC1``, ``PC2``), from ``qc.pca``.
    explained
        Fraction of variance per PC (axis labels).
    design
        sample, patient, site of the samples (pairs from organomics.pairing).
    reference, compare
        The two site labels (blue and red).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(5.5, 5))
    table = scores.join(design.set_index("sample")[["patient", "site"]])
    for pair in paired_patients(design, reference, compare).values():
        both = table.loc[[pair[reference], pair[compare]]]
        ax.plot(both["PC1"], both["PC2"], color="0.75", lw=0.7, zorder=1)
    for site, colour in zip((reference, compare), SITE_COLOURS, strict=True):
        part = table[table["site"] == site]
        ax.scatter(part["PC1"], part["PC2"], c=colour, s=22, label=site, zorder=2)
    ax.set_xlabel(f"PC1 ({explained[0] * 100:.1f}%)")
    ax.set_ylabel(f"PC2 ({explained[1] * 100:.1f}%)" if len(explained) > 1 else "PC2")
    ax.set_title("PCA, VST of the most variable genes; lines join patients")
    ax.legend(frameon=False)
    return fig


def _site_bar(ax, sites, reference, horizontal=True):
    colours = {reference: SITE_COLOURS[0]}
    codes = np.array([[0 if s == reference else 1 for s in sites]])
    cmap = matplotlib.colors.ListedColormap(list(SITE_COLOURS))
    ax.imshow(codes if horizontal else codes.T, aspect="auto", cmap=cmap, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    return colours


def distance_heatmap(distances, design, reference, compare) -> plt.Figure:
    """Sample-distance heatmap, hierarchically ordered (average linkage), with a site colour bar.

    Parameters
    ----------
    distances
        Samples x samples distances, from ``qc.sample_distances``.
    design
        sample, patient, site of the samples.
    reference, compare
        The two site labels (blue and red).

    Returns
    -------
    matplotlib.figure.Figure
    """
    order = leaves_list(linkage(squareform(distances.to_numpy(), checks=False), "average"))
    samples = distances.index[order]
    sites = design.set_index("sample").loc[samples, "site"].tolist()
    n = len(samples)
    size = min(12, 3 + 0.12 * n)
    fig = plt.figure(figsize=(size + 1, size))
    grid = fig.add_gridspec(2, 2, height_ratios=[0.03, 1], width_ratios=[1, 0.03], hspace=0.01)
    _site_bar(fig.add_subplot(grid[0, 0]), sites, reference)
    ax = fig.add_subplot(grid[1, 0])
    image = ax.imshow(distances.loc[samples, samples].to_numpy(), cmap="viridis_r")
    ax.set_xticks(range(n), samples, rotation=90, fontsize=max(3, 8 - n // 20))
    ax.set_yticks(range(n), samples, fontsize=max(3, 8 - n // 20))
    fig.colorbar(image, cax=fig.add_subplot(grid[1, 1]), label="Euclidean distance (VST)")
    fig.suptitle(f"Sample distances (top bar: {reference} blue, {compare} red)")
    return fig


def expression_heatmap(vst, genes, labels, design, reference, compare) -> plt.Figure:
    """Row z-scores of VST values for the given genes; samples ordered by site, then patient.

    Parameters
    ----------
    vst
        Genes x samples VST values.
    genes
        Gene ids (rows, in order), from ``qc.heatmap_genes``.
    labels
        Row labels, one per gene.
    design
        sample, patient, site of the samples.
    reference, compare
        The two site labels (blue and red).

    Returns
    -------
    matplotlib.figure.Figure
    """
    info = design.set_index("sample").loc[vst.columns]
    info = info.assign(_order=(info["site"] != reference).astype(int))
    samples = info.sort_values(["_order", "patient"]).index
    data = vst.loc[genes, samples].to_numpy(dtype=float)
    sd = data.std(axis=1, keepdims=True)
    z = (data - data.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1)
    n_genes, n_samples = z.shape
    fig = plt.figure(figsize=(min(14, 3 + 0.12 * n_samples), min(16, 2 + 0.16 * n_genes)))
    grid = fig.add_gridspec(
        2, 2, height_ratios=[0.015, 1], width_ratios=[1, 0.02], hspace=0.01, top=0.95
    )
    _site_bar(fig.add_subplot(grid[0, 0]), info.loc[samples, "site"].tolist(), reference)
    ax = fig.add_subplot(grid[1, 0])
    image = ax.imshow(z.clip(-3, 3), aspect="auto", cmap="RdBu_r", vmin=-3, vmax=3)
    ax.set_yticks(range(n_genes), labels, fontsize=6)
    ax.set_xticks(range(n_samples), samples, rotation=90, fontsize=5)
    fig.colorbar(image, cax=fig.add_subplot(grid[1, 1]), label="z-score (VST)")
    fig.suptitle(f"Top DE and immune genes ({reference} left, {compare} right)")
    return fig


def paired_genes(long, genes, reference, compare, ylabel) -> plt.Figure:
    """One paired panel per gene: a box per site and a line per patient.

    Parameters
    ----------
    long
        gene, patient, site, value rows (``qc.genes_of_interest_values``).
    genes
        The genes to draw, in order (those absent from `long` are skipped).
    reference, compare
        The two site labels (blue and red).
    ylabel
        The value's axis label.

    Returns
    -------
    matplotlib.figure.Figure
    """
    genes = [g for g in genes if g in set(long["gene"])]
    n = max(1, len(genes))
    columns = min(4, n)
    rows = math.ceil(n / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 3 * rows), squeeze=False)
    for ax, gene in zip(axes.flat, genes, strict=False):
        paired_plot(ax, long[long["gene"] == gene], "value", reference, compare, gene, ylabel)
    for ax in list(axes.flat)[len(genes) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def paired_signatures(long, comparison, reference, compare, sampling=None) -> plt.Figure:
    """One paired panel per signature (ssGSEA score), with its p_adj and pair count in the title.

    Parameters
    ----------
    long
        signature, patient, site, score rows (``results.signature_long``).
    comparison
        signature_comparison.tsv (signature, p_adj, n_pairs): the panels, in order.
    reference, compare
        The two site labels (blue and red).
    sampling
        params ``sampling`` of the workflow (``days_apart``: patient -> days between its two
        biopsies or None, ``within_days``): simultaneous pairs are drawn solid with their days
        apart (`organomics.plots.paired_plot`); None draws every line alike. Panels and titles
        come from the ``all`` rows of `comparison`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    sampling = sampling or {}
    comparison = subset_all(comparison)
    names = comparison["signature"].tolist()
    n = max(1, len(names))
    columns = min(4, n)
    rows = math.ceil(n / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3 * rows), squeeze=False)
    for ax, (_, row) in zip(axes.flat, comparison.iterrows(), strict=False):
        part = long[long["signature"] == row["signature"]]
        title = f"{row['signature']}\np_adj = {row['p_adj']:.2g} (n = {row['n_pairs']})"
        paired_plot(ax, part, "score", reference, compare, title, "ssGSEA score",
                    days_apart=sampling.get("days_apart"),
                    within_days=sampling.get("within_days", 30))  # fmt: skip
        ax.title.set_fontsize(8)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def gsea_curves(curves: pd.DataFrame, table: pd.DataFrame, reference, compare) -> plt.Figure:
    """GSEA plots: running enrichment score and hit positions, one panel per term.

    Parameters
    ----------
    curves
        gsea_running_scores.tsv (term, position, running_score, hit).
    table
        gsea_prerank.tsv (term, nes, fdr) for the panel titles.
    reference, compare
        The two site labels (blue and red).

    Returns
    -------
    matplotlib.figure.Figure
    """
    terms = list(dict.fromkeys(curves["term"]))
    n = max(1, len(terms))
    fig, axes = plt.subplots(n, 1, figsize=(6.5, 2.6 * n), squeeze=False)
    stats = table.set_index("term")
    for ax, term in zip(axes[:, 0], terms, strict=False):
        part = curves[curves["term"] == term]
        ax.plot(part["position"], part["running_score"], color="#2ca02c", lw=1.2)
        ax.axhline(0, color="k", lw=0.5)
        hits = part.loc[part["hit"] == 1, "position"]
        low = part["running_score"].min()
        span = part["running_score"].max() - low
        ax.vlines(hits, low - 0.12 * span, low - 0.02 * span, color="k", lw=0.4)
        row = stats.loc[term]
        ax.set_title(f"{term}\nNES {row['nes']:.2f}, FDR {row['fdr']:.2g}", fontsize=8)
        ax.set_ylabel("running ES")
    axes[-1, 0].set_xlabel(
        f"gene rank (Wald statistic; left: higher in {compare}, right: higher in {reference})"
    )
    fig.tight_layout()
    return fig


def nes_bars(table: pd.DataFrame, n: int, reference, compare, fdr: float = 0.25) -> plt.Figure:
    """NES bars of the most significant terms of each direction.

    Parameters
    ----------
    table
        gsea_prerank.tsv (term, nes, fdr), most significant first.
    n
        Terms per direction.
    reference, compare
        The two site labels (blue and red).
    fdr
        Bars of terms with FDR >= `fdr` are faded.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ok = table.dropna(subset=["nes"])
    top = pd.concat([ok[ok["nes"] > 0].head(n), ok[ok["nes"] < 0].head(n)]).sort_values("nes")
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * max(len(top), 4) + 1))
    colours = [SITE_COLOURS[1] if v > 0 else SITE_COLOURS[0] for v in top["nes"]]
    alphas = [1.0 if f < fdr else 0.35 for f in top["fdr"]]
    bars = ax.barh(range(len(top)), top["nes"], color=colours)
    for bar, alpha in zip(bars, alphas, strict=True):
        bar.set_alpha(alpha)
    ax.set_yticks(
        range(len(top)), [t if len(t) < 70 else t[:67] + "..." for t in top["term"]], fontsize=7
    )
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel(
        f"NES (> 0: higher in {compare}, < 0: higher in {reference}); faded: FDR >= {fdr}"
    )
    ax.set_title("GSEA preranked on the paired Wald statistic")
    return fig


def library_sizes(table: pd.DataFrame, reference, compare) -> plt.Figure:
    """Library size per sample (million reads), coloured by site.

    Parameters
    ----------
    table
        library_sizes.tsv (sample, site, library_size).
    reference, compare
        The two site labels (blue and red).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(max(6, 0.14 * len(table)), 3.5))
    colours = [SITE_COLOURS[0] if s == reference else SITE_COLOURS[1] for s in table["site"]]
    ax.bar(range(len(table)), table["library_size"] / 1e6, color=colours)
    ax.set_xticks(range(len(table)), table["sample"], rotation=90, fontsize=5)
    ax.set_ylabel("library size (million reads)")
    ax.set_title(f"Library sizes ({reference} blue, {compare} red)")
    return fig
