"""Guided image super-resolution networks (DCNAS) and the task model."""
from .dcnas_net import DCNASNet, normalise_arch
from .dcnas_space import (ARCH_FIELDS, EXAMPLE_ARCH, arch_to_choices,
                          choices_to_arch, dcnas_keys, dcnas_space,
                          num_pruned_rgb_stages)

__all__ = [
    'DCNASNet', 'normalise_arch', 'ARCH_FIELDS', 'EXAMPLE_ARCH',
    'arch_to_choices', 'choices_to_arch', 'dcnas_keys', 'dcnas_space',
    'num_pruned_rgb_stages'
]
