from .arch_params import ArchParams
from .choice_tree import choice_parents, path_probability
from .diff_mixed_op import (DiffMixedOp, bind_arch_params, derive_choices,
                            normalise_candidates)
from .genotype import (Genotype, build_genotype_net, config_at,
                       fix_space_cfg)
from .space import MUTABLE_TYPES, expand_edge_templates
from .position_specs import (position_specs, task_op_template,
                             task_position_spec)

__all__ = [
    'ArchParams', 'DiffMixedOp', 'bind_arch_params', 'derive_choices',
    'normalise_candidates', 'Genotype', 'build_genotype_net', 'config_at',
    'fix_space_cfg',
    'position_specs', 'task_op_template', 'task_position_spec',
    'MUTABLE_TYPES', 'expand_edge_templates', 'choice_parents',
    'path_probability'
]
