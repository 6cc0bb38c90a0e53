"""The RUAS distillation cell (official ``SearchBlock``)."""
import copy
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import DefaultScope

from mmfusenas.registry import MODELS
from mmfusenas.models.ops import EdgeSpec, build_edge
from .feature_distillation_cell import check_one_of, edge_specs_from_template

#: number of searched edges of a :class:`RUASDistillationCell`
RUAS_CELL_EDGES = 7

#: official attribute (state-dict name) of each edge, in genotype order
RUAS_EDGE_NAMES = ('c1_d', 'c1_r', 'c2_d', 'c2_r', 'c3_d', 'c3_r', 'c4')


@MODELS.register_module()
class RUASDistillationCell(nn.Module):
    """Distillation cell of the RUAS modules (official ``SearchBlock``).

    With ``act = LeakyReLU(negative_slope)`` and edges ``e_0 .. e_6``::

        d1 = act(e_0(x));   r1 = act(e_1(x) + x)
        d2 = act(e_2(r1));  r2 = act(e_3(r1) + r1)
        d3 = act(e_4(r2));  r3 = act(e_5(r2) + r2)
        r4 = act(e_6(r3))
        out = fuse(cat[d1, d2, d3, r4])          # biased 1x1, 4C -> C

    Args:
        channels (int): width ``C``.
        ops (Sequence[str | dict], optional): the 7 edge specs in official
            genotype order. Give this or ``edge_cfg``.
        edge_cfg (str | dict, optional): one spec for every edge (keys
            ``k/edge<e>``).
        negative_slope (float): LeakyReLU slope. Defaults to 0.05 (official).
    """

    def __init__(self,
                 channels: int,
                 ops: Optional[Sequence[EdgeSpec]] = None,
                 edge_cfg: Optional[EdgeSpec] = None,
                 negative_slope: float = 0.05) -> None:
        super().__init__()
        check_one_of(ops, edge_cfg, type(self).__name__)
        if edge_cfg is not None:
            ops = edge_specs_from_template(edge_cfg, RUAS_CELL_EDGES)
        if isinstance(ops, (str, dict)) or len(ops) != RUAS_CELL_EDGES:
            raise ValueError(
                f'a RUASDistillationCell has {RUAS_CELL_EDGES} edges '
                f'{RUAS_EDGE_NAMES} and needs one spec per edge, got {ops!r}')
        self.channels = channels
        self.negative_slope = negative_slope
        with DefaultScope.overwrite_default_scope('mmfusenas'):
            self.edges = nn.ModuleList(
                build_edge(spec, channels) for spec in ops)
        self.fuse = nn.Conv2d(4 * channels, channels, 1)

    @classmethod
    def expand_edge_cfg(cls, cfg: dict) -> dict:
        """A copy of ``cfg`` with its ``edge_cfg`` template expanded into
        ``ops``."""
        check_one_of(cfg.get('ops'), cfg.get('edge_cfg'), cls.__name__)
        cfg = copy.deepcopy(cfg)
        cfg['ops'] = edge_specs_from_template(
            cfg.pop('edge_cfg'), RUAS_CELL_EDGES)
        return cfg

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        slope = self.negative_slope
        e = self.edges
        # in place where it is exact: always on the fresh sums (autograd
        # keeps the result of an in-place leaky ReLU), on an edge's output
        # only without autograd and when it does not share memory with the
        # edge's input (identity or view); saves one allocation (and its
        # page faults on CPU) per activation; not while tracing (compile /
        # export: fake tensors have no storage, the compiler plans memory)
        free = not (torch.is_grad_enabled()
                    or torch.compiler.is_compiling())

        def act(out: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
            own = free and (out.untyped_storage().data_ptr() !=
                            src.untyped_storage().data_ptr())
            return F.leaky_relu(out, slope, inplace=own)

        distilled = []
        refined = x
        for i in range(3):
            distilled.append(act(e[2 * i](refined), refined))
            refined = F.leaky_relu(
                e[2 * i + 1](refined) + refined, slope, inplace=True)
        last = act(e[6](refined), refined)
        return self.fuse(torch.cat(distilled + [last], dim=1))

    def extra_repr(self) -> str:
        return (f'channels={self.channels}, '
                f'negative_slope={self.negative_slope}')
