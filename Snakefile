# organomics: compare two tumour sites of the same patients (default PL vs LM) across the
# clinical, WES, bulk RNA, multiplex IHC and single-cell RNA layers. See README.md.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


rule all:
    input:
        all_outputs,


rule clinical:
    input:
        branch_outputs("clinical"),


rule wes:
    input:
        branch_outputs("wes"),


rule rnaseq:
    input:
        branch_outputs("rnaseq"),


rule mihc:
    input:
        branch_outputs("mihc"),


rule scrna:
    input:
        branch_outputs("scrna"),


include: "workflow/rules/sheet.smk"
include: "workflow/rules/clinical.smk"
include: "workflow/rules/wes.smk"
include: "workflow/rules/rnaseq.smk"
include: "workflow/rules/mihc.smk"
include: "workflow/rules/scrna.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/excluded.smk"


# Snakemake 9.27 would otherwise run ~k idle scheduler passes a second after k finished jobs.
onstart:
    drop_local_rate_limit(workflow)
