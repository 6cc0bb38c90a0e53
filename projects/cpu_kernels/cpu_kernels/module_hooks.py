"""Whether calling a module would run forward hooks."""
import torch.nn as nn


def has_forward_hooks(module: nn.Module) -> bool:
    """Whether ``module(...)`` runs forward (pre-)hooks: its own or the
    global ones (``nn.modules.module.register_module_forward_hook``).

    A kernel that computes a module's function without calling the module
    (e.g. :func:`~cpu_kernels.direct_conv.direct_conv2d`) is only
    taken where this is False: the hooks (feature probes, counters) must see
    the module's own call.
    """
    return bool(module._forward_hooks or module._forward_pre_hooks
                or nn.modules.module._global_forward_hooks
                or nn.modules.module._global_forward_pre_hooks)
