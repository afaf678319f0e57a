# scrna branch, CD8/NK states: cohort h5ad -> per-cell state programmes (resources/scrna/states.yaml),
# fractions per sample, the progenitor/terminally exhausted ratio, paired tests, propeller-style
# composition tests of cell types and states, and their figures. Included by scrna.smk.


rule scrna_states:
    input:
        adata="results/scrna/adata.h5ad",
        cell_types="results/scrna/cell_types.tsv",
        states=scrna_resource("states"),
        lib=lib_of("scrna_states.py"),
    output:
        cells="results/scrna/state_cells.tsv.gz",
        states=report(
            "results/scrna/states.tsv",
            caption="../report/scrna_states.rst",
            category="scRNA",
        ),
        ratio="results/scrna/state_ratio.tsv",
        tests=report(
            "results/scrna/state_tests.tsv",
            caption="../report/scrna_state_tests.rst",
            category="scRNA",
        ),
        composition=report(
            "results/scrna/composition.tsv",
            caption="../report/scrna_composition_tests.rst",
            category="scRNA",
        ),
        excluded=exclusions("scrna", "states"),
    log:
        "logs/scrna/states.log",
    benchmark:
        "logs/benchmarks/scrna/states.tsv"
    conda:
        "../../envs/scrna.yaml"
    resources:
        mem_mb=mem_mb_scaled(4000),
    params:
        sampling=SAMPLING,
        samples=sample_records("scrna"),
        reference=REF,
        compare=CMP,
        min_cells=config["scrna"]["comparison"]["min_cells"],
        seed=config["scrna"]["seed"],
    script:
        "../../scripts/scrna_states.py"


rule scrna_state_plots:
    input:
        adata="results/scrna/adata.h5ad",
        cells="results/scrna/state_cells.tsv.gz",
        states_table="results/scrna/states.tsv",
        tests="results/scrna/state_tests.tsv",
        states=scrna_resource("states"),
        lib=lib_of("scrna_state_plots.py"),
    output:
        umap_png=report(
            "results/scrna/plots/umap_states.png",
            caption="../report/scrna_states_umap.rst",
            category="scRNA",
        ),
        umap_pdf="results/scrna/plots/umap_states.pdf",
        dotplot_png="results/scrna/plots/state_dotplot.png",
        dotplot_pdf="results/scrna/plots/state_dotplot.pdf",
        fractions_png="results/scrna/plots/state_fractions.png",
        fractions_pdf="results/scrna/plots/state_fractions.pdf",
    log:
        "logs/scrna/state_plots.log",
    benchmark:
        "logs/benchmarks/scrna/state_plots.tsv"
    conda:
        "../../envs/scrna.yaml"
    resources:
        mem_mb=mem_mb_scaled(4000),
    params:
        sampling=SAMPLING,
        reference=REF,
        compare=CMP,
        min_cells=config["scrna"]["comparison"]["min_cells"],
    script:
        "../../scripts/scrna_state_plots.py"


# Optional: a local CellTypist model (config scrna.celltypist_model, never downloaded).
rule scrna_celltypist:
    input:
        adata="results/scrna/adata.h5ad",
        model=resolve_path(config["scrna"]["celltypist_model"] or "none.pkl"),
        lib=lib_of("scrna_celltypist.py"),
    output:
        cells="results/scrna/celltypist_cells.tsv.gz",
        agreement=report(
            "results/scrna/celltypist_agreement.tsv",
            caption="../report/scrna_celltypist.rst",
            category="scRNA",
        ),
        crosstab="results/scrna/celltypist_crosstab.tsv",
    log:
        "logs/scrna/celltypist.log",
    benchmark:
        "logs/benchmarks/scrna/celltypist.tsv"
    conda:
        "../../envs/scrna.yaml"
    resources:
        mem_mb=mem_mb_scaled(4000),
    script:
        "../../scripts/scrna_celltypist.py"


if branch_active("scrna"):
    OUTPUTS["scrna"] += rule_targets("scrna_states", "scrna_state_plots")
    if config["scrna"]["celltypist_model"]:
        OUTPUTS["scrna"] += rule_targets("scrna_celltypist")
