"""Published infrared-visible fusion networks and hand-crafted rules.

See ``docs/methods/fusion_baselines.md``: SeAFusion, TarDAL, IFCNN (converted
official weights, authors' pre- / post-processing as fusor options) and
the mean / choose-max / Laplacian-pyramid rules.
"""
from .classical import (LaplacianPyramidFusion, MaxAbsRuleFusion,
                        MeanRuleFusion, choose_max_abs)
from .convert import (BASELINE_NETWORKS, convert_fusion_baseline,
                      identify_baseline)
from .ifcnn import IFCNN
from .seafusion import GRDB, SeAFusionNet
from .tardal import TarDALGenerator

__all__ = [
    'SeAFusionNet', 'GRDB', 'TarDALGenerator', 'IFCNN', 'MeanRuleFusion',
    'MaxAbsRuleFusion', 'LaplacianPyramidFusion', 'choose_max_abs',
    'BASELINE_NETWORKS', 'convert_fusion_baseline', 'identify_baseline'
]
