"""Benchmark: apeGLM LFC shrinkage at a large paired design, PyDESeq2's default vs LeanInference.

    python benchmarks/shrink_bench.py --pairs 270 --genes 20000 --inference lean

~ patient + site with P pairs has P + 1 coefficients; PyDESeq2's default collects every gene's
(P+1) x (P+1) inverse Hessian, LeanInference only the diagonals. Prints wall time and the peak
RSS of the process that collects the fits (each joblib worker holds one gene's fit at a time).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from pydeseq2.default_inference import DefaultInference

from organomics.rnaseq.lean_inference import LeanInference


def paired_design(pairs: int) -> np.ndarray:
    """Intercept, patients after the first, site: 2 x pairs rows."""
    patients = np.repeat(np.arange(pairs), 2)
    design = np.zeros((2 * pairs, pairs + 1))
    design[:, 0] = 1.0
    for patient in range(1, pairs):
        design[patients == patient, patient] = 1.0
    design[1::2, pairs] = 1.0
    return design


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=270)
    parser.add_argument("--genes", type=int, default=1000)
    parser.add_argument("--inference", choices=["lean", "default"], default="lean")
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    design = paired_design(args.pairs)
    mean = rng.uniform(20, 400, args.genes)
    counts = rng.negative_binomial(5, 5 / (5 + np.outer(np.ones(len(design)), mean)))
    inference = (LeanInference if args.inference == "lean" else DefaultInference)(n_cpus=args.cpus)
    start = time.perf_counter()
    inference.lfc_shrink_nbinom_glm(
        design_matrix=design,
        counts=counts.astype(float),
        size=np.full(args.genes, 5.0),
        offset=np.zeros(len(design)),
        prior_no_shrink_scale=15.0,
        prior_scale=1.0,
        optimizer="L-BFGS-B",
        shrink_index=args.pairs,
    )
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.inference}: {args.genes} genes, {design.shape[1]} coefficients, "
        f"{args.cpus} cpus: {wall:.0f} s; peak RSS of the collecting process {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
