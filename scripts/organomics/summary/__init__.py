"""Across the layers: the headline findings table and cross-layer concordance."""
