"""Fold eval-mode BatchNorms into the convolutions before them.

Unlike mmcv's ``fuse_conv_bn`` (which pairs a BN with the conv registered
before it, whatever the forward does), pairs come only from structure that
guarantees them: a conv directly followed by a BN in an ``nn.Sequential``
(a module may name its conv in ``bn_fold_conv``) or a module's
``conv_bn_pairs``. The arithmetic is torch's ``fuse_conv_bn_weights``.
"""
from dataclasses import dataclass, field
from typing import List, Optional

import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_weights

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_BNS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@dataclass
class FoldReport:
    """``folded`` (``'<conv> <- <bn>'``) and ``skipped`` (``'<bn>:
    <reason>'``) BatchNorms of :func:`fold_batchnorm`."""
    folded: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f'folded {len(self.folded)} BatchNorm layer(s) into '
                 f'their convolutions']
        if self.skipped:
            lines.append(f'not folded ({len(self.skipped)}):')
            lines += [f'  {s}' for s in self.skipped]
        return '\n'.join(lines)


def _conv_of(module: nn.Module) -> Optional[nn.Module]:
    """The conv whose output ``module``'s output is (a plain conv, one
    declaring ``same_function_as_conv`` or the one named by
    ``bn_fold_conv``), else None."""
    if getattr(module, 'bn_fold_conv', None):
        module = getattr(module, module.bn_fold_conv)
    if isinstance(module, _CONVS) and (type(module) in _CONVS or getattr(
            type(module), 'same_function_as_conv', False)):
        return module
    return None


def _why_not(bn: nn.Module) -> Optional[str]:
    if type(bn) not in _BNS and not getattr(bn, 'folds_as_batchnorm',
                                            False):
        return (f'{type(bn).__name__} is not a plain BatchNorm (its eval '
                'statistics may differ) and does not declare '
                'folds_as_batchnorm')
    if bn.training:
        return 'in training mode (batch statistics); call .eval() first'
    if bn.running_mean is None or bn.running_var is None:
        return 'no running statistics (track_running_stats=False)'
    return None


@torch.no_grad()
def fold_conv_bn_(conv: nn.Module, bn: nn.Module) -> None:
    """Fold the eval-mode ``bn`` into ``conv`` in place (``conv`` gets a
    bias if it had none)."""
    if bn.num_features != conv.out_channels:
        raise ValueError(f'BatchNorm over {bn.num_features} channels cannot '
                         f'follow a conv with {conv.out_channels} outputs')
    conv.weight, conv.bias = fuse_conv_bn_weights(
        conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps,
        bn.weight, bn.bias)


def fold_batchnorm(model: nn.Module) -> FoldReport:
    """Fold every foldable BatchNorm of the eval-mode ``model`` (a plain
    ``nn.BatchNorm{1,2,3}d`` with running statistics, or a subclass
    declaring ``folds_as_batchnorm``) into its conv, in place, replacing it
    by ``nn.Identity``; report the folded pairs and every BatchNorm left in
    place with the reason."""
    names = {id(m): n for n, m in model.named_modules()}
    pairs = []  # (conv or its holder, the BN's parent, the BN's attribute)
    for module in model.modules():
        if isinstance(module, nn.Sequential):
            keys = list(module._modules)
            pairs += [(module._modules[a], module, b)
                      for a, b in zip(keys, keys[1:])]
        for conv_attr, bn_attr in getattr(module, 'conv_bn_pairs', ()):
            convs, bns = getattr(module, conv_attr), getattr(module, bn_attr)
            if isinstance(bns, nn.ModuleList):
                pairs += [(c, bns, str(k)) for k, c in enumerate(convs)
                          if k < len(bns)]
            else:
                pairs.append((convs, module, bn_attr))
    report = FoldReport()
    for holder, parent, attr in pairs:
        conv, bn = _conv_of(holder), parent._modules[attr]
        if conv is not None and isinstance(bn, _BNS) and not _why_not(bn):
            fold_conv_bn_(conv, bn)
            setattr(parent, attr, nn.Identity())
            report.folded.append(f'{names[id(holder)]} <- {names[id(bn)]}')
    report.skipped = [
        f'{name}: {_why_not(m) or "no conv directly before it"}'
        for name, m in model.named_modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
    ]
    return report
