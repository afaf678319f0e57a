"""Snakemake adapter: CCF scatter per patient and paired FGA plot."""

from organomics.logs import log_to
from organomics.plots import save
from organomics.tables import read_tsv
from organomics.wes import plots

with log_to(snakemake.log[0]):
    inputs, out, params = snakemake.input, snakemake.output, snakemake.params
    reference, compare = params.reference, params.compare
    classes = read_tsv(inputs.classes, dtype={"chrom": str})
    save(plots.ccf_scatter(classes, reference, compare), out.ccf_png, out.ccf_pdf)
    fga = plots.paired_metric(
        read_tsv(inputs.copy_number), "fga", reference, compare, read_tsv(inputs.comparison),
        ylabel="fraction of the genome altered", title="Copy-number burden (FGA)",
        sampling=params.sampling,
    )  # fmt: skip
    save(fga, out.fga_png, out.fga_pdf)
