"""greenledger's domain core: the verifiable log, the green-power registry, production and
footprints. Nothing in this package imports Flask, HTTP clients or PDF libraries (DESIGN.md §2)."""
