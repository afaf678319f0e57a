"""Write a demo cohort: python -m organomics.demo OUTDIR --seed 0 [size options]."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import pandas as pd
import yaml

from organomics.demo.cohort import DemoCohort

# Each layer module has write(outdir, prefix, cohort) -> ({sample: {column: path}}, config block).
LAYERS = ("clinical", "wes", "rnaseq", "mihc", "scrna")
SHEET_COLUMNS = ("sample", "patient", "site", "wes", "wes_id", "neoantigens", "purity", "cn")
SHEET_COLUMNS += ("hla_loh", "hla_loh_id")
SHEET_COLUMNS += ("rna", "mihc")
SHEET_COLUMNS += ("area_mm2", "scrna")
SHEET_COLUMNS += ("tcr",)
SHEET_COLUMNS += ("collection_day",)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m organomics.demo", description=__doc__)
    parser.add_argument("outdir", help="folder to write (paths in the sheet start with it)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--patients", type=int, default=52, help="patients (clinical)")
    parser.add_argument("--pairs", type=int, default=27, help="patients with both sites sampled")
    parser.add_argument("--sc-pairs", type=int, default=6, help="pairs with single-cell RNA")
    parser.add_argument("--genes", type=int, default=3000, help="genes in the RNA matrix")
    parser.add_argument("--cells", type=int, default=800, help="cells per scRNA sample")
    parser.add_argument(
        "--variants",
        type=int,
        default=400,
        help="records per VCF (past a full 45 Mb exome's calls, the rest are filtered calls)",
    )
    parser.add_argument("--mihc-cells", type=int, default=2500, help="cells per mIHC table")
    parser.add_argument(
        "--layers", nargs="+", choices=LAYERS, default=list(LAYERS), help="layers to write"
    )
    return parser.parse_args(argv)


def write_demo(outdir: str, cohort: DemoCohort, layers: tuple[str, ...] = LAYERS) -> None:
    """Write every layer, then the merged sample sheet and config."""
    root = Path(outdir)
    root.mkdir(parents=True, exist_ok=True)
    prefix = outdir.rstrip("/")
    sheet: dict[str, dict[str, str]] = {}
    config: dict = {
        "samples": f"{prefix}/samples.tsv",
        "sites": {"reference": cohort.reference, "compare": cohort.compare},
    }
    for layer in layers:
        module = importlib.import_module(f"organomics.demo.{layer}")
        cells, block = module.write(root, prefix, cohort)
        for sample, values in cells.items():
            sheet.setdefault(sample, {}).update(values)
        config[layer] = block
    if sheet:  # sampling time of every sample that has a molecular layer
        for sample, day in cohort.collection_days().items():
            if sample in sheet:
                sheet[sample]["collection_day"] = str(day)
    rows = []
    for patient in cohort.patients:
        for site in (cohort.reference, cohort.compare):
            sample = cohort.sample_id(patient, site)
            if sample in sheet:
                rows.append({"sample": sample, "patient": patient, "site": site, **sheet[sample]})
    if rows:
        table = pd.DataFrame(rows, columns=SHEET_COLUMNS).dropna(axis=1, how="all")
        table.to_csv(root / "samples.tsv", sep="\t", index=False)
    else:  # clinical only: no sample sheet needed
        config["samples"] = None
    with open(root / "config.yaml", "w") as handle:
        handle.write("# Demo cohort written by: python -m organomics.demo\n")
        yaml.safe_dump(config, handle, sort_keys=False)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cohort = DemoCohort(
        seed=args.seed,
        n_patients=args.patients,
        n_pairs=args.pairs,
        n_sc_pairs=args.sc_pairs,
        n_genes=args.genes,
        n_cells=args.cells,
        n_variants=args.variants,
        n_mihc_cells=args.mihc_cells,
    )
    write_demo(args.outdir, cohort, tuple(args.layers))


if __name__ == "__main__":
    main()
