"""Demo TCR contigs for the scRNA samples: Cell Ranger contig CSVs and an AIRR TSV per sample.

T cells of each sample (the true cell types of the scRNA simulation, same barcodes) get TRA and
TRB contigs. Each patient has a few clonotypes present at both sites and one CD8 effector clone
expanded at the reference site (PL: 40% of its effector CD8 cells) and seen in a few effector
or exhausted CD8 cells at the compare site. Every draw comes from the layer's own stream
(cohort.rng("scrna_tcr")), so the scRNA draws are unchanged.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

BASES = "TCAG"
AMINO = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODONS = {a + b + c: AMINO[16 * i + 4 * j + k] for i, a in enumerate(BASES)
          for j, b in enumerate(BASES) for k, c in enumerate(BASES)}  # fmt: skip
SENSE = [codon for codon, amino in CODONS.items() if amino != "*"]
T_CELLS = ("T_CD8", "T_CD4")
NO_TCR = 0.08  # T cells without any TCR contig recovered
LOSE_TRA, LOSE_TRB = 0.06, 0.04  # T cells with one chain only
EXPANDED_REFERENCE = 0.4  # effector CD8 cells at the reference site in the expanded clone
EXPANDED_COMPARE = 0.06  # effector/exhausted CD8 cells at the compare site in it
SHARED = 0.15  # T cells in one of the patient's shared clonotypes
N_SHARED = 6
V_GENES = {"TRA": ["TRAV1-2", "TRAV12-1", "TRAV21", "TRAV29/DV5", "TRAV38-2/DV8"],
           "TRB": ["TRBV5-1", "TRBV7-9", "TRBV20-1", "TRBV28", "TRBV6-5"]}  # fmt: skip
J_GENES = {"TRA": ["TRAJ33", "TRAJ40", "TRAJ49"], "TRB": ["TRBJ2-1", "TRBJ2-7", "TRBJ1-5"]}
C_GENES = {"TRA": "TRAC", "TRB": "TRBC2"}
CELLRANGER = ["barcode", "is_cell", "contig_id", "high_confidence", "length", "chain", "v_gene"]
CELLRANGER += ["d_gene", "j_gene", "c_gene", "full_length", "productive", "cdr3", "cdr3_nt"]
CELLRANGER += ["reads", "umis", "raw_clonotype_id", "raw_consensus_id"]
AIRR = ["cell_id", "sequence_id", "sequence", "rev_comp", "productive", "locus", "v_call"]
AIRR += ["d_call", "j_call", "c_call", "sequence_alignment", "germline_alignment", "junction"]
AIRR += ["junction_aa", "v_cigar", "d_cigar", "j_cigar", "umi_count", "consensus_count"]


def cdr3_nt(rng: np.random.Generator, chain: str) -> str:
    """A junction: conserved TGT (C), 9-15 random sense codons, then TTT (F) / TGG (W)."""
    middle = "".join(rng.choice(SENSE, size=int(rng.integers(9, 16))))
    return "TGT" + middle + ("TTT" if chain == "TRB" else "TGG")


def translate(nt: str) -> str:
    return "".join(CODONS[nt[i : i + 3]] for i in range(0, len(nt) - 2, 3))


def patient_clones(rng: np.random.Generator) -> dict:
    """The expanded CD8 effector clone and the shared clonotypes of one patient."""
    pair = lambda: (cdr3_nt(rng, "TRA"), cdr3_nt(rng, "TRB"))  # noqa: E731
    return {"expanded": pair(), "shared": [pair() for _ in range(N_SHARED)]}


def assign(
    truth: pd.DataFrame, role: str, clones: dict, rng: np.random.Generator
) -> list[tuple[int, str, str]]:
    """(cell index, TRA junction or "", TRB junction or "") for each T cell with a TCR."""
    out = []
    for cell in np.flatnonzero(np.isin(truth["cell_type"].to_numpy(), T_CELLS)):
        if rng.random() < NO_TCR:
            continue
        state = truth["cell_state"].iat[cell]
        draw = rng.random()
        if role == "reference" and state == "CD8_effector" and draw < EXPANDED_REFERENCE:
            tra, trb = clones["expanded"]
        elif (
            role == "compare"
            and state in ("CD8_effector", "CD8_exhausted")
            and draw < EXPANDED_COMPARE
        ):
            tra, trb = clones["expanded"]
        elif rng.random() < SHARED:
            tra, trb = clones["shared"][int(rng.integers(N_SHARED))]
        else:
            tra, trb = cdr3_nt(rng, "TRA"), cdr3_nt(rng, "TRB")
        lose = rng.random()
        if lose < LOSE_TRA:
            tra = ""
        elif lose < LOSE_TRA + LOSE_TRB:
            trb = ""
        out.append((int(cell), tra, trb))
    return out


def contigs(barcode: str, tra: str, trb: str, rng: np.random.Generator) -> list[dict]:
    """The contigs of one cell: its chains, and now and then a weaker second TRA, a
    non-productive TRB, a Multi contig or a low-confidence one (the clonotype rule ignores them)."""
    rows = []

    def add(chain, junction, umis, productive=True, high_confidence=True):
        rows.append(
            {
                "chain": chain,
                "junction": junction,
                "umis": int(umis),
                "reads": int(umis * rng.integers(150, 400)),
                "productive": productive,
                "high_confidence": high_confidence,
                "v": rng.choice(V_GENES[chain]) if chain in V_GENES else "",
                "j": rng.choice(J_GENES[chain]) if chain in J_GENES else "",
            }
        )

    main = {"TRA": 2 + rng.poisson(4), "TRB": 3 + rng.poisson(8)}
    for chain, junction in (("TRA", tra), ("TRB", trb)):
        if junction:
            add(chain, junction, main[chain])
    if tra and rng.random() < 0.1:  # a second, weaker TRA (fewer UMIs)
        add("TRA", cdr3_nt(rng, "TRA"), max(1, main["TRA"] - 1 - rng.poisson(1)))
    if rng.random() < 0.05:  # non-productive TRB with many UMIs: never chosen
        add("TRB", "", main["TRB"] + 5, productive=False)
    if rng.random() < 0.03:
        add("Multi", "", 2, productive=False)
    if rng.random() < 0.03:  # low-confidence TRA with many UMIs: never chosen
        add("TRA", cdr3_nt(rng, "TRA"), main["TRA"] + 5, high_confidence=False)
    for number, row in enumerate(rows, start=1):
        row["barcode"], row["contig_id"] = barcode, f"{barcode}_contig_{number}"
    return rows


def write_sample(
    folder: Path,
    prefix: str,
    sample: str,
    number: int,
    role: str,
    barcodes: list[str],
    truth: pd.DataFrame,
    rng: np.random.Generator,
    clones: dict,
) -> str:
    """Write one sample's TCR file and return its sheet path.

    Pair `number` 2, 5, ... writes its compare site as an AIRR rearrangement TSV; pairs 1, 4,
    ... write Cell Ranger 7 style .csv.gz (true/false); the others Cell Ranger 3 style .csv
    (True/False). `clones` caches each pair's clonotypes so that both sites share them.
    """
    clones.setdefault(number, patient_clones(rng))
    rows = []
    for cell, tra, trb in assign(truth, role, clones[number], rng):
        rows += contigs(barcodes[cell], tra, trb, rng)
    letters = np.array(list("ACGT"))
    for _ in range(5):  # TCR barcodes without a GEX cell: never joined to a cell type
        barcode = "".join(letters[rng.integers(0, 4, 16)]) + "-1"
        rows += contigs(barcode, cdr3_nt(rng, "TRA"), cdr3_nt(rng, "TRB"), rng)
    out = Path(folder) / "tcr"
    out.mkdir(parents=True, exist_ok=True)
    if number % 3 == 2 and role == "compare":
        name = f"{sample}_airr_rearrangement.tsv"
        table = airr_table(rows)
        table.to_csv(out / name, sep="\t", index=False)
    else:
        modern = number % 3 == 1
        name = f"{sample}_filtered_contig_annotations.csv" + (".gz" if modern else "")
        table = cellranger_table(rows, "true" if modern else "True", "false" if modern else "False")
        if modern:
            with (
                open(out / name, "wb") as raw,
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz,
            ):
                gz.write(table.to_csv(index=False).encode())
        else:
            table.to_csv(out / name, index=False)
    return f"{prefix}/scrna/tcr/{name}"


def cellranger_table(rows: list[dict], true: str, false: str) -> pd.DataFrame:
    """Cell Ranger filtered_contig_annotations.csv columns (None where Cell Ranger writes it)."""
    flag = {True: true, False: false}
    records = []
    for row in rows:
        junction = row["junction"]
        records.append(
            {
                "barcode": row["barcode"],
                "is_cell": true,
                "contig_id": row["contig_id"],
                "high_confidence": flag[row["high_confidence"]],
                "length": 450 + len(junction),
                "chain": row["chain"],
                "v_gene": row["v"] or "None",
                "d_gene": "None",
                "j_gene": row["j"] or "None",
                "c_gene": C_GENES.get(row["chain"], "None"),
                "full_length": flag[row["productive"]],
                "productive": flag[row["productive"]] if row["chain"] != "Multi" else "None",
                "cdr3": translate(junction) if junction else "None",
                "cdr3_nt": junction or "None",
                "reads": row["reads"],
                "umis": row["umis"],
                "raw_clonotype_id": "None",
                "raw_consensus_id": "None",
            }
        )
    return pd.DataFrame(records, columns=CELLRANGER)


def airr_table(rows: list[dict]) -> pd.DataFrame:
    """AIRR rearrangement columns (the required fields, umi_count and consensus_count)."""
    records = []
    for row in rows:
        if row["chain"] == "Multi" or not row["high_confidence"]:
            continue  # Cell Ranger's AIRR export holds high-confidence contigs of cells only
        junction = row["junction"]
        records.append(
            {
                "cell_id": row["barcode"],
                "sequence_id": row["contig_id"],
                "sequence": "",
                "rev_comp": "F",
                "productive": "T" if row["productive"] else "F",
                "locus": row["chain"],
                "v_call": row["v"],
                "d_call": "",
                "j_call": row["j"],
                "c_call": C_GENES[row["chain"]],
                "sequence_alignment": "",
                "germline_alignment": "",
                "junction": junction,
                "junction_aa": translate(junction) if junction else "",
                "v_cigar": "",
                "d_cigar": "",
                "j_cigar": "",
                "umi_count": row["umis"],
                "consensus_count": row["reads"],
            }
        )
    return pd.DataFrame(records, columns=AIRR)
