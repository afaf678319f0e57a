# Functions of the cross-layer summary (kept apart from its rules, as snakemake --lint asks).


def summary_finding_inputs(wildcards=None):
    """The comparison tables of every active layer, by name."""
    tables = {}
    if branch_active("clinical"):
        tables["clinical"] = "results/clinical/site_comparison.tsv"
    if branch_active("wes"):
        tables["wes"] = "results/wes/site_comparison.tsv"
    if branch_active("rnaseq"):
        tables["rnaseq_results"] = "results/rnaseq/deseq2_results.tsv"
        tables["rnaseq_vst"] = "results/rnaseq/vst.tsv.gz"
        tables["rnaseq_gsea"] = "results/rnaseq/gsea_prerank.tsv"
        tables["rnaseq_signatures"] = "results/rnaseq/signature_comparison.tsv"
    if branch_active("mihc"):
        tables["mihc"] = "results/mihc/site_comparison.tsv"
    if branch_active("scrna"):
        tables["scrna"] = "results/scrna/site_comparison.tsv"
    return tables


def summary_concordance_inputs(wildcards=None):
    """Per-sample measure tables of the layers that concordance pairs can draw on."""
    tables = {}
    if branch_active("rnaseq"):
        tables["rnaseq_results"] = "results/rnaseq/deseq2_results.tsv"
        tables["rnaseq_vst"] = "results/rnaseq/vst.tsv.gz"
        tables["rnaseq_signatures"] = "results/rnaseq/signature_scores.tsv"
    if branch_active("mihc"):
        tables["mihc_fractions"] = "results/mihc/cell_fractions.tsv"
    if branch_active("scrna"):
        tables["scrna_cell_types"] = "results/scrna/cell_types.tsv"
        tables["scrna_scores"] = "results/scrna/signature_scores.tsv"
    if branch_active("wes"):
        tables["wes_tmb"] = "results/wes/tmb.tsv"
        tables["wes_neo"] = "results/wes/neoantigens.tsv"
    return tables


def summary_concordance_pairs():
    """Configured pairs whose two layers are both active."""
    return [
        pair
        for pair in config["summary"]["concordance"]
        if branch_active(pair["x"]["layer"]) and branch_active(pair["y"]["layer"])
    ]


def summary_sample_sites():
    """sample -> patient and site for every sheet row."""
    return SAMPLES[["sample", "patient", "site"]].to_dict("records")
