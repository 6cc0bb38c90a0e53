"""Feature distillation cell C_FD of the TIM task modules (Sec. 4.3)."""
import copy
from typing import Any, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.registry import DefaultScope

from mmfusenas.models.mutables.space import MUTABLE_TYPES
from mmfusenas.models.ops import EdgeSpec, build_edge
from mmfusenas.registry import MODELS


def num_distillation_edges(num_nodes: int) -> int:
    """Edges of a :class:`FeatureDistillationCell`: ``n (n + 1) / 2``."""
    if not isinstance(num_nodes, int) or num_nodes < 1:
        raise ValueError(f'num_nodes must be an int >= 1, got {num_nodes!r}')
    return num_nodes * (num_nodes + 1) // 2


def with_key_suffix(spec: EdgeSpec, suffix: str) -> EdgeSpec:
    """A deep copy of ``spec``; a ``DiffMixedOp`` gets ``suffix`` on its
    key."""
    spec = copy.deepcopy(spec)
    if isinstance(spec, dict) and spec.get('type') in MUTABLE_TYPES:
        if 'key' not in spec:
            raise ValueError(f"a DiffMixedOp edge_cfg template needs a 'key' "
                             f'(the prefix of the edge keys), got {spec!r}')
        spec['key'] = spec['key'] + suffix
    return spec


def edge_specs_from_template(edge_cfg: EdgeSpec,
                             num_edges: int) -> List[EdgeSpec]:
    """``num_edges`` specs from one template; mixed-op keys get
    ``/edge<e>``."""
    return [with_key_suffix(edge_cfg, f'/edge{e}') for e in range(num_edges)]


def cell_edge_specs_from_template(edge_cfg: EdgeSpec, num_cells: int,
                                  num_nodes: int) -> List[List[EdgeSpec]]:
    """Edge specs of ``num_cells`` cells; keys get ``/cell<c>/edge<e>``."""
    num_edges = num_distillation_edges(num_nodes)
    return [
        edge_specs_from_template(
            with_key_suffix(edge_cfg, f'/cell{c}'), num_edges)
        for c in range(num_cells)
    ]


def check_one_of(ops: Any, edge_cfg: Any, owner: str) -> None:
    """Raise unless exactly one of ``ops`` / ``edge_cfg`` is given."""
    if (ops is None) == (edge_cfg is None):
        raise ValueError(f'{owner} needs exactly one of `ops` (explicit edge '
                         f'specs) and `edge_cfg` (one template for every '
                         f'edge), got ops={ops!r}, edge_cfg={edge_cfg!r}')


def check_in_channels(in_channels: Sequence[int], owner: str) -> List[int]:
    """``in_channels`` as a list; raise unless it lists >= 2 positive ints."""
    if isinstance(in_channels, int) or len(in_channels) < 2 or not all(
            isinstance(c, int) and c > 0 for c in in_channels):
        raise ValueError(f'{owner} fuses >= 2 levels: in_channels must list '
                         f'>= 2 positive ints (fine to coarse), got '
                         f'{in_channels!r}')
    return list(in_channels)


@MODELS.register_module()
class FeatureDistillationCell(nn.Module):
    """Feature distillation cell ``C_FD``: a DAG of edges + distillation.

    DARTS-style topology with one input::

        s_0 = x
        s_j = sum_{i < j} op_(i, j)(s_i)            j = 1 .. n
        out = conv1x1(cat(s_1, ..., s_n))          # nC -> C, with bias

    Edge ``e = j (j - 1) / 2 + i`` goes from ``s_i`` to ``s_j``; every edge
    maps ``C -> C``. Edge specs are op names or module configs
    (:func:`~mmfusenas.models.cells.build_edge`), built in the ``mmfusenas``
    scope.

    Args:
        channels (int): width ``C``.
        num_nodes (int): intermediate nodes ``n >= 1``. Defaults to 4.
        ops (Sequence[str | dict], optional): one spec per edge. Give this or
            ``edge_cfg``.
        edge_cfg (str | dict, optional): one spec for every edge (see
            :func:`edge_specs_from_template`).
    """

    def __init__(self,
                 channels: int,
                 num_nodes: int = 4,
                 ops: Optional[Sequence[EdgeSpec]] = None,
                 edge_cfg: Optional[EdgeSpec] = None) -> None:
        super().__init__()
        num_edges = num_distillation_edges(num_nodes)
        check_one_of(ops, edge_cfg, type(self).__name__)
        if edge_cfg is not None:
            ops = edge_specs_from_template(edge_cfg, num_edges)
        if isinstance(ops, (str, dict)) or len(ops) != num_edges:
            raise ValueError(
                f'a FeatureDistillationCell with {num_nodes} nodes has '
                f'{num_edges} edges and needs one spec per edge, got {ops!r}')
        self.channels = channels
        self.num_nodes = num_nodes
        with DefaultScope.overwrite_default_scope('mmfusenas'):
            self.edges = nn.ModuleList(
                build_edge(spec, channels) for spec in ops)
        self.reduce = nn.Conv2d(num_nodes * channels, channels, 1)

    @classmethod
    def expand_edge_cfg(cls, cfg: dict) -> dict:
        """A copy of ``cfg`` with its ``edge_cfg`` template expanded into
        ``ops``."""
        check_one_of(cfg.get('ops'), cfg.get('edge_cfg'), cls.__name__)
        cfg = copy.deepcopy(cfg)
        cfg['ops'] = edge_specs_from_template(
            cfg.pop('edge_cfg'),
            num_distillation_edges(cfg.get('num_nodes', 4)))
        return cfg

    @staticmethod
    def edge_index(source: int, target: int) -> int:
        """Index ``j (j - 1) / 2 + i`` of the edge from node ``i`` to ``j``."""
        if not 0 <= source < target:
            raise ValueError(f'an edge goes from an earlier node to a later '
                             f'one, got {source} -> {target}')
        return target * (target - 1) // 2 + source

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [x]
        for j in range(1, self.num_nodes + 1):
            first = self.edge_index(0, j)
            states.append(
                sum(self.edges[first + i](states[i]) for i in range(j)))
        return self.reduce(torch.cat(states[1:], dim=1))

    def extra_repr(self) -> str:
        return f'channels={self.channels}, num_nodes={self.num_nodes}'
