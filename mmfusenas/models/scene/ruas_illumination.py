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
    """2 x 2 local maximum anchored at each pixel (official
    ``max_operation``).

    ``M(x)[i, j] = max(x[i, j], x[i + 1, j], x[i, j + 1], x[i + 1, j + 1])``
    per channel, with samples outside the image equal to 0: the window
    extends down / right from the pixel (the paper's "local region Omega
    centred at x" is, in the code, this non-centred window with zero
    padding). The output has the input's size.

    Computed as the official code does, with two element-wise maxima of
    shifted views (rows, then columns) of the zero-padded input: on CPU this
    is much cheaper than ``F.max_pool2d(kernel_size=2, stride=1)`` (which
    also computes indices), the values are identical, and on ties the
    gradient is split evenly like the official ``torch.max(x1, x2)`` (max
    pooling gives it to one input).

    Args:
        x (Tensor): ``(N, C, H, W)``.

    Returns:
        Tensor: ``(N, C, H, W)``.
    """
    padded = F.pad(x, (0, 1, 0, 1))
    rows = torch.maximum(padded[:, :, :-1], padded[:, :, 1:])
    return torch.maximum(rows[..., :-1], rows[..., 1:])


def stage_cell_cfgs(cell: CellCfgs, num: int, owner: str) -> List[dict]:
    """One cell config per stage from one config or a per-stage list.

    Args:
        cell (dict | Sequence[dict]): one config used at every stage or
            ``num`` configs.
        num (int): number of stages / cells.
        owner (str): class name, for the error message.

    Returns:
        list[dict]: ``num`` configs.
    """
    if isinstance(cell, dict):
        return [cell] * num
    if not isinstance(cell, (list, tuple)) or len(cell) != num or not all(
            isinstance(c, dict) for c in cell):
        raise ValueError(f'{owner}: cell must be one cell config (dict) or '
                         f'a list of {num} cell configs, got {cell!r}')
    return list(cell)


def build_cells(cfgs: Sequence[dict], channels: int) -> nn.ModuleList:
    """Build cell configs at width ``channels`` in the ``mmfusenas`` scope.

    Args:
        cfgs (Sequence[dict]): cell configs (without ``channels``).
        channels (int): width of every cell.

    Returns:
        nn.ModuleList: the cells.
    """
    with DefaultScope.overwrite_default_scope('mmfusenas'):
        return nn.ModuleList(
            MODELS.build(cfg, default_args=dict(channels=channels))
            for cfg in cfgs)


@MODELS.register_module()
class RUASIlluminationStage(nn.Module):
    """One illumination estimation stage (official ``IEM``).

    With ``y`` the low-light input in ``[0, 1]`` and ``u`` the previous
    stage's enhanced image (none at the first stage)::

        first stage:        t_hat = M(y)
        'rectified' update: t_hat = M(u) - gamma * (u - y)
        'previous' update:  t_hat = u
        t = clamp(sigmoid(cell(t_hat)), t_min, 1)
        u = clamp(y / t, 0, 1)

    ``M`` is :func:`local_max`. ``'rectified'`` is the enhancement network
    (paper: residual rectification ``r = u - y`` with penalty ``gamma``; the
    code takes the maximum over the previous **enhanced image** ``u``, the
    paper over the previous illumination ``t``); ``'previous'`` is the scene
    module of the official detection network (``model_detection``).
    Paper vs code: the paper updates ``t = t_hat - grad g(t_hat)`` (a
    residual step); the code has no residual, the cell output goes through a
    sigmoid and a clamp, and ``u`` is clamped to ``[0, 1]``.

    Args:
        cell (dict): config of the cell that parameterises ``grad g``
            (built at ``channels``), e.g. a :class:`RUASDistillationCell`.
        channels (int): image channels. Defaults to 3.
        gamma (float): rectification weight ``gamma``. Defaults to 0.5
            (official).
        t_min (float): lower clamp of ``t``: 1e-4 in the TPAMI code, 1e-3
            in the CVPR code. Defaults to 1e-4.
        update (str): ``'rectified'`` or ``'previous'`` (see above).
            Defaults to 'rectified'.
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
        """Estimate the illumination and the enhanced image.

        Args:
            y (Tensor): ``(N, C, H, W)`` low-light input in ``[0, 1]``.
            u_prev (Tensor, optional): the previous stage's enhanced image;
                None at the first stage.

        Returns:
            tuple[Tensor, Tensor]: ``(u, t)``.
        """
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
    """RUAS scene module: ``K`` unrolled illumination stages (official
    ``EnhanceNetwork``; RUAS_s alone).

    Stage ``k`` is a :class:`RUASIlluminationStage` fed with ``y`` and the
    previous stage's ``u``; the enhanced image is the last ``u``. Every
    stage has its own weights (official). ``cell`` is one config used at
    every stage or one config per stage. For a supernet, cells whose
    ``DiffMixedOp`` edges use the **same keys** at every stage share one
    architecture vector per edge (the official search: one ``alpha`` for
    all IEMs) — e.g. one ``cell`` dict with ``edge_cfg=dict(type=
    'DiffMixedOp', key='scene', ...)``; a list whose cells use
    stage-specific keys searches each stage separately (see
    ``configs/_base_/models/ruas_search_space.py``).

    Args:
        cell (dict | Sequence[dict]): cell config(s), built at
            ``channels``; the official genotype is
            ``configs/_base_/models/ruas_genotypes.py``.
        num_stages (int): ``K`` (paper Table 2: 3 is best). Defaults to 3.
        channels (int): image channels. Defaults to 3.
        gamma (float): rectification weight. Defaults to 0.5.
        t_min (float): lower clamp of the illumination (TPAMI 1e-4, CVPR
            1e-3). Defaults to 1e-4.
        update (str): ``'rectified'`` (enhancement) or ``'previous'``
            (official detection network); see
            :class:`RUASIlluminationStage`. Defaults to 'rectified'.
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
        """Run the stages.

        Args:
            y (Tensor): ``(N, C, H, W)`` low-light input in ``[0, 1]``.

        Returns:
            tuple[list[Tensor], list[Tensor]]: ``(u_list, t_list)``, one
            enhanced image and one illumination per stage.
        """
        if y.dim() != 4 or y.shape[1] != self.channels:
            raise ValueError(
                f'RUASIlluminationNet expects (N, {self.channels}, H, W) '
                f'inputs, got {tuple(y.shape)}')
        u_list, t_list = [], []
        u = None
        for stage in self.stages:
            u, t = stage(y, u)
            u_list.append(u)
            t_list.append(t)
        return u_list, t_list
