# scrna branch, TCR clonotypes: per-sample Cell Ranger contig annotations or AIRR rearrangements
# (sheet column `tcr`) -> clonotypes, expansion, diversity, clonotypes shared between a patient's
# sites, paired tests; joined to the annotated cells when the sample has scRNA. Included by
# scrna.smk; runs without an `scrna` column.


include: "scrna_tcr_functions.smk"


parse_check(scrna_tcr_check_inputs)


rule scrna_tcr:
    input:
        unpack(scrna_tcr_annotation_inputs),
        tcr=scrna_tcr_files(),
        lib=lib_of("scrna_tcr.py"),
    output:
        cells="results/scrna/tcr_cells.tsv.gz",
        summary=report(
            "results/scrna/tcr_summary.tsv",
            caption="../report/scrna_tcr_summary.rst",
            category="scRNA",
        ),
        shared=report(
            "results/scrna/tcr_shared.tsv",
            caption="../report/scrna_tcr_shared.rst",
            category="scRNA",
        ),
        cell_types="results/scrna/tcr_cell_types.tsv",
        comparison=report(
            "results/scrna/tcr_comparison.tsv",
            caption="../report/scrna_tcr_comparison.rst",
            category="scRNA",
        ),
        excluded=scrna_tcr_exclusions(),
    log:
        "logs/scrna/tcr.log",
    benchmark:
        "logs/benchmarks/scrna/tcr.tsv"
    conda:
        "../../envs/scrna.yaml"
    resources:
        mem_mb=mem_mb_scaled(4000),
    params:
        sampling=SAMPLING,
        samples=sample_records("tcr"),
        settings=config["scrna"]["tcr"],
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/scrna_tcr.py"


rule scrna_tcr_plots:
    input:
        cells="results/scrna/tcr_cells.tsv.gz",
        summary="results/scrna/tcr_summary.tsv",
        shared="results/scrna/tcr_shared.tsv",
        cell_types="results/scrna/tcr_cell_types.tsv",
        comparison="results/scrna/tcr_comparison.tsv",
        lib=lib_of("scrna_tcr_plots.py"),
    output:
        paired_png=report(
            "results/scrna/plots/tcr_paired.png",
            caption="../report/scrna_tcr_paired.rst",
            category="scRNA",
        ),
        paired_pdf="results/scrna/plots/tcr_paired.pdf",
        clone_sizes_png=report(
            "results/scrna/plots/tcr_clone_sizes.png",
            caption="../report/scrna_tcr_clone_sizes.rst",
            category="scRNA",
        ),
        clone_sizes_pdf="results/scrna/plots/tcr_clone_sizes.pdf",
        expansion_png="results/scrna/plots/tcr_expansion.png",
        expansion_pdf="results/scrna/plots/tcr_expansion.pdf",
    log:
        "logs/scrna/tcr_plots.log",
    benchmark:
        "logs/benchmarks/scrna/tcr_plots.tsv"
    conda:
        "../../envs/scrna.yaml"
    resources:
        mem_mb=mem_mb_scaled(2000),
    params:
        sampling=SAMPLING,
        reference=REF,
        compare=CMP,
        min_cells=config["scrna"]["tcr"]["min_cells"],
    script:
        "../../scripts/scrna_tcr_plots.py"


if samples_with("tcr"):
    OUTPUTS["scrna"] += rule_targets("scrna_tcr", "scrna_tcr_plots")
