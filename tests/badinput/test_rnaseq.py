"""Malformed bulk RNA inputs: read as meant, or a stop naming file, row and column.

Each case runs the rnaseq counts step (`results/rnaseq/counts.tsv.gz`) of a two-patient cohort
in a temporary directory, from a cohort matrix or from per-sample files, as a user would.
"""

from __future__ import annotations

import gzip

import pandas as pd
import pytest
import yaml

SAMPLES = ["A_PL", "A_LM", "B_PL", "B_LM"]
COUNTS = {
    "ENSG00000153563.16": [120, 80, 95, 60],
    "ENSG00000136167.14": [3, 7, 0, 12],
    "ENSG00000111640.15": [900, 1100, 750, 990],
}
TARGET = "results/rnaseq/counts.tsv.gz"


def matrix_text(rows=None, header=None, end="\n", trailing="") -> str:
    header = header or ["gene", *SAMPLES]
    rows = rows if rows is not None else [[g, *map(str, v)] for g, v in COUNTS.items()]
    return "".join("\t".join(r) + trailing + end for r in [header, *rows])


def write_sheet(workdir, rna: dict[str, str] | None = None, samples=SAMPLES) -> None:
    lines = ["sample\tpatient\tsite" + ("\trna" if rna else "")]
    for sample in samples:
        patient, site = sample.split("_")
        lines.append(f"{sample}\t{patient}\t{site}" + (f"\t{rna[sample]}" if rna else ""))
    (workdir / "samples.tsv").write_text("\n".join(lines) + "\n")


def run_matrix(workdir, runner, text: str | bytes, name="counts.tsv", declared=False):
    """Run the counts step on a cohort matrix; `declared`: the sheet's `rna` cells name it
    (so every sheet sample must be a column), else samples are the sheet's matrix columns."""
    path = workdir / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    write_sheet(workdir, {s: name for s in SAMPLES} if declared else None)
    config = {"samples": "samples.tsv", "rnaseq": {"counts": name}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return runner(workdir, TARGET, "--configfile", "config.yaml", check=False)


def run_per_sample(workdir, runner, files: dict[str, str], settings: dict):
    """One file per sample (`files` name -> text, reused in turn, each sample its own copy
    named SAMPLE.name: one file named by every sample would be read as a cohort matrix)."""
    names = list(files)
    rna = {}
    for i, sample in enumerate(SAMPLES):
        name = names[i % len(names)]
        rna[sample] = f"{sample}.{name}"
        (workdir / rna[sample]).write_text(files[name])
    write_sheet(workdir, rna)
    config = {"samples": "samples.tsv", "rnaseq": {"counts": None, **settings}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return runner(workdir, TARGET, "--configfile", "config.yaml", check=False)


def read_counts(workdir) -> pd.DataFrame:
    return pd.read_csv(workdir / TARGET, sep="\t", index_col=0)


EXPECTED = pd.DataFrame(COUNTS, index=SAMPLES).T

READ_AS_MEANT = {
    "trailing_tab_every_row": matrix_text(trailing="\t"),
    "crlf_line_ends": matrix_text(end="\r\n"),
    "utf8_bom": "\ufeff" + matrix_text(),
    "extra_column_not_in_sheet": matrix_text(
        header=["gene", *SAMPLES, "C_PL"],
        rows=[[g, *map(str, v), "5"] for g, v in COUNTS.items()],
    ),
}


@pytest.mark.parametrize("case", sorted(READ_AS_MEANT))
def test_matrix_read_as_meant(case, tmp_path, snakemake_runner):
    result = run_matrix(tmp_path, snakemake_runner, READ_AS_MEANT[case])
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    pd.testing.assert_frame_equal(read_counts(tmp_path), EXPECTED, check_names=False)
    if case == "extra_column_not_in_sheet":
        # finding 8: the ignored column is listed with its reason, not dropped silently
        excluded = pd.read_csv(tmp_path / "results/rnaseq/excluded/counts.tsv", sep="\t")
        assert excluded[["step", "level", "item"]].values.tolist() == [["counts", "sample", "C_PL"]]


def bad_cell(value: str) -> str:
    rows = [[g, *map(str, v)] for g, v in COUNTS.items()]
    rows[1][3] = value  # gene 2 (file row 3), sample B_PL
    return matrix_text(rows)


MATRIX_ERRORS = {
    "negative_count": (bad_cell("-4"), ["counts.tsv, row 3, column 'B_PL'", "'-4'"]),
    "fractional_count": (bad_cell("2.5"), ["counts.tsv, row 3, column 'B_PL'", "'2.5'"]),
    "text_in_count_cell": (bad_cell("n/a"), ["counts.tsv, row 3, column 'B_PL'", "'n/a'"]),
    "empty_count_cell": (bad_cell(""), ["counts.tsv, row 3, column 'B_PL'"]),
    "duplicate_gene_id": (
        matrix_text(
            [[g, *map(str, v)] for g, v in COUNTS.items()]
            + [["ENSG00000136167.14"] * 1 + ["1"] * 4]
        ),
        ["counts.tsv", "column 'gene'", "duplicated gene id 'ENSG00000136167.14' (rows 3, 5)"],
    ),  # fmt: skip
    "empty_gene_id": (
        matrix_text([[g, *map(str, v)] for g, v in COUNTS.items()] + [["", "1", "1", "1", "1"]]),
        ["counts.tsv, row 5, column 'gene'", "empty gene id"],
    ),
    "empty_file": ("", ["counts.tsv", "the file is empty"]),
    "header_only": (matrix_text(rows=[]), ["counts.tsv, row 2", "no gene rows below the header"]),
    "missing_sheet_sample": (
        matrix_text(
            header=["gene", *SAMPLES[:3]],
            rows=[[g, *map(str, v[:3])] for g, v in COUNTS.items()],
        ),
        ["counts.tsv, row 1", "missing from the count matrix: B_LM"],
    ),
    "sample_column_twice": (
        matrix_text(
            header=["gene", *SAMPLES, "A_PL"],
            rows=[[g, *map(str, v), "1"] for g, v in COUNTS.items()],
        ),
        ["counts.tsv", "A_PL"],
    ),
    "row_with_extra_field": (
        matrix_text(
            [[g, *map(str, v)] for g, v in COUNTS.items()] + [["G9", "1", "1", "1", "1", "7"]]
        ),
        ["counts.tsv", "row 5"],
    ),  # fmt: skip
}


@pytest.mark.parametrize("case", sorted(MATRIX_ERRORS))
def test_matrix_errors(case, tmp_path, snakemake_runner, clean_failure):
    text, fragments = MATRIX_ERRORS[case]
    result = run_matrix(tmp_path, snakemake_runner, text, declared=True)
    clean_failure(result, *fragments, workdir=tmp_path)
    assert not (tmp_path / TARGET).exists()


def test_missing_sheet_sample_stops_before_any_job(tmp_path, snakemake_runner, clean_failure):
    """The matrix header is checked at parse time: even a dry run stops, naming the sample."""
    text, fragments = MATRIX_ERRORS["missing_sheet_sample"]
    (tmp_path / "counts.tsv").write_text(text)
    write_sheet(tmp_path, {s: "counts.tsv" for s in SAMPLES})
    config = {"samples": "samples.tsv", "rnaseq": {"counts": "counts.tsv"}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake_runner(tmp_path, TARGET, "--configfile", "config.yaml", "-n", check=False)
    clean_failure(result, *fragments)


def test_truncated_gzip_matrix(tmp_path, snakemake_runner, clean_failure):
    body = "".join(f"G{i}\t{i}\t{i + 1}\t{i + 2}\t{i + 3}\n" for i in range(20000))
    packed = gzip.compress((matrix_text(rows=[]) + body).encode())
    result = run_matrix(tmp_path, snakemake_runner, packed[: len(packed) // 2], "counts.tsv.gz")
    clean_failure(result, "counts.tsv.gz", workdir=tmp_path)
    output = result.stdout + result.stderr
    assert "gzip" in output.lower() or "truncated" in output.lower() or "end of" in output.lower()


FEATURECOUNTS = (
    '# Program:featureCounts v2.0.6; Command:"featureCounts" "-a" "genes.gtf"\n'
    "Geneid\tChr\tStart\tEnd\tStrand\tLength\t{samples}\n"
    "ENSG00000153563.16\tchr2\t1\t100\t-\t100\t{a}\n"
    "ENSG00000111640.15\tchr12\t5\t900\t+\t895\t{b}\n"
)
QUANT = "Name\tLength\tEffectiveLength\tTPM\tNumReads\n"
QUANT += "ENST00000283635.8\t1000\t850.2\t12.5\t{a}\nENST00000229239.10\t1400\t1250.1\t300.2\t{b}\n"


def test_featurecounts_with_two_samples_in_one_file(tmp_path, snakemake_runner, clean_failure):
    text = FEATURECOUNTS.format(samples="s1.bam\ts2.bam", a="10\t11", b="20\t21")
    result = run_per_sample(tmp_path, snakemake_runner, {"fc.txt": text}, {})
    clean_failure(
        result, ".fc.txt", "one counts column after Length", "s1.bam", "s2.bam",
        workdir=tmp_path,
    )  # fmt: skip


def test_featurecounts_fractional_count(tmp_path, snakemake_runner, clean_failure):
    # featureCounts -M --fraction writes fractions; DESeq2 needs integers
    text = FEATURECOUNTS.format(samples="s1.bam", a="10.5", b="20")
    result = run_per_sample(tmp_path, snakemake_runner, {"fc.txt": text}, {})
    # row 3 of the file: the # Program line and the header come first
    clean_failure(result, ".fc.txt, row 3, column 's1.bam'", "'10.5'", workdir=tmp_path)


def test_quant_sf_without_tx2gene_match(tmp_path, snakemake_runner, clean_failure):
    (tmp_path / "tx2gene.tsv").write_text("transcript_id\tgene_id\nENST0001\tENSG0001\n")
    files = {"quant.sf": QUANT.format(a="12.0", b="400.5")}
    result = run_per_sample(tmp_path, snakemake_runner, files, {"tx2gene": "tx2gene.tsv"})
    clean_failure(
        result, ".quant.sf", "no transcript of quant.sf is in the tx2gene table", "tx2gene.tsv",
        workdir=tmp_path,
    )  # fmt: skip


def test_quant_sf_text_in_numreads(tmp_path, snakemake_runner, clean_failure):
    (tmp_path / "tx2gene.tsv").write_text(
        "ENST00000283635.8\tENSG00000153563.16\nENST00000229239.10\tENSG00000111640.15\n"
    )
    files = {"quant.sf": QUANT.format(a="NA", b="400.5")}
    result = run_per_sample(tmp_path, snakemake_runner, files, {"tx2gene": "tx2gene.tsv"})
    clean_failure(result, ".quant.sf, row 2, column 'NumReads'", "'NA'", workdir=tmp_path)


def test_star_file_with_wrong_column_count(tmp_path, snakemake_runner, clean_failure):
    text = "N_unmapped\t10\t10\nN_multimapping\t5\t5\nENSG00000153563.16\t120\t3\n"
    files = {"ReadsPerGene.out.tab": text}
    result = run_per_sample(tmp_path, snakemake_runner, files, {"strandedness": "reverse"})
    clean_failure(result, ".ReadsPerGene.out.tab", "expected 4 columns", workdir=tmp_path)


def test_per_sample_files_with_different_genes(tmp_path, snakemake_runner, clean_failure):
    one = FEATURECOUNTS.format(samples="s1.bam", a="10", b="20")
    two = one.replace("ENSG00000111640.15", "ENSG00000000003.15")
    result = run_per_sample(tmp_path, snakemake_runner, {"a.txt": one, "b.txt": two}, {})
    clean_failure(result, "different genes", "ENSG00000000003.15", workdir=tmp_path)


def test_two_count_files_in_one_cell_stop_before_any_job(tmp_path, snakemake_runner, clean_failure):
    text = FEATURECOUNTS.format(samples="s1.bam", a="10", b="20")
    rna = {}
    for sample in SAMPLES:
        rna[sample] = f"{sample}.fc.txt"
        (tmp_path / rna[sample]).write_text(text)
    rna["A_PL"] = "A_PL.fc.txt;A_LM.fc.txt"
    write_sheet(tmp_path, rna)
    config = {"samples": "samples.tsv", "rnaseq": {"counts": None}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake_runner(tmp_path, TARGET, "--configfile", "config.yaml", check=False)
    clean_failure(result, "one count file per sample", "A_PL", "rna", workdir=tmp_path)
    assert not (tmp_path / "results").exists()
