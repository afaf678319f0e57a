"""Snakemake adapter: every bulk RNA figure (PNG + PDF) from the branch's tables."""

from organomics.logs import log_to
from organomics.rnaseq import steps

with log_to(snakemake.log[0]):
    output = snakemake.output
    outputs = {
        name: (output[f"{name}_png"], output[f"{name}_pdf"]) for name in snakemake.params.plots
    }
    params = dict(snakemake.params.items())
    params["signatures"] = snakemake.input.signatures
    steps.figures(dict(snakemake.input.items()), outputs, params)
