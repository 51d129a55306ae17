"""Pure computation on pandas/numpy objects: no I/O, no HTTP, no plotting."""
