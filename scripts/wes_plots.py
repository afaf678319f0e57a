"""Snakemake adapter: WES figures (paired TMB/neoantigens, shared/private, oncoplot, SBS6)."""

import pandas as pd

from organomics.logs import log_to
from organomics.wes import cohort, plots


def read(path):
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])


with log_to(snakemake.log[0]):
    inputs, out, params = snakemake.input, snakemake.output, snakemake.params
    ref, cmp = params.reference, params.compare
    comparison = read(inputs.comparison)
    plots.paired_metric(
        read(inputs.tmb), "tmb", ref, cmp, out.tmb_png, out.tmb_pdf, comparison,
        ylabel="TMB (non-synonymous / Mb)", title="Tumour mutational burden",
    )  # fmt: skip
    plots.paired_metric(
        read(inputs.neoantigens), "n_neoantigens", ref, cmp, out.neo_png, out.neo_pdf, comparison,
        ylabel="predicted neoantigens", title="Neoantigen burden",
    )  # fmt: skip
    plots.shared_private_bars(read(inputs.shared), ref, cmp, out.shared_png, out.shared_pdf)
    mutations = read(inputs.mutations)
    mutations["nonsynonymous"] = mutations["nonsynonymous"].astype(str).eq("True")
    mutations["gene"] = mutations["gene"].fillna("")
    genes = cohort.top_genes(mutations, params.samples, params.n_genes)
    plots.oncoplot(mutations, params.samples, genes, ref, cmp, out.onco_png, out.onco_pdf)
    plots.sbs6_by_site(read(inputs.sbs6), ref, cmp, out.sbs6_png, out.sbs6_pdf)
