"""Benchmark: the per-sample WES reader on a 1,000,000-record Mutect2+VEP VCF vs bcftools.

Compared with `bcftools view -H FILE | wc -l` on the same file.

Usage: python benchmarks/wes_reader.py [--records 1000000] [--workdir /tmp/wes_bench]
Needs bcftools on PATH (Debian: apt-get install bcftools). Prints records/s for both and the ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from organomics.demo.wes import (  # noqa: E402
    Record,
    format_record,
    make_capture,
    random_mutations,
    vcf_header,
    write_bed,
)
from organomics.wes.sample import sample_variants  # noqa: E402
from organomics.wes.targets import read_targets  # noqa: E402
from organomics.wes.vcf import Filters  # noqa: E402


def make_vcf(path: Path, bed: Path, n_records: int, pass_fraction: float, seed: int = 0) -> None:
    """Bgzipped Mutect2-style VCF with VEP CSQ (two transcripts per allele), `pass_fraction` of
    records PASS and the rest carrying FilterMutectCalls filters."""
    import pysam

    rng = np.random.default_rng(seed)
    capture = make_capture(rng, 40.0)
    write_bed(bed, capture)
    plain = path.with_suffix("")
    failed = ["weak_evidence", "germline", "strand_bias", "normal_artifact"]
    with open(plain, "w") as handle:
        handle.write(vcf_header("TUMOR_1", "NORMAL_1"))
        chunk = 50_000
        written = 0
        while written < n_records:
            n = min(chunk, n_records - written)
            mutations = random_mutations(rng, capture, n)
            # sort within the chunk and give each chunk its own chromosome block for order
            mutations.sort(key=lambda m: (int(m.chrom), m.pos))
            depths = rng.integers(5, 300, n)
            vafs = rng.beta(2, 8, n)
            flts = np.where(rng.random(n) < pass_fraction, "PASS", rng.choice(failed, n))
            lines = []
            for m, d, v, f in zip(mutations, depths, vafs, flts, strict=True):
                lines.append(format_record(Record(m, str(f), int(d), int(d * v)), rng))
            handle.writelines(lines)
            written += n
    # chunks are sorted individually; bcftools and cyvcf2 stream without an index either way,
    # and bcftools view checks no order without one
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--workdir", default="/tmp/wes_bench")
    parser.add_argument("--threads", type=int, default=1, help="as the wes_sample rule (1)")
    parser.add_argument(
        "--pass-fraction",
        type=float,
        default=0.3,
        help="share of PASS records (FilterMutectCalls output is mostly non-PASS; 1 = worst)",
    )
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    vcf = work / f"bench_{args.records}_pass{args.pass_fraction:g}.vcf.gz"
    bed = work / "bench_targets.bed.gz"
    if not vcf.exists() or not bed.exists():
        start = time.perf_counter()
        make_vcf(vcf, bed, args.records, args.pass_fraction)
        print(f"generated {vcf} ({vcf.stat().st_size / 1e6:.1f} MB) in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        f"bcftools view -H {vcf} | wc -l", shell=True, check=True, capture_output=True, text=True
    )
    bcftools_s = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    bcftools_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    n = int(out.stdout.strip())

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start, cpu_start = time.perf_counter(), time.process_time()
    targets = read_targets(str(bed))
    table, summary = sample_variants(
        "bench", [str(vcf)], Filters(), "", targets, threads=args.threads
    )
    table.to_parquet(work / "bench_variants.parquet", index=False)  # as the per-sample job does
    reader_s, reader_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    steps = dict(zip(summary["step"], summary["n"], strict=True))
    print(f"records: {n:,} (reader saw {steps['records']:,}); passing variants: {len(table):,}")
    print(f"load average (1 min): {os.getloadavg()[0]:.1f} (timings are shared-machine wall/CPU)")
    print(f"bcftools view -H | wc -l : wall {bcftools_s:6.2f} s ({n / bcftools_s:>9,.0f} rec/s), "
          f"CPU {bcftools_cpu:6.2f} s ({n / bcftools_cpu:>9,.0f} rec/s)")  # fmt: skip
    print(f"organomics wes reader    : wall {reader_s:6.2f} s ({n / reader_s:>9,.0f} rec/s), "
          f"CPU {reader_cpu:6.2f} s ({n / reader_cpu:>9,.0f} rec/s); peak RSS {peak_mb:.0f} MB "
          f"({rss_before:.0f} MB before reading)")  # fmt: skip
    print(f"ratio reader/bcftools    : wall {reader_s / bcftools_s:.2f}x, "
          f"CPU {reader_cpu / bcftools_cpu:.2f}x (target <= 3x)")  # fmt: skip


if __name__ == "__main__":
    main()
