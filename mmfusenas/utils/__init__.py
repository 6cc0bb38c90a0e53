from .colorspace import rgb_to_gray, rgb_to_ycbcr, ycbcr_to_rgb

__all__ = ['rgb_to_ycbcr', 'ycbcr_to_rgb', 'rgb_to_gray']
