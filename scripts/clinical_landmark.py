"""Snakemake adapter: landmark survival by response classified by the landmark day."""

from organomics.clinical import landmark, survival
from organomics.excluded import Exclusions
from organomics.logs import log_to
from organomics.plots import save
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]):
    out = snakemake.output
    reference, compare = snakemake.params.reference, snakemake.params.compare
    day = snakemake.params.landmark_days
    timepoints = read_tsv(snakemake.input.timepoints, dtype={"patient": str})
    responses = read_tsv(snakemake.input.responses, dtype={"patient": str})
    patients = survival.read_patients(snakemake.input.patients[0])
    exclusions = Exclusions("landmark")
    groups = landmark.landmark_groups(timepoints, responses, reference, compare, day)
    write_tsv(groups, out.groups)
    table = landmark.landmark_table(patients, groups, compare, day, exclusions)
    write_tsv(table, out.table)
    save(landmark.plot(patients, groups, table, compare, day), out.png, out.pdf)
    exclusions.write(out.excluded)
