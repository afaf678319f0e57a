"""Snakemake adapter: mIHC figures (paired fractions, composition, spatial scatter, distances)."""

import pandas as pd

from organomics.logs import log_to
from organomics.mihc import plots


def read(path):
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])


with log_to(snakemake.log[0]):
    inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
    ref, cmp = params.reference, params.compare
    plots.paired_panels(
        read(inputs.fractions),
        "fraction",
        "phenotype",
        ref,
        cmp,
        outputs.fractions_png,
        outputs.fractions_pdf,
        comparison=read(inputs.comparison),
        ylabel="fraction of cells",
    )
    composition = read(inputs.composition)
    plots.composition_bars(composition, ref, cmp, outputs.composition_png, outputs.composition_pdf)
    points = [pd.read_parquet(path) for path in inputs.points]
    classes = list(dict.fromkeys(composition["class"]))
    plots.spatial_scatter(
        points, list(params.scatter_samples), outputs.scatter_png, outputs.scatter_pdf, classes
    )
    spatial, spatial_comparison = read(inputs.spatial), read(inputs.spatial_comparison)
    plots.paired_panels(
        spatial,
        "median_distance_um",
        "phenotype",
        ref,
        cmp,
        outputs.spatial_png,
        outputs.spatial_pdf,
        comparison=spatial_comparison[spatial_comparison["measure"] == "median_distance_um"]
        if not spatial_comparison.empty
        else None,
        ylabel="median distance to tumour (µm)",
    )
