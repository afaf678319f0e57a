# Functions of the clinical branch (kept apart from its rules, as snakemake --lint asks).
import logging

from organomics.clinical import lesions as clinical_lesions  # noqa: E402
from organomics.clinical import recist as clinical_recist  # noqa: E402
from organomics.clinical import sdtm as clinical_sdtm  # noqa: E402
from organomics.clinical import survival as clinical_survival  # noqa: E402


def clinical_lesion_inputs(wildcards=None):
    """The lesion table, or the SDTM TU and TR domains, as named inputs."""
    block = config["clinical"]
    if block.get("lesions"):
        return {"lesions": resolve_path(block["lesions"])}
    return {
        "tu": resolve_path(block["sdtm"]["tu"]),
        "tr": resolve_path(block["sdtm"]["tr"]),
    }


def clinical_patients_input(wildcards=None):
    """The optional patient (survival) table, as a list so that it can be empty."""
    patients = config["clinical"].get("patients")
    return [resolve_path(patients)] if patients else []


def clinical_survival_exclusions():
    """The survival step's exclusion table; part of excluded.tsv only when there is a patients table."""
    path = "results/clinical/excluded/survival.tsv"
    return (
        exclusions("clinical", "survival")
        if config["clinical"].get("patients")
        else path
    )


def check_clinical_inputs():
    """Read and check the lesion input before any job runs, so errors come first and clearly."""
    block = config["clinical"]
    if block.get("lesions") and (block["sdtm"].get("tu") or block["sdtm"].get("tr")):
        raise InputError(
            None, "config clinical: give either `lesions` or `sdtm`, not both"
        )
    if not block.get("lesions") and bool(block["sdtm"].get("tu")) != bool(
        block["sdtm"].get("tr")
    ):
        raise InputError(None, "config clinical.sdtm needs both `tu` and `tr`")
    if set(block["organ_sites"]) != {REF, CMP}:
        raise InputError(
            None,
            f"config clinical.organ_sites has keys {sorted(block['organ_sites'])}; "
            f"they must be the site labels {[REF, CMP]}",
        )
    inputs = clinical_lesion_inputs()
    for path in [*inputs.values(), *clinical_patients_input()]:
        if not Path(path).exists():
            raise InputError(path, "file not found (config clinical)")
    if "lesions" in inputs:
        table = clinical_lesions.read_lesions(inputs["lesions"])
    else:
        table = clinical_sdtm.read_sdtm(
            inputs["tu"], inputs["tr"], block["sdtm"].get("evaluator")
        )
    # Lesions of other organs are named once per run: here in the main process only, since
    # every cluster job parses the workflow again; the response job logs them and lists them
    # in excluded.tsv.
    clinical_recist.assign_sites(
        table,
        block["organ_sites"],
        next(iter(inputs.values())),
        log_level=logging.WARNING if workflow.is_main_process else logging.DEBUG,
    )
    for path in clinical_patients_input():
        clinical_survival.read_patients(path)


def clinical_landmark_exclusions():
    """The landmark step's exclusion table; part of excluded.tsv only with a patients table."""
    path = "results/clinical/excluded/landmark.tsv"
    return (
        exclusions("clinical", "landmark")
        if config["clinical"].get("patients")
        else path
    )


# iRECIST and the confirmation knobs
from organomics.clinical import irecist as clinical_irecist  # noqa: E402


def check_clinical_irecist():
    """The iRECIST confirmation window (two days, the first not after the last), before any job."""
    clinical_irecist.IrecistOptions(**config["clinical"]["irecist"])


def clinical_confirmation_knobs():
    """admiralonco's confirmation knobs (config clinical.confirmation_*) for recist.Options."""
    block = config["clinical"]
    return {
        key: block[key]
        for key in (
            "confirmation_max_ne",
            "confirmation_accept_sd",
            "confirmation_before_pd",
        )
    }
