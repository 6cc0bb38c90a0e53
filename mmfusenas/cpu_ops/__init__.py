"""CPU kernels and the transform that applies them to a built model.

Model code under :mod:`mmfusenas.models` is plain PyTorch. This package
holds the CPU kernels that make some of those models faster on a CPU
(Winograd and tap-product convolutions, direct few-channel convolutions,
oneDNN blocked-layout chains, fused RUAS element-wise passes, compiled
separable filters, the fast training path), the kernel-backed subclasses
of the plain modules (:mod:`~mmfusenas.cpu_ops.modules`), the table of
which plain class gets which (:mod:`~mmfusenas.cpu_ops.registry`) and the
one transform that swaps them in and out
(:func:`apply_cpu_kernels` / :func:`remove_cpu_kernels`). A new network
needs none of it: it runs as written, and gains a kernel only when a
kernel class is registered for one of its modules.

Where the kernels are used: ``optimize='cpu_kernels'`` of
:func:`mmfusenas.apis.init_model` and ``--optimize cpu_kernels`` of the
inference tools (their default), and the config key
``cpu_kernel_transform`` (``'training'``, ``'inference'`` or None) read by
:class:`~mmfusenas.engine.runner.ReliableRunner` in training and testing. Their switches
(``winograd=False``, ...) are the settings of
:mod:`mmfusenas.utils.cpu_kernels`.
"""
from .registry import (KERNEL_CLASSES, fast_training_host,
                       fast_training_targets, kernel_children_for,
                       kernel_class, kernel_module_for, kernel_swaps,
                       plain_class)
from .transform import (CPU_KERNEL_TRANSFORMS, CpuKernelsReport,
                        apply_cpu_kernel_transform, apply_cpu_kernels,
                        check_cpu_kernel_transform, has_cpu_kernels,
                        remove_cpu_kernels)

__all__ = [
    'apply_cpu_kernels', 'remove_cpu_kernels', 'has_cpu_kernels',
    'CpuKernelsReport', 'CPU_KERNEL_TRANSFORMS', 'check_cpu_kernel_transform',
    'apply_cpu_kernel_transform', 'KERNEL_CLASSES', 'kernel_class',
    'kernel_module_for', 'kernel_children_for', 'kernel_swaps',
    'plain_class', 'fast_training_host', 'fast_training_targets'
]
