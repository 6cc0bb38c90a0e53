"""Underwater images paired with reference images (UIEB layout).

Layouts (``data_root`` is the dataset or split folder):

- UIEB: ``raw-890/`` and ``reference-890/`` with the same file names;
- ``raw/`` and ``reference/`` (the toy data, custom splits);
- unpaired: ``challenging-60/`` or ``raw/`` alone, or images directly in
  ``data_root``.

Samples use the enhancement fields (``low`` = raw input, ``gt`` =
reference), as :class:`HazeDataset` does.
"""
from typing import Optional

from mmfusenas.registry import DATASETS
from .haze_dataset import detect_paired_layout
from .lowlight_dataset import LowLightDataset


@DATASETS.register_module()
class UnderwaterDataset(LowLightDataset):
    """Raw underwater / reference pairs (UIEB, the toy underwater data).

    Args:
        data_root (str): the split folder.
        data_prefix (dict, optional): ``dict(low=<raw folder>[,
            gt=<reference folder>])``; None detects the layouts above.
        with_gt (bool, optional): see :class:`LowLightDataset`.
        **kwargs: other :class:`LowLightDataset` arguments.
    """

    LAYOUTS = (('raw-890', ('reference-890', )), ('raw', ('reference', )),
               ('challenging-60', ()))

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 with_gt: Optional[bool] = None,
                 **kwargs) -> None:
        if not data_prefix:
            data_prefix = detect_paired_layout(data_root,
                                               type(self).__name__,
                                               self.LAYOUTS, with_gt)
        super().__init__(
            data_root=data_root, data_prefix=data_prefix, **kwargs)
