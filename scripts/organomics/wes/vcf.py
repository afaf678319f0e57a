"""Streaming somatic VCF reader (cyvcf2): Mutect2/Strelka2, multi-allelic split, CSQ/ANN pick."""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import re
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import ClassVar

from cyvcf2 import VCF

from organomics.errors import InputError
from organomics.tables import open_bytes
from organomics.wes.annotation import EMPTY, AnnPicker, CsqPicker, parse_format
from organomics.wes.filter_column import PassRecords, copy_pass_records, mostly_failing

log = logging.getLogger(__name__)

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
NORMAL_NAMES = {"normal"}  # Strelka2 names its columns NORMAL and TUMOR


@dataclass(frozen=True)
class Filters:
    """Per-variant filters; the defaults are the schema's (tests/test_defaults.py checks)."""

    SCHEMA_SECTION: ClassVar[str] = "wes.filters"
    pass_only: bool = True
    min_tumor_depth: int = 10
    min_tumor_alt: int = 3
    min_vaf: float = 0.05

    @classmethod
    def from_config(cls, block: dict | None) -> Filters:
        """The filters of a config ``wes.filters`` block (missing keys take the defaults)."""
        block = block or {}
        return cls(**{k: block[k] for k in cls.__dataclass_fields__ if k in block})


# Columns of a per-sample variant row, in order (see Row in `read_vcf`).
ROW_FIELDS = (
    "chrom",
    "pos",
    "ref",
    "alt",
    "filter",
    "depth",
    "alt_count",
    "vaf",
    "gene",
    "consequence",
    "hgvsp",
)


def check_gzip_complete(path: str) -> None:
    """Check that a bgzipped file ends with the BGZF EOF block; without it the file was cut short.

    A truncated VCF would otherwise read as a valid one with fewer records (a silently low TMB).
    Plain files and plain gzip (which has no EOF block) pass unchecked.

    Parameters
    ----------
    path
        A VCF, plain, gzipped or bgzipped.

    Raises
    ------
    InputError
        When a BGZF file lacks its end-of-file block.
    """
    with open(path, "rb") as handle:
        head = handle.read(18)
        if head[:2] != b"\x1f\x8b":
            return
        # BGZF = gzip with FEXTRA and a 'BC' subfield; plain gzip has no EOF block to check
        if not (head[3] & 4 and head[12:14] == b"BC"):
            return
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - len(BGZF_EOF)))
        if handle.read() != BGZF_EOF:
            raise InputError(path, "truncated bgzip file (no BGZF end-of-file block)")


def file_header(path: str) -> str | None:
    """The header lines exactly as the file has them, the #CHROM line included.

    htslib rewrites the header it hands to cyvcf2 (`raw_header` gains a
    ``##FILTER=<ID=PASS>`` line when the file has none), so only the file's own lines give
    the line numbers that error messages quote.

    Parameters
    ----------
    path
        A plain or (b)gzipped VCF.

    Returns
    -------
    str or None
        The header text; None when the file has no '#' lines (a BCF).

    Raises
    ------
    InputError
        When the compressed stream ends or breaks inside the header.
    """
    lines = []
    try:
        with open_bytes(path) as handle:
            for line in handle:
                if not line.startswith(b"#"):
                    break
                lines.append(line)
    except (OSError, EOFError, zlib.error) as err:
        raise InputError(
            path,
            f"cannot read the VCF header ({err}); truncated or corrupt file?",
            row=len(lines) + 1,
        ) from None
    return b"".join(lines).decode("utf-8", "replace") if lines else None


def header_values(raw_header: str, key: str) -> list[str]:
    """Values of the '##key=value' lines of a VCF header.

    Parameters
    ----------
    raw_header
        The header text (`file_header`).
    key
        The meta-information key, e.g. ``"tumor_sample"``.

    Returns
    -------
    list of str
        The stripped values, in header order; empty when no line has the key.
    """
    prefix = f"##{key}="
    return [
        line[len(prefix) :].strip() for line in raw_header.splitlines() if line.startswith(prefix)
    ]


def choose_tumour(path: str, samples: list[str], raw_header: str, wes_id: str = "") -> str:
    """Pick the VCF's tumour column.

    The '##tumor_sample=' header line decides, unless `wes_id` names another sample column (several
    sheet rows may share a multi-sample VCF); else `wes_id`; else the only column that is neither a
    '##normal_sample=' nor named like a normal (NORMAL_NAMES).

    Parameters
    ----------
    path
        The VCF, named in errors.
    samples
        The sample columns of the #CHROM line.
    raw_header
        The header text as in the file (its last line is #CHROM, whose number errors quote).
    wes_id
        The sheet's wes_id, or "".

    Returns
    -------
    str
        The tumour sample column's name.

    Raises
    ------
    InputError
        When the VCF has no sample columns, `wes_id` is not one of them, several ##tumor_sample
        lines leave the choice open, or no single column is left.
    """
    chrom_line = raw_header.count("\n") or None  # the #CHROM line closes the header
    if not samples:
        raise InputError(
            path,
            "VCF has no FORMAT and sample columns, so no tumour column to read",
            row=chrom_line,
            column="FORMAT",
        )
    declared = [s for s in header_values(raw_header, "tumor_sample") if s in samples]
    if len(declared) == 1:
        if wes_id and wes_id != declared[0] and wes_id in samples:
            # several sheet rows may share a multi-sample VCF: the sheet's choice wins
            return wes_id
        return declared[0]
    if wes_id:
        if wes_id in samples:
            return wes_id
        raise InputError(
            path,
            f"wes_id {wes_id!r} is not a sample column of the #CHROM line (the sheet's wes_id "
            f"must name the tumour column); columns: {', '.join(samples)}",
            row=chrom_line,
        )
    if len(declared) > 1:
        raise InputError(
            path,
            f"several ##tumor_sample lines ({', '.join(declared)}); set wes_id in the sample sheet",
            row=chrom_line,
        )
    normals = set(header_values(raw_header, "normal_sample"))
    candidates = [s for s in samples if s not in normals and s.lower() not in NORMAL_NAMES]
    if len(candidates) == 1:
        return candidates[0]
    raise InputError(
        path,
        "cannot tell which column is the tumour (no ##tumor_sample header, no wes_id, "
        f"columns: {', '.join(samples)}); set wes_id in the sample sheet",
        row=chrom_line,
    )


def _annotation_picker(path: str, vcf: VCF, header_text: str):
    for key, cls in (("CSQ", CsqPicker), ("ANN", AnnPicker)):
        try:
            description = vcf.get_header_type(key)["Description"]
        except KeyError:
            continue
        fields = parse_format(description)
        line = header_line_number(header_text, f"##INFO=<ID={key},")
        if key == "CSQ" and "Consequence" not in fields:
            raise InputError(
                path,
                "the CSQ header lacks a 'Consequence' field (Format: "
                f"{'|'.join(fields) or '?'}); re-run VEP with the default fields",
                column="INFO/CSQ",
                row=line,
            )
        if key == "ANN" and not fields:
            raise InputError(
                path, "the ANN header has no 'Format' field list", row=line, column="INFO/ANN"
            )
        return key, cls(fields)
    return None, None


def _declared_types(vcf: VCF) -> dict[tuple[str, str], str]:
    """{("INFO" or "FORMAT", ID): Type} of the header's INFO and FORMAT lines."""
    types = {}
    for h in vcf.header_iter():
        info = h.info()
        if info.get("HeaderType") in ("INFO", "FORMAT"):
            types[(info["HeaderType"], info["ID"])] = info.get("Type", "String")
    return types


@dataclass
class VcfHeader:
    """An open VCF and what its header says about how to read it."""

    vcf: VCF
    tumour: str
    tumour_index: int
    samples: list[str]
    header_text: str
    types: dict[tuple[str, str], str]
    key: str | None
    picker: CsqPicker | AnnPicker | None
    header_lines: int
    strelka_snv: bool
    strelka_indel: bool
    has_ad: bool
    has_dp: bool
    af_key: str | None


def open_vcf(path: str, wes_id: str = "", threads: int = 1) -> VcfHeader:
    """Open a VCF and check its header: complete bgzip, tumour column, annotation, read counts.

    Parameters
    ----------
    path
        A VCF (plain, gzipped or bgzipped) or BCF.
    wes_id
        The sheet's wes_id to pick the tumour column, or "" (see `choose_tumour`).
    threads
        More than 1 adds htslib decompression threads.

    Returns
    -------
    VcfHeader
        The open cyvcf2 reader and what the header says about how to read its records; the caller
        closes ``vcf``.

    Raises
    ------
    InputError
        For an empty (0-byte) or truncated file, a header cyvcf2 cannot read, no usable tumour
        column, an unusable annotation header, or no read-count FORMAT fields (AD, or Strelka2's
        AU..TU/TIR).
    """
    if os.path.getsize(path) == 0:
        raise InputError(
            path,
            "empty file (0 bytes); a sample without calls needs the caller's VCF with its "
            "header and no records (TMB 0)",
            row=1,
        )
    check_gzip_complete(path)
    try:
        vcf = VCF(path, threads=threads if threads > 1 else None, lazy=True)
    except Exception as err:  # cyvcf2 raises bare Exception on a bad header
        raise InputError(path, f"cannot open as VCF: {err}") from None
    samples = list(vcf.samples)
    try:
        raw = file_header(path) or vcf.raw_header  # line numbers as in the file
        tumour = choose_tumour(path, samples, raw, wes_id)
        key, picker = _annotation_picker(path, vcf, raw)
    except InputError:
        vcf.close()
        raise
    types = _declared_types(vcf)
    fmt = {name for kind, name in types if kind == "FORMAT"}
    header = VcfHeader(
        vcf=vcf,
        tumour=tumour,
        tumour_index=samples.index(tumour),
        samples=samples,
        header_text=raw,
        types=types,
        key=key,
        picker=picker,
        header_lines=raw.count("\n"),
        strelka_snv={"AU", "CU", "GU", "TU"} <= fmt,
        strelka_indel={"TIR", "TAR"} <= fmt,
        has_ad="AD" in fmt,
        has_dp="DP" in fmt,
        af_key="AF" if "AF" in fmt else ("FA" if "FA" in fmt else None),
    )
    if not (header.has_ad or header.strelka_snv or header.strelka_indel):
        vcf.close()
        raise InputError(
            path,
            "no read counts: the header declares no FORMAT AD (Mutect2) or AU..TU/TIR (Strelka2)",
            row=header.header_lines,
            column="FORMAT",
        )
    return header


def header_line_number(raw_header: str, prefix: str) -> int | None:
    """1-based line number of the first header line starting with `prefix`, for error messages.

    Parameters
    ----------
    raw_header
        The header text as in the file (`file_header`), so that numbers match the file's lines.
    prefix
        The start of the line, e.g. ``"##INFO=<ID=CSQ,"``.

    Returns
    -------
    int or None
        The line number; None when no line starts with `prefix`.
    """
    for number, line in enumerate(raw_header.splitlines(), start=1):
        if line.startswith(prefix):
            return number
    return None


INTEGER = re.compile(r"[+-]?\d+")


def _value_problem(value: str, kind: str) -> str | None:
    """Why one INFO or FORMAT value (','-separated) does not fit its header Type, or None."""
    for item in value.split(","):
        if item in ("", "."):  # missing
            continue
        if kind == "Integer" and not INTEGER.fullmatch(item):
            return f"{value!r} is not an Integer (header Type=Integer)"
        if kind == "Float":
            try:
                float(item)
            except ValueError:
                return f"{value!r} is not a Float (header Type=Float)"
    return None


def record_problem(path: str, line_no: int, header: VcfHeader) -> tuple[str | None, str | None]:
    """Why htslib could not parse the record on file line `line_no`, read from the text.

    Parameters
    ----------
    path
        The VCF (plain or bgzip).
    line_no
        1-based file line of the record.
    header
        The open file's header (sample columns, INFO/FORMAT Types).

    Returns
    -------
    tuple
        (field, reason): the field as 'POS', 'QUAL', 'INFO/ID' or 'FORMAT/ID' (None when the
        problem is the line as a whole) and the reason; (None, None) when the text shows
        nothing wrong (a BCF, or a problem only htslib sees).
    """
    try:
        with open_bytes(path) as handle:
            line = next(islice(handle, line_no - 1, None), None)
            following = next(handle, None)
            if isinstance(handle, gzip.GzipFile) and following is not None:
                # htslib reads ahead: a cut or corrupt stream can stop it lines before the cut
                for _ in handle:
                    pass
    except (OSError, EOFError, zlib.error) as err:
        return None, f"the compressed data is cut short or corrupt ({err}); truncated file?"
    if line is None or line.startswith(b"#"):
        return None, None
    if following is None and not line.endswith(b"\n"):
        return None, "the file ends inside this line: truncated?"
    fields = line.decode("utf-8", "replace").rstrip("\r\n").split("\t")
    n_columns = 9 + len(header.samples) if header.samples else 8
    if len(fields) != n_columns:
        return None, f"{len(fields)} tab-separated fields where the #CHROM line has {n_columns}"
    where = f"{fields[0]}:{fields[1]}"
    if not INTEGER.fullmatch(fields[1]):
        return "POS", f"POS {fields[1]!r} is not an integer"
    if _value_problem(fields[5], "Float"):
        return "QUAL", f"{where}: QUAL {fields[5]!r} is not a number"
    for item in fields[7].split(";"):
        key, _, value = item.partition("=")
        problem = _value_problem(value, header.types.get(("INFO", key), "String"))
        if problem:
            return f"INFO/{key}", f"{where}: {problem}"
    keys = fields[8].split(":")
    for sample, cell in zip(header.samples, fields[9:], strict=True):
        for key, value in zip(keys, cell.split(":"), strict=False):
            problem = _value_problem(value, header.types.get(("FORMAT", key), "String"))
            if problem:
                return f"FORMAT/{key}", f"{where}, sample {sample}: {problem}"
    return None, None


def check_vcf(path: str, wes_id: str = "", require_annotation: bool = False) -> bool:
    """Header-only checks, cheap enough to run on every sample before any job starts.

    Parameters
    ----------
    path
        The VCF (plain, bgzip or BCF).
    wes_id
        The sheet's tumour column name ("" = from the header).
    require_annotation
        Raise when the header has neither a VEP ``CSQ`` nor a SnpEff ``ANN`` INFO line: TMB
        counts non-synonymous variants, which an unannotated VCF cannot tell.

    Returns
    -------
    bool
        True when the VCF carries CSQ or ANN annotation.
    """
    header = open_vcf(path, wes_id)
    raw = header.header_text
    header.vcf.close()
    if header.key is None and require_annotation:
        eff = header_line_number(raw, "##INFO=<ID=EFF,")
        hint = (
            "its INFO/EFF is SnpEff's pre-4.1 format, not read here: re-run SnpEff (ANN)"
            if eff
            else "annotate it with VEP (--vcf) or SnpEff"
        )
        raise InputError(
            path,
            "no INFO/CSQ (VEP) or INFO/ANN (SnpEff) header line, so non-synonymous variants "
            f"(TMB) cannot be told apart; {hint}, or set wes.allow_unannotated: true "
            "(TMB is then left empty for this sample)",
            row=eff or raw.count("\n"),
            column="INFO/CSQ",
        )
    return header.key is not None


def _pass_only_vcf(path: str) -> tuple[VCF, str, PassRecords]:
    """cyvcf2 reader of a scratch plain VCF holding the file's header and PASS records."""
    handle, scratch = tempfile.mkstemp(prefix="organomics-", suffix=".vcf")
    try:
        with os.fdopen(handle, "wb") as out:
            records = copy_pass_records(path, out)
        return VCF(scratch, lazy=True), scratch, records
    except InputError:
        os.unlink(scratch)
        raise
    except Exception as err:  # the header opened once already; kept for a clear message
        os.unlink(scratch)
        raise InputError(path, f"cannot open as VCF: {err}") from None


def _close(vcf: VCF, scratch: str | None) -> None:
    """Close a reader and delete its scratch file, if it has one."""
    vcf.close()
    if scratch is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)


def _file_line(records: PassRecords | None, header_lines: int, nth: int) -> int:
    """The file line of the `nth` record read (1-based), through the prefilter if there is one."""
    if records is None:
        return header_lines + nth
    if nth <= len(records.line_numbers):
        return records.line_numbers[nth - 1]
    return (records.line_numbers[-1] if records.line_numbers else header_lines) + 1


def read_vcf(
    path: str,
    filters: Filters | None = None,
    wes_id: str = "",
    counts: Counter | None = None,
    threads: int = 1,
) -> Iterator[tuple]:
    """Yield one tuple (ROW_FIELDS) per ALT allele that passes FILTER, depth, alt reads and VAF.

    Streams the file record by record; with ``pass_only``, a text VCF whose first records mostly
    fail FILTER goes through `organomics.wes.filter_column` first, so that htslib parses only its
    PASS records (the others are counted from their text).

    Mutect2: depth = FORMAT DP (else the sum of AD), alt reads = AD of the allele, VAF = FORMAT AF
    (MuTect1: FA; else AD ratio). Strelka2: tier-1 counts, SNV VAF = {ALT}U/({ALT}U+{REF}U),
    indel VAF = TIR/(TIR+TAR).

    Parameters
    ----------
    path
        The VCF (plain, gzipped or bgzipped) or BCF.
    filters
        Depth, alt-read, VAF and FILTER thresholds; the defaults of `Filters` when None.
    wes_id
        The sheet's wes_id to pick the tumour column, or "" (see `choose_tumour`).
    counts
        If given, gains the number of alleles read and of alleles failing each filter ('filter',
        'depth', 'alt_reads', 'vaf', 'symbolic'), in that order of checking.
    threads
        More than 1 adds htslib decompression threads.

    Returns
    -------
    Iterator[tuple]
        One tuple per passing allele with the fields of ROW_FIELDS (gene, consequence and hgvsp
        empty without CSQ/ANN annotation).

    Raises
    ------
    InputError
        For a header `open_vcf` rejects, or a record whose values do not fit the header (naming
        its line and field).
    """
    counts = Counter() if counts is None else counts
    filters = filters or Filters()
    h = open_vcf(path, wes_id, threads)
    pass_only = filters.pass_only
    vcf, scratch, prefiltered = h.vcf, None, None
    if pass_only and mostly_failing(path):
        # records failing FILTER are counted from their text, and only PASS records are parsed
        h.vcf.close()
        vcf, scratch, prefiltered = _pass_only_vcf(path)
    ti, key, picker, tumour = h.tumour_index, h.key, h.picker, h.tumour
    header_lines, has_dp, af_key = h.header_lines, h.has_dp, h.af_key
    strelka_snv, strelka_indel, has_ad = h.strelka_snv, h.strelka_indel, h.has_ad
    if picker is None:
        log.warning("%s: no CSQ/ANN annotation; genes and consequences will be empty", path)
    log.info("%s: tumour column %s, annotation %s", path, tumour, key or "none")

    min_depth, min_alt = filters.min_tumor_depth, filters.min_tumor_alt
    # FORMAT AF is float32: 0.05 in the file must pass min_vaf 0.05 whatever its binary rounding
    min_vaf = filters.min_vaf - 1e-7
    n_records = n_filter_dot = 0
    n_filter = n_depth = n_alt_reads = n_vaf = n_symbolic = n_alleles = 0
    pick = picker.pick if picker is not None else None
    mutect = not (strelka_snv or strelka_indel) or has_ad
    # one try around the loop (not around each next()): htslib parse and decompression
    # failures surface from cyvcf2 as a bare Exception at the failing record
    try:
        for v in vcf:
            n_records += 1
            alts = v.ALT
            n_alt = len(alts)
            n_alleles += n_alt
            # FILTERS, not FILTER: FILTER gives None for both PASS and '.', and joins the names
            # in a generator; the list is 0.2 s cheaper per million records (most are filtered)
            filters = v.FILTERS
            filt = ";".join(filters) if filters else "."
            n_filter_dot += not filters
            if pass_only and filt != "PASS":
                n_filter += n_alt
                continue
            ref = v.REF
            try:
                if mutect:
                    ad = v.format("AD")
                    if ad is None:
                        n_depth += n_alt
                        continue
                    ad = [x if x > 0 else 0 for x in ad[ti].tolist()]  # missing = large negative
                    total = sum(ad)
                    depth = total
                    if has_dp:
                        dp = v.format("DP")
                        if dp is not None:
                            dp = dp.item(ti)  # shape (samples, 1); a Python int
                            if dp >= 0:
                                depth = dp
                    if depth < min_depth:
                        n_depth += n_alt
                        continue
                    alt_counts = ad[1 : n_alt + 1]
                    if len(alt_counts) < n_alt:
                        alt_counts += [0] * (n_alt - len(alt_counts))
                    afs = v.format(af_key) if af_key else None
                    if afs is not None:
                        afs = afs[ti].tolist()
                    if afs is not None and afs[0] == afs[0]:  # not NaN
                        vafs = afs
                        if n_alt > 1:  # an allele without AF falls back to its AD ratio
                            vafs = [
                                f if f == f else (c / total if total else 0.0)
                                for f, c in zip(afs, alt_counts, strict=False)
                            ]
                    else:
                        vafs = [a / total if total else 0.0 for a in alt_counts]
                elif strelka_snv and v.is_snp:
                    tier1 = {b: int(v.format(f"{b}U")[ti, 0]) for b in "ACGT"}
                    ref_u = tier1.get(ref, 0)
                    alt_counts = [tier1.get(a, 0) for a in alts]
                    depth = int(v.format("DP")[ti, 0]) if has_dp else ref_u + sum(alt_counts)
                    vafs = [a / (a + ref_u) if a + ref_u > 0 else 0.0 for a in alt_counts]
                elif strelka_indel:
                    tir = int(v.format("TIR")[ti, 0])
                    tar = int(v.format("TAR")[ti, 0])
                    alt_counts = [tir] * n_alt
                    depth = int(v.format("DP")[ti, 0]) if has_dp else tir + tar
                    vafs = [tir / (tir + tar) if tir + tar > 0 else 0.0] * n_alt
                else:
                    n_depth += n_alt
                    continue
            except (IndexError, TypeError, ValueError) as err:
                raise InputError(
                    path,
                    f"bad FORMAT values for {tumour}: {err}",
                    row=_file_line(prefiltered, header_lines, n_records),
                ) from None
            if depth < min_depth:
                n_depth += n_alt
                continue
            annotation_text = None
            for i in range(n_alt):
                alt = alts[i]
                if alt == "*" or alt == "." or alt[:1] == "<":
                    n_symbolic += 1
                    continue
                if alt_counts[i] < min_alt:
                    n_alt_reads += 1
                    continue
                vaf = vafs[i]
                if not vaf >= min_vaf:  # also catches NaN
                    n_vaf += 1
                    continue
                if pick is not None and annotation_text is None:
                    annotation_text = v.INFO.get(key) or ""
                ann = pick(annotation_text, ref, alts, i) if annotation_text else EMPTY
                yield (v.CHROM, v.POS, ref, alt, filt, depth, alt_counts[i], vaf, *ann)
    except Exception as err:
        if type(err) is not Exception:
            raise
        line_no = _file_line(prefiltered, header_lines, n_records + 1)
        field, problem = record_problem(path, line_no, h)
        message = (
            f"cannot parse the VCF record: {problem}"
            if problem
            else f"cannot parse the VCF record ({err}); truncated or malformed file?"
        )
        raise InputError(path, message, row=line_no, column=field) from None
    finally:  # also when the caller stops reading early
        _close(vcf, scratch)
    if prefiltered is not None:
        n_records = prefiltered.n_records
        n_filter_dot = prefiltered.n_filter_dot
        n_alleles += prefiltered.n_failed_alleles
        n_filter += prefiltered.n_failed_alleles
    counts["alleles"] += n_alleles
    counts["filter"] += n_filter
    counts["depth"] += n_depth
    counts["alt_reads"] += n_alt_reads
    counts["vaf"] += n_vaf
    counts["symbolic"] += n_symbolic
    counts["records"] += n_records
    if pass_only and n_records and n_filter_dot == n_records:
        log.warning(
            "%s: every FILTER is '.', so no variant passes pass_only (unfiltered Mutect2 calls? "
            "run FilterMutectCalls, or set wes.filters.pass_only: false)",
            path,
        )
