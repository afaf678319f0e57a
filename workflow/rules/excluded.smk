# Each branch's excluded.tsv: what its steps left out (patient, sample, lesion, row) and why.


rule excluded_table:
    input:
        steps=excluded_steps,
        lib=lib_of("excluded_table.py"),
    output:
        "results/{branch}/excluded.tsv",
    log:
        "logs/{branch}/excluded.log",
    wildcard_constraints:
        branch="|".join(BRANCHES),
    localrule: True
    conda:
        "../../envs/clinical.yaml"
    script:
        "../../scripts/excluded_table.py"
