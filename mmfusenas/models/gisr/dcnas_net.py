"""DCNAS: dual-level cross-modality network for guided depth SR.

:class:`DCNASNet` is the one-shot supernet (``arch=None``,
:class:`ElasticMBConv` blocks) or the fixed network of a genotype (official
``StaticModel``). Inputs: ``lr_up`` ``(N, 1, H, W)`` (bicubic-upsampled
target) and ``rgb`` ``(N, 3, H, W)``, ``H, W`` divisible by ``2^(S-1)``;
the output is ``tail(rec) + lr_up``.
"""
from typing import Any, Dict, Mapping, Optional, Union

import torch
import torch.nn as nn

from mmfusenas.models.mutables import OneShotChoice, apply_choices
from mmfusenas.models.ops import (FUSION_OP_NAMES, ConvAct, ElasticMBConv,
                                  build_fusion_op, build_mb_op)
from mmfusenas.registry import MODELS
from .dcnas_space import (arch_to_choices, canonical_choices, dcnas_keys,
                          infer_depth, num_pruned_rgb_stages)

Arch = Union[Mapping[str, Any], None]


def normalise_arch(arch: Arch) -> Optional[Dict[str, str]]:
    """Genotype choices (``{key: name}``) or an official ``arch`` dict ->
    genotype choices."""
    if arch is None:
        return None
    if 'fuse_op' in arch:
        return arch_to_choices(arch)
    return dict(arch)


class PixelUnshuffleConv(nn.Module):
    """PixelUnshuffle(2) then a 1x1 ``4C -> out`` conv, no activation."""

    def __init__(self, channels: int, out_channels: int,
                 bias: bool = False) -> None:
        super().__init__()
        self.unshuffle = nn.PixelUnshuffle(2)
        self.conv = nn.Conv2d(4 * channels, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.unshuffle(x))


class ConvPixelShuffle(nn.Module):
    """1x1 ``C -> 4 out`` conv, no activation, then PixelShuffle(2)."""

    def __init__(self, channels: int, out_channels: int,
                 bias: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, 4 * out_channels, 1, bias=bias)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.conv(x))


class RMAG(nn.ModuleList):
    """A residual group of mobile blocks (``+ input`` when ``residual``)."""

    def __init__(self, blocks, residual: bool) -> None:
        super().__init__(blocks)
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for block in self:
            out = block(out)
        return out + x if self.residual else out


@MODELS.register_module()
class DCNASNet(nn.Module):
    """DCNAS supernet (``arch=None``) or fixed network (``arch`` given).

    Args:
        arch (dict, optional): genotype choices ``{key: op name}`` (see
            :mod:`~mmfusenas.models.gisr.dcnas_space`) or an official
            ``arch`` dict of integer codes. None builds the supernet.
        num_features (int): ``C``. Defaults to 16 (Tiny: 8).
        num_blocks (int): blocks per RMAG ``B`` (supernet only; a fixed
            network takes it from ``arch``). Defaults to 4.
        num_stages (int): ``S``. Defaults to 4.
        in_channels (int): target channels. Defaults to 1.
        guide_channels (int): guidance channels. Defaults to 3.
        bias (bool): bias of the plain convs (official ``--bias``, off).
            Defaults to False.

    The supernet has one 3x3 conv per head / tail and residual RMAGs; the
    fixed network two, plain RMAGs, and drops the RGB stages no fusion op
    reads.
    """

    def __init__(self,
                 arch: Arch = None,
                 num_features: int = 16,
                 num_blocks: int = 4,
                 num_stages: int = 4,
                 in_channels: int = 1,
                 guide_channels: int = 3,
                 bias: bool = False) -> None:
        super().__init__()
        choices = normalise_arch(arch)
        self.is_supernet = choices is None
        if choices is not None:
            depth = infer_depth(choices)
            num_stages, num_blocks = depth['num_stages'], depth['num_blocks']
            expected = dcnas_keys(num_stages, num_blocks)
            if sorted(expected) != sorted(choices):
                missing = [k for k in expected if k not in choices]
                unknown = [k for k in choices if k not in expected]
                raise ValueError(
                    f'DCNASNet arch: keys do not form a {num_stages}-stage, '
                    f'{num_blocks}-block space (missing {missing[:6]}, '
                    f'unknown {unknown[:6]})')
        sup = self.is_supernet
        head_convs = tail_convs = 1 if sup else 2
        self.num_stages, self.num_blocks = num_stages, num_blocks
        self.num_features = num_features
        self.choices = choices
        c = [num_features * 2**s for s in range(num_stages)]
        fusion_ops = None if sup else [
            choices[f'fusion.{i}'] for i in range(num_stages)
        ]
        pruned = 0 if sup else num_pruned_rgb_stages(fusion_ops)
        self.num_rgb_stages = num_stages - pruned

        def head(cin):
            return nn.Sequential(*[
                ConvAct(cin if j == 0 else num_features, num_features, 3,
                        'PReLU', bias) for j in range(head_convs)
            ])

        self.dep_head = head(in_channels)
        # official StaticModel keeps an unused guidance head when every RGB
        # stage is pruned; here it is dropped (no RGB is read at all)
        self.rgb_head = head(guide_channels) if self.num_rgb_stages else None

        def rmag(prefix, channels):
            if sup:
                blocks = [
                    OneShotChoice(
                        f'{prefix}.{b}', shared=ElasticMBConv(channels))
                    for b in range(num_blocks)
                ]
            else:
                blocks = [
                    build_mb_op(choices[f'{prefix}.{b}'], channels)
                    for b in range(num_blocks)
                ]
            return RMAG(blocks, sup)

        # registration order = the official flat gene order (rgb, dep,
        # decoder, fusion), which one_shot_space() follows
        self.rgb_encoder = nn.ModuleList(
            rmag(f'rgb_encoder.{s}', c[s])
            for s in range(self.num_rgb_stages))
        self.dep_encoder = nn.ModuleList(
            rmag(f'dep_encoder.{s}', c[s]) for s in range(num_stages))
        self.down_dep = nn.ModuleList(
            PixelUnshuffleConv(c[s], c[s + 1], bias)
            for s in range(num_stages - 1))
        # the RGB stream is down-sampled only towards a stage that exists
        self.down_rgb = nn.ModuleList(
            PixelUnshuffleConv(c[s], c[s + 1], bias)
            for s in range(self.num_rgb_stages - 1))
        self.middle = ConvAct(c[-1], c[-1], 1, 'PReLU', bias)
        fusions, decoder, up = [], [], []
        for i in range(num_stages):
            s = num_stages - 1 - i
            if sup:
                fusions.append(
                    OneShotChoice(
                        f'fusion.{i}', {
                            name: build_fusion_op(name, c[s])
                            for name in FUSION_OP_NAMES
                        }))
            else:
                fusions.append(build_fusion_op(fusion_ops[i], c[s]))
            decoder.append(rmag(f'decoder.{i}', c[s]))
            if i < num_stages - 1:
                up.append(ConvPixelShuffle(c[s], c[s - 1], bias))
        self.decoder = nn.ModuleList(decoder)
        self.fusion = nn.ModuleList(fusions)
        self.up = nn.ModuleList(up)
        self.tail = nn.Sequential(*[
            ConvAct(num_features, num_features if j < tail_convs -
                    1 else in_channels, 3, 'PReLU', bias)
            for j in range(tail_convs)
        ])

    @staticmethod
    def canonical_path(choices: Mapping[str, str]) -> Dict[str, str]:
        """One representative of functionally identical paths (see
        :func:`~mmfusenas.models.gisr.dcnas_space.canonical_choices`).
        """
        return canonical_choices(normalise_arch(choices))

    def set_path(self, choices: Mapping[str, str]) -> None:
        """(supernet) Run ``choices`` from now on (genotype or arch dict)."""
        if not self.is_supernet:
            raise RuntimeError('set_path is for the supernet; a fixed '
                               'DCNASNet has its architecture built in')
        apply_choices(self, normalise_arch(choices))

    def forward(self, lr_up: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        """``(N, 1, H, W)`` upsampled LR target + ``(N, 3, H, W)`` guidance
        -> ``(N, 1, H, W)`` HR target."""
        dep = self.dep_head(lr_up)
        guide = self.rgb_head(rgb) if self.num_rgb_stages else None
        dep_feats, rgb_feats = [], []
        for s in range(self.num_stages):
            dep = self.dep_encoder[s](dep)
            dep_feats.append(dep)
            if s < self.num_rgb_stages:
                guide = self.rgb_encoder[s](guide)
                rgb_feats.append(guide)
            else:
                rgb_feats.append(None)
            if s < self.num_stages - 1:
                dep = self.down_dep[s](dep)
                if s < self.num_rgb_stages - 1:
                    guide = self.down_rgb[s](guide)
        rec = self.middle(dep_feats[-1])
        for i in range(self.num_stages):
            s = self.num_stages - 1 - i
            fused = self.fusion[i](dep_feats[s], rgb_feats[s])
            rec = self.decoder[i](rec if fused is None else rec + fused)
            if i < self.num_stages - 1:
                rec = self.up[i](rec)
        return self.tail(rec) + lr_up
