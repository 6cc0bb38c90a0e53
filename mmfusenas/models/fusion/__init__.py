from .simple_fusion_net import SimpleFusionNet

__all__ = ['SimpleFusionNet']
