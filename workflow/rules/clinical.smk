# Clinical branch: organ-specific RECIST 1.1 per site, ORR/DCR, mixed response, survival.


validate(config["clinical"], "../schemas/clinical.schema.yaml")


include: "clinical_functions.smk"


if branch_active("clinical"):
    parse_check(check_clinical_inputs)


rule clinical_response:
    input:
        unpack(clinical_lesion_inputs),
        lib=lib_of("clinical_response.py"),
    output:
        timepoints="results/clinical/timepoint_response.tsv",
        responses=report(
            "results/clinical/organ_response.tsv",
            caption="../report/clinical_organ_response.rst",
            category="Clinical",
        ),
        excluded=exclusions("clinical", "response"),
    log:
        "logs/clinical/response.log",
    benchmark:
        "logs/benchmarks/clinical/response.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        organ_sites=config["clinical"]["organ_sites"],
        evaluator=config["clinical"]["sdtm"].get("evaluator"),
        reference=REF,
        compare=CMP,
        confirmation_days=config["clinical"]["confirmation_days"],
        min_sd_days=config["clinical"]["min_sd_days"],
        knobs=clinical_confirmation_knobs(),
    script:
        "../../scripts/clinical_response.py"


rule clinical_rates:
    input:
        responses="results/clinical/organ_response.tsv",
        lib=lib_of("clinical_rates.py"),
    output:
        rates=report(
            "results/clinical/response_rates.tsv",
            caption="../report/clinical_rates.rst",
            category="Clinical",
        ),
        mixed=report(
            "results/clinical/mixed_response.tsv",
            caption="../report/clinical_mixed.rst",
            category="Clinical",
        ),
        comparison=report(
            "results/clinical/site_comparison.tsv",
            caption="../report/clinical_site_comparison.rst",
            category="Clinical",
        ),
    log:
        "logs/clinical/rates.log",
    benchmark:
        "logs/benchmarks/clinical/rates.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        reference=REF,
        compare=CMP,
        mixed_from=config["clinical"]["mixed_response_from"],
    script:
        "../../scripts/clinical_rates.py"


rule clinical_survival:
    input:
        responses="results/clinical/organ_response.tsv",
        mixed="results/clinical/mixed_response.tsv",
        response_excluded="results/clinical/excluded/response.tsv",
        patients=clinical_patients_input,
        lib=lib_of("clinical_survival.py"),
    output:
        table=report(
            "results/clinical/survival.tsv",
            caption="../report/clinical_survival.rst",
            category="Clinical",
        ),
        mixed_png=report(
            "results/clinical/plots/km_by_mixed_response.png",
            caption="../report/clinical_km.rst",
            category="Clinical",
        ),
        mixed_pdf="results/clinical/plots/km_by_mixed_response.pdf",
        site_png=report(
            "results/clinical/plots/km_by_site_response.png",
            caption="../report/clinical_km.rst",
            category="Clinical",
        ),
        site_pdf="results/clinical/plots/km_by_site_response.pdf",
        excluded=clinical_survival_exclusions(),
    log:
        "logs/clinical/survival.log",
    benchmark:
        "logs/benchmarks/clinical/survival.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        compare=CMP,
    script:
        "../../scripts/clinical_survival.py"


rule clinical_plots:
    input:
        timepoints="results/clinical/timepoint_response.tsv",
        responses="results/clinical/organ_response.tsv",
        rates="results/clinical/response_rates.tsv",
        patients=clinical_patients_input,
        lib=lib_of("clinical_plots.py"),
    output:
        waterfall_png=report(
            "results/clinical/plots/waterfall.png",
            caption="../report/clinical_waterfall.rst",
            category="Clinical",
        ),
        waterfall_pdf="results/clinical/plots/waterfall.pdf",
        spider_png=report(
            "results/clinical/plots/spider.png",
            caption="../report/clinical_spider.rst",
            category="Clinical",
        ),
        spider_pdf="results/clinical/plots/spider.pdf",
        swimmer_png=report(
            "results/clinical/plots/swimmer.png",
            caption="../report/clinical_swimmer.rst",
            category="Clinical",
        ),
        swimmer_pdf="results/clinical/plots/swimmer.pdf",
        rates_png=report(
            "results/clinical/plots/response_rates.png",
            caption="../report/clinical_rates_plot.rst",
            category="Clinical",
        ),
        rates_pdf="results/clinical/plots/response_rates.pdf",
    log:
        "logs/clinical/plots.log",
    benchmark:
        "logs/benchmarks/clinical/plots.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/clinical_plots.py"


OUTPUTS["clinical"] = (
    rule_targets("clinical_response", "clinical_rates", "clinical_plots")
    + (rule_targets("clinical_survival") if clinical_patients_input() else [])
    + ["results/clinical/excluded.tsv"]
    if branch_active("clinical")
    else []
)


# Organ time to event, landmark, lesion view, ADaM export
rule clinical_organ_time:
    input:
        timepoints="results/clinical/timepoint_response.tsv",
        responses="results/clinical/organ_response.tsv",
        lib=lib_of("clinical_organ_time.py"),
    output:
        times=report(
            "results/clinical/organ_progression.tsv",
            caption="../report/clinical_organ_progression.rst",
            category="Clinical",
        ),
        first="results/clinical/organ_first_progression.tsv",
        summary=report(
            "results/clinical/organ_progression_summary.tsv",
            caption="../report/clinical_organ_progression.rst",
            category="Clinical",
        ),
        png=report(
            "results/clinical/plots/km_organ_progression.png",
            caption="../report/clinical_organ_progression_plot.rst",
            category="Clinical",
        ),
        pdf="results/clinical/plots/km_organ_progression.pdf",
        excluded=exclusions("clinical", "organ_time"),
    log:
        "logs/clinical/organ_time.log",
    benchmark:
        "logs/benchmarks/clinical/organ_time.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/clinical_organ_time.py"


rule clinical_landmark:
    input:
        timepoints="results/clinical/timepoint_response.tsv",
        responses="results/clinical/organ_response.tsv",
        patients=clinical_patients_input,
        lib=lib_of("clinical_landmark.py"),
    output:
        table=report(
            "results/clinical/landmark_survival.tsv",
            caption="../report/clinical_landmark.rst",
            category="Clinical",
        ),
        groups="results/clinical/landmark_groups.tsv",
        png=report(
            "results/clinical/plots/km_landmark.png",
            caption="../report/clinical_landmark_plot.rst",
            category="Clinical",
        ),
        pdf="results/clinical/plots/km_landmark.pdf",
        excluded=clinical_landmark_exclusions(),
    log:
        "logs/clinical/landmark.log",
    benchmark:
        "logs/benchmarks/clinical/landmark.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        reference=REF,
        compare=CMP,
        landmark_days=config["clinical"]["landmark_days"],
    script:
        "../../scripts/clinical_landmark.py"


rule clinical_lesion_response:
    input:
        unpack(clinical_lesion_inputs),
        timepoints="results/clinical/timepoint_response.tsv",
        responses="results/clinical/organ_response.tsv",
        lib=lib_of("clinical_lesion_response.py"),
    output:
        lesions=report(
            "results/clinical/lesion_response.tsv",
            caption="../report/clinical_lesion_response.rst",
            category="Clinical",
        ),
        mixed="results/clinical/lesion_mixed_progression.tsv",
        png=report(
            "results/clinical/plots/lesion_waterfall.png",
            caption="../report/clinical_lesion_waterfall.rst",
            category="Clinical",
        ),
        pdf="results/clinical/plots/lesion_waterfall.pdf",
    log:
        "logs/clinical/lesion_response.log",
    benchmark:
        "logs/benchmarks/clinical/lesion_response.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        organ_sites=config["clinical"]["organ_sites"],
        evaluator=config["clinical"]["sdtm"].get("evaluator"),
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/clinical_lesion_response.py"


rule clinical_adam:
    input:
        unpack(clinical_lesion_inputs),
        lib=lib_of("clinical_adam.py"),
    output:
        adtr_xpt="results/clinical/adam/adtr.xpt",
        adtr_csv=report(
            "results/clinical/adam/adtr.csv",
            caption="../report/clinical_adam.rst",
            category="Clinical",
        ),
        adrs_xpt="results/clinical/adam/adrs.xpt",
        adrs_csv=report(
            "results/clinical/adam/adrs.csv",
            caption="../report/clinical_adam.rst",
            category="Clinical",
        ),
    log:
        "logs/clinical/adam.log",
    benchmark:
        "logs/benchmarks/clinical/adam.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        clinical=config["clinical"],
        evaluator=config["clinical"]["sdtm"].get("evaluator"),
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/clinical_adam.py"


if branch_active("clinical"):
    OUTPUTS["clinical"] += rule_targets(
        "clinical_organ_time", "clinical_lesion_response", "clinical_adam"
    ) + (rule_targets("clinical_landmark") if clinical_patients_input() else [])


# iRECIST per site
if branch_active("clinical"):
    parse_check(check_clinical_irecist)


rule clinical_irecist:
    input:
        unpack(clinical_lesion_inputs),
        responses="results/clinical/organ_response.tsv",
        lib=lib_of("clinical_irecist.py"),
    output:
        timepoints=report(
            "results/clinical/irecist_timepoints.tsv",
            caption="../report/clinical_irecist_timepoints.rst",
            category="Clinical",
        ),
        responses=report(
            "results/clinical/irecist_response.tsv",
            caption="../report/clinical_irecist_response.rst",
            category="Clinical",
        ),
    log:
        "logs/clinical/irecist.log",
    benchmark:
        "logs/benchmarks/clinical/irecist.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        organ_sites=config["clinical"]["organ_sites"],
        evaluator=config["clinical"]["sdtm"].get("evaluator"),
        reference=REF,
        compare=CMP,
        confirmation_days=config["clinical"]["confirmation_days"],
        min_sd_days=config["clinical"]["min_sd_days"],
        knobs=clinical_confirmation_knobs(),
        irecist=config["clinical"]["irecist"],
    script:
        "../../scripts/clinical_irecist.py"


rule clinical_irecist_rates:
    input:
        responses="results/clinical/organ_response.tsv",
        irecist="results/clinical/irecist_response.tsv",
        lib=lib_of("clinical_irecist_rates.py"),
    output:
        rates=report(
            "results/clinical/irecist_rates.tsv",
            caption="../report/clinical_irecist_rates.rst",
            category="Clinical",
        ),
        mixed="results/clinical/irecist_mixed_response.tsv",
        comparison=report(
            "results/clinical/irecist_site_comparison.tsv",
            caption="../report/clinical_irecist_comparison.rst",
            category="Clinical",
        ),
    log:
        "logs/clinical/irecist_rates.log",
    benchmark:
        "logs/benchmarks/clinical/irecist_rates.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/clinical_irecist_rates.py"


rule clinical_irecist_plots:
    input:
        timepoints="results/clinical/irecist_timepoints.tsv",
        responses="results/clinical/irecist_response.tsv",
        lib=lib_of("clinical_irecist_plots.py"),
    output:
        png=report(
            "results/clinical/plots/irecist_course.png",
            caption="../report/clinical_irecist_course.rst",
            category="Clinical",
        ),
        pdf="results/clinical/plots/irecist_course.pdf",
    log:
        "logs/clinical/irecist_plots.log",
    benchmark:
        "logs/benchmarks/clinical/irecist_plots.tsv"
    conda:
        "../../envs/clinical.yaml"
    params:
        reference=REF,
        compare=CMP,
    script:
        "../../scripts/clinical_irecist_plots.py"


if branch_active("clinical"):
    OUTPUTS["clinical"] += rule_targets(
        "clinical_irecist", "clinical_irecist_rates", "clinical_irecist_plots"
    )
