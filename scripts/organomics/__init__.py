"""organomics: compare two tumour sites of the same patients across clinical and omics layers."""

__version__ = "0.1.0"
