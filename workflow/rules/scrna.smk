# scrna branch: per-sample 10x/h5ad matrix -> QC'd cells (h5ad) -> cohort integration,
# annotation, signature scores, composition, paired PL/LM tests, pseudobulk PyDESeq2, plots.


validate(config.setdefault("scrna", {}), "../schemas/scrna.schema.yaml")


include: "scrna_functions.smk"


parse_check(scrna_check_inputs)


rule scrna_sample:
    input:
        matrix=layer_files("scrna"),
        lib=lib_of("scrna_sample.py"),
    output:
        h5ad="results/scrna/samples/{sample}.h5ad",
        qc="results/scrna/qc/{sample}.tsv",
    log:
        "logs/scrna/sample/{sample}.log",
    benchmark:
        "logs/benchmarks/scrna/sample/{sample}.tsv"
    priority: 10  # the longest chain: started first, it ends with the rest
    conda:
        "../../envs/scrna.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb_scaled(4000),
    params:
        qc=config["scrna"]["qc"],
        seed=config["scrna"]["seed"],
    script:
        "../../scripts/scrna_sample.py"


rule scrna_qc:
    input:
        qc=per_sample("results/scrna/qc/{sample}.tsv", "scrna"),
        lib=lib_of("scrna_qc.py"),
    output:
        qc=report(
            "results/scrna/qc.tsv", caption="../report/scrna_qc.rst", category="scRNA"
        ),
        excluded=exclusions("scrna", "qc"),
    log:
        "logs/scrna/qc.log",
    benchmark:
        "logs/benchmarks/scrna/qc.tsv"
    priority: 10  # the longest chain: started first, it ends with the rest
    conda:
        "../../envs/scrna.yaml"
    params:
        samples=sample_records("scrna"),
    script:
        "../../scripts/scrna_qc.py"


rule scrna_cohort:
    input:
        h5ad=per_sample("results/scrna/samples/{sample}.h5ad", "scrna"),
        markers=scrna_resource("markers"),
        signatures=scrna_resource("signatures"),
        lib=lib_of("scrna_cohort.py"),
    output:
        adata="results/scrna/adata.h5ad",
        clusters="results/scrna/cluster_annotation.tsv",
        cell_types=report(
            "results/scrna/cell_types.tsv",
            caption="../report/scrna_cell_types.rst",
            category="scRNA",
        ),
        cell_states="results/scrna/cell_states.tsv",
        scores=report(
            "results/scrna/signature_scores.tsv",
            caption="../report/scrna_scores.rst",
            category="scRNA",
        ),
        comparison=report(
            "results/scrna/site_comparison.tsv",
            caption="../report/scrna_comparison.rst",
            category="scRNA",
        ),
        excluded=exclusions("scrna", "cohort"),
    log:
        "logs/scrna/cohort.log",
    benchmark:
        "logs/benchmarks/scrna/cohort.tsv"
    priority: 10  # the longest chain: started first, it ends with the rest
    conda:
        "../../envs/scrna.yaml"
    # One thread: snakemake keeps no cores free for a 2-thread job, so on a small machine it
    # waited behind every 1-thread sample job (the demo's cohort started at 197 s, not 40 s).
    threads: 1
    resources:
        mem_mb=scrna_mem_mb,
    params:
        sampling=SAMPLING,
        samples=sample_records("scrna"),
        settings=scrna_cohort_settings(),
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/scrna_cohort.py"


rule scrna_pseudobulk:
    input:
        adata="results/scrna/adata.h5ad",
        lib=lib_of("scrna_pseudobulk.py"),
    output:
        de=directory("results/scrna/pseudobulk_de"),
        summary=report(
            "results/scrna/pseudobulk_summary.tsv",
            caption="../report/scrna_pseudobulk.rst",
            category="scRNA",
        ),
        excluded=exclusions("scrna", "pseudobulk"),
    log:
        "logs/scrna/pseudobulk.log",
    benchmark:
        "logs/benchmarks/scrna/pseudobulk.tsv"
    priority: 10  # the longest chain: started first, it ends with the rest
    conda:
        "../../envs/scrna.yaml"
    # one process: each cell type's fit is small (demo: 10 s CPU and 300 MB with the batched
    # fits; 53 s with PyDESeq2's per-gene fits, 154 s and 760 MB with two loky workers), and
    # the workers' warnings would never reach the summary
    threads: 1
    resources:
        mem_mb=mem_mb_scaled(8000),
    params:
        settings=config["scrna"]["pseudobulk"],
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/scrna_pseudobulk.py"


rule scrna_plots:
    input:
        adata="results/scrna/adata.h5ad",
        cell_types="results/scrna/cell_types.tsv",
        scores="results/scrna/signature_scores.tsv",
        comparison="results/scrna/site_comparison.tsv",
        markers=scrna_resource("markers"),
        signatures=scrna_resource("signatures"),
        lib=lib_of("scrna_plots.py"),
    output:
        umap_cell_type_png=report(
            "results/scrna/plots/umap_cell_type.png",
            caption="../report/scrna_umap.rst",
            category="scRNA",
        ),
        umap_cell_type_pdf="results/scrna/plots/umap_cell_type.pdf",
        umap_site_png="results/scrna/plots/umap_site.png",
        umap_site_pdf="results/scrna/plots/umap_site.pdf",
        umap_patient_png="results/scrna/plots/umap_patient.png",
        umap_patient_pdf="results/scrna/plots/umap_patient.pdf",
        marker_dotplot_png=report(
            "results/scrna/plots/marker_dotplot.png",
            caption="../report/scrna_dotplot.rst",
            category="scRNA",
        ),
        marker_dotplot_pdf="results/scrna/plots/marker_dotplot.pdf",
        score_violins_png=report(
            "results/scrna/plots/score_violins.png",
            caption="../report/scrna_violins.rst",
            category="scRNA",
        ),
        score_violins_pdf="results/scrna/plots/score_violins.pdf",
        score_paired_png=report(
            "results/scrna/plots/score_paired.png",
            caption="../report/scrna_paired.rst",
            category="scRNA",
        ),
        score_paired_pdf="results/scrna/plots/score_paired.pdf",
        composition_png=report(
            "results/scrna/plots/composition.png",
            caption="../report/scrna_composition.rst",
            category="scRNA",
        ),
        composition_pdf="results/scrna/plots/composition.pdf",
    log:
        "logs/scrna/plots.log",
    benchmark:
        "logs/benchmarks/scrna/plots.tsv"
    conda:
        "../../envs/scrna.yaml"
    resources:
        mem_mb=mem_mb_scaled(8000),
    params:
        sampling=SAMPLING,
        reference=REF,
        compare=CMP,
        min_cells=config["scrna"]["comparison"]["min_cells"],
    script:
        "../../scripts/scrna_plots.py"


OUTPUTS["scrna"] = (
    rule_targets("scrna_qc", "scrna_cohort", "scrna_pseudobulk", "scrna_plots")
    + ["results/scrna/excluded.tsv"]
    if branch_active("scrna")
    else []
)


include: "scrna_tcr.smk"
include: "scrna_states.smk"
