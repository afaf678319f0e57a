"""Snakemake adapter: integrated AnnData and cohort tables -> scRNA figures (PNG + PDF)."""

from organomics.logs import log_to
from organomics.plots import save
from organomics.scrna import annotate, plots, scores, store
from organomics.tables import read_tsv

with log_to(snakemake.log[0]) as log:
    out = snakemake.output
    reference, compare = snakemake.params.reference, snakemake.params.compare
    markers = annotate.load_markers(snakemake.input.markers)
    signatures = scores.load_signatures(snakemake.input.signatures)
    obs, var, coords, uns = store.read_elements(
        snakemake.input.adata, "obs", "var", "obsm/X_umap", "uns"
    )
    labels = markers.labels
    if coords is not None:
        save(plots.umap(obs, coords, "cell_type", "cell type", labels),
             out.umap_cell_type_png, out.umap_cell_type_pdf)  # fmt: skip
        save(plots.umap(obs, coords, "site", "site", [reference, compare]),
             out.umap_site_png, out.umap_site_pdf)  # fmt: skip
        save(plots.umap(obs, coords, "patient", "patient"),
             out.umap_patient_png, out.umap_patient_pdf)  # fmt: skip
    else:
        log.warning("no UMAP (config scrna.integration.umap is false): placeholder UMAP figures")
        for name in ("cell_type", "site", "patient"):
            fig = plots.placeholder("no UMAP: config scrna.integration.umap is false")
            save(fig, getattr(out, f"umap_{name}_png"), getattr(out, f"umap_{name}_pdf"))
    genes = [g for spec in markers.compartments.values() for g in spec["positive"]]
    genes = [g for g in dict.fromkeys(genes) if g in var.index]
    subset = store.read_genes(snakemake.input.adata, genes)  # a block of cells at a time
    save(plots.marker_dotplot(subset, markers), out.marker_dotplot_png, out.marker_dotplot_pdf)
    scored = list(uns.get("signatures", []))
    present = [c for c in labels if c in set(obs["cell_type"].astype(str))]
    save(plots.score_violins(obs, scored, present, reference, compare),
         out.score_violins_png, out.score_violins_pdf)  # fmt: skip
    score_table = read_tsv(snakemake.input.scores)
    comparison = read_tsv(snakemake.input.comparison)
    paired = plots.score_paired(
        score_table, comparison, signatures, reference, compare, snakemake.params.min_cells,
        snakemake.params.sampling,
    )  # fmt: skip
    save(paired, out.score_paired_png, out.score_paired_pdf)
    cell_types = read_tsv(snakemake.input.cell_types)
    composition = plots.composition_bars(cell_types, labels, reference, compare)
    save(composition, out.composition_png, out.composition_pdf)
