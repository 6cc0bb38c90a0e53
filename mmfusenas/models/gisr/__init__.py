"""Guided image super-resolution networks (DCNAS) and the task model."""
from .dcnas_cost import CostItem, DCNASCostModel
from .dcnas_net import DCNASNet, normalise_arch
from .guided_depth_sr import LOSS_SPACES, GuidedDepthSR
from .dcnas_space import (ARCH_FIELDS, EXAMPLE_ARCH, arch_to_choices,
                          canonical_choices,
                          choices_to_arch, dcnas_keys, dcnas_space,
                          num_pruned_rgb_stages)

__all__ = [
    'DCNASNet', 'normalise_arch', 'ARCH_FIELDS', 'EXAMPLE_ARCH',
    'arch_to_choices', 'choices_to_arch', 'dcnas_keys', 'dcnas_space',
    'num_pruned_rgb_stages', 'GuidedDepthSR', 'LOSS_SPACES',
    'CostItem', 'DCNASCostModel', 'canonical_choices'
]
