"""Build demo_genes.tsv: the demo's gene panel (Ensembl id + symbol), from org.Hs.eg.db.

Usage: python build_demo_genes.py /path/to/org.Hs.eg.sqlite > demo_genes.tsv
(org.Hs.eg.sqlite from the Debian package r-bioc-org.hs.eg.db 3.16.0-1, extracted with
`apt-get download r-bioc-org.hs.eg.db && dpkg -x r-bioc-org.hs.eg.db_*.deb x`).
Panel: every gene of markers.yaml and signatures.yaml, the 13 mitochondrial protein-coding
genes, ribosomal and housekeeping genes, then protein-coding genes drawn with seed 0 up to 1,800.
"""

import sqlite3
import sys
from pathlib import Path

import numpy as np
import yaml

N_GENES = 1800
HOUSEKEEPING = """ACTB GAPDH B2M MALAT1 TMSB4X TMSB10 FTL FTH1 EEF1A1 PTMA HLA-A HLA-B HLA-C HLA-DRA
HLA-DRB1 HLA-DPA1 HLA-DPB1 CD74 VIM UBC UBB PPIA TPT1 MYL6 ACTG1 CFL1 PFN1 SRGN CCL4 CCL3
CXCR4 JUN FOS DUSP1 IFITM1 IFITM2 CD52 CD69 KLRB1 CD2 CD7 TRAC TRBC1 TRBC2 CD247 LCK ICOS
TYROBP FCER1G IGKC IGHM IGHG1 IGHA1 S100A8 S100A9 APOE C1QA C1QB MKI67 TOP2A""".split()
# org.Hs.eg.db 3.16 has no mitochondrial genes; their Ensembl (GRCh38) ids, in chrM order.
MITO = {
    "MT-ND1": "ENSG00000198888", "MT-ND2": "ENSG00000198763", "MT-CO1": "ENSG00000198804",
    "MT-CO2": "ENSG00000198712", "MT-ATP8": "ENSG00000228253", "MT-ATP6": "ENSG00000198899",
    "MT-CO3": "ENSG00000198938", "MT-ND3": "ENSG00000198840", "MT-ND4L": "ENSG00000212907",
    "MT-ND4": "ENSG00000198886", "MT-ND5": "ENSG00000198786", "MT-ND6": "ENSG00000198695",
    "MT-CYB": "ENSG00000198727",
}


def main(sqlite_path: str) -> None:
    here = Path(__file__).parent
    wanted = list(HOUSEKEEPING)
    markers = yaml.safe_load(open(here / "markers.yaml"))
    for spec in markers["compartments"].values():
        wanted += spec["positive"] + spec.get("negative", [])
    for states in markers["states"].values():
        for genes in states.values():
            wanted += genes
    for spec in yaml.safe_load(open(here / "signatures.yaml")).values():
        wanted += spec["genes"]
    con = sqlite3.connect(sqlite_path)
    rows = con.execute(
        "SELECT gi.symbol, MIN(e.ensembl_id), gt.gene_type FROM gene_info gi "
        "JOIN ensembl e ON e._id = gi._id JOIN genetype gt ON gt._id = gi._id "
        "GROUP BY gi.symbol ORDER BY gi.symbol"
    ).fetchall()
    ids = {symbol: ensembl for symbol, ensembl, _ in rows}
    coding = [s for s, _, t in rows if t == "protein-coding" and not s.startswith("MT-")]
    ids.update(MITO)
    panel = list(MITO)
    panel += [g for g in dict.fromkeys(wanted) if g in ids]
    panel += [f"RPL{i}" for i in range(3, 40) if f"RPL{i}" in ids]
    panel += [f"RPS{i}" for i in range(2, 30) if f"RPS{i}" in ids]
    panel = list(dict.fromkeys(panel))
    rest = sorted(set(coding) - set(panel))
    rng = np.random.default_rng(0)
    panel += sorted(rng.choice(rest, N_GENES - len(panel), replace=False).tolist())
    print("gene_id\tgene_symbol")
    for symbol in panel:
        print(f"{ids[symbol]}\t{symbol}")


if __name__ == "__main__":
    main(sys.argv[1])
