"""Snakemake adapter: every bulk RNA figure (PNG + PDF) from the branch's tables."""

from organomics.logs import log_to
from organomics.plots import save
from organomics.rnaseq import plots, qc
from organomics.rnaseq.genesets import gene_labels, read_gmt
from organomics.rnaseq.results import (
    design_frame,
    read_counts,
    read_gene_table,
    read_results,
    signature_long,
)
from organomics.tables import read_tsv

with log_to(snakemake.log[0]):
    inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
    reference, compare = params.reference, params.compare

    def figure(name, fig):
        """Save `fig` as the rule's outputs NAME_png and NAME_pdf."""
        save(fig, outputs[f"{name}_png"], outputs[f"{name}_pdf"])

    design = design_frame(params.samples)
    results = read_results(inputs.results)
    interest = list(params.genes_of_interest)
    alpha, lfc = float(params.alpha), float(params.lfc)
    figure("volcano", plots.volcano(results, interest, alpha, lfc, reference, compare))
    figure("ma", plots.ma(results, alpha, reference, compare))

    library = read_tsv(inputs.library, dtype={"sample": str})
    figure("library_sizes", plots.library_sizes(library, reference, compare))
    values = read_gene_table(inputs.vst)
    scores, explained = qc.pca(values, int(params.pca_genes))
    figure("pca", plots.pca_plot(scores, explained, design, reference, compare))
    distances = qc.sample_distances(values)
    figure("sample_distances", plots.distance_heatmap(distances, design, reference, compare))

    labels, by_label = gene_labels(results)
    signature_genes = [g for genes in read_gmt(inputs.signatures).values() for g in genes]
    genes = qc.heatmap_genes(
        results, values.index, by_label, interest + signature_genes, int(params.heatmap_genes)
    )
    heatmap = plots.expression_heatmap(
        values, genes, labels.loc[genes].tolist(), design, reference, compare
    )
    figure("heatmap_top_genes", heatmap)

    factors = library.set_index("sample")["size_factor"]
    long, found = qc.genes_of_interest_values(
        read_counts(inputs.counts), factors, by_label, interest, design
    )
    ylabel = "log2(normalised count + 1)"
    figure("genes_of_interest", plots.paired_genes(long, found, reference, compare, ylabel))

    table = read_tsv(inputs.gsea)
    curves = read_tsv(inputs.curves)
    figure("gsea_running_scores", plots.gsea_curves(curves, table, reference, compare))
    figure("gsea_nes", plots.nes_bars(table, int(params.nes_terms), reference, compare))

    signature_scores = read_tsv(inputs.scores, dtype={"sample": str}).set_index("sample")
    comparison = read_tsv(inputs.comparison)
    signatures = signature_long(signature_scores, design)
    figure(
        "signatures_paired",
        plots.paired_signatures(signatures, comparison, reference, compare, params.sampling),
    )
