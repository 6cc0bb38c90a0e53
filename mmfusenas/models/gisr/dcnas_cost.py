"""Op-level cost items of DCNAS paths (look-up-table path costs).

A path's cost is the sum of its items, built from the modules of
:class:`DCNASNet`'s fixed network, so ``params`` equal
``count_params(DCNASNet(path))``.
"""
from typing import Callable, Dict, List, Mapping, NamedTuple, Sequence, Tuple

import torch.nn as nn

from mmfusenas.models.ops import ConvAct, build_fusion_op, build_mb_op
from mmfusenas.registry import MODELS
from .dcnas_net import ConvPixelShuffle, PixelUnshuffleConv, normalise_arch
from .dcnas_space import dcnas_keys, infer_depth, num_pruned_rgb_stages


class CostItem(NamedTuple):
    """One measured unit: LUT key, module builder, input shapes."""
    key: str
    build: Callable[[], nn.Module]
    inputs: Sequence[Tuple[int, ...]]


@MODELS.register_module()
class DCNASCostModel:
    """Cost items of DCNAS fixed networks at one input size.

    Args:
        num_features (int): ``C``. Defaults to 16.
        input_size (tuple[int, int]): HR ``(H, W)``. Defaults to (480, 480).
        num_stages (int): Defaults to 4.
        num_blocks (int): Defaults to 4.
        in_channels (int): Defaults to 1.
        guide_channels (int): Defaults to 3.
        bias (bool): Defaults to False.
    """

    def __init__(self,
                 num_features: int = 16,
                 input_size: Sequence[int] = (480, 480),
                 num_stages: int = 4,
                 num_blocks: int = 4,
                 in_channels: int = 1,
                 guide_channels: int = 3,
                 bias: bool = False) -> None:
        self.c = num_features
        self.h, self.w = map(int, input_size)
        factor = 2**(num_stages - 1)
        if self.h % factor or self.w % factor:
            raise ValueError(f'input_size {input_size} must be divisible by '
                             f'{factor}')
        self.num_stages, self.num_blocks = num_stages, num_blocks
        self.cin, self.cg, self.bias = in_channels, guide_channels, bias

    @property
    def context(self) -> dict:
        """What a cached table must match."""
        return dict(
            model='DCNAS', num_features=self.c, input_size=[self.h, self.w],
            in_channels=self.cin, guide_channels=self.cg, bias=self.bias)

    def space_keys(self) -> List[str]:
        return dcnas_keys(self.num_stages, self.num_blocks)

    def cheapest_choices(self) -> Dict[str, str]:
        """All blocks and fusion ops ``skip``: the cheapest path."""
        return {k: 'skip' for k in self.space_keys()}

    def items(self, choices: Mapping[str, str]) -> List[CostItem]:
        """The cost items of a path (genotype choices or arch dict)."""
        ch = normalise_arch(choices)
        depth = infer_depth(ch)
        if (depth['num_stages'], depth['num_blocks']) != (self.num_stages,
                                                          self.num_blocks):
            raise ValueError(f'path has {depth}, the cost model '
                             f'{self.num_stages} stages x '
                             f'{self.num_blocks} blocks')
        c, h, w, b = self.c, self.h, self.w, self.bias
        S = self.num_stages
        fusion = [ch[f'fusion.{i}'] for i in range(S)]
        n_rgb = S - num_pruned_rgb_stages(fusion)
        cs = [c * 2**s for s in range(S)]
        hw = [(h // 2**s, w // 2**s) for s in range(S)]
        items: List[CostItem] = []

        def add(key, build, *shapes):
            items.append(CostItem(key, build, shapes))

        def head(cin):
            return lambda: nn.Sequential(
                ConvAct(cin, c, 3, 'PReLU', b), ConvAct(c, c, 3, 'PReLU', b))

        add(f'head_{self.cin}_{c}_{h}x{w}', head(self.cin), (1, self.cin, h, w))
        if n_rgb:
            add(f'head_{self.cg}_{c}_{h}x{w}', head(self.cg),
                (1, self.cg, h, w))

        def mb(op, s):
            return lambda: build_mb_op(op, cs[s])

        for s in range(S):
            size = (1, cs[s]) + hw[s]
            tag = f'{cs[s]}_{hw[s][0]}x{hw[s][1]}'
            for prefix, present in (('rgb_encoder', s < n_rgb),
                                    ('dep_encoder', True)):
                if not present:
                    continue
                for j in range(self.num_blocks):
                    op = ch[f'{prefix}.{s}.{j}']
                    if op != 'skip':
                        add(f'{op}_{tag}', mb(op, s), size)
            if s < S - 1:
                down = (lambda s=s: PixelUnshuffleConv(cs[s], cs[s + 1], b))
                add(f'down_{tag}', down, size)
                if s < n_rgb - 1:
                    add(f'down_{tag}', down, size)
        tag3 = f'{cs[-1]}_{hw[-1][0]}x{hw[-1][1]}'
        add(f'middle_{tag3}',
            lambda: ConvAct(cs[-1], cs[-1], 1, 'PReLU', b),
            (1, cs[-1]) + hw[-1])
        for i in range(S):
            s = S - 1 - i
            size = (1, cs[s]) + hw[s]
            tag = f'{cs[s]}_{hw[s][0]}x{hw[s][1]}'
            op = fusion[i]
            if op not in ('skip', 'skip_dep', 'skip_rgb'):
                add(f'fuse_{op}_{tag}',
                    (lambda op=op, s=s: build_fusion_op(op, cs[s])), size,
                    size)
            for j in range(self.num_blocks):
                op = ch[f'decoder.{i}.{j}']
                if op != 'skip':
                    add(f'{op}_{tag}', mb(op, s), size)
            if i < S - 1:
                add(f'up_{tag}',
                    (lambda s=s: ConvPixelShuffle(cs[s], cs[s - 1], b)), size)
        add(f'tail_{c}_{h}x{w}',
            lambda: nn.Sequential(
                ConvAct(c, c, 3, 'PReLU', b),
                ConvAct(c, self.cin, 3, 'PReLU', b)), (1, c, h, w))
        return items
