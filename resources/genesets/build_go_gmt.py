"""Build the bundled GO Biological Process GMT and Ensembl->symbol table from Bioconductor SQLite.

The sources are the SQLite files inside Debian's `r-bioc-org.hs.eg.db` and `r-bioc-go.db`
packages, read with plain sqlite3 (no R). Without --orgdb/--godb the script fetches the two
Debian packages with `apt-get download` and unpacks them with `dpkg -x` into a temporary folder.

  python resources/genesets/build_go_gmt.py          # writes resources/genesets/go_bp.gmt.gz
  python resources/genesets/build_go_gmt.py --orgdb org.Hs.eg.sqlite --godb GO.sqlite --min-size 10

Outputs (paths relative to the repository root unless given):
  resources/genesets/go_bp.gmt.gz            one line per GO BP term: name, GO id, gene symbols
  resources/rnaseq/ensembl_to_symbol.tsv.gz  ensembl_id, symbol, entrez_id
and the counts/versions that resources/genesets/PROVENANCE.md records.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sqlite3
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # this file is resources/genesets/build_go_gmt.py
PACKAGES = {"orgdb": "r-bioc-org.hs.eg.db", "godb": "r-bioc-go.db"}
INNER = {
    "orgdb": "usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite",
    "godb": "usr/lib/R/site-library/GO.db/extdata/GO.sqlite",
}


def fetch_debian(workdir: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """apt-get download + dpkg -x both packages; return the SQLite paths and package versions."""
    paths: dict[str, Path] = {}
    versions: dict[str, str] = {}
    for key, package in PACKAGES.items():
        subprocess.run(["apt-get", "download", package], cwd=workdir, check=True)
        (deb,) = sorted(workdir.glob(f"{package}_*.deb"))
        versions[key] = subprocess.run(
            ["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True, text=True
        ).stdout.strip()
        subprocess.run(["dpkg", "-x", str(deb), str(workdir / "root")], check=True)
        paths[key] = workdir / "root" / INNER[key]
    return paths, versions


def metadata(db: sqlite3.Connection) -> dict[str, str]:
    return dict(db.execute("SELECT name, value FROM metadata"))


def go_bp_sets(orgdb: Path, godb: Path, min_size: int, max_size: int) -> list[tuple]:
    """(name, go_id, sorted symbols) per BP term with min_size..max_size distinct genes.

    `go_bp_all` holds annotations propagated to every ancestor term (all evidence codes), which
    is what gene-set tests need: a gene annotated to a child term belongs to the parent set.
    """
    org = sqlite3.connect(orgdb)
    genes: dict[str, set[str]] = defaultdict(set)
    query = (
        "SELECT a.go_id, g.symbol FROM go_bp_all a JOIN gene_info g ON a._id = g._id "
        "WHERE a.evidence != 'ND'"
    )
    for go_id, symbol in org.execute(query):
        genes[go_id].add(symbol)
    go = sqlite3.connect(godb)
    terms = dict(go.execute("SELECT go_id, term FROM go_term WHERE ontology = 'BP'"))
    sets = []
    for go_id in sorted(genes):
        if go_id in terms and min_size <= len(genes[go_id]) <= max_size:
            # Tabs or newlines in a term label would break the GMT line.
            name = " ".join(terms[go_id].split())
            sets.append((f"{name} ({go_id})", go_id, sorted(genes[go_id])))
    return sets


def ensembl_symbols(orgdb: Path) -> list[tuple[str, str, str]]:
    """(ensembl_id, symbol, entrez_id); an Ensembl id on two Entrez genes keeps the lower id."""
    org = sqlite3.connect(orgdb)
    rows = org.execute(
        "SELECT e.ensembl_id, g.symbol, CAST(n.gene_id AS INTEGER) FROM ensembl e "
        "JOIN gene_info g ON e._id = g._id JOIN genes n ON e._id = n._id "
        "ORDER BY e.ensembl_id, CAST(n.gene_id AS INTEGER)"
    )
    best: dict[str, tuple[str, str, str]] = {}
    for ensembl_id, symbol, entrez in rows:
        best.setdefault(ensembl_id, (ensembl_id, symbol, str(entrez)))
    return list(best.values())


def write_gz(path: Path, lines: list[str]) -> str:
    """Write gzip with a fixed mtime (reproducible bytes); return the sha256 of the content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(line + "\n" for line in lines).encode()
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(text)
    return hashlib.sha256(text).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgdb", type=Path, help="org.Hs.eg.sqlite (default: fetch from Debian)")
    parser.add_argument("--godb", type=Path, help="GO.sqlite (default: fetch from Debian)")
    parser.add_argument("--min-size", type=int, default=10)
    parser.add_argument("--max-size", type=int, default=500)
    parser.add_argument("--gmt", type=Path, default=REPO / "resources/genesets/go_bp.gmt.gz")
    parser.add_argument(
        "--ensembl", type=Path, default=REPO / "resources/rnaseq/ensembl_to_symbol.tsv.gz"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        versions = {"orgdb": "given", "godb": "given"}
        if args.orgdb is None or args.godb is None:
            fetched, versions = fetch_debian(Path(tmp))
            args.orgdb = args.orgdb or fetched["orgdb"]
            args.godb = args.godb or fetched["godb"]
        sets = go_bp_sets(args.orgdb, args.godb, args.min_size, args.max_size)
        gmt_sha = write_gz(
            args.gmt, ["\t".join([name, go_id, *symbols]) for name, go_id, symbols in sets]
        )
        mapping = ensembl_symbols(args.orgdb)
        ens_sha = write_gz(
            args.ensembl, ["ensembl_id\tsymbol\tentrez_id"] + ["\t".join(row) for row in mapping]
        )
        org_meta = metadata(sqlite3.connect(args.orgdb))
        go_meta = metadata(sqlite3.connect(args.godb))
    print(f"r-bioc-org.hs.eg.db {versions['orgdb']}; r-bioc-go.db {versions['godb']}")
    for key in ("GOSOURCEDATE", "EGSOURCEDATE", "ENSOURCEDATE"):
        print(f"org.Hs.eg.db {key}: {org_meta.get(key)}")
    print(f"GO.db GOSOURCEDATE: {go_meta.get('GOSOURCEDATE')}")
    n_genes = len({gene for _, _, symbols in sets for gene in symbols})
    print(f"{args.gmt}: {len(sets)} GO BP terms with {args.min_size}-{args.max_size} genes, ")
    print(f"  {n_genes} distinct symbols; sha256 of uncompressed content {gmt_sha}")
    print(f"{args.ensembl}: {len(mapping)} Ensembl ids; sha256 of uncompressed content {ens_sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
