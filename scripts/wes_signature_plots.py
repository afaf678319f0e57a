"""Snakemake adapter: stacked signature exposures per sample by site."""

from organomics.logs import log_to
from organomics.plots import save
from organomics.tables import read_tsv
from organomics.wes import plots

with log_to(snakemake.log[0]):
    inputs, out, params = snakemake.input, snakemake.output, snakemake.params
    figure = plots.signature_exposures(
        read_tsv(inputs.signatures), params.reference, params.compare, read_tsv(inputs.comparison)
    )
    save(figure, out.png, out.pdf)
