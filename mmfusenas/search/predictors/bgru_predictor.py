"""Bidirectional-GRU performance predictor of one-shot paths (DCNAS).

A path is its gene sequence (:func:`~mmfusenas.models.mutables.
encode_choices`); genes with equal candidate lists share an embedding. A
2-layer bidirectional GRU's first-layer final states (official ``h_n[0]``,
``h_n[1]``) feed ``Linear -> BN -> ReLU -> Linear``.
"""
from typing import Dict, Mapping, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from mmfusenas.registry import MODELS
from mmfusenas.utils.checkpoint import read_checkpoint
from mmfusenas.utils.fileio import atomic_write
from .ranking_losses import PREDICTOR_LOSSES


@MODELS.register_module()
class BGRUPredictor(nn.Module):
    """Score of a path (lower = better when trained on losses).

    Embeddings and GRU states have size 32.

    Args:
        space (Mapping[str, Sequence[str]]): ``{key: candidate names}`` in
            gene order (``one_shot_space(supernet)``).
    """

    def __init__(self, space: Mapping[str, Sequence[str]]) -> None:
        super().__init__()
        embed_size = hidden_size = 32
        self.space = {k: tuple(v) for k, v in space.items()}
        groups: Dict[tuple, int] = {}
        gene_group = []
        for names in self.space.values():
            gene_group.append(groups.setdefault(names, len(groups)))
        self.embeddings = nn.ModuleList(
            nn.Embedding(len(names), embed_size) for names in groups)
        self.register_buffer(
            'gene_group', torch.tensor(gene_group), persistent=False)
        self.gru = nn.GRU(
            embed_size,
            hidden_size,
            2,
            bias=False,
            batch_first=True,
            bidirectional=True)
        self.head = nn.Sequential(
            nn.Linear(2 * hidden_size, hidden_size),
            nn.BatchNorm1d(hidden_size), nn.ReLU(),
            nn.Linear(hidden_size, 1))

    def embed(self, codes: torch.Tensor) -> torch.Tensor:
        """``(N, G)`` gene codes -> ``(N, G, E)``."""
        out = None
        for g, emb in enumerate(self.embeddings):
            mask = (self.gene_group == g)
            vals = emb(codes.clamp(0, emb.num_embeddings - 1))
            out = vals * mask[None, :, None] if out is None else \
                out + vals * mask[None, :, None]
        return out

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """``(N, G)`` long codes -> ``(N,)`` scores."""
        if codes.dim() != 2 or codes.shape[1] != len(self.space):
            raise ValueError(f'expected (N, {len(self.space)}) codes, got '
                             f'{tuple(codes.shape)}')
        _, h_n = self.gru(self.embed(codes.long()))
        feat = torch.cat((h_n[0], h_n[1]), dim=1)
        return self.head(feat).reshape(-1)


LABEL_NORMS = (None, 'standardize')


def check_label_norm(label_norm: Optional[str], owner: str = '') -> None:
    """Raise ``ValueError`` unless ``label_norm`` is one of
    :data:`LABEL_NORMS` (``owner`` prefixes the message)."""
    if label_norm not in LABEL_NORMS:
        prefix = f'{owner}: ' if owner else ''
        raise ValueError(f'{prefix}label_norm must be one of {LABEL_NORMS}, '
                         f'got {label_norm!r}')


def normalize_labels(labels, label_norm: Optional[str] = None) -> np.ndarray:
    """``labels`` as float64, standardised (``(y - mean) / std``, population
    std) for ``label_norm='standardize'``; constant labels stay 0 after
    centring (there is nothing to rank)."""
    check_label_norm(label_norm)
    y = np.asarray(labels, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError('predictor labels must be finite, got '
                         f'{int((~np.isfinite(y)).sum())} non-finite value(s)')
    if label_norm == 'standardize':
        y = y - y.mean()
        std = y.std()
        if std > 0:
            y = y / std
    return y


def train_predictor(predictor: nn.Module,
                    codes: np.ndarray,
                    labels: np.ndarray,
                    loss: str = 'ranknet',
                    epochs: int = 100,
                    batch_size: int = 16,
                    lr: float = 1e-3,
                    seed: Optional[int] = 0,
                    label_norm: Optional[str] = None) -> list:
    """Fit ``predictor`` on ``(codes, labels)`` with Adam (official: 100
    epochs, batch 16, lr 1e-3; fine-tuning: 50, 16, 1e-4).

    Args:
        label_norm (str, optional): None (official: raw labels) or
            ``'standardize'`` (train on ``(y - mean) / std``; see
            ``docs/methods/dcnas_benchmarks.md``).

    Returns:
        list[float]: mean loss per epoch.
    """
    if loss not in PREDICTOR_LOSSES:
        raise KeyError(f'unknown predictor loss {loss!r}; valid: '
                       f'{sorted(PREDICTOR_LOSSES)}')
    fn = PREDICTOR_LOSSES[loss]
    x = torch.as_tensor(np.asarray(codes), dtype=torch.long)
    y = torch.as_tensor(
        normalize_labels(labels, label_norm), dtype=torch.float32)
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    opt = torch.optim.Adam(predictor.parameters(), lr=lr)
    history = []
    predictor.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        total, batches = 0.0, 0
        for start in range(0, len(x), batch_size):
            idx = perm[start:start + batch_size]
            if len(idx) < 2:  # BatchNorm / pairs need 2 samples
                continue
            value = fn(predictor(x[idx]), y[idx])
            opt.zero_grad()
            value.backward()
            opt.step()
            total += value.item()
            batches += 1
        history.append(total / max(batches, 1))
    predictor.eval()
    return history


@torch.no_grad()
def predict_scores(predictor: nn.Module, codes) -> np.ndarray:
    """Scores of ``codes`` (eval mode)."""
    predictor.eval()
    x = torch.as_tensor(np.asarray(codes), dtype=torch.long)
    return predictor(x).cpu().numpy().astype(np.float64)


def save_predictor(predictor: BGRUPredictor, path: str, **meta) -> None:
    """Atomically save ``{'state_dict', 'meta': {'space', ...}}``."""
    import io
    buf = io.BytesIO()
    torch.save(
        dict(
            state_dict=predictor.state_dict(),
            meta=dict(space={k: list(v)
                             for k, v in predictor.space.items()},
                      **meta)), buf)
    atomic_write(buf.getvalue(), path)


def load_predictor(path: str) -> BGRUPredictor:
    """Rebuild a :class:`BGRUPredictor` saved by :func:`save_predictor`
    (``weights_only`` load)."""
    import os.path as osp
    if not osp.isfile(path):
        raise FileNotFoundError(f'predictor file not found: {path} (train '
                                'one with tools/search/train_predictor.py)')
    data = read_checkpoint(path, 'predictor file')
    if not isinstance(data, dict) or 'state_dict' not in data:
        raise ValueError(f'{path} is not a predictor file (no state_dict)')
    pred = BGRUPredictor(data['meta']['space'])
    pred.load_state_dict(data['state_dict'])
    pred.eval()
    return pred
