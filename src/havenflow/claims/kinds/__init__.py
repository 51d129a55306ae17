"""One module per claim kind; :data:`havenflow.claims.registry.KINDS` lists them."""
