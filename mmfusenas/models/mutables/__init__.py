from .arch_params import ArchParams
from .choice_tree import choice_parents, path_probability
from .diff_mixed_op import (DiffMixedOp, bind_arch_params, derive_choices,
                            normalise_candidates)
from .genotype import (Genotype, build_genotype_net, config_at,
                       fix_space_cfg, nested_space_keys, reachable_keys,
                       space_keys, validate_genotype)
from .hyper_params import (LossHyperParams, bind_loss_hyper,
                           load_loss_weights)
from .one_shot_choice import (OneShotChoice, apply_choices, encode_choices,
                              one_shot_space, random_choices)
from .space import MUTABLE_TYPES, expand_edge_templates
from .position_specs import (position_specs, task_op_template,
                             task_position_spec)

__all__ = [
    'ArchParams', 'DiffMixedOp', 'bind_arch_params', 'derive_choices',
    'normalise_candidates', 'Genotype', 'build_genotype_net', 'config_at',
    'fix_space_cfg', 'space_keys', 'nested_space_keys', 'reachable_keys',
    'validate_genotype',
    'position_specs', 'task_op_template', 'task_position_spec',
    'MUTABLE_TYPES', 'expand_edge_templates', 'LossHyperParams',
    'bind_loss_hyper', 'load_loss_weights', 'OneShotChoice',
    'apply_choices', 'encode_choices',
    'one_shot_space', 'random_choices', 'choice_parents',
    'path_probability'
]
