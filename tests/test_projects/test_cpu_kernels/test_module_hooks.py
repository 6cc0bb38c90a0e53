import torch.nn as nn

from cpu_kernels.module_hooks import has_forward_hooks


def test_own_and_global_forward_hooks():
    conv = nn.Conv2d(1, 1, 3)
    assert not has_forward_hooks(conv)
    h = conv.register_forward_hook(lambda *a: None)
    assert has_forward_hooks(conv)
    h.remove()
    h = conv.register_forward_pre_hook(lambda *a: None)
    assert has_forward_hooks(conv)
    h.remove()
    assert not has_forward_hooks(conv)
    for register in (nn.modules.module.register_module_forward_hook,
                     nn.modules.module.register_module_forward_pre_hook):
        h = register(lambda *a: None)
        try:
            assert has_forward_hooks(conv)
        finally:
            h.remove()
    assert not has_forward_hooks(conv)
    # a backward hook is not a forward hook: the call itself runs none
    h = conv.register_full_backward_hook(lambda *a: None)
    assert not has_forward_hooks(conv)
    h.remove()
