"""Snakemake adapter: TCR tables -> TCR figures (PNG + PDF)."""

from organomics.logs import log_to
from organomics.plots import save
from organomics.scrna import tcr_plots
from organomics.tables import read_tsv

with log_to(snakemake.log[0]):
    inputs, out, params = snakemake.input, snakemake.output, snakemake.params
    reference, compare = params.reference, params.compare
    summary, comparison = read_tsv(inputs.summary), read_tsv(inputs.comparison)
    fig = tcr_plots.paired_measures(
        summary, comparison, reference, compare, params.min_cells, params.sampling
    )
    save(fig, out.paired_png, out.paired_pdf)
    cells, shared = read_tsv(inputs.cells, dtype={"clonotype": str}), read_tsv(inputs.shared)
    save(tcr_plots.clone_sizes(cells, shared, reference, compare),
         out.clone_sizes_png, out.clone_sizes_pdf)  # fmt: skip
    cell_types = read_tsv(inputs.cell_types)
    save(tcr_plots.expansion_by_cell_type(cell_types, reference, compare),
         out.expansion_png, out.expansion_pdf)  # fmt: skip
