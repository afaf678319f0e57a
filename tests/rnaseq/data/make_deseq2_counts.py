"""Write the matrix that run_deseq2.R analyses (demo simulator, 8 pairs, 1,500 genes, seed 7)."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
from organomics.demo.rnaseq import simulate_counts  # noqa: E402

here = Path(__file__).parent
samples = [(f"P{i:02d}_{s}", f"P{i:02d}", s) for i in range(1, 9) for s in ("PL", "LM")]
counts = simulate_counts(samples, 1500, np.random.default_rng(7))
counts.to_csv(here / "deseq2_counts.tsv", sep="\t")
pd.DataFrame(samples, columns=["sample", "patient", "site"]).to_csv(
    here / "deseq2_design.tsv", sep="\t", index=False
)
