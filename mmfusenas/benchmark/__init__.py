"""Plumbing shared by the benchmarks and the reproduction scripts: the
``--mode`` switch, seed runs, process units and results records."""
