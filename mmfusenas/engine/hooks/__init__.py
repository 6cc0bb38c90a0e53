from .fused_image_save_hook import FusedImageSaveHook

__all__ = ['FusedImageSaveHook']
