"""WES branch library: somatic variants to TMB, shared/private mutations, neoantigen burden."""
