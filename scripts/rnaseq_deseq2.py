"""Snakemake adapter: paired PyDESeq2 (~ patient + site) -> deseq2_results.tsv, warnings.tsv."""

from organomics.logs import log_to
from organomics.rnaseq import deseq
from organomics.rnaseq.genesets import read_symbol_table
from organomics.rnaseq.results import design_frame, read_counts
from organomics.tables import write_tsv

with log_to(snakemake.log[0]):
    inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
    reference, compare = params.reference, params.compare
    design = design_frame(params.samples)
    result = deseq.paired_deseq(
        read_counts(inputs.counts),
        design,
        reference,
        compare,
        n_cpus=snakemake.threads,
        alpha=params.alpha,
    )
    write_tsv(deseq.results_table(result, read_symbol_table(inputs.symbols)), outputs.results)
    excluded, exclusions = deseq.unpaired_samples(
        design, result.attrs["excluded_patients"], reference, compare
    )
    write_tsv(excluded, outputs.excluded)
    write_tsv(deseq.warnings_table(result), outputs.warnings)
    exclusions.write(outputs.exclusions)
