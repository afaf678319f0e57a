"""Demo WES layer: Mutect2 VCFs with VEP CSQ (and traps), capture BED, pVACseq, purity, segments,
a reference FASTA of chr17-22."""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

CHROMS = [str(c) for c in range(1, 23)]
CHROM_LENGTHS = {  # GRCh38 primary assembly
    "1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555, "5": 181538259,
    "6": 170805979, "7": 159345973, "8": 145138636, "9": 138394717, "10": 133797422,
    "11": 135086622, "12": 133275309, "13": 114364328, "14": 107043718, "15": 101991189,
    "16": 90338345, "17": 83257441, "18": 80373285, "19": 58617616, "20": 64444167,
    "21": 46709983, "22": 50818468,
}  # fmt: skip
DRIVERS = ["TP53", "KRAS", "EGFR", "STK11", "KEAP1", "SMARCA4", "NF1", "BRAF", "ERBB2", "MET"]
PASSENGERS = ["TTN", "MUC16", "CSMD3", "RYR2", "LRP1B", "USH2A", "ZFHX4", "SPTA1", "FAT3"]
CSQ_FIELDS = (
    "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|HGVSc|HGVSp|CANONICAL"
)
FILTER_HEADER = """##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=weak_evidence,Description="Mutation does not meet likelihood threshold">
##FILTER=<ID=germline,Description="Evidence indicates this site is germline, not somatic">
##FILTER=<ID=normal_artifact,Description="artifact_in_normal">
##FILTER=<ID=strand_bias,Description="Evidence indicates this site is strand bias artifact">"""
HEADER = """##fileformat=VCFv4.2
{filters}
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles in the order listed">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles in the tumor">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth (reads with MQ=255 or with bad mates are filtered)">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth; some reads may have been filtered">
##INFO=<ID=TLOD,Number=A,Type=Float,Description="Log 10 likelihood ratio score of variant existing versus not existing">
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: {csq}">
##MutectVersion=2.2
##source=Mutect2
##normal_sample={normal}
##tumor_sample={tumour}
##VEP="v110" time="2024-01-01 00:00:00" assembly="GRCh38.p14"
{contigs}
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{normal}\t{tumour}
"""  # noqa: E501
AMINO = "ACDEFGHIKLMNPQRSTVWY"
MAX_CAPTURE_MB = 45.0  # a full exome capture; larger --variants pads with filtered calls
BASES = "ACGT"


def vcf_header(tumour: str, normal: str) -> str:
    contigs = "\n".join(
        f"##contig=<ID=chr{c},length={CHROM_LENGTHS[c]},assembly=GRCh38>" for c in CHROMS
    )
    return HEADER.format(
        filters=FILTER_HEADER, csq=CSQ_FIELDS, normal=normal, tumour=tumour, contigs=contigs
    )


@dataclass
class Capture:
    """Synthetic exon-like capture intervals grouped into genes (0-based half-open)."""

    chrom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    gene: np.ndarray
    genes: list[str] = field(default_factory=list)

    @property
    def size_mb(self) -> float:
        return float((self.end - self.start).sum()) / 1e6


def make_capture(rng: np.random.Generator, size_mb: float) -> Capture:
    """Exon-like intervals (200-1000 bp, 10 per gene) spread over chr1-22."""
    n = max(50, int(size_mb * 1e6 / 600))
    lengths = rng.integers(200, 1001, n)
    per_chrom = np.array([CHROM_LENGTHS[c] for c in CHROMS], dtype=float)
    chrom_idx = np.sort(rng.choice(len(CHROMS), n, p=per_chrom / per_chrom.sum()))
    starts = np.empty(n, dtype=np.int64)
    for i in range(len(CHROMS)):
        sel = np.flatnonzero(chrom_idx == i)
        if len(sel):
            # evenly spaced exons with jitter: never overlapping, sorted
            step = (CHROM_LENGTHS[CHROMS[i]] - 2_000_000) // len(sel)
            base = 1_000_000 + np.arange(len(sel)) * step
            starts[sel] = base + rng.integers(0, max(1, step - 400), len(sel))
    n_genes = (n + 9) // 10
    names = DRIVERS + PASSENGERS + [f"GENE{i:04d}" for i in range(n_genes)]
    order = rng.permutation(n_genes)  # drivers land anywhere in the genome
    genes = np.array([names[order[i // 10]] for i in range(n)], dtype=object)
    chrom = np.array([CHROMS[i] for i in chrom_idx], dtype=object)
    return Capture(chrom, starts, starts + lengths, genes, sorted(set(genes)))


def _gzip_text(path: Path):
    """Text handle on a gzip file without a timestamp, so the demo is byte-identical per seed."""
    return io.TextIOWrapper(gzip.GzipFile(path, "wb", compresslevel=9, mtime=0), newline="")


def write_bed(path: Path, capture: Capture) -> None:
    with _gzip_text(path) as handle:
        handle.write('track name="demo_capture" description="synthetic exome capture (demo)"\n')
        for c, s, e, g in zip(capture.chrom, capture.start, capture.end, capture.gene, strict=True):
            handle.write(f"chr{c}\t{s}\t{e}\t{g}\n")


@dataclass
class Mutation:
    chrom: str
    pos: int
    ref: str
    alt: str
    gene: str
    consequence: str
    canonical_consequence: str  # what the canonical transcript says (traps differ here)
    hgvsp: str


def _protein_change(rng: np.random.Generator, consequence: str) -> str:
    a, b = rng.choice(list(AMINO), 2, replace=False)
    pos = int(rng.integers(10, 900))
    if consequence == "stop_gained":
        return f"p.{a}{pos}Ter"
    if consequence == "synonymous_variant":
        return f"p.{a}{pos}="
    if consequence == "frameshift_variant":
        return f"p.{a}{pos}fs"
    if consequence == "inframe_deletion":
        return f"p.{a}{pos}del"
    return f"p.{a}{pos}{b}"


CONSEQUENCES = (
    ("missense_variant", 0.55),
    ("synonymous_variant", 0.2),
    ("stop_gained", 0.06),
    ("frameshift_variant", 0.05),
    ("inframe_deletion", 0.02),
    ("splice_region_variant&intron_variant", 0.04),
    ("3_prime_UTR_variant", 0.04),
    ("splice_donor_variant", 0.04),
)


def random_mutations(
    rng: np.random.Generator, capture: Capture, n: int, driver_genes: list[str] = ()
) -> list[Mutation]:
    """n on-target somatic mutations, SBS weighted towards smoking-like C>A and C>T."""
    terms = [t for t, _ in CONSEQUENCES]
    weights = np.array([w for _, w in CONSEQUENCES])
    out = []
    gene_index = {g: np.flatnonzero(capture.gene == g) for g in driver_genes}
    for k in range(n):
        if k < len(driver_genes) and len(gene_index[driver_genes[k]]):
            i = int(rng.choice(gene_index[driver_genes[k]]))
            term = "missense_variant"
        else:
            i = int(rng.integers(len(capture.start)))
            term = str(rng.choice(terms, p=weights / weights.sum()))
        pos = int(rng.integers(capture.start[i], capture.end[i])) + 1
        if term == "frameshift_variant":
            ref = str(rng.choice(list(BASES)))
            if rng.random() < 0.5:
                ref, alt = ref + str(rng.choice(list(BASES))), ref  # 1-bp deletion
            else:
                alt = ref + str(rng.choice(list(BASES)))  # 1-bp insertion
        elif term == "inframe_deletion":
            ref = "".join(rng.choice(list(BASES), 4))
            alt = ref[0]
        else:
            # pyrimidine-strand substitution weighted like tobacco (C>A) + ageing (C>T)
            sub = str(rng.choice(["C>A", "C>G", "C>T", "T>A", "T>C", "T>G"],
                                 p=[0.35, 0.1, 0.3, 0.07, 0.1, 0.08]))  # fmt: skip
            ref, alt = sub.split(">")
            if rng.random() < 0.5:
                ref, alt = (
                    ref.translate(str.maketrans("ACGT", "TGCA")),
                    alt.translate(str.maketrans("ACGT", "TGCA")),
                )
        out.append(
            Mutation(
                capture.chrom[i], pos, ref, alt, capture.gene[i], term, term,
                _protein_change(rng, term),
            )
        )  # fmt: skip
    return out


def _vep_allele(ref: str, alt: str) -> str:
    if len(ref) != len(alt) and ref[0] == alt[0]:
        return alt[1:] or "-"
    return alt


def _csq_entries(m: Mutation, allele: str, rng: np.random.Generator) -> list[str]:
    gene_id = f"ENSG{zlib.crc32(m.gene.encode()) % 10**11:011d}"
    tx = int(rng.integers(10**10))
    canonical = (
        f"{allele}|{m.canonical_consequence}|MODERATE|{m.gene}|{gene_id}|Transcript|"
        f"ENST{tx:011d}|protein_coding|3/10|c.1A>G|{m.hgvsp}|YES"
    )
    differs = m.consequence != m.canonical_consequence
    other = (
        f"{allele}|{m.consequence if differs else 'intron_variant'}"
        f"|MODIFIER|{m.gene}|{gene_id}|Transcript|ENST{tx + 1:011d}|protein_coding|||"
        f"{m.hgvsp if differs else ''}|"
    )
    # the non-canonical transcript comes first so that "first entry" readers get it wrong
    return [other, canonical]


@dataclass
class Record:
    mutation: Mutation
    filter: str = "PASS"
    depth: int = 100
    alt_reads: int = 20
    extra_alt: tuple[str, int] | None = None  # a second ALT allele (multi-allelic trap)


def format_record(r: Record, rng: np.random.Generator) -> str:
    m = r.mutation
    alts = [m.alt] + ([r.extra_alt[0]] if r.extra_alt else [])
    alt_reads = [r.alt_reads] + ([r.extra_alt[1]] if r.extra_alt else [])
    ref_reads = max(0, r.depth - sum(alt_reads))
    ad = ",".join(str(x) for x in [ref_reads, *alt_reads])
    af = ",".join(f"{a / r.depth:.3f}" for a in alt_reads)
    normal_depth = int(rng.integers(30, 90))
    csq = []
    for alt in alts:
        if r.extra_alt and alt == r.extra_alt[0]:
            allele = alt if len(alt) == len(m.ref) else _vep_allele(m.ref, alt)
            csq.append(
                f"{allele}|synonymous_variant|LOW|{m.gene}|ENSG0|Transcript|ENST0|protein_coding"
                "|3/10|c.3A>G|p.=|YES"
            )
        else:
            allele = _vep_allele(m.ref, alt) if len(alts) == 1 else alt
            csq.extend(_csq_entries(m, allele, rng))
    gt_normal = "0/0" if len(alts) == 1 else "0/0"
    gt_tumour = "0/1" if len(alts) == 1 else "0/1/2"
    tlod = ",".join(f"{6 + a * 0.8:.2f}" for a in alt_reads)
    normal_ad = ",".join([str(normal_depth)] + ["0"] * len(alts))
    normal_af = ",".join(["0.010"] * len(alts))
    return (
        f"chr{m.chrom}\t{m.pos}\t.\t{m.ref}\t{','.join(alts)}\t.\t{r.filter}\t"
        f"DP={r.depth + normal_depth};TLOD={tlod};CSQ={','.join(csq)}\tGT:AD:AF:DP\t"
        f"{gt_normal}:{normal_ad}:{normal_af}:{normal_depth}\t{gt_tumour}:{ad}:{af}:{r.depth}\n"
    )


def write_vcf(
    path: Path,
    tumour: str,
    normal: str,
    records: list[Record],
    rng,
    padding: int = 0,
    padding_rng: np.random.Generator | None = None,
    capture: Capture | None = None,
) -> None:
    """Sorted, bgzipped Mutect2-style VCF; `padding` filtered calls are interleaved in order."""
    order = sorted(records, key=lambda r: (int(r.mutation.chrom), r.mutation.pos))
    lines = [format_record(record, rng) for record in order]
    plain = path.with_suffix("")  # strip .gz
    with open(plain, "w") as handle:
        handle.write(vcf_header(tumour, normal))
        if padding:
            keys = np.array([_sort_key(r.mutation.chrom, r.mutation.pos) for r in order])
            _write_with_padding(handle, lines, keys, padding, padding_rng, capture)
        else:
            handle.writelines(lines)
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()


def _sort_key(chrom, pos):
    """One sortable integer per (chromosome number, position); works on arrays too."""
    return np.asarray(chrom, dtype=np.int64) * 10**10 + np.asarray(pos, dtype=np.int64)


FILTERED = (  # FilterMutectCalls' commonest reasons on an exome, by rough frequency
    ("weak_evidence", 0.55), ("germline", 0.15), ("normal_artifact", 0.1),
    ("strand_bias", 0.1), ("weak_evidence;strand_bias", 0.1),
)  # fmt: skip
PADDING_CHUNK = 100_000


def _write_with_padding(handle, lines, keys, n, rng, capture) -> None:
    """Write `lines` (sorted by `keys`) merged with `n` generated non-PASS calls.

    An unfiltered exome call set is mostly calls that FilterMutectCalls rejects, on and off
    target; they make the VCF real-sized without changing any result, because readers drop
    them. Positions never coincide with a real record's.
    """
    lengths = np.array([CHROM_LENGTHS[c] for c in CHROMS], dtype=float)
    chrom = rng.choice(len(CHROMS), n + n // 100 + 10, p=lengths / lengths.sum())
    pos = (rng.random(len(chrom)) * lengths[chrom]).astype(np.int64) + 1
    pad_keys = np.unique(_sort_key(chrom + 1, pos))  # sorted, no duplicates
    pad_keys = pad_keys[~np.isin(pad_keys, keys)]
    pad_keys = np.sort(rng.choice(pad_keys, n, replace=False)) if len(pad_keys) > n else pad_keys
    # where each real record falls among the padding, so both streams stay sorted
    cut = np.searchsorted(pad_keys, keys)

    def write_padding(start: int, stop: int) -> None:  # in chunks: lines are built in memory
        for first in range(start, stop, PADDING_CHUNK):
            last = min(stop, first + PADDING_CHUNK)
            handle.writelines(_padding_lines(pad_keys[first:last], rng, capture))

    done = 0
    for line, stop in zip(lines, cut.tolist(), strict=True):
        write_padding(done, stop)
        handle.write(line)
        done = stop
    write_padding(done, len(pad_keys))


def _padding_lines(keys: np.ndarray, rng: np.random.Generator, capture: Capture) -> list[str]:
    """Mutect2 + VEP lines for filtered SNVs at `keys` (intronic CSQ in a capture gene)."""
    n = len(keys)
    chrom, pos = keys // 10**10, keys % 10**10
    ref_idx = rng.integers(0, 4, n)
    alt_idx = (ref_idx + rng.integers(1, 4, n)) % 4
    depth = rng.integers(10, 150, n)
    alt_reads = np.maximum(1, (depth * rng.beta(1.5, 12, n)).astype(int))
    normal = rng.integers(20, 90, n)
    flt = rng.choice([f for f, _ in FILTERED], n, p=[w for _, w in FILTERED])
    gene = rng.choice(capture.genes, n)
    tx = rng.integers(10**10, size=n)
    gene_ids = {g: f"ENSG{zlib.crc32(g.encode()) % 10**11:011d}" for g in set(gene.tolist())}
    return [
        f"chr{c}\t{p}\t.\t{BASES[r]}\t{BASES[a]}\t.\t{f}\tDP={d + nd};TLOD={1 + k * 0.5:.2f};"
        f"CSQ={BASES[a]}|intron_variant|MODIFIER|{g}|{gene_ids[g]}|Transcript|ENST{t:011d}|"
        f"protein_coding||||YES\tGT:AD:AF:DP\t0/0:{nd},0:0.010:{nd}\t"
        f"0/1:{d - k},{k}:{k / d:.3f}:{d}\n"
        for c, p, r, a, d, k, nd, f, g, t in zip(
            chrom.tolist(),
            pos.tolist(),
            ref_idx.tolist(),
            alt_idx.tolist(),
            depth.tolist(),
            alt_reads.tolist(),
            normal.tolist(),
            flt.tolist(),
            gene.tolist(),
            tx.tolist(),
            strict=True,
        )
    ]


def sample_records(
    rng: np.random.Generator, capture: Capture, mutations: list[Mutation], vaf_scale: float
) -> list[Record]:
    """Passing records for true mutations plus the traps a reader must handle."""
    records = []
    for m in mutations:
        depth = int(rng.integers(60, 250))
        vaf = float(np.clip(rng.beta(4, 10) * vaf_scale, 0.08, 0.9))
        records.append(Record(m, "PASS", depth, max(4, round(depth * vaf))))
    n = len(mutations)
    traps = random_mutations(rng, capture, max(6, n // 3))
    for k, m in enumerate(traps):
        kind = k % 6
        depth = int(rng.integers(60, 200))
        if kind == 0:  # rejected by Mutect2's filters
            flt = str(rng.choice(["weak_evidence", "germline", "normal_artifact", "strand_bias"]))
            records.append(Record(m, flt, depth, int(depth * 0.2)))
        elif kind == 1:  # low VAF (below 0.05) though PASS
            records.append(Record(m, "PASS", 200, 6))
        elif kind == 2:  # too shallow
            records.append(Record(m, "PASS", 8, 4))
        elif kind == 3:  # off-target: shifted outside the capture intervals (intronic)
            m.pos = m.pos + 5000
            m.consequence = m.canonical_consequence = "intron_variant"
            records.append(Record(m, "PASS", depth, int(depth * 0.25)))
        elif kind == 4:  # canonical synonymous; a non-canonical transcript says missense
            m.ref, m.alt = "C", "T"
            m.canonical_consequence, m.consequence = "synonymous_variant", "missense_variant"
            records.append(Record(m, "PASS", depth, int(depth * 0.3)))
        else:  # multi-allelic: second ALT with 2 reads (fails min_tumor_alt)
            if len(m.ref) == 1:
                other = next(b for b in BASES if b not in (m.ref, m.alt))
                records.append(Record(m, "PASS", depth, int(depth * 0.3), (other, 2)))
            else:
                records.append(Record(m, "PASS", depth, int(depth * 0.3)))
    return records


PVACSEQ_COLUMNS = [
    "Chromosome", "Start", "Stop", "Reference", "Variant", "Transcript", "Variant Type",
    "Mutation", "Protein Position", "Gene Name", "HLA Allele", "Peptide Length",
    "Sub-peptide Position", "Mutation Position", "MT Epitope Seq", "WT Epitope Seq",
    "Best MT IC50 Score Method", "Best MT IC50 Score", "Corresponding WT IC50 Score",
    "Median MT IC50 Score", "Median WT IC50 Score", "Tumor DNA VAF",
]  # fmt: skip


def write_pvacseq(path: Path, mutations: list[Mutation], hla: list[str], rng) -> None:
    """pVACseq all_epitopes-style table: 9-mers of missense mutations against each HLA."""
    lines = ["\t".join(PVACSEQ_COLUMNS)]
    for m in mutations:
        if m.canonical_consequence != "missense_variant":
            continue
        for allele in hla:
            for _ in range(int(rng.integers(1, 3))):
                peptide = "".join(rng.choice(list(AMINO), 9))
                wt = peptide[:4] + str(rng.choice(list(AMINO))) + peptide[5:]
                ic50 = float(np.exp(rng.normal(7.5, 1.6)))  # median ~1800 nM
                median = ic50 * float(rng.uniform(1.0, 1.6))
                lines.append(
                    "\t".join(
                        str(x)
                        for x in (
                            f"chr{m.chrom}",
                            m.pos - 1,
                            m.pos,
                            m.ref,
                            m.alt,
                            "ENST0",
                            "missense",
                            m.hgvsp.removeprefix("p."),
                            100,
                            m.gene,
                            allele,
                            9,
                            1,
                            5,
                            peptide,
                            wt,
                            "NetMHCpan",
                            f"{ic50:.2f}",
                            f"{ic50 * 3:.2f}",
                            f"{median:.2f}",
                            f"{median * 3:.2f}",
                            0.25,
                        )  # fmt: skip
                    )
                )
    with _gzip_text(path) as handle:
        handle.write("\n".join(lines) + "\n")


HLA_POOL = ["HLA-A*02:01", "HLA-A*01:01", "HLA-A*24:02", "HLA-B*07:02", "HLA-B*08:01",
            "HLA-B*44:02", "HLA-C*07:01", "HLA-C*07:02"]  # fmt: skip


def write(outdir: Path, prefix: str, cohort) -> tuple[dict[str, dict[str, str]], dict]:
    """Write the WES layer; returns ({sample: {wes, wes_id, neoantigens}}, config block)."""
    rng = cohort.rng("wes")
    folder = Path(outdir) / "wes"
    folder.mkdir(parents=True, exist_ok=True)
    n_variants = int(getattr(cohort, "n_variants", 200) or 200)
    # records per VCF ~ n_variants: true mutations plus a third as many traps; the capture
    # size then puts the median TMB near 7 non-synonymous mutations/Mb (72% non-synonymous)
    size_mb = float(np.clip(n_variants / 1.33 * 0.72 / 7.0, 0.5, MAX_CAPTURE_MB))
    capture = make_capture(rng, size_mb)
    write_bed(folder / "capture_targets.bed.gz", capture)
    sheet: dict[str, dict[str, str]] = {}
    sites = (cohort.reference, cohort.compare)
    molecular = [(p, s) for p in cohort.pairs for s in sites]
    for sample in getattr(cohort, "unpaired_samples", []):
        patient, site = sample.rsplit("_", 1)
        molecular.append((patient, site))
    patients = sorted({p for p, _ in molecular}, key=lambda p: [q for q, _ in molecular].index(p))
    for patient in patients:
        # similar burden at both sites: one patient-level rate, a shared trunk, private branches
        tmb = float(np.exp(rng.normal(np.log(7.0), 0.5)))
        n_total = max(4, int(round(tmb * capture.size_mb / 0.72)))
        n_drivers = int(rng.integers(1, 4))
        drivers = list(rng.choice(DRIVERS, n_drivers, replace=False))
        trunk = random_mutations(rng, capture, int(n_total * 0.6), drivers)
        # one HLA type per patient (both sites), 2-4 alleles typed
        hla = list(rng.choice(HLA_POOL, int(rng.integers(2, 5)), replace=False))
        for site in [s for p, s in molecular if p == patient]:
            sample = cohort.sample_id(patient, site)
            private = random_mutations(rng, capture, int(rng.poisson(n_total - len(trunk))))
            mutations = trunk + private
            records = sample_records(rng, capture, mutations, 1.0 if site == sites[0] else 0.9)
            vcf = folder / f"{sample}.vcf.gz"
            # beyond what a full exome holds, --variants is met with filtered calls, drawn from
            # their own stream so that every passing call is the same with or without them
            padding = max(0, n_variants - len(records)) if size_mb >= MAX_CAPTURE_MB else 0
            write_vcf(
                vcf, f"{sample}_T", f"{patient}_N", records, rng, padding,
                cohort.rng(f"wes-padding-{sample}"), capture,
            )  # fmt: skip
            write_pvacseq(folder / f"{sample}.all_epitopes.tsv.gz", mutations, hla, rng)
            sheet[sample] = {
                "wes": f"{prefix}/wes/{vcf.name}",
                "wes_id": f"{sample}_T",
                "neoantigens": f"{prefix}/wes/{sample}.all_epitopes.tsv.gz",
            }
    write_copy_number(folder, prefix, sheet, cohort)
    fasta = write_fasta(folder, sheet, cohort)
    write_hla(folder, prefix, sheet, cohort)
    config = {"targets": f"{prefix}/wes/capture_targets.bed.gz", "fasta": f"{prefix}/wes/{fasta}"}
    return sheet, config


ARMS = Path(__file__).resolve().parents[3] / "resources" / "wes" / "arms_GRCh38.tsv"
# Arm events of the demo: (total, minor) copy number; a loss is also LOH, cnLOH keeps 2 copies.
ARM_EVENTS = {"gain": (3, 1), "amplification": (4, 1), "loss": (1, 0), "cnloh": (2, 0)}


def write_copy_number(folder: Path, prefix: str, sheet: dict, cohort) -> None:
    """A purity and arm-level segments per sample: shared (trunk) events per patient and
    private ones per site; reference-site samples as a generic TSV, compare-site samples as
    ASCAT segments, so that both readers run.

    Drawn from their own random stream, so the VCFs and pVACseq tables stay as they were.
    """
    rng = cohort.rng("wes-copy-number")
    arms = pd.read_csv(ARMS, sep="\t", dtype={"chrom": str})
    arms = arms[arms["chrom"].isin(CHROMS) & arms["scored"]].reset_index(drop=True)
    names = list(ARM_EVENTS)
    patients: dict[str, list[str]] = {}
    for sample in sheet:
        patients.setdefault(sample.rsplit("_", 1)[0], []).append(sample)
    for samples in patients.values():
        chosen = rng.choice(len(arms), 8, replace=False)
        trunk = {int(i): names[int(rng.integers(len(names)))] for i in chosen[:3]}
        for k, sample in enumerate(samples):
            events = dict(trunk)
            for i in chosen[3 + 2 * k : 5 + 2 * k][: int(rng.integers(0, 3))]:
                events[int(i)] = names[int(rng.integers(len(names)))]
            purity = float(np.round(rng.uniform(0.35, 0.8), 2))
            site = sample.rsplit("_", 1)[1]
            rows = []
            for i, arm in arms.iterrows():
                total, minor = ARM_EVENTS[events[i]] if i in events else (2, 1)
                rows.append((arm["chrom"], int(arm["start"]), int(arm["end"]), total, minor))
            if site == cohort.reference:
                name = f"{sample}.cn.tsv"
                lines = ["chrom\tstart\tend\ttotal_cn\tminor_cn"]
                lines += [f"chr{c}\t{a}\t{b}\t{t}\t{m}" for c, a, b, t, m in rows]
            else:
                name = f"{sample}.ascat.segments.txt"
                lines = ["sample\tchr\tstartpos\tendpos\tnMajor\tnMinor"]
                lines += [f"{sample}\t{c}\t{a}\t{b}\t{t - m}\t{m}" for c, a, b, t, m in rows]
            (folder / name).write_text("\n".join(lines) + "\n")
            sheet[sample]["purity"] = f"{purity:.2f}"
            sheet[sample]["cn"] = f"{prefix}/wes/{name}"


# The demo FASTA holds the six smallest autosomes (13% of GRCh38): an all-N genome would be
# ~5 MB bgzipped, chr21-22 alone would leave ~15 SNVs per sample for refitting, chr17-22 leave
# ~60 in ~0.7 MB. Passing SNVs elsewhere are listed in excluded.tsv (step sbs96).
FASTA_CHROMS = ["17", "18", "19", "20", "21", "22"]
FASTA_NAME = "demo_reference.fa.gz"
SIGNATURES = (
    Path(__file__).resolve().parents[3] / "resources/wes/COSMIC_v3.4_SBS_GRCh38_exome.tsv.gz"
)
# Planted signature mixture of the trinucleotide contexts: one background (tobacco SBS4,
# clock-like SBS5 and SBS1, a little APOBEC) on the trunk and in the reference site's private
# branches, APOBEC (SBS2, SBS13) weighted 6x in the compare site's private branches, as
# subclonal APOBEC is in NSCLC. The substitution types are the VCFs' (drawn before, without
# signatures), so only the contexts carry the mixture.
BACKGROUND = {"SBS4": 0.45, "SBS5": 0.3, "SBS1": 0.15, "SBS2": 0.05, "SBS13": 0.05}
PLANTED = {
    "trunk": BACKGROUND,
    "reference": BACKGROUND,
    "compare": {**BACKGROUND, "SBS2": 0.3, "SBS13": 0.3},
}
_PAIR = str.maketrans("ACGT", "TGCA")


def _vcf_records(path: Path) -> list[tuple[str, int, str, list[str]]]:
    verbosity = pysam.set_verbosity(0)  # no tabix index beside the demo VCFs: htslib says so
    try:
        with pysam.VariantFile(str(path)) as vcf:
            return [(r.chrom.removeprefix("chr"), r.pos, r.ref, list(r.alts or ())) for r in vcf]
    finally:
        pysam.set_verbosity(verbosity)


def _context_weights(mixture: dict[str, float]) -> dict[str, np.ndarray]:
    """Per pyrimidine substitution (C>A ...), 4 x 4 probabilities of (5' base, 3' base)."""
    table = pd.read_csv(SIGNATURES, sep="\t", index_col=0)
    profile = sum(weight * table[name] for name, weight in mixture.items())
    weights = {}
    for sub in ("C>A", "C>G", "C>T", "T>A", "T>C", "T>G"):
        grid = np.array([[profile[f"{p}[{sub}]{q}"] for q in BASES] for p in BASES])
        weights[sub] = grid / grid.sum()
    return weights


def write_fasta(folder: Path, sheet: dict, cohort) -> str:
    """A bgzipped FASTA of FASTA_CHROMS (with .fai and .gzi) that is N except at the demo VCFs'
    records: every REF allele as written, and around each SNV a 5' and 3' base drawn from the
    PLANTED signature mixture given its substitution (trunk: in both samples of a patient).

    Drawn from the stream ``DemoCohort.rng("wes-fasta")`` from the VCFs already written, so that
    nothing else changes. One line per contig (FASTA allows any width; runs of N compress twice
    as well as 60-column lines). Returns the file name.
    """
    rng = cohort.rng("wes-fasta")
    keep = set(FASTA_CHROMS)
    sequences = {c: bytearray(b"N" * CHROM_LENGTHS[c]) for c in FASTA_CHROMS}
    records = {sample: _vcf_records(folder / f"{sample}.vcf.gz") for sample in sheet}
    for found in records.values():  # every REF as the VCF says (first writer wins)
        for chrom, pos, ref, _ in found:
            if chrom in keep:
                segment = sequences[chrom][pos - 1 : pos - 1 + len(ref)]
                if segment == b"N" * len(ref):
                    sequences[chrom][pos - 1 : pos - 1 + len(ref)] = ref.encode()
    sites = {}  # (chrom, pos, ref, alt) -> planted class
    patients: dict[str, dict[str, set]] = {}
    for sample, found in records.items():
        patient, site = sample.rsplit("_", 1)
        snvs = {(c, p, r, a) for c, p, r, alts in found for a in alts
                if c in keep and len(r) == 1 and len(a) == 1 and a in BASES}  # fmt: skip
        patients.setdefault(patient, {})[site] = snvs
    for by_site in patients.values():
        shared = set.intersection(*by_site.values()) if len(by_site) == 2 else set()
        for site, snvs in by_site.items():
            branch = "reference" if site == cohort.reference else "compare"
            for key in snvs:
                sites.setdefault(key, "trunk" if key in shared else branch)
    weights = {name: _context_weights(mixture) for name, mixture in PLANTED.items()}
    drawn = set()
    for chrom, pos, ref, alt in sorted(sites, key=lambda k: (int(k[0]), k[1], k[2], k[3])):
        if (chrom, pos) in drawn or ref not in BASES:
            continue
        if not 1 < pos < CHROM_LENGTHS[chrom]:  # a contig's first or last base: one neighbour
            continue
        drawn.add((chrom, pos))
        purine = ref in "AG"
        sub = f"{ref.translate(_PAIR)}>{alt.translate(_PAIR)}" if purine else f"{ref}>{alt}"
        grid = weights[sites[(chrom, pos, ref, alt)]][sub].copy()
        sequence = sequences[chrom]
        five, three = chr(sequence[pos - 2]), chr(sequence[pos])  # forward-strand neighbours
        if purine:  # pyrimidine-strand 5' is the forward 3' complemented, and vice versa
            five, three = three.translate(_PAIR), five.translate(_PAIR)
        for axis, base in ((0, five), (1, three)):
            if base in BASES:  # a neighbour already fixed by another record's REF
                mask = np.zeros(4)
                mask[BASES.index(base)] = 1
                grid = grid * (mask[:, None] if axis == 0 else mask[None, :])
        if grid.sum() == 0:
            continue
        index = int(rng.choice(16, p=(grid / grid.sum()).ravel()))
        p, q = BASES[index // 4], BASES[index % 4]
        if purine:
            p, q = q.translate(_PAIR), p.translate(_PAIR)
        sequence[pos - 2], sequence[pos] = ord(p), ord(q)
    path = folder / FASTA_NAME
    with pysam.BGZFile(str(path), "wb") as handle:
        for chrom in FASTA_CHROMS:
            handle.write(f">chr{chrom}\n".encode() + bytes(sequences[chrom]) + b"\n")
    for index in (f"{path}.fai", f"{path}.gzi"):
        Path(index).unlink(missing_ok=True)
    pysam.faidx(str(path))
    return FASTA_NAME


# HLA loss for the first HLA_PATIENTS paired patients: LOHHLA tables (one per patient, both
# regions) for the first half, DASH outputs (one per sample) for the rest. Per heterozygous gene:
# a loss in both sites (trunk), or in one site only, with these probabilities.
HLA_PATIENTS = 8
HLA_EVENTS = {"trunk": 0.2, "reference": 0.1, "compare": 0.3}
LOHHLA_COLUMNS = (
    "region\tHLA_A_type1\tHLA_A_type2\tHLAtype1Log2MedianCoverage\tHLAtype2Log2MedianCoverage\t"
    "HLAtype1Log2MedianCoverageAtSites\tHLAtype2Log2MedianCoverageAtSites\t"
    + "".join(
        f"HLA_type{k}copyNum_{kind}{end}\t"
        for group in (("withoutBAF", "withBAF"), ("withoutBAFBin", "withBAFBin"))
        for k in (1, 2)
        for kind in group
        for end in ("", "_lower", "_upper")
    )
    + "PVal\tUnPairedPval\tPVal_unique\tUnPairedPval_unique\tLossAllele\tKeptAllele\t"
    "numMisMatchSitesCov\tpropSupportiveSites"
).split("\t")
DASH_COLUMNS = [
    "Alleles", "DASH_deletion", "Secondary_check", "Confidence", "Flanking_region_LOH",
    "Adjusted_BAF", "AS_Coverage", "Purities", "Ploidies", "Percentage_Coverage",
    "Total_Coverage",
]  # fmt: skip


def _polysolver(allele: str) -> str:
    """HLA-A*02:01 -> hla_a_02_01 (POLYSOLVER's names, as LOHHLA and DASH write them)."""
    gene, fields = allele.removeprefix("HLA-").split("*")
    return f"hla_{gene.lower()}_{fields.replace(':', '_')}"


def _genotype(folder: Path, sample: str, rng) -> tuple[dict[str, list[str]], set[str]]:
    """The patient's class I genotype and its alleles that pVACseq typed.

    The demo's pVACseq tables list 2-4 alleles of HLA_POOL drawn without regard to genes, read
    back here: a gene with one typed allele is paired with another allele of the pool (70%) or
    homozygous, a gene with three keeps its first two (the third is not evaluated).
    """
    table = pd.read_csv(folder / f"{sample}.all_epitopes.tsv.gz", sep="\t", usecols=["HLA Allele"])
    typed = sorted(set(table["HLA Allele"]))
    genotype: dict[str, list[str]] = {}
    for allele in typed:
        genotype.setdefault(allele.split("*")[0], []).append(allele)
    for gene, alleles in genotype.items():
        others = [a for a in HLA_POOL if a.startswith(f"{gene}*") and a not in alleles]
        if len(alleles) == 1 and others and rng.random() < 0.7:
            alleles.append(str(rng.choice(others)))
        genotype[gene] = alleles[:2]
    return genotype, set(typed)


def write_hla(folder: Path, prefix: str, sheet: dict, cohort) -> None:
    """LOHHLA- and DASH-shaped HLA loss tables for the first HLA_PATIENTS paired patients.

    Heterozygous genes (`_genotype`) get a call, the lost allele one that pVACseq typed; a lost
    allele has copy number 0.05-0.4
    and PVal_unique 1e-12-1e-4, a kept one 1.2-2.4 (LOHHLA columns not used by the workflow are
    NA). Drawn from the stream ``DemoCohort.rng("wes-hla")``; nothing else changes.
    """
    rng = cohort.rng("wes-hla")
    sites = (cohort.reference, cohort.compare)
    for n, patient in enumerate(cohort.pairs[:HLA_PATIENTS]):
        samples = {site: cohort.sample_id(patient, site) for site in sites}
        genes, typed = _genotype(folder, samples[sites[0]], rng)
        lost = {site: {} for site in sites}
        for gene, alleles in genes.items():
            if len(alleles) != 2:
                continue
            candidates = [a for a in alleles if a in typed]  # losses that hide neoantigens
            allele = candidates[int(rng.integers(len(candidates)))]
            draw = rng.random()
            event = "trunk" if draw < HLA_EVENTS["trunk"] else None
            if event is None and draw < HLA_EVENTS["trunk"] + HLA_EVENTS["reference"]:
                event = "reference"
            elif event is None and draw < sum(HLA_EVENTS.values()):
                event = "compare"
            for k, site in enumerate(sites):
                if event == "trunk" or event == ("reference", "compare")[k]:
                    lost[site][gene] = allele
        if n < HLA_PATIENTS // 2:
            lines = ["\t".join(LOHHLA_COLUMNS)]
            for site in sites:
                lines += _lohhla_rows(rng, f"{samples[site]}_T", genes, lost[site])
            name = f"{patient}.10.DNA.HLAlossPrediction_CI.xls"
            (folder / name).write_text("\n".join(lines) + "\n")
            for site in sites:
                sheet[samples[site]]["hla_loh"] = f"{prefix}/wes/{name}"
                sheet[samples[site]]["hla_loh_id"] = f"{samples[site]}_T"
        else:
            for site in sites:
                name = f"{samples[site]}.DASH.output.txt"
                rows = _dash_rows(rng, genes, lost[site], float(sheet[samples[site]]["purity"]))
                (folder / name).write_text("\n".join(["\t".join(DASH_COLUMNS), *rows]) + "\n")
                sheet[samples[site]]["hla_loh"] = f"{prefix}/wes/{name}"


def _lohhla_rows(rng, region: str, genes: dict, lost: dict) -> list[str]:
    rows = []
    for gene, alleles in genes.items():
        if len(alleles) != 2:
            continue  # LOHHLA reports heterozygous genes only
        values = dict.fromkeys(LOHHLA_COLUMNS, "NA")
        copies = []
        for allele in alleles:
            low = lost.get(gene) == allele
            copies.append(rng.uniform(0.05, 0.4) if low else rng.uniform(1.2, 2.4))
        p = 10 ** rng.uniform(-12, -4) if gene in lost else rng.uniform(0.02, 0.9)
        loss = int(np.argmin(copies))
        values.update(
            region=region,
            HLA_A_type1=_polysolver(alleles[0]),
            HLA_A_type2=_polysolver(alleles[1]),
            PVal=f"{p:.6g}",
            PVal_unique=f"{p:.6g}",
            LossAllele=_polysolver(alleles[loss]),
            KeptAllele=_polysolver(alleles[1 - loss]),
            numMisMatchSitesCov=str(int(rng.integers(20, 120))),
            propSupportiveSites=f"{rng.uniform(60, 100):.4g}",
        )
        for k, value in enumerate(copies, 1):
            values[f"HLAtype{k}Log2MedianCoverage"] = f"{np.log2(value / 2):.6g}"
            values[f"HLA_type{k}copyNum_withBAFBin"] = f"{value:.6g}"
            values[f"HLA_type{k}copyNum_withBAFBin_lower"] = f"{value * 0.8:.6g}"
            values[f"HLA_type{k}copyNum_withBAFBin_upper"] = f"{value * 1.2:.6g}"
        rows.append("\t".join(values[c] for c in LOHHLA_COLUMNS))
    return rows


def _dash_rows(rng, genes: dict, lost: dict, purity: float) -> list[str]:
    rows = []
    for gene, alleles in genes.items():
        if len(alleles) == 1:  # homozygous: DASH lists the allele twice, not evaluated
            rows += [f"{_polysolver(alleles[0])}\tFalse\t-\t-1\t-\t-\t-\t{purity}\t2\t0\t-"] * 2
            continue
        confidence = rng.uniform(0.7, 0.99) if gene in lost else rng.uniform(0.01, 0.3)
        baf = rng.uniform(0.1, 0.3) if gene in lost else rng.uniform(0.0, 0.05)
        total, share = rng.uniform(0.9, 1.6), rng.uniform(0.5, 1)
        for allele in alleles:
            deleted = lost.get(gene) == allele
            coverage = rng.uniform(0.1, 0.45) if deleted else rng.uniform(0.8, 1.3)
            rows.append(
                f"{_polysolver(allele)}\t{deleted}\tFalse\t{confidence:.4f}\t{int(gene in lost)}\t"
                f"{baf:.4f}\t{coverage:.4f}\t{purity}\t2\t{share:.4f}\t{total:.4f}"
            )
    return rows
