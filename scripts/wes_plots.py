"""Snakemake adapter: WES figures (paired TMB/neoantigens, shared/private, oncoplot, SBS6)."""

from organomics.logs import log_to
from organomics.plots import save
from organomics.tables import read_tsv
from organomics.wes import cohort, plots

with log_to(snakemake.log[0]):
    inputs, out, params = snakemake.input, snakemake.output, snakemake.params
    reference, compare = params.reference, params.compare
    comparison = read_tsv(inputs.comparison)
    tmb = plots.paired_metric(
        read_tsv(inputs.tmb), "tmb", reference, compare, comparison,
        ylabel="TMB (non-synonymous / Mb)", title="Tumour mutational burden",
        sampling=params.sampling,
    )  # fmt: skip
    save(tmb, out.tmb_png, out.tmb_pdf)
    neoantigens = plots.paired_metric(
        read_tsv(inputs.neoantigens), "n_neoantigens", reference, compare, comparison,
        ylabel="predicted neoantigens", title="Neoantigen burden",
        sampling=params.sampling,
    )  # fmt: skip
    save(neoantigens, out.neo_png, out.neo_pdf)
    shared = plots.shared_private_bars(read_tsv(inputs.shared), reference, compare)
    save(shared, out.shared_png, out.shared_pdf)
    mutations = read_tsv(inputs.mutations)
    mutations["nonsynonymous"] = mutations["nonsynonymous"].astype(str).eq("True")
    mutations["gene"] = mutations["gene"].fillna("")
    genes = cohort.top_genes(mutations, params.samples, params.n_genes)
    onco = plots.oncoplot(mutations, params.samples, genes, reference, compare)
    save(onco, out.onco_png, out.onco_pdf)
    save(plots.sbs6_by_site(read_tsv(inputs.sbs6), reference, compare), out.sbs6_png, out.sbs6_pdf)
