from .arch_params import ArchParams
from .diff_mixed_op import (DiffMixedOp, bind_arch_params, derive_choices,
                            normalise_candidates)
from .genotype import Genotype, build_genotype_net, fix_space_cfg

__all__ = [
    'ArchParams', 'DiffMixedOp', 'bind_arch_params', 'derive_choices',
    'normalise_candidates', 'Genotype', 'build_genotype_net', 'fix_space_cfg'
]
