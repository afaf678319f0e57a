"""Snakemake adapter: cohort h5ad -> CD8/NK states, fractions, ratio, tests, composition."""

from organomics.excluded import Exclusions
from organomics.logs import log_to
from organomics.scrna import composition, states
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]):
    out, params = snakemake.output, snakemake.params
    programmes = states.load_states(snakemake.input.states)
    tables, _ = states.run(
        snakemake.input.adata,
        programmes,
        params.samples,
        params.reference,
        params.compare,
        params.min_cells,
        params.seed,
        excluded := Exclusions("states"),
        params.sampling["simultaneous"],
    )
    write_tsv(tables["cells"], out.cells)
    write_tsv(tables["fractions"], out.states)
    write_tsv(tables["ratio"], out.ratio)
    write_tsv(tables["tests"], out.tests)
    cell_types = read_tsv(snakemake.input.cell_types)
    write_tsv(
        composition.run(
            cell_types,
            tables["fractions"],
            params.reference,
            params.compare,
            params.min_cells,
            params.sampling["simultaneous"],
        ),  # fmt: skip
        out.composition,
    )
    excluded.write(out.excluded)
