"""CPU kernels and the transform that applies them to a built model.

Model code under :mod:`mmfusenas.models` is plain PyTorch. This package
holds the CPU kernels that make some of those models faster on a CPU
(Winograd and tap-product convolutions, direct few-channel convolutions,
oneDNN blocked-layout chains, fused RUAS element-wise passes, compiled
separable filters, the fast training path), the kernel-backed subclasses
of the plain modules (:mod:`~cpu_kernels.modules`), the table of
which plain class gets which (:mod:`~cpu_kernels.registry`) and the
one transform that swaps them in and out
(:func:`apply_cpu_kernels` / :func:`remove_cpu_kernels`). A new network
needs none of it: it runs as written, and gains a kernel only when a
kernel class is registered for one of its modules.

Where the kernels are used, each by name: ``optimize='cpu_kernels'`` of
:func:`mmfusenas.apis.init_model`, ``--optimize cpu_kernels`` of the
inference tools, and :class:`~cpu_kernels.hook.CpuKernelsHook` in a config's
``custom_hooks`` (training and testing). Their switches (``winograd=False``,
...) are the settings of :mod:`cpu_kernels.switches`. A model on another
device than the CPU is refused.
"""
from mmfusenas.apis.deploy import register_optimization

from .hook import CpuKernelsHook
from .registry import (KERNEL_CLASSES, fast_training_host,
                       fast_training_targets, kernel_children_for,
                       kernel_class, kernel_module_for, kernel_swaps,
                       plain_class)
from .transform import (CpuKernelsReport, apply_cpu_kernels, has_cpu_kernels,
                        remove_cpu_kernels)

register_optimization('cpu_kernels', apply_cpu_kernels)

__all__ = [
    'apply_cpu_kernels', 'remove_cpu_kernels', 'has_cpu_kernels',
    'CpuKernelsReport', 'CpuKernelsHook', 'KERNEL_CLASSES', 'kernel_class',
    'kernel_module_for', 'kernel_children_for', 'kernel_swaps',
    'plain_class', 'fast_training_host', 'fast_training_targets'
]
