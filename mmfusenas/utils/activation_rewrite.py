"""Exact activation rewrites for deployment.

:func:`prelu_to_leaky_relu` replaces every ``nn.PReLU`` with one learned
slope by ``nn.LeakyReLU`` with that slope. The two compute the same
function (``x`` where ``x >= 0``, ``slope * x`` elsewhere, one float32
multiplication: bit-identical in PyTorch), but exporters and runtimes treat
them differently: ONNX Runtime's CPU graph optimiser fuses ``Conv`` +
``LeakyRelu`` (the slope is a constant attribute) into one convolution
kernel with the activation applied in registers, and leaves ``Conv`` +
``PRelu`` (the slope is a tensor input) as two kernels with a full feature
map written and read between them. :func:`mmfusenas.apis.export_network`
applies it (to a copy) before an ONNX export; its effect: see
``docs/user_guides/deployment.md``.
"""
from typing import List

import torch.nn as nn

__all__ = ['is_single_slope_prelu', 'prelu_to_leaky_relu']


def is_single_slope_prelu(module: nn.Module) -> bool:
    """Whether ``module`` is exactly an ``nn.PReLU`` (or a subclass that
    declares ``same_function_as_prelu``, such as the fast-training
    ``FastPReLU``) with one slope (what :func:`prelu_to_leaky_relu`
    replaces)."""
    exact = type(module) is nn.PReLU or (
        isinstance(module, nn.PReLU)
        and getattr(type(module), 'same_function_as_prelu', False))
    return exact and module.num_parameters == 1


def prelu_to_leaky_relu(model: nn.Module) -> List[str]:
    """Replace single-slope ``nn.PReLU`` modules by ``nn.LeakyReLU``, in
    place.

    Only modules whose type is exactly ``nn.PReLU`` (or declares
    ``same_function_as_prelu``) with
    ``num_parameters == 1`` are replaced (a per-channel PReLU has no
    LeakyReLU equivalent; a subclass may compute something else). The slope
    is read once: later changes of the PReLU weight do not reach the
    LeakyReLU, so use this on a network whose weights are final (inference
    or export).

    Args:
        model (nn.Module): the network.

    Returns:
        list[str]: the qualified names of the replaced modules.
    """
    replaced = []
    for parent_name, parent in list(model.named_modules()):
        for name, child in list(parent.named_children()):
            if is_single_slope_prelu(child):
                slope = float(child.weight.detach().reshape(()).item())
                setattr(parent, name, nn.LeakyReLU(slope))
                replaced.append(f'{parent_name}.{name}' if parent_name
                                else name)
    return replaced
