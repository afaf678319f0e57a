"""Synthetic demo cohort shaped like the reference study (python -m organomics.demo OUTDIR)."""
