"""Deformable registration of multi-modality pairs: displacement fields, the
spatial transformer, registration networks and the model that trains them
(the ``N_R`` in front of TIM's fusion network, Sec. 5.1.2)."""
from .deformable_reg_net import DeformableRegNet
from .fields import (REGISTRATION_FIELDS, check_registration_losses,
                     register_pair)
from .image_registrator import ImageRegistrator
from .instance_optimisation import (OPTIMISATION_FIELDS,
                                    InstanceOptimisedRegNet, optimise_field)
from .pyramid_reg_net import (PyramidCorrRegNet, local_correlation,
                              orientation_features, resize_flow)
from .spatial_transformer import (SpatialTransformer, bound_flow,
                                  check_flow, check_flow_bound,
                                  compose_flows, flow_to_grid,
                                  integrate_velocity, pixel_grid, warp_image)

__all__ = [
    'DeformableRegNet', 'PyramidCorrRegNet', 'ImageRegistrator',
    'SpatialTransformer', 'local_correlation', 'resize_flow',
    'orientation_features',
    'InstanceOptimisedRegNet', 'optimise_field', 'OPTIMISATION_FIELDS',
    'REGISTRATION_FIELDS',
    'check_registration_losses', 'register_pair', 'check_flow',
    'compose_flows', 'flow_to_grid', 'integrate_velocity',
    'pixel_grid', 'warp_image', 'bound_flow', 'check_flow_bound'
]
