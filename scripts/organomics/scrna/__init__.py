"""Single-cell RNA branch: 10x/h5ad readers, QC, integration, annotation, scores, pseudobulk."""
