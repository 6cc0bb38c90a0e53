"""Losses for performance predictors and rank-correlation measures.

A predictor maps an architecture to a score ``s``; the label ``y`` is the
architecture's measured quality (e.g. validation L1, lower is better). A
predictor only has to *order* architectures, which a pairwise ranking
loss trains directly (the DCNAS paper's argument).
"""
from typing import Callable, Dict

import numpy as np
import torch
import torch.nn.functional as F


def ranknet_loss(scores: torch.Tensor, labels: torch.Tensor,
                 sigma: float = 1.0) -> torch.Tensor:
    r"""RankNet (Burges et al. 2005), the official DCNAS form.

    For every pair :math:`i<j`:
    :math:`p_{ij} = \sigma_{sig}(\sigma(s_i - s_j))`,
    :math:`\bar p_{ij} = \frac12(1 + \mathrm{clamp}(y_i - y_j, -1, 1))`,
    loss = :math:`\frac{1}{n^2}\sum_{i<j}\mathrm{BCE}(p_{ij},\bar p_{ij})`
    (the official code takes the mean of the upper-triangular matrix over
    all :math:`n^2` entries; entries on and below the diagonal are 0).
    The score follows the label's direction: a larger label gives a larger
    score (train on L1 -> pick the argmin score).

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


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), 0-based."""
    order = np.argsort(x, kind='mergesort')
    ranks = np.empty(len(x), np.float64)
    ranks[order] = np.arange(len(x))
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def spearman_rho(a, b) -> float:
    """Spearman rank correlation (Pearson of average ranks)."""
    ra, rb = _ranks(np.asarray(a, float)), _ranks(np.asarray(b, float))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / den) if den > 0 else float('nan')


def kendall_tau(a, b) -> float:
    r"""Kendall :math:`\tau_b` (tie-corrected), vectorised over pairs."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    iu = np.triu_indices(len(a), k=1)
    da = np.sign(a[iu[0]] - a[iu[1]])
    db = np.sign(b[iu[0]] - b[iu[1]])
    n0 = len(da)
    n1 = n0 - int((da == 0).sum())
    n2 = n0 - int((db == 0).sum())
    den = np.sqrt(float(n1) * float(n2))
    return float((da * db).sum() / den) if den > 0 else float('nan')
