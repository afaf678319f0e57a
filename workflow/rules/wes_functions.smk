# wes branch helpers: parse-time checks of the config, params and input lists.
from organomics.wes import copynumber as wes_copynumber  # noqa: E402
from organomics.wes import hla as wes_hla_reader  # noqa: E402
from organomics.wes import sample as wes_sample  # noqa: E402
from organomics.wes import signatures as wes_signatures  # noqa: E402
from organomics.wes import targets as wes_targets_reader  # noqa: E402


def wes_check_inputs():
    """Before any job: TMB needs a callable size, a configured BED must exist and parse, and
    every VCF/MAF header must be readable (tumour column, CSQ fields, MAF columns)."""
    if not branch_active("wes"):
        return
    block = config["wes"]
    if not block.get("targets") and not block.get("exome_size_mb"):
        raise InputError(
            "config",
            "the wes branch needs `targets` (capture BED) or `exome_size_mb` for TMB",
            column="wes",
        )
    if block.get("targets"):
        bed = resolve_path(block["targets"])
        if not Path(bed).exists():
            raise InputError(
                block["targets"], "capture BED (config wes.targets) not found"
            )
        wes_targets_reader.read_targets(
            bed
        )  # a text cell stops the run here, not in a job
    require_annotation = not block.get("allow_unannotated", False)
    checked = set()
    for sample in samples_with("wes"):
        sample_id = (
            str(SAMPLES.at[sample, "wes_id"]) if "wes_id" in SAMPLES.columns else ""
        )
        for part in sample_sheet.split_paths(SAMPLES.at[sample, "wes"]):
            path = resolve_path(part)
            if (path, sample_id) not in checked:
                wes_sample.check_inputs([path], sample_id, require_annotation)
                checked.add((path, sample_id))


def wes_targets():
    """The capture BED as a rule input ([] when exome_size_mb is used)."""
    path = config["wes"].get("targets")
    return [resolve_path(path)] if path else []


def wes_id(wildcards):
    """The sheet's wes_id of the sample (VCF tumour column or MAF barcode), "" when empty."""
    if "wes_id" not in SAMPLES.columns:
        return ""
    return str(SAMPLES.at[wildcards.sample, "wes_id"])


def wes_neoantigen_records():
    """sample, patient, site and resolved path of each sample with a neoantigen table."""
    records = []
    for sample in samples_with("neoantigens"):
        path = sample_file(sample, "neoantigens", "neoantigen table")
        record = SAMPLES.loc[sample, ["sample", "patient", "site"]].to_dict()
        records.append({**record, "path": path})
    return records


def wes_neoantigen_files():
    """Neoantigen tables as inputs of the cohort rule."""
    return [record["path"] for record in wes_neoantigen_records()]


def wes_copy_number_records():
    """sample, patient, site, purity, cn_id and resolved `cn` path of each WES sample with
    both a purity and a copy-number file (the others are listed in excluded.tsv)."""
    records = []
    for sample in samples_with("wes"):
        purity = SAMPLES.at[sample, "purity"] if "purity" in SAMPLES.columns else ""
        cell = SAMPLES.at[sample, "cn"] if "cn" in SAMPLES.columns else ""
        if not purity or not cell:
            continue
        cn_id = SAMPLES.at[sample, "cn_id"] if "cn_id" in SAMPLES.columns else ""
        record = SAMPLES.loc[sample, ["sample", "patient", "site"]].to_dict()
        path = sample_file(sample, "cn", "copy-number file")
        records.append(
            {**record, "purity": float(purity), "cn_id": cn_id or sample, "path": path}
        )
    return records


def wes_copy_number_files():
    """The copy-number files as inputs of the clonality and copy-number rules."""
    return sorted({record["path"] for record in wes_copy_number_records()})


def wes_check_copy_number():
    """Before any job: purity within (0, 1], one readable segment file per sample."""
    if "purity" in SAMPLES.columns:
        for sample in SAMPLES.index[SAMPLES["purity"] != ""]:
            value = float(SAMPLES.at[sample, "purity"])
            if not 0 < value <= 1:
                raise InputError(
                    config["samples"],
                    f"purity {value:g} outside (0, 1]",
                    row=sample,
                    column="purity",
                )
    for record in wes_copy_number_records():
        wes_copynumber.check_segments(record["path"], record["cn_id"])


def wes_arm_table():
    """The bundled arm coordinates of config wes.copy_number.genome."""
    genome = config["wes"]["copy_number"]["genome"]
    return workflow.source_path(f"../../resources/wes/arms_{genome}.tsv")


def wes_clonality_exclusions():
    """The clonality step's exclusion table, registered for results/wes/excluded.tsv only when
    some sample has copy number (without, the step does not run and lists nothing)."""
    if wes_copy_number_records():
        return exclusions("wes", "clonality")
    return "results/wes/excluded/clonality_inactive.tsv"


def wes_fasta():
    """The reference FASTA and its index files as inputs of the SBS96 rule."""
    path = config["wes"].get("fasta")
    if not path:
        return []
    fasta = resolve_path(path)
    index = [f"{fasta}.fai"] + (
        [f"{fasta}.gzi"] if fasta.endswith((".gz", ".bgz")) else []
    )
    return [fasta, *index]


def wes_fasta_exclusions():
    """The SBS96 step's exclusion table (SNVs on contigs absent from the FASTA, at a contig end,
    with an N in the trinucleotide or a REF other than the FASTA's), registered for
    results/wes/excluded.tsv only when wes.fasta is set."""
    if config["wes"].get("fasta"):
        return exclusions("wes", "sbs96")
    return "results/wes/excluded/sbs96_inactive.tsv"


def wes_check_fasta():
    """Before any job: the configured FASTA and its index files exist."""
    for path in wes_fasta():
        if not Path(path).exists():
            raise InputError(
                config["wes"]["fasta"],
                f"{path} not found (config wes.fasta: the FASTA needs its .fai, and .gzi when "
                "bgzipped; `samtools faidx` writes them)",
            )


def wes_signature_matrix():
    """The reference signature matrix (config wes.signatures.matrix), resolved."""
    return resolve_path(config["wes"]["signatures"]["matrix"])


def wes_signature_exclusions():
    """The refitting step's exclusion table, registered only when wes.fasta is set."""
    if config["wes"].get("fasta"):
        return exclusions("wes", "signatures")
    return "results/wes/excluded/signatures_inactive.tsv"


def wes_check_signatures():
    """Before any job (with wes.fasta): the signature matrix reads and has every `fit` name."""
    if not (branch_active("wes") and config["wes"].get("fasta")):
        return
    block = config["wes"]["signatures"]
    path = wes_signature_matrix()
    if not Path(path).exists():
        raise InputError(
            block["matrix"], "signature matrix (config wes.signatures.matrix) not found"
        )
    wes_signatures.read_signatures(path, block.get("fit"))


def wes_hla_records():
    """sample, patient, site, resolved `hla_loh` path and LOHHLA region (`hla_loh_id`, default
    the sample id) of each WES sample with an HLA-loss table."""
    records = []
    for sample in samples_with("wes"):
        if "hla_loh" not in SAMPLES.columns or not SAMPLES.at[sample, "hla_loh"]:
            continue
        region = (
            SAMPLES.at[sample, "hla_loh_id"] if "hla_loh_id" in SAMPLES.columns else ""
        )
        record = SAMPLES.loc[sample, ["sample", "patient", "site"]].to_dict()
        path = sample_file(sample, "hla_loh", "HLA-loss table")
        records.append({**record, "path": path, "hla_loh_id": region or sample})
    return records


def wes_hla_files():
    """The HLA-loss tables as inputs of the HLA rule."""
    return sorted({record["path"] for record in wes_hla_records()})


def wes_hla_exclusions():
    """The HLA step's exclusion table, registered only when some sample has `hla_loh`."""
    if wes_hla_records():
        return exclusions("wes", "hla")
    return "results/wes/excluded/hla_inactive.tsv"


def wes_check_hla():
    """Before any job: every `hla_loh` table reads (LOHHLA or DASH layout, the sample's region,
    allele names, numbers), naming file, row and column."""
    settings = wes_hla_reader.Settings(**config["wes"]["hla"])
    for record in wes_hla_records():
        wes_hla_reader.read_hla_loh(record["path"], record["hla_loh_id"], settings)
