"""Losses for performance predictors (a pairwise ranking loss trains the
order of architectures directly, DCNAS) and rank correlations.
"""
import warnings
from typing import Callable, Dict

import numpy as np
from scipy import stats
import torch
import torch.nn.functional as F


def ranknet_loss(scores: torch.Tensor, labels: torch.Tensor,
                 sigma: float = 1.0) -> torch.Tensor:
    """RankNet, the official DCNAS form: over pairs ``i < j``, BCE of
    ``sigmoid(σ(s_i - s_j))`` against ``(1 + clamp(y_i - y_j, -1, 1)) / 2``,
    summed and divided by ``n²``. Scores follow the labels' direction.

    Args:
        scores (Tensor): ``(n,)`` (or ``(n, 1)``) predictions.
        labels (Tensor): ``(n,)`` labels.
        sigma (float): steepness. Defaults to 1.
    """
    s = scores.reshape(-1)
    y = labels.reshape(-1).to(s)
    n = s.numel()
    iu = torch.triu_indices(n, n, offset=1, device=s.device)
    logits = sigma * (s[iu[0]] - s[iu[1]])
    target = 0.5 * (1 + (y[iu[0]] - y[iu[1]]).clamp(-1, 1))
    # BCE on the sigmoid, computed from logits (stable); equals
    # F.binary_cross_entropy(sigmoid(logits), target) away from saturation
    pair = F.binary_cross_entropy_with_logits(
        logits, target, reduction='sum')
    return pair / (n * n)


def l1_loss(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Regression baseline: mean ``|s - y|``."""
    return (scores.reshape(-1) - labels.reshape(-1).to(scores)).abs().mean()


def l2_loss(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Regression baseline: mean ``(s - y)^2``."""
    return ((scores.reshape(-1) - labels.reshape(-1).to(scores))**2).mean()


PREDICTOR_LOSSES: Dict[str, Callable] = dict(
    ranknet=ranknet_loss, l1=l1_loss, l2=l2_loss)


def _quiet(fn: Callable, a, b) -> float:
    """``fn(a, b)``'s statistic; nan without a warning for constant input."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return float(fn(np.asarray(a, float), np.asarray(b, float))[0])


def spearman_rho(a, b) -> float:
    """Spearman rank correlation (Pearson of average ranks)."""
    return _quiet(stats.spearmanr, a, b)


def kendall_tau(a, b) -> float:
    """Kendall tau-b (tie-corrected)."""
    return _quiet(stats.kendalltau, a, b)
