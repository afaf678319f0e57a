# Across the layers: one findings table of the headline comparisons, and layer concordance.


validate(config["summary"], "../schemas/summary.schema.yaml")


include: "summary_functions.smk"


rule summary_findings:
    input:
        unpack(summary_finding_inputs),
        lib=lib_of("summary_findings.py"),
    output:
        report(
            "results/summary/findings.tsv",
            caption="../report/summary_findings.rst",
            category="Summary",
        ),
    log:
        "logs/summary/findings.log",
    benchmark:
        "logs/benchmarks/summary/findings.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        reference=REF,
        compare=CMP,
        genes=config["rnaseq"].get("genes_of_interest", []),
        top_pathways=config["summary"]["top_pathways"],
        samples=summary_sample_sites(),
    script:
        "../../scripts/summary_findings.py"


rule summary_concordance:
    input:
        unpack(summary_concordance_inputs),
        lib=lib_of("summary_concordance.py"),
    output:
        table=report(
            "results/summary/concordance.tsv",
            caption="../report/summary_concordance.rst",
            category="Summary",
        ),
        png=report(
            "results/summary/plots/concordance.png",
            caption="../report/summary_concordance_plot.rst",
            category="Summary",
        ),
        pdf="results/summary/plots/concordance.pdf",
    log:
        "logs/summary/concordance.log",
    benchmark:
        "logs/benchmarks/summary/concordance.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        pairs=summary_concordance_pairs(),
        reference=REF,
        compare=CMP,
        samples=summary_sample_sites(),
    script:
        "../../scripts/summary_concordance.py"


# findings.tsv when any layer is active; the concordance table and plot when a pair's two
# layers are
OUTPUTS["summary"] = (
    rule_targets("summary_findings")
    + (rule_targets("summary_concordance") if summary_concordance_pairs() else [])
    if any(branch_active(branch) for branch in BRANCHES)
    else []
)
