"""Snakemake adapter: time to organ progression, duration of organ response, first organ."""

from organomics.clinical import organ_time
from organomics.excluded import Exclusions
from organomics.logs import log_to
from organomics.plots import save
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]):
    out = snakemake.output
    reference, compare = snakemake.params.reference, snakemake.params.compare
    timepoints = read_tsv(snakemake.input.timepoints, dtype={"patient": str})
    responses = read_tsv(snakemake.input.responses, dtype={"patient": str})
    exclusions = Exclusions("organ_time")
    times = organ_time.organ_times(timepoints, responses, exclusions)
    first = organ_time.first_progression(times, reference, compare)
    table = organ_time.summary(times, first, reference, compare)
    write_tsv(times, out.times)
    write_tsv(first, out.first)
    write_tsv(table, out.summary)
    save(organ_time.plot(times, table, reference, compare), out.png, out.pdf)
    exclusions.write(out.excluded)
