"""Bundled data files (Parquet and manifest); not code."""
