"""Snakemake adapter: integrated AnnData -> pseudobulk PyDESeq2 per cell type."""

from pathlib import Path

from organomics.excluded import Exclusions
from organomics.logs import log_to
from organomics.scrna import pseudobulk, store
from organomics.tables import write_tsv

with log_to(snakemake.log[0]) as log:
    settings = snakemake.params.settings
    obs, var = store.read_obs(snakemake.input.adata)
    excluded = Exclusions("pseudobulk")
    results, summary = pseudobulk.cell_type_de(
        obs,
        var.index,
        store.iter_rows(snakemake.input.adata, "layers/counts"),
        snakemake.params.reference,
        snakemake.params.compare,
        min_cells=settings["min_cells"],
        min_pairs=settings["min_pairs"],
        min_total_count=settings["min_total_count"],
        n_cpus=snakemake.threads,
        gene_ids=var["gene_ids"] if "gene_ids" in var else None,
        exclusions=excluded,
    )
    out = Path(snakemake.output.de)
    out.mkdir(parents=True, exist_ok=True)
    for cell_type, table in results.items():
        write_tsv(table, out / f"{cell_type}.tsv")
    log.info("%d cell types tested", len(results))
    write_tsv(summary, snakemake.output.summary)
    excluded.write(snakemake.output.excluded)
