"""Snakemake adapter: waterfall, spider, swimmer and response-rate figures."""

from organomics.clinical import figures, survival
from organomics.logs import log_to
from organomics.plots import save
from organomics.tables import read_tsv

with log_to(snakemake.log[0]):
    out = snakemake.output
    reference, compare = snakemake.params.reference, snakemake.params.compare
    timepoints = read_tsv(snakemake.input.timepoints, dtype={"patient": str})
    responses = read_tsv(snakemake.input.responses, dtype={"patient": str})
    rates = read_tsv(snakemake.input.rates)
    patients = (
        survival.read_patients(snakemake.input.patients[0]) if snakemake.input.patients else None
    )
    save(figures.waterfall(responses, reference, compare), out.waterfall_png, out.waterfall_pdf)
    save(
        figures.spider(timepoints, responses, reference, compare),
        out.spider_png,
        out.spider_pdf,
    )
    save(
        figures.swimmer(responses, reference, compare, patients),
        out.swimmer_png,
        out.swimmer_pdf,
    )
    save(figures.rate_bars(rates), out.rates_png, out.rates_pdf)
