"""The one transform that puts the CPU kernels into a built model, and the
one that takes them out again.

:func:`apply_cpu_kernels` swaps, in place, the class of every module the
table of :mod:`~cpu_kernels.registry` names for its kernel-backed
subclass (same parameters, buffers, hooks and state-dict keys; the kernel
classes add no state). With ``training=True`` it also puts the fast
training path (:mod:`~cpu_kernels.fast_training`) on the submodules
:func:`~cpu_kernels.registry.fast_training_targets` names (the
fusion network of a compound fusion model, or a bare network): one-slope
PReLUs, 1 x 1 convolutions and grouped convolutions with one output per
group get their kernel classes, the 4-D parameters are stored
channels-last and the submodule is fed channels-last inputs (a forward
pre-hook). :func:`remove_cpu_kernels` restores every class, the
parameters' layout and removes the hook, so that the model is the plain
PyTorch model it was (state dict and outputs unchanged).

Each kernel class runs its plain ``forward`` wherever its kernel does not
apply (CUDA tensors, autograd recording an inference kernel, compilation,
export, the switches of :mod:`cpu_kernels.switches`), so the
transform is safe on any device; its effect is on float32 CPU maps.

This is the same shape as mmdet's ``fuse_conv_bn``: model code stays plain
PyTorch, the speed-up is an explicit step applied to a built CPU model
(``optimize='cpu_kernels'`` of :func:`mmfusenas.apis.init_model`,
``--optimize cpu_kernels`` of the inference tools,
:class:`~cpu_kernels.hook.CpuKernelsHook` in a config's ``custom_hooks``).
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from .modules import CpuConvChain  # noqa: F401 (the package fills the table)
from .fast_training import fast_training_swaps, to_channels_last
from .registry import KERNEL_CLASSES, fast_training_targets, kernel_swaps

__all__ = ['apply_cpu_kernels', 'remove_cpu_kernels', 'has_cpu_kernels',
           'CpuKernelsReport']

#: attribute of a transformed model holding what to undo
_STATE_ATTR = '_cpu_kernels_state'


class CpuKernelsReport:
    """What :func:`apply_cpu_kernels` changed.

    Attributes:
        swapped (list[tuple[str, str, str]]): ``(qualified module name,
            plain class, kernel class)`` of every class swap.
        fast_training (list[str]): the submodules put on the fast training
            path (``''`` is the model itself).
    """

    def __init__(self) -> None:
        self.swapped: List[Tuple[str, str, str]] = []
        self.fast_training: List[str] = []

    def __len__(self) -> int:
        return len(self.swapped)

    def __repr__(self) -> str:
        counts: Dict[str, int] = {}
        for _, _, kernel in self.swapped:
            counts[kernel] = counts.get(kernel, 0) + 1
        parts = ', '.join(f'{n} x {k}' for k, n in sorted(counts.items()))
        text = f'cpu_kernels: {len(self.swapped)} module(s) swapped'
        if parts:
            text += f' ({parts})'
        if self.fast_training:
            names = ', '.join(n or '<model>' for n in self.fast_training)
            text += f'; fast training path on {names}'
        return text


def has_cpu_kernels(model: nn.Module) -> bool:
    """Whether :func:`apply_cpu_kernels` was applied to ``model`` (and not
    removed since)."""
    return getattr(model, _STATE_ATTR, None) is not None


def _swap(module: nn.Module, kernel: type, name: str,
          undo: List[Tuple[nn.Module, type]],
          report: CpuKernelsReport) -> None:
    plain = KERNEL_CLASSES[kernel]
    if type(module) is not plain:
        return  # swapped already, or a subclass the rule does not know
    module.__class__ = kernel
    undo.append((module, plain))
    report.swapped.append((name, plain.__name__, kernel.__name__))


def _channels_last_inputs(module: nn.Module, args: tuple) -> tuple:
    """Forward pre-hook: the 4-D tensor arguments in channels-last layout."""
    return tuple(
        to_channels_last(a) if isinstance(a, torch.Tensor) else a
        for a in args)


def apply_cpu_kernels(model: nn.Module,
                      training: bool = False) -> CpuKernelsReport:
    """Swap the modules of ``model`` for their kernel-backed classes, in
    place.

    Args:
        model (nn.Module): a built model (an MMEngine model, or a bare
            network).
        training (bool): also put the fast training path on the targets
            of :func:`~cpu_kernels.registry.fast_training_targets`.
            Defaults to False (the inference kernels only).

    Returns:
        CpuKernelsReport: what was swapped. Applying twice changes nothing
        the second time (an empty report).

    Raises:
        RuntimeError: the model has parameters or buffers on another device
            than the CPU; or it was transformed already with
            ``training=False`` and is now asked for ``training=True`` (or
            the reverse): remove the kernels first.
    """
    devices = {t.device.type for t in (*model.parameters(),
                                        *model.buffers())} - {'cpu'}
    if devices:
        raise RuntimeError(
            f'apply_cpu_kernels: the model is on {", ".join(sorted(devices))}'
            '; the CPU kernels apply to a model on the CPU only (use the '
            'plain model there)')
    report = CpuKernelsReport()
    state = getattr(model, _STATE_ATTR, None)
    if state is not None:
        if state['training'] != training:
            raise RuntimeError(
                f'apply_cpu_kernels: the model carries the kernels with '
                f"training={state['training']} already; call "
                'remove_cpu_kernels(model) before applying them with '
                f'training={training}')
        return report
    undo: List[Tuple[nn.Module, type]] = []
    hooks = []
    layouts: List[Tuple[nn.Parameter, bool]] = []
    modules_by_name = dict(model.named_modules())
    if training:
        for target in fast_training_targets(model):
            net = modules_by_name[target]
            prefix = f'{target}.' if target else ''
            for name, kernel in fast_training_swaps(net):
                sub = net.get_submodule(name) if name else net
                _swap(sub, kernel, prefix + name, undo, report)
            for p in net.parameters():
                if p.dim() == 4 and not p.is_contiguous(
                        memory_format=torch.channels_last):
                    layouts.append((p, p.is_contiguous()))
                    p.data = p.data.contiguous(
                        memory_format=torch.channels_last)
            hooks.append(net.register_forward_pre_hook(_channels_last_inputs))
            report.fast_training.append(target)
    for name, module in list(model.named_modules()):
        for rel, kernel in kernel_swaps(module):
            sub = module.get_submodule(rel) if rel else module
            full = '.'.join(n for n in (name, rel) if n)
            _swap(sub, kernel, full, undo, report)
    # the state is not a submodule or buffer: no effect on the state dict
    object.__setattr__(model, _STATE_ATTR,
                       dict(training=training, undo=undo, hooks=hooks,
                            layouts=layouts))
    return report


def remove_cpu_kernels(model: nn.Module) -> Optional[int]:
    """Undo :func:`apply_cpu_kernels`: every swapped module gets its plain
    class back, the fast training path's parameters their former memory
    layout (same values) and its input hook is removed.

    Args:
        model (nn.Module): a model given to :func:`apply_cpu_kernels`.

    Returns:
        int | None: the number of classes restored; None when the model
        carries no kernels.
    """
    state = getattr(model, _STATE_ATTR, None)
    if state is None:
        return None
    for module, plain in reversed(state['undo']):
        module.__class__ = plain
    for hook in state['hooks']:
        hook.remove()
    for param, was_contiguous in state['layouts']:
        param.data = param.data.contiguous(
            memory_format=torch.contiguous_format
            if was_contiguous else torch.channels_last)
    object.__delattr__(model, _STATE_ATTR)
    return len(state['undo'])
