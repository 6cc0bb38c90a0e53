"""The table behind :func:`~cpu_kernels.transform.apply_cpu_kernels`:
which plain model class gets which kernel-backed class.

A *kernel class* is a subclass of a plain ``nn.Module`` class whose
``forward`` computes the same function with the CPU kernels of this
package; it adds no parameters, buffers or submodules, so a module's class
can be swapped for it in place (``module.__class__ = ...``) and back, the
state dict unchanged. Two decorators fill the table:

- :func:`kernel_module_for` on a kernel class: every module whose class is
  exactly the plain class is swapped for it;
- :func:`kernel_children_for` on a function: for a module whose class is
  exactly the plain class, the function names submodules (by their
  relative name) and the kernel class each of them gets, e.g. the
  ``nn.Sequential`` chain of a network that runs in oneDNN's blocked
  layout.

:func:`fast_training_host` registers where the fast training path of
:func:`~cpu_kernels.transform.apply_cpu_kernels` (``training=True``)
applies inside a model class, e.g. the pre-module of the compound fusion
models.
"""
from typing import Callable, Dict, Iterable, List, Tuple

import torch.nn as nn

__all__ = [
    'KERNEL_CLASSES', 'kernel_class', 'kernel_module_for',
    'kernel_children_for', 'kernel_swaps', 'plain_class',
    'fast_training_host', 'fast_training_targets'
]

#: a rule: module -> ``(relative submodule name, kernel class)`` pairs
Rule = Callable[[nn.Module], Iterable[Tuple[str, type]]]

#: kernel class -> the plain class it replaces
KERNEL_CLASSES: Dict[type, type] = {}
#: plain class -> its rules, in registration order
_RULES: Dict[type, List[Rule]] = {}
#: model class -> function naming its fast-training targets
_FAST_TRAINING_HOSTS: Dict[type, Callable[[nn.Module], List[str]]] = {}


def kernel_class(plain: type) -> Callable[[type], type]:
    """Class decorator: declare ``cls`` the kernel class of ``plain`` (a
    direct subclass adding no state), without a rule (a rule of another
    class, or the fast training path, swaps it in)."""

    def register(cls: type) -> type:
        if cls.__bases__ != (plain, ):
            raise TypeError(f'{cls.__name__} must subclass exactly '
                            f'{plain.__name__} (got {cls.__bases__})')
        if cls in KERNEL_CLASSES:
            raise KeyError(f'{cls.__name__} is registered already')
        KERNEL_CLASSES[cls] = plain
        return cls

    return register


def kernel_module_for(plain: type) -> Callable[[type], type]:
    """Class decorator: every module whose class is exactly ``plain`` is
    swapped for the decorated kernel class."""

    def register(cls: type) -> type:
        kernel_class(plain)(cls)
        _RULES.setdefault(plain, []).append(lambda module: [('', cls)])
        return cls

    return register


def kernel_children_for(plain: type) -> Callable[[Rule], Rule]:
    """Function decorator: for a module whose class is exactly ``plain``,
    the function yields ``(relative submodule name, kernel class)`` pairs
    (``''`` for the module itself); each named submodule whose class is
    exactly the kernel class's plain class is swapped."""

    def register(rule: Rule) -> Rule:
        _RULES.setdefault(plain, []).append(rule)
        return rule

    return register


def kernel_swaps(module: nn.Module) -> List[Tuple[str, type]]:
    """The ``(relative name, kernel class)`` pairs the rules give for
    ``module`` (none where its class has no rule)."""
    swaps = []
    for rule in _RULES.get(type(module), ()):
        swaps.extend(rule(module))
    return swaps


def plain_class(module_or_class) -> type:
    """The plain class of a module or class: the class a kernel class
    replaces, any other class itself."""
    cls = module_or_class if isinstance(module_or_class, type) \
        else type(module_or_class)
    return KERNEL_CLASSES.get(cls, cls)


def fast_training_host(model_class: type) -> Callable:
    """Function decorator: ``fn(model) -> [qualified submodule names]``
    names where the fast training path applies in an instance of
    ``model_class`` (or of a subclass)."""

    def register(fn: Callable[[nn.Module], List[str]]) -> Callable:
        _FAST_TRAINING_HOSTS[model_class] = fn
        return fn

    return register


def fast_training_targets(model: nn.Module) -> List[str]:
    """Qualified names of the submodules of ``model`` that the fast
    training path applies to: those the hosts inside ``model`` name (see
    :func:`fast_training_host`); without a host, the whole model (``''``)
    if it is a bare network (not an MMEngine ``BaseModel``), else none."""
    from mmengine.model import BaseModel
    targets = []
    for name, module in model.named_modules():
        for host, fn in _FAST_TRAINING_HOSTS.items():
            if isinstance(module, host):
                prefix = f'{name}.' if name else ''
                targets.extend(prefix + t for t in fn(module))
                break
    if not targets and not isinstance(model, BaseModel):
        targets = ['']
    return list(dict.fromkeys(targets))
