# rnaseq branch: bulk RNA counts -> paired PyDESeq2 (~ patient + site), GSEA prerank, ORA,
# ssGSEA immune signatures with paired site tests, QC and figures.


validate(config.setdefault("rnaseq", {}), "../schemas/rnaseq.schema.yaml")


include: "rnaseq_functions.smk"


# per-sample files: each sample's dropped transcripts are listed in excluded.tsv
if not rnaseq_matrix():
    for sample in RNASEQ_SAMPLES:
        exclusions("rnaseq", f"sample_counts/{sample}")


rule rnaseq_sample_counts:
    input:
        counts=rnaseq_count_file,
        lib=lib_of("rnaseq_sample_counts.py"),
    output:
        counts="results/rnaseq/sample_counts/{sample}.tsv",
        excluded="results/rnaseq/excluded/sample_counts/{sample}.tsv",
    log:
        "logs/rnaseq/sample_counts/{sample}.log",
    benchmark:
        "logs/benchmarks/rnaseq/sample_counts/{sample}.tsv"
    conda:
        "../../envs/rnaseq.yaml"
    params:
        format=config["rnaseq"]["sample_format"],
        strandedness=config["rnaseq"]["strandedness"],
        tx2gene=rnaseq_tx2gene(),
        patient=lambda wildcards: SAMPLES.at[wildcards.sample, "patient"],
        site=lambda wildcards: SAMPLES.at[wildcards.sample, "site"],
    script:
        "../../scripts/rnaseq_sample_counts.py"


rule rnaseq_counts:
    input:
        unpack(rnaseq_counts_input),
        lib=lib_of("rnaseq_counts.py"),
    output:
        counts="results/rnaseq/counts.tsv.gz",
        library=report(
            "results/rnaseq/library_sizes.tsv",
            caption="../report/rnaseq_library.rst",
            category="Bulk RNA",
        ),
        excluded=exclusions("rnaseq", "counts"),
    log:
        "logs/rnaseq/counts.log",
    benchmark:
        "logs/benchmarks/rnaseq/counts.tsv"
    priority: 5  # the RNA chain next (DESeq2 -> GSEA, plots, deconvolution)
    conda:
        "../../envs/rnaseq.yaml"
    resources:
        mem_mb=mem_mb_scaled(2000),
    params:
        samples=rnaseq_records(),
    script:
        "../../scripts/rnaseq_counts.py"


rule rnaseq_deseq2:
    input:
        counts="results/rnaseq/counts.tsv.gz",
        symbols=rnaseq_resource("symbols"),
        lib=lib_of("rnaseq_deseq2.py"),
    output:
        results=report(
            "results/rnaseq/deseq2_results.tsv",
            caption="../report/rnaseq_deseq2.rst",
            category="Bulk RNA",
        ),
        excluded=report(
            "results/rnaseq/deseq2_excluded.tsv",
            caption="../report/rnaseq_excluded.rst",
            category="Bulk RNA",
        ),
        warnings=report(
            "results/rnaseq/warnings.tsv",
            caption="../report/rnaseq_warnings.rst",
            category="Bulk RNA",
        ),
        exclusions=exclusions("rnaseq", "deseq2"),
    log:
        "logs/rnaseq/deseq2.log",
    benchmark:
        "logs/benchmarks/rnaseq/deseq2.tsv"
    priority: 5  # the RNA chain next (DESeq2 -> GSEA, plots, deconvolution)
    conda:
        "../../envs/rnaseq.yaml"
    threads: rnaseq_fit_threads(8)
    resources:
        mem_mb=mem_mb_scaled(4000),
    params:
        samples=rnaseq_records(),
        reference=REF,
        compare=CMP,
        alpha=config["rnaseq"]["alpha"],
    script:
        "../../scripts/rnaseq_deseq2.py"


rule rnaseq_vst:
    input:
        counts="results/rnaseq/counts.tsv.gz",
        lib=lib_of("rnaseq_vst.py"),
    output:
        vst="results/rnaseq/vst.tsv.gz",
    log:
        "logs/rnaseq/vst.log",
    benchmark:
        "logs/benchmarks/rnaseq/vst.tsv"
    conda:
        "../../envs/rnaseq.yaml"
    threads: rnaseq_fit_threads(4)
    resources:
        mem_mb=mem_mb_scaled(4000),
    script:
        "../../scripts/rnaseq_vst.py"


rule rnaseq_gsea:
    input:
        results="results/rnaseq/deseq2_results.tsv",
        gene_sets=rnaseq_gene_sets(),
        lib=lib_of("rnaseq_gsea.py"),
    output:
        table=report(
            "results/rnaseq/gsea_prerank.tsv",
            caption="../report/rnaseq_gsea.rst",
            category="Bulk RNA",
        ),
        curves="results/rnaseq/gsea_running_scores.tsv.gz",
    log:
        "logs/rnaseq/gsea.log",
    benchmark:
        "logs/benchmarks/rnaseq/gsea.tsv"
    conda:
        "../../envs/rnaseq.yaml"
    # the fgsea engine runs in one thread; gseapy's Rust engine uses four
    threads: rnaseq_gsea_threads()
    # memory grows with genes x gene sets: 3.4 GB for 20k genes x 5.2k GO BP sets (gseapy)
    resources:
        mem_mb=mem_mb_scaled(5000),
    params:
        settings=config["rnaseq"]["gsea"],
    script:
        "../../scripts/rnaseq_gsea.py"


rule rnaseq_ora:
    input:
        results="results/rnaseq/deseq2_results.tsv",
        gene_sets=rnaseq_gene_sets(),
        lib=lib_of("rnaseq_ora.py"),
    output:
        table=report(
            "results/rnaseq/ora.tsv",
            caption="../report/rnaseq_ora.rst",
            category="Bulk RNA",
        ),
    log:
        "logs/rnaseq/ora.log",
    benchmark:
        "logs/benchmarks/rnaseq/ora.tsv"
    conda:
        "../../envs/rnaseq.yaml"
    params:
        settings=config["rnaseq"]["gsea"],
        alpha=config["rnaseq"]["alpha"],
        lfc=config["rnaseq"]["lfc"],
    script:
        "../../scripts/rnaseq_ora.py"


rule rnaseq_signatures:
    input:
        vst="results/rnaseq/vst.tsv.gz",
        signatures=rnaseq_resource("signatures"),
        symbols=rnaseq_resource("symbols"),
        lib=lib_of("rnaseq_signatures.py"),
    output:
        scores=report(
            "results/rnaseq/signature_scores.tsv",
            caption="../report/rnaseq_signature_scores.rst",
            category="Bulk RNA",
        ),
        comparison=report(
            "results/rnaseq/signature_comparison.tsv",
            caption="../report/rnaseq_signature_comparison.rst",
            category="Bulk RNA",
        ),
    log:
        "logs/rnaseq/signatures.log",
    benchmark:
        "logs/benchmarks/rnaseq/signatures.tsv"
    conda:
        "../../envs/rnaseq.yaml"
    params:
        sampling=SAMPLING,
        samples=rnaseq_records(),
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/rnaseq_signatures.py"


rule rnaseq_plots:
    input:
        counts="results/rnaseq/counts.tsv.gz",
        library="results/rnaseq/library_sizes.tsv",
        vst="results/rnaseq/vst.tsv.gz",
        results="results/rnaseq/deseq2_results.tsv",
        gsea="results/rnaseq/gsea_prerank.tsv",
        curves="results/rnaseq/gsea_running_scores.tsv.gz",
        scores="results/rnaseq/signature_scores.tsv",
        comparison="results/rnaseq/signature_comparison.tsv",
        signatures=rnaseq_resource("signatures"),
        lib=lib_of("rnaseq_plots.py"),
    output:
        library_sizes_png=report(
            "results/rnaseq/plots/library_sizes.png",
            caption="../report/rnaseq_library_sizes.rst",
            category="Bulk RNA",
        ),
        library_sizes_pdf="results/rnaseq/plots/library_sizes.pdf",
        pca_png=report(
            "results/rnaseq/plots/pca.png",
            caption="../report/rnaseq_pca.rst",
            category="Bulk RNA",
        ),
        pca_pdf="results/rnaseq/plots/pca.pdf",
        sample_distances_png=report(
            "results/rnaseq/plots/sample_distances.png",
            caption="../report/rnaseq_distances.rst",
            category="Bulk RNA",
        ),
        sample_distances_pdf="results/rnaseq/plots/sample_distances.pdf",
        volcano_png=report(
            "results/rnaseq/plots/volcano.png",
            caption="../report/rnaseq_volcano.rst",
            category="Bulk RNA",
        ),
        volcano_pdf="results/rnaseq/plots/volcano.pdf",
        ma_png=report(
            "results/rnaseq/plots/ma.png",
            caption="../report/rnaseq_ma.rst",
            category="Bulk RNA",
        ),
        ma_pdf="results/rnaseq/plots/ma.pdf",
        heatmap_top_genes_png=report(
            "results/rnaseq/plots/heatmap_top_genes.png",
            caption="../report/rnaseq_heatmap.rst",
            category="Bulk RNA",
        ),
        heatmap_top_genes_pdf="results/rnaseq/plots/heatmap_top_genes.pdf",
        genes_of_interest_png=report(
            "results/rnaseq/plots/genes_of_interest.png",
            caption="../report/rnaseq_genes.rst",
            category="Bulk RNA",
        ),
        genes_of_interest_pdf="results/rnaseq/plots/genes_of_interest.pdf",
        gsea_running_scores_png=report(
            "results/rnaseq/plots/gsea_running_scores.png",
            caption="../report/rnaseq_gsea_curves.rst",
            category="Bulk RNA",
        ),
        gsea_running_scores_pdf="results/rnaseq/plots/gsea_running_scores.pdf",
        gsea_nes_png=report(
            "results/rnaseq/plots/gsea_nes.png",
            caption="../report/rnaseq_nes.rst",
            category="Bulk RNA",
        ),
        gsea_nes_pdf="results/rnaseq/plots/gsea_nes.pdf",
        signatures_paired_png=report(
            "results/rnaseq/plots/signatures_paired.png",
            caption="../report/rnaseq_signatures_plot.rst",
            category="Bulk RNA",
        ),
        signatures_paired_pdf="results/rnaseq/plots/signatures_paired.pdf",
    log:
        "logs/rnaseq/plots.log",
    benchmark:
        "logs/benchmarks/rnaseq/plots.tsv"
    conda:
        "../../envs/rnaseq.yaml"
    resources:
        mem_mb=mem_mb_scaled(3000),
    params:
        sampling=SAMPLING,
        samples=rnaseq_records(),
        reference=REF,
        compare=CMP,
        genes_of_interest=config["rnaseq"]["genes_of_interest"],
        alpha=config["rnaseq"]["alpha"],
        lfc=config["rnaseq"]["lfc"],
        pca_genes=config["rnaseq"]["pca_genes"],
        heatmap_genes=config["rnaseq"]["heatmap_genes"],
        nes_terms=config["rnaseq"]["gsea"]["nes_terms"],
    script:
        "../../scripts/rnaseq_plots.py"


rule rnaseq_scrna_reference:
    input:
        adata="results/scrna/adata.h5ad",
        lib=lib_of("rnaseq_scrna_reference.py"),
    output:
        reference="results/rnaseq/scrna_reference.tsv",
    log:
        "logs/rnaseq/scrna_reference.log",
    benchmark:
        "logs/benchmarks/rnaseq/scrna_reference.tsv"
    conda:
        "../../envs/scrna.yaml"
    resources:
        mem_mb=mem_mb_scaled(4000),
    params:
        min_cells=config["rnaseq"]["deconvolution"]["min_cells"],
    script:
        "../../scripts/rnaseq_scrna_reference.py"


rule rnaseq_deconvolution:
    input:
        unpack(rnaseq_deconvolution_input),
        lib=lib_of("rnaseq_deconvolution.py"),
    output:
        table=report(
            "results/rnaseq/deconvolution.tsv",
            caption="../report/rnaseq_deconvolution.rst",
            category="Bulk RNA",
        ),
        comparison=report(
            "results/rnaseq/deconvolution_comparison.tsv",
            caption="../report/rnaseq_deconvolution_comparison.rst",
            category="Bulk RNA",
        ),
        png=report(
            "results/rnaseq/plots/deconvolution_paired.png",
            caption="../report/rnaseq_deconvolution_plot.rst",
            category="Bulk RNA",
        ),
        pdf="results/rnaseq/plots/deconvolution_paired.pdf",
    log:
        "logs/rnaseq/deconvolution.log",
    benchmark:
        "logs/benchmarks/rnaseq/deconvolution.tsv"
    conda:
        "../../envs/rnaseq.yaml"
    resources:
        mem_mb=mem_mb_scaled(2000),
    params:
        sampling=SAMPLING,
        samples=rnaseq_records(),
        reference=REF,
        compare=CMP,
        min_genes=config["rnaseq"]["deconvolution"]["min_genes"],
    script:
        "../../scripts/rnaseq_deconvolution.py"


OUTPUTS["rnaseq"] = (
    rule_targets(
        "rnaseq_counts",
        "rnaseq_deseq2",
        "rnaseq_vst",
        "rnaseq_gsea",
        "rnaseq_ora",
        "rnaseq_signatures",
        "rnaseq_plots",
        "rnaseq_deconvolution",
    )
    + ["results/rnaseq/excluded.tsv"]
    if branch_active("rnaseq")
    else []
)
