"""Snakemake adapter: the cross-layer findings table from each active layer's comparisons."""

import pandas as pd

from organomics.logs import log_to
from organomics.pairing import site_table
from organomics.summary import findings
from organomics.tables import read_tsv, write_tsv

with log_to(snakemake.log[0]):
    reference, compare = snakemake.params.reference, snakemake.params.compare
    names = snakemake.input.keys()
    rows = []
    if "clinical" in names:
        rows += findings.clinical_rows(read_tsv(snakemake.input.clinical), reference, compare)
    if "clinical_irecist" in names:
        irecist = read_tsv(snakemake.input.clinical_irecist)
        rows += findings.irecist_rows(irecist, reference, compare)
    if "clinical_organ_time" in names:
        first = read_tsv(snakemake.input.clinical_organ_time)
        rows += findings.organ_progression_rows(first, reference, compare)
    if "wes" in names:
        rows += findings.paired_rows(
            "wes",
            read_tsv(snakemake.input.wes),
            lambda r: r["metric"],
            reference,
            compare,
            "median paired difference",
        )
    if "rnaseq_results" in names:
        sheet = pd.DataFrame(snakemake.params.samples)
        vst = read_tsv(snakemake.input.rnaseq_vst, index_col=0)
        in_rna = sheet[sheet["sample"].isin(vst.columns)]
        pairs = site_table(in_rna, reference, compare)
        pairs = pairs[pairs["paired"]].drop(columns="paired")
        results = read_tsv(snakemake.input.rnaseq_results)
        rows += findings.expression_rows(
            results, vst, snakemake.params.genes, pairs, reference, compare
        )
        rows += findings.pathway_rows(
            read_tsv(snakemake.input.rnaseq_gsea), snakemake.params.top_pathways, len(pairs)
        )
        rows += findings.paired_rows(
            "rnaseq",
            read_tsv(snakemake.input.rnaseq_signatures),
            lambda r: f"{r['signature']} signature (ssGSEA)",
            reference,
            compare,
            "median paired difference in ssGSEA score",
        )
    if "rnaseq_deconvolution" in names:
        rows += findings.deconvolution_rows(
            read_tsv(snakemake.input.rnaseq_deconvolution), reference, compare
        )
    if "mihc" in names:
        rows += findings.paired_rows(
            "mihc",
            read_tsv(snakemake.input.mihc),
            lambda r: (
                f"{r['phenotype']} fraction"
                + ("" if r["region"] == "all" else f" in {r['region']}")
            ),
            reference,
            compare,
            "median paired difference in fraction of cells",
        )
    if "mihc_neighbourhood" in names:
        rows += findings.mihc_spatial_rows(
            read_tsv(snakemake.input.mihc_neighbourhood),
            read_tsv(snakemake.input.mihc_immune),
            reference,
            compare,
            read_tsv(snakemake.input.mihc_cross_k),
            read_tsv(snakemake.input.mihc_cn),
        )
    if "scrna" in names:
        rows += findings.paired_rows(
            "scrna",
            read_tsv(snakemake.input.scrna),
            lambda r: (
                f"{r['cell_type']} fraction"
                if r["signature"] == "fraction"
                else f"{r['signature']} score in {r['cell_type']}"
            ),
            reference,
            compare,
            "median paired difference (per-patient mean score or fraction)",
        )
    if "scrna_states" in names:
        rows += findings.paired_rows(
            "scrna",
            read_tsv(snakemake.input.scrna_states),
            lambda r: (
                f"{r['state']} fraction of {r['cell_type']}"
                if r["measure"] == "fraction"
                else f"log2 ratio {r['state']} in {r['cell_type']}"
            ),
            reference,
            compare,
            "median paired difference (state fraction of its compartment or log2 ratio)",
        )
    if "scrna_tcr" in names:
        rows += findings.tcr_rows(read_tsv(snakemake.input.scrna_tcr), reference, compare)
    if "response" in names:
        rows += findings.response_rows(read_tsv(snakemake.input.response), reference, compare)
    write_tsv(findings.assemble(rows, reference, compare), snakemake.output[0])
