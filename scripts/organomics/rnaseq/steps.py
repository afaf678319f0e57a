"""The bulk RNA workflow steps: file paths in, tables and figures out (called by the adapters)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.excluded import Exclusions
from organomics.plots import save
from organomics.rnaseq import counts as rc
from organomics.rnaseq import deseq, enrichment, genesets, plots, qc
from organomics.stats import paired_site_comparison
from organomics.tables import write_tsv

log = logging.getLogger(__name__)

RESULT_COLUMNS = ["gene", "symbol", *deseq.RESULT_COLUMNS[1:]]


def read_tsv(path: str | Path, **kwargs) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""], **kwargs)


def read_counts(path: str | Path) -> pd.DataFrame:
    """The workflow's own genes x samples counts table (results/rnaseq/counts.tsv.gz)."""
    table = read_gene_table(path)
    return table.astype(np.int64)


def read_gene_table(path: str | Path) -> pd.DataFrame:
    """A gene x sample table written by this workflow; gene ids stay text (e.g. Entrez "0012")."""
    table = pd.read_csv(path, sep="\t", dtype={"gene": str}).set_index("gene")
    table.columns = table.columns.astype(str)
    return table


def design_frame(records: Sequence[Mapping[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(list(records), columns=["sample", "patient", "site"]).astype(str)


def sample_counts(
    path: str,
    out: str,
    fmt: str,
    strandedness: str,
    tx2gene: str | None,
    patient_site: tuple[str, str] = ("", ""),
    out_excluded: str | None = None,
) -> None:
    """One per-sample file -> two-column TSV gene, count.

    Parameters
    ----------
    path, out
        The featureCounts / salmon / STAR file, and the TSV to write.
    fmt, strandedness
        ``auto|featurecounts|salmon|star``; STAR's ReadsPerGene column.
    tx2gene
        Transcript -> gene table for salmon ("" or None otherwise).
    patient_site, out_excluded
        With `out_excluded`, salmon transcripts missing from tx2gene are listed there, one row
        each with its reads and the sample's patient and site (step ``sample_counts``).
    """
    if fmt == "auto":
        fmt = rc.guess_format(path)
    mapping = rc.read_tx2gene(tx2gene) if (fmt == "salmon" and tx2gene) else None
    series = rc.read_sample_counts(path, fmt, strandedness, mapping, tx2gene)
    log.info("%s: %s format, %d genes, %d reads", path, fmt, len(series), int(series.sum()))
    write_tsv(series.rename("count").reset_index(), out)
    if out_excluded:
        excluded = Exclusions("sample_counts")
        unmapped = series.attrs.get("unmapped_transcripts")
        if unmapped is not None:
            for transcript, reads in zip(unmapped["transcript"], unmapped["reads"], strict=True):
                reason = f"salmon transcript not in tx2gene {tx2gene} ({reads:g} reads): dropped"
                excluded.add("transcript", transcript, reason, *patient_site)
        excluded.write(out_excluded)


def cohort_counts(
    records: Sequence[Mapping[str, str]],
    out_counts: str,
    out_library: str,
    matrix: str | None = None,
    per_sample: Sequence[str] = (),
    out_excluded: str | None = None,
) -> None:
    """Counts matrix (genes x samples in sheet order), the library size table and the matrix
    columns left out (not sheet samples) as an exclusion table (step ``counts``)."""
    design = design_frame(records)
    samples = design["sample"].tolist()
    excluded = Exclusions("counts")
    if matrix:
        counts = rc.read_matrix(matrix, samples)
        for column in counts.attrs.get("ignored_columns", []):
            excluded.add("sample", column, f"column of {matrix} that is not a sheet sample")
    else:
        series = {}
        for sample, path in zip(samples, per_sample, strict=True):
            table = read_tsv(path, dtype={"gene": str})
            series[sample] = table.set_index("gene")["count"]
        counts = rc.combine_samples(series)
    empty = counts.columns[counts.sum(axis=0) == 0].tolist()
    if empty:
        raise InputError(matrix, f"sample(s) with no counts at all: {', '.join(empty)}")
    log.info("counts: %d genes x %d samples", *counts.shape)
    Path(out_counts).parent.mkdir(parents=True, exist_ok=True)
    counts.to_csv(out_counts, sep="\t", compression={"method": "gzip", "mtime": 0})
    write_tsv(qc.library_table(counts, design), out_library)
    if out_excluded:
        excluded.write(out_excluded)


def differential(
    counts_path: str,
    records: Sequence[Mapping[str, str]],
    symbols_path: str,
    reference: str,
    compare: str,
    alpha: float,
    threads: int,
    out_results: str,
    out_excluded: str,
    out_warnings: str | None = None,
    out_exclusions: str | None = None,
) -> None:
    """Paired PyDESeq2 -> deseq2_results.tsv (+ symbol), the excluded (unpaired) samples (as
    deseq2_excluded.tsv and as the ``deseq2`` exclusion table) and PyDESeq2's warnings."""
    counts = read_counts(counts_path)
    design = design_frame(records)
    result = deseq.paired_deseq(counts, design, reference, compare, n_cpus=threads, alpha=alpha)
    excluded = design[design["patient"].isin(result.attrs["excluded_patients"])]
    reason = f"patient lacks a {reference}/{compare} pair"
    excluded = excluded.assign(reason=reason)
    exclusions = Exclusions("deseq2")
    for row in excluded.itertuples():
        exclusions.add("sample", row.sample, reason, patient=row.patient, site=row.site)
    table = genesets.read_symbol_table(symbols_path)
    result.insert(1, "symbol", genesets.to_symbols(result["gene"], table).to_numpy())
    log_symbols(result["gene"], result["symbol"])
    result = result.sort_values(["padj", "pvalue", "gene"], na_position="last")
    write_tsv(result[RESULT_COLUMNS], out_results)
    write_tsv(excluded, out_excluded)
    if out_warnings:
        rows = result.attrs.get("warnings", [])
        write_tsv(pd.DataFrame(rows, columns=deseq.WARNING_COLUMNS), out_warnings)
    if out_exclusions:
        exclusions.write(out_exclusions)


def log_symbols(genes: pd.Series, symbols: pd.Series) -> None:
    """Say how many genes have no symbol (left out of gene-set tests) or share one (collapsed)."""
    genes, symbols = pd.Series(genes).astype(str), pd.Series(symbols).fillna("").astype(str)
    missing = genes[symbols.eq("").to_numpy()]
    if len(missing):
        log.warning(
            "%d of %d genes have no symbol and are left out of GSEA, ORA and signatures (e.g. %s)",
            len(missing),
            len(genes),
            ", ".join(missing.head(5)),
        )
    named = symbols[symbols.ne("")]
    shared = named[named.duplicated(keep=False)]
    if len(shared):
        log.info(
            "%d genes share %d symbols (e.g. _PAR_Y copies); gene-set steps keep one per symbol",
            len(shared),
            shared.nunique(),
        )


def variance_stabilised(counts_path: str, threads: int, out: str) -> None:
    """Blind VST of all genes (for PCA, distances, heatmaps and ssGSEA)."""
    values = deseq.vst(read_counts(counts_path), n_cpus=threads)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    values.to_csv(out, sep="\t", float_format="%.5f", compression={"method": "gzip", "mtime": 0})


def gsea(
    results_path: str,
    gmt_paths: Sequence[str],
    settings: Mapping,
    threads: int,
    out_table: str,
    out_curves: str,
) -> None:
    """GSEA prerank on the Wald statistic -> gsea_prerank.tsv and running-score curves."""
    results = read_tsv(results_path, dtype={"gene": str, "symbol": str})
    results["symbol"] = results["symbol"].fillna("")
    permutations = int(settings.get("permutations", 1000))
    if permutations < 1000:
        log.warning("GSEA with %d permutations: use >= 1000 for reported results", permutations)
    ranks = genesets.ranking(results, "stat")
    table, raw = enrichment.prerank(
        ranks,
        genesets.read_gmts(gmt_paths),
        permutations=permutations,
        min_size=int(settings.get("min_size", 15)),
        max_size=int(settings.get("max_size", 500)),
        seed=int(settings.get("seed", 0)),
        threads=threads,
    )
    write_tsv(table, out_table)
    rows = []
    for term in enrichment.top_terms(table, int(settings.get("top_terms", 6))):
        running = np.asarray(raw[term].run_es, dtype=float)
        hits = np.zeros(len(running), dtype=int)
        hits[np.asarray(raw[term].hits, dtype=int)] = 1
        rows.append(
            pd.DataFrame(
                {
                    "term": term,
                    "position": np.arange(len(running)),
                    "running_score": running,
                    "hit": hits,
                }
            )
        )
    curves = (
        pd.concat(rows)
        if rows
        else pd.DataFrame(columns=["term", "position", "running_score", "hit"])
    )
    curves.to_csv(
        out_curves,
        sep="\t",
        index=False,
        float_format="%.5g",
        compression={"method": "gzip", "mtime": 0},
    )


def over_representation(
    results_path: str, gmt_paths: Sequence[str], settings: Mapping, alpha: float, lfc: float, out
) -> None:
    """ORA of the up and down gene lists -> ora.tsv."""
    results = read_tsv(results_path, dtype={"gene": str, "symbol": str})
    results["symbol"] = results["symbol"].fillna("")
    table = enrichment.ora(
        results,
        genesets.read_gmts(gmt_paths),
        alpha=alpha,
        lfc=lfc,
        min_size=int(settings.get("min_size", 15)),
        max_size=int(settings.get("max_size", 500)),
    )
    write_tsv(table, out)


def signatures(
    vst_path: str,
    records: Sequence[Mapping[str, str]],
    signatures_path: str,
    symbols_path: str,
    reference: str,
    compare: str,
    out_scores: str,
    out_comparison: str,
) -> None:
    """ssGSEA immune signature scores per sample and the paired LM vs PL test per signature."""
    values = read_gene_table(vst_path)
    symbols = genesets.to_symbols(values.index, genesets.read_symbol_table(symbols_path))
    log_symbols(pd.Series(values.index), symbols.reset_index(drop=True))
    expression = enrichment.collapse_to_symbols(values, symbols)
    scores = enrichment.ssgsea_scores(expression, genesets.read_gmt(signatures_path))
    design = design_frame(records)
    long = enrichment.signature_long(scores, design)
    comparison = paired_site_comparison(long, "score", ["signature"], reference, compare)
    write_tsv(scores.reset_index(), out_scores)
    write_tsv(comparison, out_comparison)


def figures(inputs, outputs, params) -> None:
    """Every rnaseq plot from the branch's tables (see the rnaseq_plots rule)."""
    ref, cmp = params["reference"], params["compare"]
    design = design_frame(params["samples"])
    results = read_tsv(inputs["results"], dtype={"gene": str, "symbol": str})
    results["symbol"] = results["symbol"].fillna("")
    interest = list(params["genes_of_interest"])
    alpha, lfc = float(params["alpha"]), float(params["lfc"])
    save(plots.volcano(results, interest, alpha, lfc, ref, cmp), *outputs["volcano"])
    save(plots.ma(results, alpha, ref, cmp), *outputs["ma"])

    library = read_tsv(inputs["library"], dtype={"sample": str})
    save(plots.library_sizes(library, ref, cmp), *outputs["library_sizes"])
    values = read_gene_table(inputs["vst"])
    scores, explained = qc.pca(values, int(params["pca_genes"]))
    save(plots.pca_plot(scores, explained, design, ref, cmp), *outputs["pca"])
    distances = qc.sample_distances(values)
    save(plots.distance_heatmap(distances, design, ref, cmp), *outputs["sample_distances"])

    labels = results.set_index("gene")["symbol"]
    labels = labels.where(labels.ne(""), labels.index.to_series())
    by_label = {label: gene for gene, label in labels[::-1].items()}
    # Genes of interest may also be given as the matrix's own ids (e.g. Ensembl).
    by_label.update({gene: gene for gene in labels.index if gene not in by_label})
    top = results.dropna(subset=["padj"]).head(int(params["heatmap_genes"]))["gene"].tolist()
    immune = [by_label[g] for g in interest if g in by_label]
    signature_genes = [
        g for genes in genesets.read_gmt(params["signatures"]).values() for g in genes
    ]
    immune += [by_label[g] for g in signature_genes if g in by_label]
    genes = [g for g in dict.fromkeys(top + immune) if g in values.index]
    if not genes:
        raise InputError(None, "no gene to draw in the heatmap")
    heat = plots.expression_heatmap(values, genes, labels.loc[genes].tolist(), design, ref, cmp)
    save(heat, *outputs["heatmap_top_genes"])

    counts = read_counts(inputs["counts"])
    factors = library.set_index("sample")["size_factor"]
    norm = np.log2(qc.normalized(counts, factors) + 1)
    chosen = [(g, by_label[g]) for g in interest if g in by_label]
    missing = [g for g in interest if g not in by_label]
    if missing:
        log.warning("genes of interest not in the counts: %s", ", ".join(missing))
    long = pd.concat(
        [
            pd.DataFrame(
                {"gene": label, "sample": norm.columns, "value": norm.loc[gene].to_numpy()}
            )
            for label, gene in chosen
        ]
        or [pd.DataFrame(columns=["gene", "sample", "value"])]
    ).merge(design, on="sample")
    save(
        plots.paired_genes(long, [c[0] for c in chosen], ref, cmp, "log2(normalised count + 1)"),
        *outputs["genes_of_interest"],
    )

    table = read_tsv(inputs["gsea"])
    curves = read_tsv(inputs["curves"])
    save(plots.gsea_curves(curves, table, ref, cmp), *outputs["gsea_running_scores"])
    save(plots.nes_bars(table, int(params["nes_terms"]), ref, cmp), *outputs["gsea_nes"])

    sig_scores = read_tsv(inputs["scores"], dtype={"sample": str}).set_index("sample")
    comparison = read_tsv(inputs["comparison"])
    sig_long = enrichment.signature_long(sig_scores, design)
    save(plots.paired_signatures(sig_long, comparison, ref, cmp), *outputs["signatures_paired"])
