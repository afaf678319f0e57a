# mihc branch: multiplex IHC cell tables -> phenotype counts per sample -> cohort fractions,
# densities, nearest-tumour distances, paired PL/LM tests and plots.


validate(config.setdefault("mihc", {}), "../schemas/mihc.schema.yaml")


include: "mihc_functions.smk"


# Parse-time checks: expressions, marker columns and units in every header, sheet areas, the
# scatter patient.
MIHC_FORMATS = parse_check(mihc_check_inputs)
MIHC_SCATTER = parse_check(mihc_scatter_samples)


rule mihc_sample:
    input:
        table=layer_files("mihc"),
        lib=lib_of("mihc_sample.py"),
    output:
        counts="results/mihc/counts/{sample}.tsv",
        spatial="results/mihc/spatial/{sample}.tsv",
        margin="results/mihc/margin/{sample}.tsv",
        neighbourhood="results/mihc/neighbourhood/{sample}.tsv",
        cross_k="results/mihc/cross_k/{sample}.tsv",
        knn="results/mihc/knn/{sample}.parquet",
        points="results/mihc/points/{sample}.parquet",
        anndata="results/mihc/anndata/{sample}.h5ad",
        excluded="results/mihc/sample_excluded/{sample}.tsv",
    log:
        "logs/mihc/sample/{sample}.log",
    benchmark:
        "logs/benchmarks/mihc/sample/{sample}.tsv"
    conda:
        "../../envs/mihc.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb_scaled(1500),
    params:
        settings=config["mihc"],
        record=mihc_record,
    script:
        "../../scripts/mihc_sample.py"


rule mihc_cohort:
    input:
        counts=per_sample("results/mihc/counts/{sample}.tsv", "mihc"),
        spatial=per_sample("results/mihc/spatial/{sample}.tsv", "mihc"),
        margin=per_sample("results/mihc/margin/{sample}.tsv", "mihc"),
        neighbourhood=per_sample("results/mihc/neighbourhood/{sample}.tsv", "mihc"),
        cross_k=per_sample("results/mihc/cross_k/{sample}.tsv", "mihc"),
        knn=per_sample("results/mihc/knn/{sample}.parquet", "mihc"),
        excluded=per_sample("results/mihc/sample_excluded/{sample}.tsv", "mihc"),
        lib=lib_of("mihc_cohort.py"),
    output:
        fractions=report(
            "results/mihc/cell_fractions.tsv",
            caption="../report/mihc_fractions.rst",
            category="mIHC",
        ),
        composition="results/mihc/composition.tsv",
        comparison=report(
            "results/mihc/site_comparison.tsv",
            caption="../report/mihc_comparison.rst",
            category="mIHC",
        ),
        spatial="results/mihc/spatial_distances.tsv",
        spatial_comparison=report(
            "results/mihc/spatial_comparison.tsv",
            caption="../report/mihc_spatial.rst",
            category="mIHC",
        ),
        margin="results/mihc/margin_densities.tsv",
        margin_comparison=report(
            "results/mihc/margin_comparison.tsv",
            caption="../report/mihc_margin.rst",
            category="mIHC",
        ),
        immune="results/mihc/immune_phenotype.tsv",
        immune_comparison=report(
            "results/mihc/immune_phenotype_comparison.tsv",
            caption="../report/mihc_immune.rst",
            category="mIHC",
        ),
        neighbourhood="results/mihc/neighbourhood.tsv",
        neighbourhood_comparison=report(
            "results/mihc/neighbourhood_comparison.tsv",
            caption="../report/mihc_neighbourhood.rst",
            category="mIHC",
        ),
        cross_k="results/mihc/cross_k.tsv",
        cross_k_comparison=report(
            "results/mihc/cross_k_comparison.tsv",
            caption="../report/mihc_cross_k.rst",
            category="mIHC",
        ),
        cn_profiles="results/mihc/cellular_neighbourhoods.tsv",
        cn_abundance="results/mihc/cn_abundance.tsv",
        cn_comparison=report(
            "results/mihc/cn_comparison.tsv",
            caption="../report/mihc_cn.rst",
            category="mIHC",
        ),
        excluded=exclusions("mihc", "cohort"),
    log:
        "logs/mihc/cohort.log",
    benchmark:
        "logs/benchmarks/mihc/cohort.tsv"
    conda:
        "../../envs/mihc.yaml"
    params:
        sampling=SAMPLING,
        samples=sample_records("mihc"),
        areas=mihc_areas(),
        immune=config["mihc"]["immune_phenotype"],
        cn=config["mihc"]["cellular_neighbourhoods"],
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/mihc_cohort.py"


rule mihc_plots:
    input:
        fractions="results/mihc/cell_fractions.tsv",
        composition="results/mihc/composition.tsv",
        comparison="results/mihc/site_comparison.tsv",
        spatial="results/mihc/spatial_distances.tsv",
        spatial_comparison="results/mihc/spatial_comparison.tsv",
        immune="results/mihc/immune_phenotype.tsv",
        neighbourhood="results/mihc/neighbourhood.tsv",
        points=mihc_scatter_points,
        lib=lib_of("mihc_plots.py"),
    output:
        fractions_png=report(
            "results/mihc/plots/fractions_paired.png",
            caption="../report/mihc_fractions_plot.rst",
            category="mIHC",
        ),
        fractions_pdf="results/mihc/plots/fractions_paired.pdf",
        composition_png=report(
            "results/mihc/plots/composition.png",
            caption="../report/mihc_composition_plot.rst",
            category="mIHC",
        ),
        composition_pdf="results/mihc/plots/composition.pdf",
        scatter_png=report(
            "results/mihc/plots/spatial_scatter.png",
            caption="../report/mihc_scatter_plot.rst",
            category="mIHC",
        ),
        scatter_pdf="results/mihc/plots/spatial_scatter.pdf",
        spatial_png=report(
            "results/mihc/plots/spatial_paired.png",
            caption="../report/mihc_spatial_plot.rst",
            category="mIHC",
        ),
        spatial_pdf="results/mihc/plots/spatial_paired.pdf",
        margin_png=report(
            "results/mihc/plots/margin_map.png",
            caption="../report/mihc_margin_plot.rst",
            category="mIHC",
        ),
        margin_pdf="results/mihc/plots/margin_map.pdf",
        neighbourhood_png=report(
            "results/mihc/plots/neighbourhood_heatmap.png",
            caption="../report/mihc_neighbourhood_plot.rst",
            category="mIHC",
        ),
        neighbourhood_pdf="results/mihc/plots/neighbourhood_heatmap.pdf",
        immune_png=report(
            "results/mihc/plots/immune_phenotype.png",
            caption="../report/mihc_immune_plot.rst",
            category="mIHC",
        ),
        immune_pdf="results/mihc/plots/immune_phenotype.pdf",
    log:
        "logs/mihc/plots.log",
    benchmark:
        "logs/benchmarks/mihc/plots.tsv"
    conda:
        "../../envs/mihc.yaml"
    params:
        sampling=SAMPLING,
        scatter_samples=MIHC_SCATTER,
        samples=sample_records("mihc"),
        highlight=(config["mihc"]["immune_phenotype"]["phenotypes"] or [None])[0],
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/mihc_plots.py"


OUTPUTS["mihc"] = (
    rule_targets("mihc_cohort", "mihc_plots")
    + per_sample("results/mihc/anndata/{sample}.h5ad", "mihc")
    + ["results/mihc/excluded.tsv"]
    if branch_active("mihc")
    else []
)
