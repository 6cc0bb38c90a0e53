"""Kernel classes of the HBL network: at CPU inference its maps run
channels-last (oneDNN's native layout, no reorder around each convolution)
and its wide 3 x 3 convolutions by Winograd's algorithm where they pay;
outputs equal the plain network's within float rounding
(``tests/test_models/test_hbl_networks.py``), and the switch
``channels_last=False`` (:mod:`cpu_kernels.switches`) keeps NCHW."""
import torch

from mmfusenas.models.ops import HBLConv
from mmfusenas.models.restoration import HBLNet
from ..blocked_conv_chain import channels_last_at_inference
from ..direct_conv import conv2d_at_inference
from ..registry import kernel_module_for

__all__ = ['CpuHBLNet', 'CpuHBLConv']


@kernel_module_for(HBLNet)
class CpuHBLNet(HBLNet):
    """:class:`~mmfusenas.models.restoration.HBLNet` fed a channels-last
    input at CPU inference
    (:func:`~cpu_kernels.blocked_conv_chain.channels_last_at_inference`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(channels_last_at_inference(x))


@kernel_module_for(HBLConv)
class CpuHBLConv(HBLConv):
    """:class:`~mmfusenas.models.ops.HBLConv` whose convolution runs by
    Winograd's algorithm on a channels-last map at inference where it pays
    (:func:`~cpu_kernels.direct_conv.conv2d_at_inference`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = conv2d_at_inference(self.conv, x, direct=False)
        return out + x if self.residual else out
