"""A fusion network that lives outside MMFuseNAS and registers into it."""
from .gated_fusion_net import GatedFusionNet

__all__ = ['GatedFusionNet']
