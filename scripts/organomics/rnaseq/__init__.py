"""Bulk RNA-seq branch: counts, paired PyDESeq2, gene-set enrichment and immune signatures."""
