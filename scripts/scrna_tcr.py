"""Snakemake adapter: per-sample TCR contig files -> clonotype, sharing and site-test tables."""

from organomics.excluded import Exclusions
from organomics.logs import log_to
from organomics.scrna import tcr
from organomics.tables import write_tsv

with log_to(snakemake.log[0]):
    inputs, out, params = snakemake.input, snakemake.output, snakemake.params
    settings = tcr.TcrParams(**params.settings)
    annotations = None
    if "adata" in inputs.keys():
        states = inputs.states if "states" in inputs.keys() else None
        annotations = tcr.read_annotations(inputs.adata, states)
    tables = tcr.run(
        list(inputs.tcr), params.samples, settings, params.reference, params.compare,
        annotations, excluded := Exclusions("tcr"), params.sampling["simultaneous"],
    )  # fmt: skip
    write_tsv(tables["cells"], out.cells)
    write_tsv(tables["summary"], out.summary)
    write_tsv(tables["shared"], out.shared)
    write_tsv(tables["cell_types"], out.cell_types)
    write_tsv(tables["comparison"], out.comparison)
    excluded.write(out.excluded)
