from .image_enhancer import ROUNDINGS, ImageEnhancer, to_uint8, to_uint8_rgb
from .loss_fields import (LOSS_FIELDS, call_field_loss, check_loss_fields,
                          network_fields)

__all__ = [
    'ImageEnhancer', 'ROUNDINGS', 'to_uint8',
    'to_uint8_rgb', 'LOSS_FIELDS', 'call_field_loss', 'check_loss_fields',
    'network_fields'
]
