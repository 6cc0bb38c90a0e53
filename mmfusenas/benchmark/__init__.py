"""Plumbing shared by the tools, benchmarks and reproduction scripts: the
``--mode`` switch, seed runs, process units and the results records of
``docs/results/``."""
