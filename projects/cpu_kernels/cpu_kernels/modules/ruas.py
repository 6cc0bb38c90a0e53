"""Kernel classes of the RUAS networks: fused element-wise passes
(:mod:`~cpu_kernels.ruas_kernels`), direct few-channel convolutions
(:mod:`~cpu_kernels.direct_conv`) and conv chains in oneDNN's
blocked layout (:mod:`~cpu_kernels.blocked_conv_chain`), all at CPU
inference; elsewhere each class runs its plain forward.

With the switch ``direct_conv=False`` (:mod:`cpu_kernels.switches`)
the outputs equal the plain networks' bit for bit; with the direct
convolutions, within float rounding
(``tests/test_projects/test_cpu_kernels/test_ruas_kernels.py``).
"""
from typing import Optional, Tuple

import torch

from mmfusenas.models.cells.ruas_distillation_cell import \
    RUASDistillationCell
from mmfusenas.models.ops import RUASConv, SkipConnect
from mmfusenas.models.scene.ruas_denoise import (RUASDenoiseNet,
                                                 RUASNoiseEstimator)
from mmfusenas.models.scene.ruas_illumination import RUASIlluminationStage
from ..direct_conv import conv2d_at_inference, direct_conv2d, direct_conv_ok
from ..registry import kernel_children_for, kernel_module_for, plain_class
from ..ruas_kernels import fused_ok, ruas_kernels, same_plain
from .chains import CpuConvChain

__all__ = [
    'CpuRUASConv', 'CpuRUASDistillationCell', 'CpuRUASIlluminationStage',
    'CpuRUASDenoiseNet'
]


@kernel_module_for(RUASConv)
class CpuRUASConv(RUASConv):
    """:class:`~mmfusenas.models.ops.RUASConv` whose convolution of few
    channels runs directly at CPU inference
    (:func:`~cpu_kernels.direct_conv.conv2d_at_inference`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = conv2d_at_inference(self.conv, x)
        if self.relu:
            out = torch.relu(out)
        return x + out if self.residual else out


@kernel_module_for(RUASDistillationCell)
class CpuRUASDistillationCell(RUASDistillationCell):
    """:class:`~mmfusenas.models.cells.RUASDistillationCell` with one pass
    per activation at CPU inference (:func:`fused_ok`): every sum and its
    leaky ReLU in one kernel (with the convolution itself for edges of few
    channels), the four distilled maps written straight into the fusion
    conv's input (no concatenation). Same operands and order as the torch
    chain; bit-identical to it where the convolutions run on ATen (the
    switch ``direct_conv=False``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if fused_ok(x):
            return self._forward_fused(x)
        return super().forward(x)

    def _edge_terms(self, i: int, src: torch.Tensor) -> list:
        """The tensors whose left-to-right sum is edge ``i``'s output on
        ``src`` (a residual conv ``x + conv(x)`` gives ``[x, conv(x)]``, a
        skip ``[x]``), so that the cell's sum and activation can be one
        pass."""
        edge = self.edges[i]
        if plain_class(edge) is SkipConnect:
            return [src]
        if plain_class(edge) is RUASConv:
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
        kernel (:func:`~cpu_kernels.direct_conv.direct_conv2d`), any
        other edge through :meth:`_act_sum`."""
        edge = self.edges[i]
        if (plain_class(edge) is RUASConv and not edge.relu
                and direct_conv_ok(edge.conv, src, epilogue=True)):
            return direct_conv2d(
                edge.conv, src, out=out,
                input_adds=int(edge.residual) + int(refine),
                negative_slope=self.negative_slope)
        terms = self._edge_terms(i, src)
        return self._act_sum(terms + [src] if refine else terms, out)

    def _forward_fused(self, x: torch.Tensor) -> torch.Tensor:
        """The cell's output with the fused passes (see the class)."""
        c = x.shape[1]
        cat = x.new_empty((x.shape[0], 4 * c) + tuple(x.shape[2:]))
        refined = x
        for i in range(3):
            self._edge_act(2 * i, refined, False, cat[:, i * c:(i + 1) * c])
            refined = self._edge_act(2 * i + 1, refined, True,
                                     torch.empty_like(refined))
        self._edge_act(6, refined, False, cat[:, 3 * c:])
        return self.fuse(cat)


@kernel_module_for(RUASIlluminationStage)
class CpuRUASIlluminationStage(RUASIlluminationStage):
    """:class:`~mmfusenas.models.scene.RUASIlluminationStage` with the fused
    kernels at CPU inference (:func:`fused_ok`): ``M(u) - gamma (u - y)``
    in one pass, and the clamp of ``t`` with ``u = clamp(y / t, 0, 1)`` in
    one pass (bit-identical to the torch chain)."""

    def forward(
        self,
        y: torch.Tensor,
        u_prev: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        fused = fused_ok(y) if u_prev is None else fused_ok(y, u_prev)
        if not fused:
            return super().forward(y, u_prev)
        kern = ruas_kernels()
        if u_prev is None:
            t_hat = kern.local_max(y)
        elif self.update == 'rectified':
            t_hat = kern.rectify(u_prev, y, self.gamma)
        else:
            t_hat = u_prev
        t = self.cell(t_hat)
        if t.untyped_storage().data_ptr() in (
                t_hat.untyped_storage().data_ptr(),
                y.untyped_storage().data_ptr()):
            t = t.clone()  # identity / view cell: never write into an input
        t = torch.sigmoid_(t)
        if same_plain((t, y)):
            return kern.illumination(t, y, self.t_min), t
        t = t.clamp_(self.t_min, 1.0)
        return (y / t).clamp(0.0, 1.0), t


@kernel_module_for(RUASDenoiseNet)
class CpuRUASDenoiseNet(RUASDenoiseNet):
    """:class:`~mmfusenas.models.scene.RUASDenoiseNet` whose stem and head
    convolutions of few channels run directly at CPU inference
    (:func:`~cpu_kernels.direct_conv.conv2d_at_inference`)."""

    def forward(self, u: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        feat = conv2d_at_inference(self.stem, u)
        for cell in self.cells:
            feat = cell(feat)
        noise = conv2d_at_inference(self.head, feat)
        return u - noise, noise


@kernel_children_for(RUASNoiseEstimator)
def _estimator_chain(module: RUASNoiseEstimator):
    """The estimator's conv chain runs in oneDNN's blocked layout."""
    return [('layers', CpuConvChain)]
