# Functions of the cross-layer summary (kept apart from its rules, as snakemake --lint asks).


def summary_finding_inputs(wildcards=None):
    """The comparison tables of every active layer, by name."""
    tables = {}
    if branch_active("clinical"):
        tables["clinical"] = "results/clinical/site_comparison.tsv"
        tables["clinical_irecist"] = "results/clinical/irecist_site_comparison.tsv"
        tables["clinical_organ_time"] = "results/clinical/organ_progression_summary.tsv"
    if branch_active("wes"):
        tables["wes"] = "results/wes/site_comparison.tsv"
    if branch_active("rnaseq"):
        tables["rnaseq_results"] = "results/rnaseq/deseq2_results.tsv"
        tables["rnaseq_vst"] = "results/rnaseq/vst.tsv.gz"
        tables["rnaseq_gsea"] = "results/rnaseq/gsea_prerank.tsv"
        tables["rnaseq_signatures"] = "results/rnaseq/signature_comparison.tsv"
        tables["rnaseq_deconvolution"] = "results/rnaseq/deconvolution_comparison.tsv"
    if branch_active("mihc"):
        tables["mihc"] = "results/mihc/site_comparison.tsv"
        tables["mihc_neighbourhood"] = "results/mihc/neighbourhood_comparison.tsv"
        tables["mihc_immune"] = "results/mihc/immune_phenotype_comparison.tsv"
        tables["mihc_cross_k"] = "results/mihc/cross_k_comparison.tsv"
        tables["mihc_cn"] = "results/mihc/cn_comparison.tsv"
    if branch_active("scrna"):
        tables["scrna"] = "results/scrna/site_comparison.tsv"
        tables["scrna_states"] = "results/scrna/state_tests.tsv"
    if samples_with("tcr"):  # TCR clonotypes run with or without scRNA matrices
        tables["scrna_tcr"] = "results/scrna/tcr_comparison.tsv"
    if branch_active("clinical") and summary_response_layers():
        tables["response"] = "results/summary/response_association.tsv"
    return tables


def summary_concordance_inputs(wildcards=None):
    """Per-sample measure tables of the layers that concordance pairs can draw on."""
    tables = {}
    if branch_active("rnaseq"):
        tables["rnaseq_results"] = "results/rnaseq/deseq2_results.tsv"
        tables["rnaseq_vst"] = "results/rnaseq/vst.tsv.gz"
        tables["rnaseq_signatures"] = "results/rnaseq/signature_scores.tsv"
        tables["rnaseq_deconvolution"] = "results/rnaseq/deconvolution.tsv"
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


# >>> response association (issue 14)
from organomics.summary.response import SOURCES as RESPONSE_SOURCES  # noqa: E402

IRECIST_TABLE = "results/clinical/irecist_response.tsv"


def summary_response_sources():
    """The per-sample sources (organomics.summary.response.SOURCES) the workflow writes: branch
    active and the file among the branch's outputs (so a new table joins once it is written).
    """
    return [
        source
        for source in RESPONSE_SOURCES
        if branch_active(source.branch) and source.path in OUTPUTS[source.branch]
    ]


def summary_response_layers():
    """Layers with a measure for the response association: one figure each."""
    return list(
        dict.fromkeys(
            s.layer for s in summary_response_sources() if s.measures is not None
        )
    )


def summary_response_inputs(wildcards=None):
    """Each site's response (RECIST; iRECIST when the clinical branch writes it) and the
    per-sample tables of the active layers."""
    tables = {"responses": "results/clinical/organ_response.tsv"}
    if IRECIST_TABLE in OUTPUTS["clinical"]:
        tables["irecist"] = IRECIST_TABLE
    tables.update({s.name: s.path for s in summary_response_sources()})
    return tables


def summary_sample_times():
    """sample, patient, site and, when the sheet has it, collection_day of every sheet row."""
    columns = ["sample", "patient", "site"]
    columns += [c for c in ("collection_day",) if c in SAMPLES.columns]
    return SAMPLES[columns].to_dict("records")


def summary_sampling_inputs(wildcards=None):
    """The per-sample tables of the active layers when the sheet has collection days (the
    all vs simultaneous pairs table); empty otherwise."""
    if (
        "collection_day" not in SAMPLES.columns
        or not (SAMPLES["collection_day"] != "").any()
    ):
        return {}
    return {s.name: s.path for s in summary_response_sources()}

# <<< response association (issue 14)
