"""The RUAS distillation cell (official ``SearchBlock``)."""
import copy
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import DefaultScope

from mmfusenas.registry import MODELS
from mmfusenas.models.ops import EdgeSpec, RUASConv, SkipConnect, build_edge
from mmfusenas.models.ops.direct_conv import (conv2d_at_inference,
                                              direct_conv2d, direct_conv_ok)
from mmfusenas.models.ops.ruas_kernels import (fused_ok, ruas_kernels,
                                                same_plain)
from .feature_distillation_cell import check_one_of, edge_specs_from_template

#: number of searched edges of a :class:`RUASDistillationCell`
RUAS_CELL_EDGES = 7

#: official attribute (state-dict name) of each edge, in genotype order
RUAS_EDGE_NAMES = ('c1_d', 'c1_r', 'c2_d', 'c2_r', 'c3_d', 'c3_r', 'c4')


@MODELS.register_module()
class RUASDistillationCell(nn.Module):
    """Distillation cell of the RUAS scene / noise-removal modules.

    Official name: ``SearchBlock(C, genotype)`` (``model_enhance/model.py``);
    the paper (Sec. 4.1) describes it as a DAG with five nodes, each
    connected to the next and to the last, the last node being an IMDN-style
    feature distillation. With ``act = LeakyReLU(negative_slope)`` and
    ``e_0 .. e_6`` the seven edges (genotype entry ``i`` -> edge ``i``)::

        d1 = act(e_0(x));   r1 = act(e_1(x) + x)       # c1_d, c1_r
        d2 = act(e_2(r1));  r2 = act(e_3(r1) + r1)     # c2_d, c2_r
        d3 = act(e_4(r2));  r3 = act(e_5(r2) + r2)     # c3_d, c3_r
        r4 = act(e_6(r3))                              # c4
        out = fuse(cat[d1, d2, d3, r4])                # c5: 1x1, 4C -> C

    The refinement edges 1, 3, 5 always get an extra identity from the cell,
    on top of any residual inside the operator (``resconv_1x1`` on edge 1
    gives ``r1 = act(x + conv(x) + x)``, ``skip_connect`` on edge 5 gives
    ``r3 = act(2 r2)``). ``fuse`` is a biased 1x1 conv with no activation;
    there is no residual around the cell. Parameters: the edges plus
    ``4 C^2 + C``.

    Edge specs are op names (e.g. the official ``'resconv_1x1'``, see
    :mod:`~mmfusenas.models.ops.ruas_ops`) or module configs, e.g.
    ``dict(type='DiffMixedOp', key=..., candidates=RUAS_SEARCH_OPS)`` for a
    supernet edge; see :func:`~mmfusenas.models.cells.build_edge`.

    Args:
        channels (int): width ``C`` (input = output channels).
        ops (Sequence[str | dict], optional): the 7 edge specs in edge order
            (official genotype order). Give this or ``edge_cfg``.
        edge_cfg (str | dict, optional): one spec for every edge; a
            ``DiffMixedOp`` template with key ``k`` gets the key
            ``k/edge<e>`` on edge ``e`` (op names and fixed configs are
            repeated). Expanded by
            :func:`~mmfusenas.models.mutables.expand_edge_templates` (and so by
            ``fix_space_cfg``) through :meth:`expand_edge_cfg`.
        negative_slope (float): slope of the LeakyReLU. Defaults to 0.05
            (official).
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
        """The cell config with its ``edge_cfg`` template made explicit.

        Args:
            cfg (dict): a cell config with ``edge_cfg``.

        Returns:
            dict: a copy with ``ops`` (one spec per edge) instead.
        """
        check_one_of(cfg.get('ops'), cfg.get('edge_cfg'), cls.__name__)
        cfg = copy.deepcopy(cfg)
        cfg['ops'] = edge_specs_from_template(
            cfg.pop('edge_cfg'), RUAS_CELL_EDGES)
        return cfg

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if fused_ok(x):
            return self._forward_fused(x)
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

    def _edge_terms(self, i: int, src: torch.Tensor) -> list:
        """The tensors whose left-to-right sum is edge ``i``'s output on
        ``src`` (a residual conv ``x + conv(x)`` gives ``[x, conv(x)]``, a
        skip ``[x]``), so that the cell's sum and activation can be one
        pass."""
        edge = self.edges[i]
        if type(edge) is SkipConnect:
            return [src]
        if type(edge) is RUASConv:
            out = conv2d_at_inference(edge.conv, src)
            if edge.relu:
                out = torch.relu_(out)
            return [src, out] if edge.residual else [out]
        return [edge(src)]

    def _act_sum(self, terms: list, out: torch.Tensor) -> torch.Tensor:
        """``out = leaky_relu(((t0 + t1) + t2))`` in one pass."""
        slope = self.negative_slope
        kern = ruas_kernels()
        if len(terms) == 2 and same_plain(terms):
            return kern.leaky_add(terms[0], terms[1], slope, out)
        if len(terms) == 3 and same_plain(terms):
            return kern.leaky_add3(terms[0], terms[1], terms[2], slope, out)
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return torch._C._nn.leaky_relu(total, slope, out=out)

    def _edge_act(self, i: int, src: torch.Tensor, refine: bool,
                  out: torch.Tensor) -> torch.Tensor:
        """``out = leaky_relu(edge_i(src) [+ src])`` (``+ src`` on a
        refinement edge) in one pass: a convolution edge of few channels
        computes its sums and the activation row by row in the direct
        kernel (:func:`~mmfusenas.models.ops.direct_conv.direct_conv2d`),
        any other edge through :meth:`_act_sum`."""
        edge = self.edges[i]
        if (type(edge) is RUASConv and not edge.relu
                and direct_conv_ok(edge.conv, src, epilogue=True)):
            return direct_conv2d(
                edge.conv, src, out=out,
                input_adds=int(edge.residual) + int(refine),
                negative_slope=self.negative_slope)
        terms = self._edge_terms(i, src)
        return self._act_sum(terms + [src] if refine else terms, out)

    def _forward_fused(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` at inference with one pass per activation
        (:mod:`~mmfusenas.models.ops.ruas_kernels`): every sum and its
        leaky ReLU in one kernel (with the convolution itself for edges of
        few channels, :meth:`_edge_act`), the four distilled maps written
        straight into the fusion conv's input (no concatenation). Same
        operands and order as the torch chain; bit-identical to it where
        the convolutions run on ATen (the switch ``direct_conv=False``)."""
        c = x.shape[1]
        cat = x.new_empty((x.shape[0], 4 * c) + tuple(x.shape[2:]))
        refined = x
        for i in range(3):
            self._edge_act(2 * i, refined, False, cat[:, i * c:(i + 1) * c])
            refined = self._edge_act(2 * i + 1, refined, True,
                                     torch.empty_like(refined))
        self._edge_act(6, refined, False, cat[:, 3 * c:])
        return self.fuse(cat)

    def extra_repr(self) -> str:
        return (f'channels={self.channels}, '
                f'negative_slope={self.negative_slope}')
