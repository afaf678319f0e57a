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
        samples=summary_sample_times(),
        simultaneous_days=config["pairs"]["simultaneous_days"],
    script:
        "../../scripts/summary_concordance.py"


rule summary_response:
    input:
        unpack(summary_response_inputs),
        lib=lib_of("summary_response.py"),
    output:
        table=report(
            "results/summary/response_association.tsv",
            caption="../report/summary_response.rst",
            category="Summary",
        ),
        png=expand(
            "results/summary/plots/response_{layer}.png",
            layer=summary_response_layers(),
        ),
        pdf=expand(
            "results/summary/plots/response_{layer}.pdf",
            layer=summary_response_layers(),
        ),
    log:
        "logs/summary/response.log",
    benchmark:
        "logs/benchmarks/summary/response.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        reference=REF,
        compare=CMP,
        genes=config["rnaseq"].get("genes_of_interest", []),
        samples=summary_sample_times(),
        simultaneous_days=config["pairs"]["simultaneous_days"],
        layers=summary_response_layers(),
    script:
        "../../scripts/summary_response.py"


rule summary_sampling:
    input:
        unpack(summary_sampling_inputs),
        lib=lib_of("summary_sampling.py"),
    output:
        table=report(
            "results/summary/simultaneous_pairs.tsv",
            caption="../report/summary_sampling.rst",
            category="Summary",
        ),
        png="results/summary/plots/simultaneous_pairs.png",
        pdf="results/summary/plots/simultaneous_pairs.pdf",
    log:
        "logs/summary/sampling.log",
    benchmark:
        "logs/benchmarks/summary/sampling.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        reference=REF,
        compare=CMP,
        genes=config["rnaseq"].get("genes_of_interest", []),
        samples=summary_sample_times(),
        simultaneous_days=config["pairs"]["simultaneous_days"],
    script:
        "../../scripts/summary_sampling.py"


# findings.tsv when any layer is active; the concordance table and plot when a pair's two
# layers are; the response association when the clinical branch and a molecular layer are
OUTPUTS["summary"] = (
    rule_targets("summary_findings")
    + (rule_targets("summary_concordance") if summary_concordance_pairs() else [])
    + (
        rule_targets("summary_response")
        if branch_active("clinical") and summary_response_layers()
        else []
    )
    + (rule_targets("summary_sampling") if summary_sampling_inputs() else [])
    if any(branch_active(branch) for branch in BRANCHES)
    else []
)
