"""Statistics of a search-vs-random control, shared by the benchmarks.

``rank_pct``: where a searched genotype's score lies among random genotypes
of its space; ``signal_vs_noise``: whether the genotypes' scores differ
beyond the noise of the retrain seeds at all (variance components of a
genotypes x seeds table). ``bench_search_vs_random.py``,
``bench_dcnas_control.py`` and ``bench_config_seeds.py`` use them.
"""
from typing import Dict, List

import numpy as np


def rank_pct(score: float, randoms: List[float]) -> float:
    """Percent of random genotypes with a worse (higher) held-out loss; ties
    count half."""
    if not randoms:
        return float('nan')
    better = sum(r > score for r in randoms) + 0.5 * sum(
        r == score for r in randoms)
    return 100.0 * better / len(randoms)


def signal_vs_noise(retrain_scores: Dict[str, List[float]]) -> dict:
    """Can a control rank these genotypes? Variance components of the
    held-out score over genotypes (rows) x retrain seeds (columns; the seeds
    are shared by every genotype, so a seed that is bad for all of them
    shifts every mean alike and does not blur the ranking).

    Args:
        retrain_scores: ``{genotype: [score per retrain seed]}``; only
            genotypes with >= 2 seeds count, with the smallest common
            number of seeds.

    Returns:
        dict: ``within_sd`` (pooled s.d. between the retrain seeds of one
        genotype, one-way), ``interaction_sd`` (the s.d. left after the
        genotype and the seed main effects, two-way: the noise that does
        blur the ranking), ``seed_sd`` (s.d. of the seeds' means over all
        genotypes), ``means_sd`` (s.d. of the genotypes' seed means),
        ``between_sd`` (the estimated s.d. of the genotypes' true scores,
        ``sqrt(max(0, means_var - interaction_var / n))``), ``reliability``
        (the share of the seed means' variance that is true
        between-genotype variance: ~0, the ranks are noise; 1, noise-free),
        ``genotypes``, ``seeds``; empty when fewer than 3 genotypes have
        >= 2 seeds.
    """
    rows = [v for v in retrain_scores.values() if len(v) >= 2]
    if len(rows) < 3:
        return {}
    n = min(len(v) for v in rows)
    x = np.asarray([v[:n] for v in rows], dtype=np.float64)
    g = len(x)
    within = float(x.var(axis=1, ddof=1).mean())
    resid = x - x.mean(1, keepdims=True) - x.mean(0, keepdims=True) + x.mean()
    inter = float((resid**2).sum() / ((g - 1) * (n - 1)))
    means_var = float(x.mean(1).var(ddof=1))
    true = max(0.0, means_var - inter / n)
    return dict(
        genotypes=g, seeds=n, within_sd=within**0.5,
        interaction_sd=inter**0.5, seed_sd=float(x.mean(0).std(ddof=1)),
        means_sd=means_var**0.5, between_sd=true**0.5,
        reliability=true / means_var if means_var > 0 else 0.0)
