"""The HBL restoration network (Zhu et al., IJCAI 2022): encoder, chained
Hadamard units, decoder, after the official ``zhudear/HBLALS_pytorch``.

One class builds the fixed network (op names) and the supernet
(``DiffMixedOp`` configs): ``configs/_base_/models/hbl_search_space.py``.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.models.cells.hadamard_unit import EdgeSpec, build_position
from mmfusenas.models.ops.hbl_ops import StatsBatchNorm2d
from mmfusenas.registry import MODELS

#: official attribute names of the 9 encoder positions (``SearchBlock2``)
HBL_ENCODER_POSITIONS = ('head', 'conv1', 'conv1_2', 'conv2', 'conv2_2',
                         'conv3', 'conv3_2', 'conv4', 'conv4_2')
#: official attribute names of the 9 decoder positions (``SearchBlock3``)
HBL_DECODER_POSITIONS = ('conv5', 'conv5_2', 'conv6', 'conv6_2', 'conv7',
                         'conv7_2', 'conv8', 'conv8_2', 'tail')


def _check_ops(ops: Sequence[EdgeSpec], n: int, who: str) -> None:
    if isinstance(ops, (str, dict)) or len(ops) != n:
        raise ValueError(f'{who} needs {n} position specs, got {ops!r}')


def pad_to_multiple(x: torch.Tensor,
                    multiple: int) -> Tuple[torch.Tensor, Tuple[int, ...]]:
    """Reflect-pad H and W to multiples of ``multiple`` (official
    ``pad_tensor``).

    Returns:
        tuple: the padded tensor and ``(left, right, top, bottom)``.
    """
    h, w = x.shape[-2:]
    dw, dh = (-w) % multiple, (-h) % multiple
    pads = (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2)
    if any(pads):
        x = F.pad(x, pads, mode='reflect')
    return x, pads


@MODELS.register_module()
class HBLEncoder(nn.Module):
    """Encoder (official ``SearchBlock2``), channels ``(3, 16, 32)``::

        h = op0(x)                     # C0 -> C1
        a = h + op2(ReLU(op1(h)));  b = a + op4(ReLU(op3(a)))
        e1 = Conv2x2/s2(b)             # C1 -> C2, 1/2
        c = e1 + op6(ReLU(op5(e1))); d = c + op8(ReLU(op7(c)))
        e2 = Conv2x2/s2(d)             # C2 -> C2, 1/4; returns (e2, e1)

    Args:
        ops (Sequence[str | dict]): 9 position specs in
            :data:`HBL_ENCODER_POSITIONS` order.
        channels (Sequence[int]): ``(C0, C1, C2)``. Defaults to (3, 16, 32).
    """

    def __init__(self,
                 ops: Sequence[EdgeSpec],
                 channels: Sequence[int] = (3, 16, 32)) -> None:
        super().__init__()
        _check_ops(ops, 9, 'HBLEncoder')
        c0, c1, c2 = channels
        widths = [c0] + [c1] * 4 + [c2] * 4
        self.ops = nn.ModuleList(
            build_position(spec, w, c1 if i == 0 else None)
            for i, (spec, w) in enumerate(zip(ops, widths)))
        self.down1 = nn.Conv2d(c1, c2, 2, stride=2, bias=False)
        self.down2 = nn.Conv2d(c2, c2, 2, stride=2, bias=False)

    def _res(self, x: torch.Tensor, i: int) -> torch.Tensor:
        return x + self.ops[i + 1](F.relu(self.ops[i](x)))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.ops[0](x)
        h = self._res(self._res(h, 1), 3)
        e1 = self.down1(h)
        e2 = self.down2(self._res(self._res(e1, 5), 7))
        return e2, e1


@MODELS.register_module()
class HBLDecoder(nn.Module):
    """Decoder (official ``SearchBlock3``), channels ``(32, 16, 3)``::

        u = ConvT2x2/s2(h + e2)        # C0 -> C0
        u = u + op1(ReLU(op0(u)));  u = u + op3(ReLU(op2(u)))
        v = ConvT2x2/s2(u + e1)        # C0 -> C1
        v = v + op5(ReLU(op4(v)));  v = v + op7(ReLU(op6(v)))
        y = op8(v)                     # C1 -> C2

    Args:
        ops (Sequence[str | dict]): 9 position specs in
            :data:`HBL_DECODER_POSITIONS` order.
        channels (Sequence[int]): ``(C0, C1, C2)``. Defaults to (32, 16, 3).
    """

    def __init__(self,
                 ops: Sequence[EdgeSpec],
                 channels: Sequence[int] = (32, 16, 3)) -> None:
        super().__init__()
        _check_ops(ops, 9, 'HBLDecoder')
        c0, c1, c2 = channels
        widths = [c0] * 4 + [c1] * 5
        self.up1 = nn.ConvTranspose2d(c0, c0, 2, stride=2, bias=False)
        self.up2 = nn.ConvTranspose2d(c0, c1, 2, stride=2, bias=False)
        self.ops = nn.ModuleList(
            build_position(spec, w, c2 if i == 8 else None)
            for i, (spec, w) in enumerate(zip(ops, widths)))

    _res = HBLEncoder._res

    def forward(self, h: torch.Tensor, e2: torch.Tensor,
                e1: torch.Tensor) -> torch.Tensor:
        u = self._res(self._res(self.up1(h + e2), 0), 2)
        v = self._res(self._res(self.up2(u + e1), 4), 6)
        return self.ops[8](v)


@MODELS.register_module()
class HBLNet(nn.Module):
    """HBL network: reflect pad -> encoder -> HNUs -> decoder -> crop.

    RGB ``(N, 3, H, W)`` in ``[0, 1]`` in, the official output out (no
    activation, clamp or global residual).

    Args:
        encoder (dict | nn.Module): :class:`HBLEncoder` config.
        units (Sequence[dict | nn.Module]): the chained
            :class:`~mmfusenas.models.cells.HadamardUnit` configs.
        decoder (dict | nn.Module): :class:`HBLDecoder` config.
        pad_multiple (int): Defaults to 4.
        bn_test_stats (str, optional): eval-mode statistics of every
            :class:`StatsBatchNorm2d` (``'running'`` or ``'per_image'``, the
            official test). Defaults to None (the units' own setting).
    """

    def __init__(self,
                 encoder: Union[dict, nn.Module],
                 units: Sequence[Union[dict, nn.Module]],
                 decoder: Union[dict, nn.Module],
                 pad_multiple: int = 4,
                 bn_test_stats: Optional[str] = None) -> None:
        super().__init__()
        if isinstance(units, dict) or not len(units):
            raise ValueError('HBLNet: units must be a non-empty list of '
                             'HadamardUnit configs')
        build = (lambda c: c if isinstance(c, nn.Module) else MODELS.build(c))
        self.encoder = build(encoder)
        self.units = nn.ModuleList(build(u) for u in units)
        self.decoder = build(decoder)
        self.pad_multiple = pad_multiple
        if bn_test_stats is not None:
            self.set_bn_test_stats(bn_test_stats)

    def set_bn_test_stats(self, mode: str) -> None:
        """Set the eval-mode statistics of every HNU BatchNorm."""
        for m in self.modules():
            if isinstance(m, StatsBatchNorm2d):
                m.test_stats = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h_in, w_in = x.shape[-2:]
        x, (left, _, top, _) = pad_to_multiple(x, self.pad_multiple)
        e2, e1 = self.encoder(x)
        h = e2
        for unit in self.units:
            h = unit(h)
        y = self.decoder(h, e2, e1)
        return y[..., top:top + h_in, left:left + w_in]

    def part_parameters(self) -> List[int]:
        """Parameter counts ``[encoder, units, decoder]``."""
        count = (lambda m: sum(p.numel() for p in m.parameters()))
        return [count(self.encoder), count(self.units), count(self.decoder)]


#: official names of the 8 HNU edges, in genotype order
HBL_UNIT_EDGES = ('r1', 'r2', 'r3', 'r4', 'i1', 'i2', 'i3', 'i4')


def hbl_network_cfg(genotype: dict, **kwargs) -> dict:
    """The :class:`HBLNet` config of a genotype of op-name lists.

    Args:
        genotype (dict): ``encoder`` (9 names), ``decoder`` (9 names) and
            ``units`` (8 names per HNU), as in
            ``configs/_base_/models/hbl_genotypes.py``.
        **kwargs: other :class:`HBLNet` arguments.
    """
    for key in ('encoder', 'decoder', 'units'):
        if key not in genotype:
            raise KeyError(f'HBL genotype lacks {key!r}; it needs encoder, '
                           f'decoder and units, got {sorted(genotype)}')
    return dict(
        type='HBLNet',
        encoder=dict(type='HBLEncoder', ops=list(genotype['encoder'])),
        units=[
            dict(type='HadamardUnit', channels=32, ops=list(ops))
            for ops in genotype['units']
        ],
        decoder=dict(type='HBLDecoder', ops=list(genotype['decoder'])),
        **kwargs)


def hbl_genotype_choices(genotype: dict) -> dict:
    """``{key: op name}`` of a genotype in the HBL supernet (keys
    ``enc/<position>``, ``dec/<position>``, ``hnu<u>/<edge>``).
    """
    choices = {}
    for pos, name in zip(HBL_ENCODER_POSITIONS, genotype['encoder']):
        choices[f'enc/{pos}'] = name
    for pos, name in zip(HBL_DECODER_POSITIONS, genotype['decoder']):
        choices[f'dec/{pos}'] = name
    for u, ops in enumerate(genotype['units']):
        for edge, name in zip(HBL_UNIT_EDGES, ops):
            choices[f'hnu{u}/{edge}'] = name
    return choices
