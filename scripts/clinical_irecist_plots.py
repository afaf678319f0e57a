"""Snakemake adapter: the iRECIST course of every site with an iUPD."""

from organomics.clinical import irecist_plots
from organomics.logs import log_to
from organomics.plots import save
from organomics.tables import read_tsv

with log_to(snakemake.log[0]):
    timepoints = read_tsv(snakemake.input.timepoints, dtype={"patient": str})
    responses = read_tsv(snakemake.input.responses, dtype={"patient": str})
    figure = irecist_plots.course(
        timepoints, responses, snakemake.params.reference, snakemake.params.compare
    )
    save(figure, snakemake.output.png, snakemake.output.pdf)
