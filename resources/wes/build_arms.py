"""Build resources/wes/arms_<genome>.tsv from bioframe's bundled UCSC cytoband and seqinfo tables.

Usage: python resources/wes/build_arms.py BIOFRAME_DATA_DIR (bioframe/io/data of the bioframe
0.8.0 wheel). The p arm of a chromosome runs from base 1 to the end of its last 'p' band (the
centromere's p11.1 half included); the q arm from there to the chromosome's end.
"""

import sys
from pathlib import Path

import pandas as pd

# Acrocentric p arms hold rDNA and satellites, and Y is haploid and mostly unmappable: no exome
# or SNP-array caller measures them, so arm-level calls leave them out (scored = false).
UNSCORED = {"13p", "14p", "15p", "21p", "22p", "Yp", "Yq"}
GENOMES = {"GRCh38": "hg38", "GRCh37": "hg19"}


def arms(data: Path, ucsc: str) -> pd.DataFrame:
    bands = pd.read_csv(data / f"{ucsc}.cytoband.tsv", sep="\t")
    lengths = pd.read_csv(data / f"{ucsc}.seqinfo.tsv", sep="\t").set_index("name")["length"]
    rows = []
    for number in [*map(str, range(1, 23)), "X", "Y"]:
        chrom = f"chr{number}"
        own = bands[bands["chrom"] == chrom]
        p_end = int(own.loc[own["band"].str.startswith("p"), "end"].max())
        length = int(lengths[chrom])
        for arm, start, end in (("p", 1, p_end), ("q", p_end + 1, length)):
            name = f"{number}{arm}"
            rows.append(
                {"chrom": number, "arm": name, "start": start, "end": end,
                 "scored": name not in UNSCORED}
            )  # fmt: skip
    return pd.DataFrame(rows)


if __name__ == "__main__":
    source = Path(sys.argv[1])
    for genome, ucsc in GENOMES.items():
        table = arms(source, ucsc)
        table.to_csv(Path(__file__).parent / f"arms_{genome}.tsv", sep="\t", index=False)
