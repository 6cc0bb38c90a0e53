"""Official TIM genotype operator strings (``'Residualblocks_3_1'``, ...)
-> operator configs / modules, registered in ``MODELS``
(:data:`TIM_OP_NAMES`).
"""
from itertools import product
from typing import Dict, Tuple

import torch.nn as nn

from mmfusenas.registry import MODELS
from .op_names import register_op_names

KERNEL_SIZES = (3, 5, 7)
DILATIONS = (1, 2)

# family -> (operator type, name of the argument the third field sets or
# None for the attention families, fixed extra arguments)
_FAMILIES: Dict[str, Tuple[str, str, dict]] = {
    'Denseblocks': ('DenseBlock', 'dilation', {}),
    'Residualblocks': ('ResidualBlock', 'dilation', {}),
    'DilConv': ('DilConv', 'dilation', {}),
    # official quirk: the third field is the stride, padding is always 1
    'SepConv': ('SepConv', 'stride', dict(padding=1)),
    'ECAattention': ('ECABlock', None, {}),
    'SPAattention': ('SpatialAttentionBlock', None, {}),
    'NonLocalattention': ('NonLocalBlock', None, {}),
}
_PLAIN = {'skip': 'SkipConnect', 'zero': 'Zero'}


def _all_names() -> Tuple[str, ...]:
    names = []
    for family, (_, third, _) in _FAMILIES.items():
        if third is None:
            names += [f'{family}_{k}' for k in KERNEL_SIZES]
        else:
            names += [
                f'{family}_{k}_{d}'
                for k, d in product(KERNEL_SIZES, DILATIONS)
            ]
    return tuple(names) + tuple(_PLAIN)


#: every genotype string :func:`build_tim_op` accepts
TIM_OP_NAMES: Tuple[str, ...] = _all_names()


def _valid_forms() -> str:
    forms = [
        f'{family}_<k>' if third is None else f'{family}_<k>_<d>'
        for family, (_, third, _) in _FAMILIES.items()
    ]
    return (', '.join(forms + list(_PLAIN)) +
            f' with k in {KERNEL_SIZES} and d in {DILATIONS}')


def tim_op_cfg(name: str) -> dict:
    """Operator config (without ``channels``) of an official op string.

    Raises:
        ValueError: unknown family or malformed numbers; lists the valid
            forms.
    """
    if not isinstance(name, str):
        raise TypeError(f'TIM op name must be a str, got {name!r}')
    if name in _PLAIN:
        return dict(type=_PLAIN[name])
    family, *fields = name.split('_')
    if family not in _FAMILIES:
        raise ValueError(f"unknown TIM op '{name}': family '{family}' is "
                         f'not one of {sorted(_FAMILIES)}; valid: '
                         f'{_valid_forms()}')
    op_type, third, extra = _FAMILIES[family]
    expected = 1 if third is None else 2
    if (len(fields) != expected or not all(f.isdigit() for f in fields)
            or int(fields[0]) not in KERNEL_SIZES
            or (third is not None and int(fields[1]) not in DILATIONS)):
        form = f'{family}_<k>' if third is None else f'{family}_<k>_<d>'
        raise ValueError(f"invalid TIM op '{name}': expected {form} with k "
                         f'in {KERNEL_SIZES}' +
                         ('' if third is None else f' and d in {DILATIONS}') +
                         f'; valid: {_valid_forms()}')
    cfg = dict(type=op_type, kernel_size=int(fields[0]), **extra)
    if third is not None:
        cfg[third] = int(fields[1])
    return cfg


def build_tim_op(name: str, channels: int) -> nn.Module:
    """Build the operator of an official genotype string at width
    ``channels``."""
    return MODELS.build(tim_op_cfg(name), default_args=dict(channels=channels))


register_op_names('TIM fusion', TIM_OP_NAMES, tim_op_cfg)
