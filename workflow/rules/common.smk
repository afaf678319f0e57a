# Shared by every branch: sample sheet, paths, branch activation, targets, library inputs.
#
# How a branch is built (wes.smk is the reference; every branch follows it):
#   workflow/schemas/NAME.schema.yaml  every config key of the branch with its default and
#       description: the one source of defaults (config/config.yaml, config/README.md and the
#       library's dataclasses must agree; tests/test_defaults.py checks)
#   workflow/rules/NAME_functions.smk  parse-time input checks (run through parse_check) and the
#       input/params functions (`snakemake --lint` rejects defs mixed with rules)
#   workflow/rules/NAME.smk  rules only, each with: input `lib=lib_of("NAME_STEP.py")` (its
#       script's library closure, so editing any module it runs reruns it), `log:`,
#       `benchmark: "logs/benchmarks/NAME/STEP.tsv"`, params `reference=REF, compare=CMP` when
#       it needs the sites (no other spelling), `exclusions(NAME, STEP)` for what it leaves out;
#       at the end `OUTPUTS["NAME"] = rule_targets(...)` (targets come from the rules' outputs)
#   scripts/NAME_STEP.py  the adapter: `with log_to(snakemake.log[0]):` read inputs and params,
#       call the library, write every output atomically (tables.write_tsv, tables.atomic_path,
#       plots.save); no analysis logic
#   scripts/organomics/NAME/  the library: functions with numpy docstrings that take and return
#       data (figures too: plot functions return a matplotlib Figure); user tables are read with
#       tables.read_table, the workflow's own with tables.read_tsv; bad input raises
#       errors.InputError naming file, row and column; pairs come from organomics.pairing and
#       paired tests from organomics.stats
#
# API for the branch files:
#   REF, CMP                 site labels (config sites.reference / sites.compare)
#   SAMPLES                  DataFrame indexed by sample: patient, site, layer columns ("" = missing)
#   samples_with(layer)      sample ids with a non-empty `layer` cell, in sheet order
#   layer_files(layer)       input function: wildcards.sample -> resolved paths of its cell (";" splits)
#   sample_file(s, layer, what)  the one resolved file of sample s (error if the cell lists several)
#   per_sample(pattern, layer)   pattern.format(sample=...) for every sample with `layer` data
#   sample_records(layer)    [{"sample", "patient", "site"}, ...] for cohort rules' params
#   resolve_path(path)       working directory first, then the workflow's directory (bundled files)
#   branch_active(branch)    True when the branch's inputs are configured
#   lib_of(script)           a rule's library inputs: every organomics module its script runs
#   rule_targets(*rules, **wildcards)  the rules' output files, expanded over wildcard values
#   OUTPUTS[branch] = [...]  each branch registers its final targets (empty when inactive)
#   exclusions(branch, step) a step's table of what it left out (and why); registers it for
#                            results/BRANCH/excluded.tsv, which the branch adds to its OUTPUTS
#   mem_mb_scaled(base)      resources function: base MB times the attempt number
#   SAMPLING                 params `sampling=SAMPLING` of every paired test and paired plot:
#                            {"simultaneous": patients within pairs.simultaneous_days or None
#                            (no collection_day: tables unchanged), "days_apart", "within_days"}
#   parse_check(fn, *args)   run a parse-time input check: bad input stops the run before any
#                            job with its message (file, row, column) and no Python stack; job
#                            processes skip it unless fn is named in PARSE_VALUES (its return
#                            value builds the DAG: add a new such check's name there)
import sys
from pathlib import Path

import pandas as pd
from snakemake.exceptions import WorkflowError

LIBRARY_ROOT = str(Path(workflow.basedir) / "scripts")
sys.path.insert(0, LIBRARY_ROOT)

from organomics.dependencies import library_closure, put_library_first  # noqa: E402
from organomics.errors import InputError  # noqa: E402
from organomics import sheet as sample_sheet  # noqa: E402
from organomics import pairing  # noqa: E402
from organomics.scheduling import cap_local_cores, drop_local_rate_limit  # noqa: E402

# jobs import this workflow's library, not an organomics installed from another checkout
put_library_first(LIBRARY_ROOT)

# CPU-bound jobs: more at once than there are CPUs only slows them all (see cap_local_cores)
ASKED_CORES = cap_local_cores(workflow)
if ASKED_CORES is not None:
    print(
        f"organomics: --cores {ASKED_CORES}, but this machine gives the run "
        f"{workflow.global_resources['_cores'].value} CPUs: jobs use at most that many cores "
        "at once",
        file=sys.stderr,
    )

REF = config["sites"]["reference"]
CMP = config["sites"]["compare"]
SITES = (REF, CMP)
BRANCHES = ("clinical", "wes", "rnaseq", "mihc", "scrna")
OUTPUTS = {name: [] for name in (*BRANCHES, "sheet", "summary")}
EXCLUDED = {name: [] for name in BRANCHES}


# Checks whose return value builds the DAG: they run in every process. Every other
# parse_check only validates input, which the main process has done before submitting any job,
# so job processes (cluster/subprocess jobs re-parse the Snakefile) skip it.
PARSE_VALUES = {
    "load_samples",
    "mihc_check_inputs",
    "mihc_scatter_samples",
    "rnaseq_sample_ids",
}


def parse_check(check, *args):
    """Call check(*args); an InputError stops snakemake with its message alone. In a job process
    a check that only validates (not in PARSE_VALUES) is skipped and gives None."""
    if not workflow.is_main_process and check.__name__ not in PARSE_VALUES:
        return None
    try:
        return check(*args)
    except InputError as error:
        print(f"InputError: {error}", file=sys.stderr)
        sys.exit(1)


def resolve_path(path):
    """A config or sheet path: relative to the working directory, else to the workflow."""
    path = str(path)
    if Path(path).is_absolute() or Path(path).exists():
        return path
    bundled = Path(workflow.basedir) / path
    return str(bundled) if bundled.exists() else path


def load_samples():
    """The checked sample sheet, or an empty one when config `samples` is not set."""
    if not config.get("samples"):
        columns = ["sample", "patient", "site", *sample_sheet.PATH_COLUMNS]
        return pd.DataFrame(columns=columns).set_index("sample", drop=False)
    path = resolve_path(config["samples"])
    raw = sample_sheet.read_sample_sheet(path)
    checked = sample_sheet.check_sample_sheet(raw, path, SITES, resolve_path)
    schema = Path(workflow.basedir) / "workflow/schemas/samples.schema.yaml"
    sample_sheet.validate_rows(raw, schema, path)
    return checked


SAMPLES = parse_check(load_samples)


def samples_with(layer):
    """Sample ids with data for `layer`, in sheet order."""
    if layer not in SAMPLES.columns:
        return []
    return SAMPLES.index[SAMPLES[layer] != ""].tolist()


def sample_records(layer):
    """sample, patient and site of each sample with `layer` data (params of cohort rules)."""
    columns = ["sample", "patient", "site"]
    return SAMPLES.loc[samples_with(layer), columns].to_dict("records")


def layer_files(layer):
    """Input function giving the resolved file(s) of wildcards.sample for `layer`."""

    def files(wildcards):
        cell = SAMPLES.at[wildcards.sample, layer]
        return [resolve_path(part) for part in sample_sheet.split_paths(cell)]

    return files


def branch_active(branch):
    """A branch runs when its inputs are configured (sheet column or config paths)."""
    if branch == "clinical":
        block = config.get("clinical") or {}
        return bool(block.get("lesions") or (block.get("sdtm") or {}).get("tr"))
    if branch == "rnaseq" and (config.get("rnaseq") or {}).get("counts"):
        return bool(config.get("samples"))
    layer = "rna" if branch == "rnaseq" else branch
    return bool(samples_with(layer))


def lib(*paths):
    """Library modules a rule depends on (relative to scripts/organomics/)."""
    return [workflow.source_path(f"../../scripts/organomics/{path}") for path in paths]


def lib_of(script):
    """Every library module `script` (a file in scripts/) imports, directly or through other
    library modules: the rule's `lib` input, so that editing any of them reruns the rule.
    """
    scripts = Path(workflow.basedir) / "scripts"
    closure = library_closure(scripts / script, scripts)
    return lib(
        *(path.relative_to(scripts / "organomics").as_posix() for path in closure)
    )


def rule_targets(*names, **wildcards):
    """Every output file of the named rules, each expanded over `wildcards` (lists of values):
    a branch's final targets come from its rules, never from a second list."""
    targets = []
    for name in names:
        for path in getattr(rules, name).output:
            targets += expand(path, **wildcards) if wildcards else [str(path)]
    return targets


def sample_file(sample, layer, what):
    """The one resolved file of `sample` in sheet column `layer`; `what` names it in the
    error when the cell lists several (e.g. "cell table")."""
    paths = [
        resolve_path(p) for p in sample_sheet.split_paths(SAMPLES.at[sample, layer])
    ]
    if len(paths) != 1:
        raise InputError(
            config["samples"], f"one {what} per sample", row=sample, column=layer
        )
    return paths[0]


def per_sample(pattern, layer):
    """`pattern` (with {sample}) for every sample with `layer` data, in sheet order."""
    return [pattern.format(sample=sample) for sample in samples_with(layer)]


def mem_mb_scaled(base_mb):
    """Memory that grows with each retry, for resources: mem_mb."""

    def mem_mb(wildcards, attempt):
        return base_mb * attempt

    return mem_mb


def branch_outputs(branch):
    """Input function of a branch's target rule; a clear error when the branch has no inputs."""

    def outputs(wildcards):
        if not branch_active(branch) and not OUTPUTS[branch]:  # scrna: `tcr` alone
            raise WorkflowError(
                f"The {branch} branch has no inputs configured: see config/README.md "
                f"for the sheet column or config keys that switch it on."
            )
        return OUTPUTS[branch]

    return outputs


def all_outputs(wildcards):
    """Every active branch's targets, the pairing overview and the cross-layer summary."""
    targets = list(OUTPUTS["sheet"])
    for branch in BRANCHES:
        if branch_active(branch) or OUTPUTS[branch]:  # scrna: `tcr` alone
            targets += OUTPUTS[branch]
    return targets + OUTPUTS["summary"]


def exclusions(branch, step):
    """Path of one step's exclusion table; results/BRANCH/excluded.tsv gathers the branch's."""
    path = f"results/{branch}/excluded/{step}.tsv"
    if path not in EXCLUDED[branch]:
        EXCLUDED[branch].append(path)
    return path


def excluded_steps(wildcards):
    """Input function of excluded_table: every step table registered by the branch."""
    return EXCLUDED[wildcards.branch]


def sampling_pairs():
    """Sampling time of the pairs, for params `sampling=SAMPLING` of every paired test and plot.

    simultaneous: patients sampled at both sites within config pairs.simultaneous_days (None
    when the sheet has no collection_day: tables stay as they were); days_apart: patient ->
    days from the reference to the compare biopsy (None likewise); within_days: the config value.
    """
    columns = ["sample", "patient", "site"]
    columns += [c for c in (pairing.COLLECTION_DAY,) if c in SAMPLES.columns]
    records = SAMPLES[columns].reset_index(drop=True)
    within = int(config["pairs"]["simultaneous_days"])
    simultaneous = pairing.simultaneous_patients(records, REF, CMP, within)
    days = pairing.days_between(records, REF, CMP) if simultaneous is not None else None
    return {"simultaneous": simultaneous, "days_apart": days, "within_days": within}


SAMPLING = sampling_pairs()
