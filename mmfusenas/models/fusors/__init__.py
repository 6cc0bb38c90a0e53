from .image_fusor import ImageFusor

__all__ = ['ImageFusor']
