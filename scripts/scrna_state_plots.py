"""Snakemake adapter: CD8/NK states -> UMAP of the states, programme dot plot, paired fractions."""

from organomics.logs import log_to
from organomics.plots import save
from organomics.scrna import plots, state_plots, states, store
from organomics.tables import read_tsv

with log_to(snakemake.log[0]) as log:
    out, params = snakemake.output, snakemake.params
    programmes = states.load_states(snakemake.input.states)
    cells = read_tsv(snakemake.input.cells, dtype={"cell": str})
    obs, var, coords = store.read_elements(snakemake.input.adata, "obs", "var", "obsm/X_umap")
    if coords is not None:
        fig = state_plots.umap_states(obs, coords, cells, programmes)
    else:
        log.warning("no UMAP (config scrna.integration.umap is false): placeholder state UMAP")
        fig = plots.placeholder("no UMAP: config scrna.integration.umap is false")
    save(fig, out.umap_png, out.umap_pdf)
    genes = [g for s in programmes.signatures for g in s.genes if g in var.index]
    subset = store.read_genes(snakemake.input.adata, list(dict.fromkeys(genes)))
    subset = subset[subset.obs_names.isin(cells["cell"])].copy()
    subset.obs["state"] = cells.set_index("cell")["state"].reindex(subset.obs_names).to_numpy()
    save(state_plots.state_dotplot(subset, programmes), out.dotplot_png, out.dotplot_pdf)
    fractions = state_plots.state_fractions(
        read_tsv(snakemake.input.states_table), read_tsv(snakemake.input.tests),
        params.reference, params.compare, params.min_cells, params.sampling,
    )  # fmt: skip
    save(fractions, out.fractions_png, out.fractions_pdf)
