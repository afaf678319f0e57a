"""Snakemake adapter: mIHC figures (fractions, scatter, distances, margin, neighbours...)"""

import pandas as pd

from organomics.logs import log_to
from organomics.mihc import plots
from organomics.plots import save
from organomics.tables import read_tsv

with log_to(snakemake.log[0]):
    inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
    reference, compare = params.reference, params.compare
    fractions = plots.paired_panels(
        read_tsv(inputs.fractions),
        "fraction",
        "phenotype",
        reference,
        compare,
        comparison=read_tsv(inputs.comparison),
        ylabel="fraction of cells",
        sampling=params.sampling,
    )
    save(fractions, outputs.fractions_png, outputs.fractions_pdf)
    composition = read_tsv(inputs.composition)
    save(
        plots.composition_bars(composition, reference, compare),
        outputs.composition_png,
        outputs.composition_pdf,
    )
    points = [pd.read_parquet(path) for path in inputs.points]
    classes = list(dict.fromkeys(composition["class"]))
    scatter = plots.spatial_scatter(points, list(params.scatter_samples), classes)
    save(scatter, outputs.scatter_png, outputs.scatter_pdf)
    spatial, spatial_comparison = read_tsv(inputs.spatial), read_tsv(inputs.spatial_comparison)
    distances = plots.paired_panels(
        spatial,
        "median_distance_um",
        "phenotype",
        reference,
        compare,
        comparison=spatial_comparison[spatial_comparison["measure"] == "median_distance_um"]
        if not spatial_comparison.empty
        else None,
        ylabel="median distance to tumour (µm)",
        sampling=params.sampling,
    )
    save(distances, outputs.spatial_png, outputs.spatial_pdf)
    margin = plots.margin_map(points, list(params.scatter_samples), params.highlight)
    save(margin, outputs.margin_png, outputs.margin_pdf)
    heatmaps = plots.neighbourhood_heatmaps(
        read_tsv(inputs.neighbourhood), params.samples, reference, compare
    )
    save(heatmaps, outputs.neighbourhood_png, outputs.neighbourhood_pdf)
    immune = plots.immune_counts(read_tsv(inputs.immune), reference, compare)
    save(immune, outputs.immune_png, outputs.immune_pdf)
