"""Multiplex IHC: cell tables to phenotype fractions, densities, distances and paired site tests."""
