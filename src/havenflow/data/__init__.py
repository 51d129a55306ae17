"""Data layer: catalog-backed loading, live sources, the embedded store, and alignment."""
