"""Underwater images paired with reference images (UIEB layout).

Layouts (``data_root`` is the dataset or split folder):

- UIEB: ``raw-890/`` and ``reference-890/`` with the same file names;
- ``raw/`` and ``reference/`` (the toy data, custom splits);
- unpaired: ``challenging-60/`` or ``raw/`` alone, or images directly in
  ``data_root``.

Samples use the enhancement fields (``low`` = raw input, ``gt`` =
reference), as :class:`HazeDataset` does.
"""
from mmfusenas.registry import DATASETS
from .haze_dataset import PairedLayoutDataset


@DATASETS.register_module()
class UnderwaterDataset(PairedLayoutDataset):
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
