"""Image fusion: the fusion networks (TIM, the published baselines, a
simple reference network), the output contract they share
(``fusion_outputs``) and :class:`ImageFusor`, the model that trains and runs
any of them on paired images (data preprocessing, losses, quantised
predictions)."""
from .simple_fusion_net import SimpleFusionNet

__all__ = ['SimpleFusionNet']
from .fusion_outputs import (MAIN_OUTPUT, check_loss_outputs,  # noqa: E402
                             fusion_loss_values, loss_output,
                             run_fusion_outputs)
from .tim_enhance_net import TIMEnhanceNet  # noqa: E402
from .tim_fusion_net import (TIMFusionNet, build_tim_head,  # noqa: E402
                             build_tim_stem, tim_cell_cfgs)
from .tim_genotypes import (TIM_CELL_TYPES, TIM_GENOTYPES,  # noqa: E402
                            TIM_OFFICIAL_MODELS, TIMGenotype)
from .tim_two_stage_net import TIMTwoStageFusionNet  # noqa: E402
from .baselines import (IFCNN, LaplacianPyramidFusion,  # noqa: E402
                        MaxAbsRuleFusion, MeanRuleFusion, SeAFusionNet,
                        TarDALGenerator, convert_fusion_baseline)
from .image_fusor import ImageFusor  # noqa: E402

__all__ += [
    'TIMEnhanceNet', 'TIMFusionNet', 'TIMTwoStageFusionNet', 'TIMGenotype',
    'TIM_CELL_TYPES', 'TIM_GENOTYPES', 'TIM_OFFICIAL_MODELS',
    'build_tim_head', 'build_tim_stem', 'tim_cell_cfgs', 'MAIN_OUTPUT',
    'check_loss_outputs', 'fusion_loss_values', 'loss_output',
    'run_fusion_outputs', 'SeAFusionNet',
    'TarDALGenerator', 'IFCNN', 'MeanRuleFusion', 'MaxAbsRuleFusion',
    'LaplacianPyramidFusion', 'convert_fusion_baseline', 'ImageFusor'
]
