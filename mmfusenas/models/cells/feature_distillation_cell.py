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
    """Number of edges of a :class:`FeatureDistillationCell`.

    Args:
        num_nodes (int): intermediate nodes ``n`` (>= 1).

    Returns:
        int: ``n (n + 1) / 2``.
    """
    if not isinstance(num_nodes, int) or num_nodes < 1:
        raise ValueError(f'num_nodes must be an int >= 1, got {num_nodes!r}')
    return num_nodes * (num_nodes + 1) // 2


def with_key_suffix(spec: EdgeSpec, suffix: str) -> EdgeSpec:
    """A copy of ``spec``; a ``DiffMixedOp`` gets ``suffix`` on its key.

    Args:
        spec (str | dict): an edge spec (template).
        suffix (str): appended to a mixed op's ``key``.

    Returns:
        str | dict: the spec (a deep copy); op names and fixed operator
        configs are unchanged.
    """
    spec = copy.deepcopy(spec)
    if isinstance(spec, dict) and spec.get('type') in MUTABLE_TYPES:
        if 'key' not in spec:
            raise ValueError(f"a DiffMixedOp edge_cfg template needs a 'key' "
                             f'(the prefix of the edge keys), got {spec!r}')
        spec['key'] = spec['key'] + suffix
    return spec


def edge_specs_from_template(edge_cfg: EdgeSpec,
                             num_edges: int) -> List[EdgeSpec]:
    """Expand one edge spec into the specs of ``num_edges`` edges.

    Edge ``e`` gets ``with_key_suffix(edge_cfg, f'/edge{e}')``: a
    ``DiffMixedOp`` template with key ``k`` gives the keys ``k/edge0``,
    ``k/edge1``, ...; op names and fixed operator configs are repeated.

    Args:
        edge_cfg (str | dict): the template edge spec.
        num_edges (int): number of edges.

    Returns:
        list[str | dict]: one spec per edge.
    """
    return [with_key_suffix(edge_cfg, f'/edge{e}') for e in range(num_edges)]


def cell_edge_specs_from_template(edge_cfg: EdgeSpec, num_cells: int,
                                  num_nodes: int) -> List[List[EdgeSpec]]:
    """Edge specs of ``num_cells`` cells built from one template.

    Cell ``c`` gets ``edge_specs_from_template(with_key_suffix(edge_cfg,
    f'/cell{c}'), n_edges)``: a ``DiffMixedOp`` template with key ``k``
    gives the keys ``k/cell<c>/edge<e>``.

    Args:
        edge_cfg (str | dict): the template edge spec.
        num_cells (int): number of cells.
        num_nodes (int): intermediate nodes per cell.

    Returns:
        list[list[str | dict]]: the edge specs of each cell.
    """
    num_edges = num_distillation_edges(num_nodes)
    return [
        edge_specs_from_template(
            with_key_suffix(edge_cfg, f'/cell{c}'), num_edges)
        for c in range(num_cells)
    ]


def check_one_of(ops: Any, edge_cfg: Any, owner: str) -> None:
    """Raise unless exactly one of ``ops`` / ``edge_cfg`` is given.

    Args:
        ops: explicit edge specs (or ``None``).
        edge_cfg: the edge template (or ``None``).
        owner (str): class name, for the error message.
    """
    if (ops is None) == (edge_cfg is None):
        raise ValueError(f'{owner} needs exactly one of `ops` (explicit edge '
                         f'specs) and `edge_cfg` (one template for every '
                         f'edge), got ops={ops!r}, edge_cfg={edge_cfg!r}')


@MODELS.register_module()
class FeatureDistillationCell(nn.Module):
    """Feature distillation cell ``C_FD``: a DAG of edges + distillation.

    TIM (Sec. 4.3) fuses features of the detection neck and the
    segmentation decoder with a directed-acyclic-graph cell whose edges are
    (relaxed) operators and whose last node concatenates the other nodes'
    features and reduces them (the feature distillation of IMDN / RFDN).

    Topology (DARTS-style, one input): node 0 is the cell input ``x``; for
    ``j = 1 .. n`` (``n = num_nodes``) intermediate node ``j`` is the sum of
    one edge from every earlier node::

        s_0 = x
        s_j = sum_{i = 0}^{j - 1} op_{(i, j)}(s_i)
        out = conv1x1(cat(s_1, ..., s_n))        # nC -> C, with bias

    so node ``j`` has ``j`` input edges and the cell ``n (n + 1) / 2``
    edges (``n = 4``: 10, ``n = 2``: 3). Edges are numbered target by
    target, sources in order: edge ``e = j (j - 1) / 2 + i`` goes from
    ``s_i`` to ``s_j`` (``n = 2``: ``e0 = (0, 1)``, ``e1 = (0, 2)``,
    ``e2 = (1, 2)``). The input ``x`` itself is not concatenated. Every
    edge maps ``C -> C`` channels at the input's H x W. Parameters: the
    edges plus ``n C^2 + C``.

    Edge specs are op names or module configs (see
    :func:`~mmfusenas.models.cells.build_edge`), e.g. ``'conv_3'`` or
    ``dict(type='DiffMixedOp', key=..., candidates=TASK_OP_NAMES)``. They
    are built in the ``mmfusenas`` default scope, so the cell also builds
    inside an mmdet / mmseg model (types of other packages need their scope
    prefix, e.g. ``'mmdet.X'``).

    Args:
        channels (int): width ``C`` (input = output channels).
        num_nodes (int): intermediate nodes ``n >= 1``. Defaults to 4.
        ops (Sequence[str | dict], optional): one edge spec per edge, in
            edge order (``n (n + 1) / 2`` specs). Give this or
            ``edge_cfg``.
        edge_cfg (str | dict, optional): one spec used for every edge;
            a ``DiffMixedOp`` template gets the key ``<key>/edge<e>`` on
            edge ``e`` (see :func:`edge_specs_from_template`); op names and
            fixed configs are repeated. A search
            space written with templates must be expanded with
            :func:`~mmfusenas.models.mutables.expand_edge_templates` before ``fix_space_cfg`` derives
            it.
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
        """The cell config with its ``edge_cfg`` template made explicit.

        Args:
            cfg (dict): a cell config with ``edge_cfg``.

        Returns:
            dict: a copy with ``ops`` (one spec per edge) instead.
        """
        check_one_of(cfg.get('ops'), cfg.get('edge_cfg'), cls.__name__)
        cfg = copy.deepcopy(cfg)
        cfg['ops'] = edge_specs_from_template(
            cfg.pop('edge_cfg'),
            num_distillation_edges(cfg.get('num_nodes', 4)))
        return cfg

    @staticmethod
    def edge_index(source: int, target: int) -> int:
        """Index of the edge from node ``source`` to node ``target``.

        Args:
            source (int): source node ``i`` (0 is the cell input).
            target (int): target node ``j > i`` (1-based intermediate node).

        Returns:
            int: ``j (j - 1) / 2 + i``.
        """
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
