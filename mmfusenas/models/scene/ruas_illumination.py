"""RUAS scene module: Retinex-inspired unrolled illumination estimation.

Official names (``vis-opt-group/RUAS``, ``model_enhance/model.py``): ``IEM``
(one stage) and ``EnhanceNetwork`` (K stages). Paper: TPAMI 2022, Sec. 3.2
and 5.1 (Eq. 3-4, "illumination estimation module").
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import DefaultScope

from mmfusenas.registry import MODELS

#: illumination updates of :class:`RUASIlluminationStage`
UPDATES = ('rectified', 'previous')

CellCfgs = Union[dict, Sequence[dict]]


def local_max(x: torch.Tensor) -> torch.Tensor:
    """2 x 2 local maximum anchored at each pixel (``max_operation``).

    ``M[i, j] = max(x[i, j], x[i+1, j], x[i, j+1], x[i+1, j+1])`` with zero
    outside the image, computed as two maxima of shifted views like the
    official code (ties split the gradient evenly).
    """
    padded = F.pad(x, (0, 1, 0, 1))
    rows = torch.maximum(padded[:, :, :-1], padded[:, :, 1:])
    return torch.maximum(rows[..., :-1], rows[..., 1:])


def stage_cell_cfgs(cell: CellCfgs, num: int, owner: str) -> List[dict]:
    """``num`` cell configs from one config or a per-stage list."""
    if isinstance(cell, dict):
        return [cell] * num
    if not isinstance(cell, (list, tuple)) or len(cell) != num or not all(
            isinstance(c, dict) for c in cell):
        raise ValueError(f'{owner}: cell must be one cell config (dict) or '
                         f'a list of {num} cell configs, got {cell!r}')
    return list(cell)


def build_cells(cfgs: Sequence[dict], channels: int) -> nn.ModuleList:
    """Build cell configs at width ``channels`` in the ``mmfusenas`` scope."""
    with DefaultScope.overwrite_default_scope('mmfusenas'):
        return nn.ModuleList(
            MODELS.build(cfg, default_args=dict(channels=channels))
            for cfg in cfgs)


@MODELS.register_module()
class RUASIlluminationStage(nn.Module):
    """One illumination estimation stage (official ``IEM``).

    With ``y`` the low-light input and ``u`` the previous enhanced image::

        first stage:        t_hat = M(y)
        'rectified' update: t_hat = M(u) - gamma * (u - y)
        'previous' update:  t_hat = u
        t = clamp(sigmoid(cell(t_hat)), t_min, 1)
        u = clamp(y / t, 0, 1)

    ``M`` is :func:`local_max`; ``'previous'`` is the official detection
    network's scene module.

    Args:
        cell (dict): config of the cell (built at ``channels``).
        channels (int): image channels. Defaults to 3.
        gamma (float): rectification weight. Defaults to 0.5.
        t_min (float): lower clamp of ``t`` (TPAMI 1e-4, CVPR 1e-3).
            Defaults to 1e-4.
        update (str): ``'rectified'`` or ``'previous'``. Defaults to
            'rectified'.
    """

    def __init__(self,
                 cell: dict,
                 channels: int = 3,
                 gamma: float = 0.5,
                 t_min: float = 1e-4,
                 update: str = 'rectified') -> None:
        super().__init__()
        if update not in UPDATES:
            raise ValueError(
                f'update must be one of {UPDATES}, got {update!r}')
        if not 0 < t_min < 1:
            raise ValueError(f't_min must be in (0, 1), got {t_min}')
        self.gamma = gamma
        self.t_min = t_min
        self.update = update
        self.cell = build_cells([cell], channels)[0]

    def forward(
        self,
        y: torch.Tensor,
        u_prev: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return ``(u, t)`` from input ``y`` and the previous ``u``."""
        if u_prev is None:
            t_hat = local_max(y)
        elif self.update == 'rectified':
            t_hat = local_max(u_prev) - self.gamma * (u_prev - y)
        else:
            t_hat = u_prev
        if torch.is_grad_enabled() or torch.compiler.is_compiling():
            t = torch.sigmoid(self.cell(t_hat)).clamp(self.t_min, 1.0)
            u = (y / t).clamp(0.0, 1.0)
        else:  # same values, in place (no autograd to keep inputs for)
            t = self.cell(t_hat)
            if (t.untyped_storage().data_ptr() ==
                    t_hat.untyped_storage().data_ptr()):
                t = t.clone()  # identity / view cell: never write into u
            t = torch.sigmoid_(t).clamp_(self.t_min, 1.0)
            # not in place: clamp_ would keep the division's strides, which
            # for a permuted (channels-last) input differ from the official
            # out-of-place result and change the next stage's conv kernels
            u = (y / t).clamp(0.0, 1.0)
        return u, t

    def extra_repr(self) -> str:
        return (f'gamma={self.gamma}, t_min={self.t_min}, '
                f'update={self.update!r}')


@MODELS.register_module()
class RUASIlluminationNet(nn.Module):
    """RUAS scene module: ``K`` unrolled illumination stages.

    Every stage is a :class:`RUASIlluminationStage` with its own weights;
    supernet cells whose edges use the same keys at every stage share one
    architecture vector (``configs/_base_/models/ruas_search_space.py``).

    Args:
        cell (dict | Sequence[dict]): one cell config or one per stage.
        num_stages (int): ``K``. Defaults to 3.
        channels (int): image channels. Defaults to 3.
        gamma (float): rectification weight. Defaults to 0.5.
        t_min (float): lower clamp of the illumination. Defaults to 1e-4.
        update (str): ``'rectified'`` or ``'previous'``. Defaults to
            'rectified'.
    """

    def __init__(self,
                 cell: CellCfgs,
                 num_stages: int = 3,
                 channels: int = 3,
                 gamma: float = 0.5,
                 t_min: float = 1e-4,
                 update: str = 'rectified') -> None:
        super().__init__()
        if not isinstance(num_stages, int) or num_stages < 1:
            raise ValueError(
                f'num_stages must be an int >= 1, got {num_stages!r}')
        self.channels = channels
        self.stages = nn.ModuleList(
            RUASIlluminationStage(
                cfg,
                channels=channels,
                gamma=gamma,
                t_min=t_min,
                update=update)
            for cfg in stage_cell_cfgs(cell, num_stages,
                                       type(self).__name__))

    def forward(
            self,
            y: torch.Tensor) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        """Return ``(u_list, t_list)``, one pair per stage."""
        u_list, t_list = [], []
        u = None
        for stage in self.stages:
            u, t = stage(y, u)
            u_list.append(u)
            t_list.append(t)
        return u_list, t_list
