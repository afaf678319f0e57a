"""Count readers and input checks of the bulk RNA branch."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from organomics.errors import InputError
from organomics.rnaseq import counts as rc

DATA = Path(__file__).parent / "data"


def write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


def test_matrix_tsv_and_csv_gz(tmp_path):
    tsv = write(tmp_path / "m.tsv", "gene\tA\tB\tC\nG1\t1\t2\t3\nG2\t0\t5\t7\n")
    csv = write(tmp_path / "m.csv.gz", "gene,A,B,C\nG1,1,2,3\nG2,0,5,7\n")
    for path in (tsv, csv):
        matrix = rc.read_matrix(path, samples=["C", "A"])
        assert matrix.columns.tolist() == ["C", "A"]
        assert matrix.loc["G2"].tolist() == [7, 0]
        assert matrix.dtypes.eq(np.int64).all()


def test_matrix_missing_sample_named(tmp_path):
    path = write(tmp_path / "m.tsv", "gene\tA\tB\nG1\t1\t2\n")
    with pytest.raises(InputError, match="missing from the count matrix: C, D"):
        rc.read_matrix(path, samples=["A", "C", "D"])


@pytest.mark.parametrize(
    ("cell", "shown"), [("2.5", "'2.5'"), ("-1", "'-1'"), ("abc", "'abc'"), ("", "nan")]
)
def test_matrix_bad_count_named(tmp_path, cell, shown):
    path = write(tmp_path / "m.tsv", f"gene\tA\tB\nG1\t1\t2\nG2\t3\t{cell}\n")
    with pytest.raises(InputError) as error:
        rc.read_matrix(path)
    message = str(error.value)
    assert "row 3" in message and "column 'B'" in message and "G2" in message
    assert "non-negative integers" in message and shown in message


def test_float_integers_accepted(tmp_path):
    path = write(tmp_path / "m.tsv", "gene\tA\nG1\t3.0\nG2\t0\n")
    assert rc.read_matrix(path)["A"].tolist() == [3, 0]


def test_duplicated_gene_ids(tmp_path):
    path = write(tmp_path / "m.tsv", "gene\tA\nG1\t1\nG2\t2\nG1\t3\n")
    with pytest.raises(InputError, match=r"duplicated gene id 'G1' \(rows 2, 4\)"):
        rc.read_matrix(path)


def test_featurecounts(tmp_path):
    text = (
        '# Program:featureCounts v2.0.3; Command:"featureCounts" "-a" "x.gtf"\n'
        "Geneid\tChr\tStart\tEnd\tStrand\tLength\tsample.bam\n"
        "ENSG00000153563.16\tchr2\t1\t100\t-\t100\t120\n"
        "ENSG00000111640.15\tchr12\t5\t900\t+\t895\t3\n"
    )
    series = rc.read_featurecounts(write(tmp_path / "s.featureCounts.txt", text))
    assert series.to_dict() == {"ENSG00000153563.16": 120, "ENSG00000111640.15": 3}
    assert rc.guess_format(tmp_path / "s.featureCounts.txt") == "featurecounts"
    bad = text.replace("\t3\n", "\t-3\n")
    with pytest.raises(InputError, match=r"row 4, column 'sample.bam'.*'-3'"):
        rc.read_featurecounts(write(tmp_path / "bad.featureCounts.txt", bad))


def test_star_strandedness(tmp_path):
    text = (
        "N_unmapped\t10\t10\t10\nN_multimapping\t5\t5\t5\nN_noFeature\t1\t7\t2\n"
        "N_ambiguous\t0\t0\t0\nG1\t100\t3\t97\nG2\t50\t40\t10\n"
    )
    path = write(tmp_path / "ReadsPerGene.out.tab", text)
    assert rc.read_star(path, "none").to_dict() == {"G1": 100, "G2": 50}
    assert rc.read_star(path, "yes").to_dict() == {"G1": 3, "G2": 40}
    assert rc.read_star(path, "reverse").to_dict() == {"G1": 97, "G2": 10}
    assert rc.guess_format(path) == "star"
    with pytest.raises(InputError, match="strandedness"):
        rc.read_star(path, "forward")


def test_salmon_real_quant_sf():
    tx2gene = rc.read_tx2gene(DATA / "isoformswitch_tx2gene.tsv.gz")
    genes = rc.read_salmon(DATA / "hESC_0.quant.sf.gz", tx2gene)
    quant = pd.read_csv(DATA / "hESC_0.quant.sf.gz", sep="\t")
    # Independent sum: the three transcripts of XLOC_000008 (by hand from the tx2gene table).
    members = tx2gene[tx2gene == "XLOC_000008"].index
    expected = round(quant.set_index("Name").loc[members, "NumReads"].sum())
    assert genes["XLOC_000008"] == expected == 85157
    assert len(genes) == 375 and genes.dtype == np.int64
    assert rc.guess_format(DATA / "hESC_0.quant.sf.gz") == "salmon"


def test_salmon_version_stripping(tmp_path):
    quant = write(
        tmp_path / "quant.sf",
        "Name\tLength\tEffectiveLength\tTPM\tNumReads\nENST1.2\t10\t10\t1\t2.6\nENST2.1\t10\t10\t1\t4\n",
    )
    tx2gene = pd.Series({"ENST1": "G", "ENST2": "G"})
    assert rc.read_salmon(quant, tx2gene).to_dict() == {"G": 7}


def test_combine_samples_requires_same_genes():
    a = pd.Series({"G1": 1, "G2": 2})
    b = pd.Series({"G1": 1, "G3": 2})
    with pytest.raises(InputError, match="different genes"):
        rc.combine_samples({"A": a, "B": b})
    matrix = rc.combine_samples({"A": a, "B": a[::-1]})
    assert matrix.loc["G2"].tolist() == [2, 2]
