"""Snakemake adapter: one sample's VCF(s)/MAF -> passing variants (parquet) + filter counts."""

from organomics.logs import log_to
from organomics.tables import atomic_path, write_tsv
from organomics.wes.sample import sample_variants
from organomics.wes.targets import read_targets
from organomics.wes.vcf import Filters

with log_to(snakemake.log[0]):
    targets = read_targets(snakemake.input.targets[0]) if snakemake.input.targets else None
    variants, counts = sample_variants(
        snakemake.wildcards.sample,
        list(snakemake.input.calls),
        Filters.from_config(snakemake.params.filters),
        wes_id=snakemake.params.wes_id,
        targets=targets,
        threads=snakemake.threads,
    )
    with atomic_path(snakemake.output.variants) as tmp:
        variants.to_parquet(tmp, index=False)
    write_tsv(counts, snakemake.output.filters)
