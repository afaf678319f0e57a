# wes branch: somatic VCF/MAF per sample -> filtered variants -> cohort TMB, shared/private
# mutations, driver concordance, neoantigen burden, paired PL/LM tests and plots.


validate(config.setdefault("wes", {}), "../schemas/wes.schema.yaml")


include: "wes_functions.smk"


parse_check(wes_check_inputs)
parse_check(wes_check_copy_number)
parse_check(wes_check_fasta)
parse_check(wes_check_signatures)
parse_check(wes_check_hla)


rule wes_sample:
    input:
        calls=layer_files("wes"),
        targets=wes_targets(),
        lib=lib_of("wes_sample.py"),
    output:
        variants="results/wes/variants/{sample}.parquet",
        filters="results/wes/filter_counts/{sample}.tsv",
    log:
        "logs/wes/sample/{sample}.log",
    benchmark:
        "logs/benchmarks/wes/sample/{sample}.tsv"
    conda:
        "../../envs/wes.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb_scaled(2000),
    params:
        filters=config["wes"]["filters"],
        wes_id=wes_id,
    script:
        "../../scripts/wes_sample.py"


rule wes_cohort:
    input:
        variants=per_sample("results/wes/variants/{sample}.parquet", "wes"),
        filters=per_sample("results/wes/filter_counts/{sample}.tsv", "wes"),
        neoantigens=wes_neoantigen_files(),
        targets=wes_targets(),
        lib=lib_of("wes_cohort.py"),
    output:
        tmb=report(
            "results/wes/tmb.tsv", caption="../report/wes_tmb.rst", category="WES"
        ),
        shared=report(
            "results/wes/shared_private.tsv",
            caption="../report/wes_shared_private.rst",
            category="WES",
        ),
        neoantigens="results/wes/neoantigens.tsv",
        drivers=report(
            "results/wes/drivers.tsv",
            caption="../report/wes_drivers.rst",
            category="WES",
        ),
        comparison=report(
            "results/wes/site_comparison.tsv",
            caption="../report/wes_site_comparison.rst",
            category="WES",
        ),
        filter_summary="results/wes/filter_summary.tsv",
        sbs6="results/wes/sbs6.tsv",
        mutations="results/wes/mutations.tsv.gz",
        excluded=exclusions("wes", "cohort"),
    log:
        "logs/wes/cohort.log",
    benchmark:
        "logs/benchmarks/wes/cohort.tsv"
    conda:
        "../../envs/wes.yaml"
    resources:
        mem_mb=mem_mb_scaled(2000),
    params:
        sampling=SAMPLING,
        samples=sample_records("wes"),
        neoantigens=wes_neoantigen_records(),
        settings=config["wes"],
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/wes_cohort.py"


rule wes_plots:
    input:
        tmb=rules.wes_cohort.output.tmb,
        shared=rules.wes_cohort.output.shared,
        neoantigens=rules.wes_cohort.output.neoantigens,
        comparison=rules.wes_cohort.output.comparison,
        sbs6=rules.wes_cohort.output.sbs6,
        mutations=rules.wes_cohort.output.mutations,
        lib=lib_of("wes_plots.py"),
    output:
        tmb_png=report(
            "results/wes/plots/tmb_paired.png",
            caption="../report/wes_tmb_plot.rst",
            category="WES",
        ),
        tmb_pdf="results/wes/plots/tmb_paired.pdf",
        neo_png=report(
            "results/wes/plots/neoantigens_paired.png",
            caption="../report/wes_neoantigens_plot.rst",
            category="WES",
        ),
        neo_pdf="results/wes/plots/neoantigens_paired.pdf",
        shared_png=report(
            "results/wes/plots/shared_private.png",
            caption="../report/wes_shared_private.rst",
            category="WES",
        ),
        shared_pdf="results/wes/plots/shared_private.pdf",
        onco_png=report(
            "results/wes/plots/oncoplot.png",
            caption="../report/wes_oncoplot.rst",
            category="WES",
        ),
        onco_pdf="results/wes/plots/oncoplot.pdf",
        sbs6_png=report(
            "results/wes/plots/sbs6_spectrum.png",
            caption="../report/wes_sbs6.rst",
            category="WES",
        ),
        sbs6_pdf="results/wes/plots/sbs6_spectrum.pdf",
    log:
        "logs/wes/plots.log",
    benchmark:
        "logs/benchmarks/wes/plots.tsv"
    conda:
        "../../envs/wes.yaml"
    params:
        sampling=SAMPLING,
        samples=sample_records("wes"),
        n_genes=config["wes"]["oncoplot_genes"],
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/wes_plots.py"


rule wes_clonality:
    input:
        variants=per_sample("results/wes/variants/{sample}.parquet", "wes"),
        cn=wes_copy_number_files(),
        neoantigens=wes_neoantigen_files(),
        lib=lib_of("wes_clonality.py"),
    output:
        ccf="results/wes/ccf.tsv",
        classes="results/wes/clonality_variants.tsv",
        clonality=report(
            "results/wes/clonality.tsv",
            caption="../report/wes_clonality.rst",
            category="WES",
        ),
        samples="results/wes/clonality_samples.tsv",
        comparison="results/wes/clonality_comparison.tsv",
        excluded=wes_clonality_exclusions(),
    log:
        "logs/wes/clonality.log",
    benchmark:
        "logs/benchmarks/wes/clonality.tsv"
    conda:
        "../../envs/wes.yaml"
    resources:
        mem_mb=mem_mb_scaled(2000),
    params:
        sampling=SAMPLING,
        samples=sample_records("wes"),
        copy_number=wes_copy_number_records(),
        neoantigens=wes_neoantigen_records(),
        settings=config["wes"],
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/wes_clonality.py"


rule wes_copy_number:
    input:
        cn=wes_copy_number_files(),
        arms=wes_arm_table(),
        lib=lib_of("wes_copy_number.py"),
    output:
        summary=report(
            "results/wes/copy_number.tsv",
            caption="../report/wes_copy_number.rst",
            category="WES",
        ),
        arms="results/wes/arm_events.tsv",
        paired="results/wes/arm_events_paired.tsv",
        comparison="results/wes/copy_number_comparison.tsv",
    log:
        "logs/wes/copy_number.log",
    benchmark:
        "logs/benchmarks/wes/copy_number.tsv"
    conda:
        "../../envs/wes.yaml"
    params:
        sampling=SAMPLING,
        copy_number=wes_copy_number_records(),
        settings=config["wes"]["copy_number"],
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/wes_copy_number.py"


rule wes_clonality_plots:
    input:
        classes=rules.wes_clonality.output.classes,
        copy_number=rules.wes_copy_number.output.summary,
        comparison=rules.wes_copy_number.output.comparison,
        lib=lib_of("wes_clonality_plots.py"),
    output:
        ccf_png=report(
            "results/wes/plots/ccf_scatter.png",
            caption="../report/wes_ccf_scatter.rst",
            category="WES",
        ),
        ccf_pdf="results/wes/plots/ccf_scatter.pdf",
        fga_png="results/wes/plots/fga_paired.png",
        fga_pdf="results/wes/plots/fga_paired.pdf",
    log:
        "logs/wes/clonality_plots.log",
    benchmark:
        "logs/benchmarks/wes/clonality_plots.tsv"
    conda:
        "../../envs/wes.yaml"
    params:
        sampling=SAMPLING,
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/wes_clonality_plots.py"


rule wes_sbs96:
    input:
        variants=per_sample("results/wes/variants/{sample}.parquet", "wes"),
        fasta=wes_fasta(),
        lib=lib_of("wes_sbs96.py"),
    output:
        sbs96="results/wes/sbs96.tsv",
        excluded=wes_fasta_exclusions(),
    log:
        "logs/wes/sbs96.log",
    benchmark:
        "logs/benchmarks/wes/sbs96.tsv"
    conda:
        "../../envs/wes.yaml"
    params:
        samples=sample_records("wes"),
    script:
        "../../scripts/wes_sbs96.py"


rule wes_signatures:
    input:
        sbs96=rules.wes_sbs96.output.sbs96,
        matrix=wes_signature_matrix(),
        lib=lib_of("wes_signatures.py"),
    output:
        signatures=report(
            "results/wes/signatures.tsv",
            caption="../report/wes_signatures.rst",
            category="WES",
        ),
        by_site="results/wes/signatures_by_site.tsv",
        comparison="results/wes/signatures_comparison.tsv",
        excluded=wes_signature_exclusions(),
    log:
        "logs/wes/signatures.log",
    benchmark:
        "logs/benchmarks/wes/signatures.tsv"
    conda:
        "../../envs/wes.yaml"
    params:
        sampling=SAMPLING,
        samples=sample_records("wes"),
        settings=config["wes"]["signatures"],
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/wes_signatures.py"


rule wes_signature_plots:
    input:
        signatures=rules.wes_signatures.output.signatures,
        comparison=rules.wes_signatures.output.comparison,
        lib=lib_of("wes_signature_plots.py"),
    output:
        png=report(
            "results/wes/plots/signatures.png",
            caption="../report/wes_signatures_plot.rst",
            category="WES",
        ),
        pdf="results/wes/plots/signatures.pdf",
    log:
        "logs/wes/signature_plots.log",
    benchmark:
        "logs/benchmarks/wes/signature_plots.tsv"
    conda:
        "../../envs/wes.yaml"
    params:
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/wes_signature_plots.py"


rule wes_hla:
    input:
        hla=wes_hla_files(),
        neoantigens=wes_neoantigen_files(),
        lib=lib_of("wes_hla.py"),
    output:
        loh=report(
            "results/wes/hla_loh.tsv", caption="../report/wes_hla.rst", category="WES"
        ),
        paired="results/wes/hla_loh_paired.tsv",
        neoantigens="results/wes/hla_neoantigens.tsv",
        burden="results/wes/hla_burden.tsv",
        comparison="results/wes/hla_comparison.tsv",
        excluded=wes_hla_exclusions(),
    log:
        "logs/wes/hla.log",
    benchmark:
        "logs/benchmarks/wes/hla.tsv"
    conda:
        "../../envs/wes.yaml"
    params:
        sampling=SAMPLING,
        samples=sample_records("wes"),
        hla=wes_hla_records(),
        neoantigens=wes_neoantigen_records(),
        settings=config["wes"]["hla"],
        max_ic50_nm=config["wes"]["neoantigens"]["max_ic50_nm"],
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/wes_hla.py"


OUTPUTS["wes"] = (
    rule_targets("wes_cohort", "wes_plots")
    + (
        rule_targets("wes_clonality", "wes_copy_number", "wes_clonality_plots")
        if wes_copy_number_records()
        else []
    )
    + (
        rule_targets("wes_sbs96", "wes_signatures", "wes_signature_plots")
        if config["wes"].get("fasta")
        else []
    )
    + (rule_targets("wes_hla") if wes_hla_records() else [])
    + ["results/wes/excluded.tsv"]
    if branch_active("wes")
    else []
)
