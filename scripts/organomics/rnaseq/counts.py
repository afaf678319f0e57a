"""Read and check gene counts: cohort matrix, featureCounts, salmon quant.sf, STAR ReadsPerGene."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.excluded import Exclusions
from organomics.tables import open_text, read_table, read_tsv

log = logging.getLogger(__name__)

STAR_COLUMNS = ("none", "yes", "reverse")
TX2GENE_HEADERS = {"transcript", "transcript_id", "tx", "tx_id", "txname", "target_id", "name"}


def check_counts(
    counts: pd.DataFrame, path: str | Path | None = None, skipped: int = 0
) -> pd.DataFrame:
    """Check a genes x samples counts table and return it as int64.

    Parameters
    ----------
    counts
        Genes (index) x samples, as read (text or numbers).
    path
        The file it came from, named in errors.
    skipped
        Lines before the header (e.g. featureCounts' ``# Program`` line), so that the rows in
        errors are the file's line numbers.

    Returns
    -------
    pandas.DataFrame
        The counts as int64, index named ``gene`` (ids as text).

    Raises
    ------
    InputError
        For no gene rows, an empty or duplicated gene id, a repeated sample column, or a cell that
        is not a non-negative integer (3.0 is fine), naming its row and column.
    """
    first = 2 + skipped
    if counts.shape[0] == 0:
        raise InputError(path, "no gene rows below the header", row=first)
    ids = pd.Series(counts.index.astype(str))
    if ids.eq("").any() or counts.index.isna().any():
        position = int((ids.eq("") | pd.Series(counts.index.isna())).to_numpy().nonzero()[0][0])
        raise InputError(path, "empty gene id", row=position + first, column=counts.index.name)
    duplicated = ids[ids.duplicated(keep=False)]
    if len(duplicated):
        rows = [str(i + first) for i in duplicated.index[duplicated == duplicated.iloc[0]]]
        raise InputError(
            path,
            f"duplicated gene id {duplicated.iloc[0]!r} (rows {', '.join(rows)}); "
            f"{duplicated.nunique()} id(s) occur more than once — sum or rename them",
            column=counts.index.name,
        )
    duplicated_samples = counts.columns[counts.columns.duplicated()].tolist()
    if duplicated_samples:
        raise InputError(path, f"duplicated sample column(s): {', '.join(duplicated_samples)}")
    values = counts.apply(pd.to_numeric, errors="coerce")
    for column in counts.columns:
        raw, number = counts[column], values[column]
        bad = number.isna() | ~np.isfinite(number)
        if not bad.any():
            bad = (number < 0) | (number != np.round(number))
        if bad.any():
            position = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(
                path,
                f"gene {counts.index[position]!r}: counts must be non-negative integers, "
                f"got {raw.iloc[position]!r}",
                row=position + first,
                column=str(column),
            )
    values = values.astype(np.int64)
    values.index = ids.to_numpy()
    values.index.name = "gene"
    return values


def read_matrix(path: str | Path, samples: Iterable[str] | None = None) -> pd.DataFrame:
    """Cohort matrix (TSV/CSV, .gz ok): first column gene id, then one column per sample.

    Parameters
    ----------
    path
        The matrix file.
    samples
        Sheet samples to keep, in this order (every one must be a column); other columns are
        left out and named in ``result.attrs["ignored_columns"]``.

    Returns
    -------
    pandas.DataFrame
        Genes x samples int64 counts.
    """
    table = read_table(path)
    if table.shape[1] < 2:
        raise InputError(path, "expected a gene id column followed by one column per sample")
    table = table.set_index(table.columns[0])
    if samples is not None:
        samples = list(samples)
        missing = [sample for sample in samples if sample not in table.columns]
        if missing:
            raise InputError(
                path,
                f"sample column(s) missing from the count matrix: {', '.join(missing)} "
                f"(sheet samples with RNA); matrix columns are: {', '.join(table.columns[:20])}"
                + (" ..." if table.shape[1] > 20 else ""),
            )
        extra = [str(column) for column in table.columns if column not in samples]
        table = table[samples]
        counts = check_counts(table, path)
        # the caller lists them in excluded.tsv (and the log)
        counts.attrs["ignored_columns"] = extra
        return counts
    return check_counts(table, path)


def read_featurecounts(path: str | Path) -> pd.Series:
    """One sample's counts from featureCounts output.

    Parameters
    ----------
    path
        The file: an optional ``# Program`` line, the Geneid, Chr, Start, End, Strand, Length
        columns, then one counts column (one sample per file).

    Returns
    -------
    pandas.Series
        Count per gene id (int64).

    Raises
    ------
    InputError
        For missing fixed columns, several counts columns or a bad count (file row and column).
    """
    skipped = _comment_lines(path)
    table = read_table(path, comment=None, skiprows=skipped)
    fixed = ["Geneid", "Chr", "Start", "End", "Strand", "Length"]
    missing = [column for column in fixed if column not in table.columns]
    if missing:
        raise InputError(path, f"not featureCounts output: missing column(s) {', '.join(missing)}")
    extra = [column for column in table.columns if column not in fixed]
    if len(extra) != 1:
        raise InputError(
            path, f"expected one counts column after Length (one sample per file), got {extra}"
        )
    counts = check_counts(table.set_index("Geneid")[extra], path, skipped)
    return counts.iloc[:, 0]


def _comment_lines(path: str | Path) -> int:
    """Number of leading '#' lines (featureCounts writes one `# Program:...` line)."""
    try:
        with open_text(path) as handle:
            n = 0
            for line in handle:
                if not line.startswith("#"):
                    break
                n += 1
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    return n


def read_star(path: str | Path, strandedness: str) -> pd.Series:
    """One sample's counts from STAR's ReadsPerGene.out.tab.

    Parameters
    ----------
    path
        The file (4 columns, no header; the ``N_`` summary rows are dropped).
    strandedness
        The column to take: ``none`` (2, unstranded), ``yes`` (3) or ``reverse`` (4).

    Returns
    -------
    pandas.Series
        Count per gene id (int64).

    Raises
    ------
    InputError
        For an unknown strandedness, another column count or a bad count.
    """
    if strandedness not in STAR_COLUMNS:
        raise InputError(
            None, f"strandedness must be one of {', '.join(STAR_COLUMNS)}, got {strandedness!r}"
        )
    table = read_table(path, header=None)
    if table.shape[1] != 4:
        raise InputError(path, f"expected 4 columns (STAR ReadsPerGene), found {table.shape[1]}")
    table.columns = ["gene_id", "none", "yes", "reverse"]
    table = table[~table["gene_id"].astype(str).str.startswith("N_")].set_index("gene_id")
    counts = check_counts(table[[strandedness]], path)
    return counts.iloc[:, 0]


def read_tx2gene(path: str | Path) -> pd.Series:
    """The transcript -> gene table of salmon inputs.

    Parameters
    ----------
    path
        A table whose first two columns are transcript id and gene id (a header row such as
        ``transcript_id``, ``tx`` or ``name`` is recognised and skipped).

    Returns
    -------
    pandas.Series
        Gene id indexed by transcript id.

    Raises
    ------
    InputError
        For fewer than two columns or a transcript listed twice.
    """
    table = read_table(path, header=None)
    if table.shape[1] < 2:
        raise InputError(path, "tx2gene needs two columns: transcript id, gene id")
    if str(table.iloc[0, 0]).strip().lower() in TX2GENE_HEADERS:
        table = table.iloc[1:]
    mapping = table.set_index(table.columns[0])[table.columns[1]].astype(str)
    mapping.index = mapping.index.astype(str)
    if mapping.index.duplicated().any():
        duplicated = mapping.index[mapping.index.duplicated()][0]
        raise InputError(path, f"transcript {duplicated!r} is listed more than once")
    return mapping


def read_salmon(path: str | Path, tx2gene: pd.Series, tx2gene_path: str | None = None) -> pd.Series:
    """One sample's gene counts from salmon's quant.sf: NumReads summed per gene, rounded.

    Summing estimated reads then rounding is what DESeq2's `DESeqDataSetFromTximport` does to
    the counts (it adds an average-length offset that this pipeline does not use). Transcripts
    with a version suffix (GENCODE ``ENST...1``) are matched without it when most do not match.

    Parameters
    ----------
    path
        The quant.sf file (columns Name and NumReads used).
    tx2gene
        Transcript -> gene (:func:`read_tx2gene`).
    tx2gene_path
        The tx2gene file, named in errors.

    Returns
    -------
    pandas.Series
        Count per gene (int64, index ``gene``); ``attrs["unmapped_transcripts"]`` lists the
        transcripts not in tx2gene (transcript, reads), which are dropped.

    Raises
    ------
    InputError
        For a NumReads cell that is not a non-negative number, or no transcript in tx2gene.
    """
    table = read_table(path, required=["Name", "NumReads"])
    reads = pd.to_numeric(table["NumReads"], errors="coerce")
    if reads.isna().any() or (reads < 0).any():
        position = int((reads.isna() | (reads < 0)).to_numpy().nonzero()[0][0])
        shown = table["NumReads"].iloc[position]
        raise InputError(
            path,
            f"NumReads must be a non-negative number, got {shown!r}",
            row=position + 2,
            column="NumReads",
        )
    names = table["Name"].astype(str)
    genes = names.map(tx2gene)
    if genes.notna().mean() < 0.5:
        # GENCODE quant.sf often carries versions (ENST...1) that a tx2gene table omits.
        stripped = tx2gene.copy()
        stripped.index = stripped.index.str.replace(r"\.\d+$", "", regex=True)
        stripped = stripped[~stripped.index.duplicated()]
        genes = names.str.replace(r"\.\d+$", "", regex=True).map(stripped)
    if genes.isna().all():
        raise InputError(
            path,
            f"no transcript of quant.sf is in the tx2gene table {tx2gene_path or ''} "
            f"(first transcript {names.iloc[0]!r})",
        )
    if genes.isna().any():
        log.warning(
            "%s: %d of %d transcripts are not in tx2gene and are dropped",
            path,
            int(genes.isna().sum()),
            len(genes),
        )
    summed = reads[genes.notna()].groupby(genes[genes.notna()].to_numpy()).sum()
    counts = np.round(summed).astype(np.int64)
    counts.index.name = "gene"
    # the caller lists them in excluded.tsv: nothing is dropped silently
    counts.attrs["unmapped_transcripts"] = pd.DataFrame(
        {"transcript": names[genes.isna()].to_numpy(), "reads": reads[genes.isna()].to_numpy()}
    )
    return counts


def read_sample_counts(
    path: str | Path,
    fmt: str,
    strandedness: str = "none",
    tx2gene: pd.Series | None = None,
    tx2gene_path: str | None = None,
) -> pd.Series:
    """One sample's counts from a featureCounts, salmon or STAR file.

    Parameters
    ----------
    path
        The per-sample file.
    fmt
        ``featurecounts``, ``salmon`` or ``star``.
    strandedness
        STAR's column (:func:`read_star`).
    tx2gene, tx2gene_path
        salmon's transcript -> gene table and its file (:func:`read_salmon`).

    Returns
    -------
    pandas.Series
        Count per gene id (int64).

    Raises
    ------
    InputError
        For an unknown format, salmon without tx2gene, or the reader's errors.
    """
    if fmt == "featurecounts":
        return read_featurecounts(path)
    if fmt == "star":
        return read_star(path, strandedness)
    if fmt == "salmon":
        if tx2gene is None:
            raise InputError(None, "salmon quant.sf input needs `rnaseq.tx2gene` in the config")
        return read_salmon(path, tx2gene, tx2gene_path)
    raise InputError(None, f"unknown per-sample count format {fmt!r}")


def guess_format(path: str | Path) -> str:
    """The format of a per-sample counts file.

    Parameters
    ----------
    path
        The file; its name (``quant.sf``, ``ReadsPerGene``) decides, else its first line.

    Returns
    -------
    str
        ``featurecounts``, ``salmon`` or ``star``.

    Raises
    ------
    InputError
        When neither the name nor the first line tells.
    """
    name = Path(path).name.lower().removesuffix(".gz")
    if name.endswith("quant.sf") or name.endswith(".sf"):
        return "salmon"
    if "readspergene" in name:
        return "star"
    with open_text(path) as handle:
        first = handle.readline()
    if first.startswith("# Program:featureCounts") or first.startswith("Geneid"):
        return "featurecounts"
    if first.startswith("Name\tLength\tEffectiveLength"):
        return "salmon"
    if first.startswith("N_unmapped"):
        return "star"
    raise InputError(
        path, "cannot tell the count format; set rnaseq.sample_format (featurecounts|salmon|star)"
    )


def combine_samples(per_sample: Mapping[str, pd.Series]) -> pd.DataFrame:
    """The genes x samples matrix of per-sample counts.

    Parameters
    ----------
    per_sample
        sample -> count per gene; every sample must list the same genes.

    Returns
    -------
    pandas.DataFrame
        Genes (the first sample's order, index ``gene``) x samples (in the given order), int64.

    Raises
    ------
    InputError
        For no samples, or a sample whose genes differ from the first's (how many and examples).
    """
    samples = list(per_sample)
    if not samples:
        raise InputError(None, "no RNA samples")
    first = per_sample[samples[0]]
    for sample in samples[1:]:
        other = per_sample[sample]
        if len(other) != len(first) or not other.index.isin(first.index).all():
            missing = first.index.difference(other.index)
            extra = other.index.difference(first.index)
            raise InputError(
                None,
                f"sample {sample} has different genes from {samples[0]} "
                f"({len(missing)} missing, {len(extra)} extra, e.g. "
                f"{(list(missing[:3]) + list(extra[:3]))}); use one annotation for all samples",
            )
    matrix = pd.DataFrame({sample: per_sample[sample].reindex(first.index) for sample in samples})
    matrix.index.name = "gene"
    return matrix.astype(np.int64)


def sample_counts(
    path: str | Path,
    fmt: str,
    strandedness: str,
    tx2gene: str | None,
    patient: str = "",
    site: str = "",
) -> tuple[pd.Series, Exclusions]:
    """One sample's gene counts from its featureCounts / salmon / STAR file (step
    ``sample_counts``).

    Parameters
    ----------
    path
        The per-sample file (the sheet's `rna` cell).
    fmt
        ``auto``, ``featurecounts``, ``salmon`` or ``star`` (config ``rnaseq.sample_format``).
    strandedness
        STAR's ReadsPerGene column: ``none``, ``yes`` or ``reverse``.
    tx2gene
        Transcript -> gene table for salmon (None otherwise).
    patient, site
        The sample's patient and site, for the exclusion rows.

    Returns
    -------
    (pandas.Series, Exclusions)
        Count per gene (index ``gene``), and the salmon transcripts missing from tx2gene, one
        row each with its reads (empty for the other formats).
    """
    if fmt == "auto":
        fmt = guess_format(path)
    mapping = read_tx2gene(tx2gene) if (fmt == "salmon" and tx2gene) else None
    series = read_sample_counts(path, fmt, strandedness, mapping, tx2gene)
    log.info("%s: %s format, %d genes, %d reads", path, fmt, len(series), int(series.sum()))
    excluded = Exclusions("sample_counts")
    unmapped = series.attrs.get("unmapped_transcripts")
    if unmapped is not None:
        for transcript, reads in zip(unmapped["transcript"], unmapped["reads"], strict=True):
            reason = f"salmon transcript not in tx2gene {tx2gene} ({reads:g} reads): dropped"
            excluded.add("transcript", transcript, reason, patient, site)
    return series, excluded


def cohort_counts(
    design: pd.DataFrame, matrix: str | None = None, per_sample: Sequence[str | Path] = ()
) -> tuple[pd.DataFrame, Exclusions]:
    """The cohort counts matrix from a matrix file or the per-sample count tables (step
    ``counts``).

    Parameters
    ----------
    design
        The RNA samples (sample, patient, site), in sheet order.
    matrix
        The cohort matrix (config ``rnaseq.counts``), or None for per-sample tables.
    per_sample
        The per-sample ``gene, count`` tables written by the ``rnaseq_sample_counts`` rule, one
        per row of `design` in the same order (used when `matrix` is None).

    Returns
    -------
    (pandas.DataFrame, Exclusions)
        Genes x samples int64 counts (samples in `design` order), and the matrix columns left
        out because they are not sheet samples.

    Raises
    ------
    InputError
        When a sample has no counts at all (or any error of the readers).
    """
    samples = design["sample"].tolist()
    excluded = Exclusions("counts")
    if matrix:
        counts = read_matrix(matrix, samples)
        for column in counts.attrs.get("ignored_columns", []):
            excluded.add("sample", column, f"column of {matrix} that is not a sheet sample")
    else:
        series = {
            sample: read_tsv(path, dtype={"gene": str}).set_index("gene")["count"]
            for sample, path in zip(samples, per_sample, strict=True)
        }
        counts = combine_samples(series)
    empty = counts.columns[counts.sum(axis=0) == 0].tolist()
    if empty:
        raise InputError(matrix, f"sample(s) with no counts at all: {', '.join(empty)}")
    log.info("counts: %d genes x %d samples", *counts.shape)
    return counts, excluded
