# The sample sheet's pairing overview: which patients have both sites, per layer.


rule sample_pairing:
    input:
        sheet=resolve_path(config["samples"]) if config.get("samples") else [],
        lib=lib_of("sample_pairing.py"),
    output:
        report(
            "results/pairing.tsv",
            caption="../report/pairing.rst",
            category="Cohort",
        ),
    log:
        "logs/pairing.log",
    benchmark:
        "logs/benchmarks/pairing.tsv"
    localrule: True
    conda:
        "../../envs/clinical.yaml"
    params:
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/sample_pairing.py"


OUTPUTS["sheet"] = rule_targets("sample_pairing") if config.get("samples") else []
