"""Replace single-slope ``nn.PReLU`` by the equal ``nn.LeakyReLU`` before
an ONNX export (ONNX Runtime fuses ``Conv`` + ``LeakyRelu``, not ``Conv`` +
``PRelu``; see ``docs/user_guides/deployment.md``)."""
from typing import List

import torch.nn as nn

__all__ = ['is_single_slope_prelu', 'prelu_to_leaky_relu']


def is_single_slope_prelu(module: nn.Module) -> bool:
    """Whether ``module`` is an ``nn.PReLU`` (exactly, or a subclass
    declaring ``same_function_as_prelu``) with one slope."""
    exact = type(module) is nn.PReLU or (
        isinstance(module, nn.PReLU)
        and getattr(type(module), 'same_function_as_prelu', False))
    return exact and module.num_parameters == 1


def prelu_to_leaky_relu(model: nn.Module) -> List[str]:
    """Replace the modules :func:`is_single_slope_prelu` accepts by
    ``nn.LeakyReLU`` with their slope, in place (the slope is copied: use
    it on final weights).

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
