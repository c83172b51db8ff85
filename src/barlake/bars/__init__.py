"""Bars in memory: the schema, validation, resample kernels and derivation over the lake."""
