"""Load IVIF_ZOO's own metric code from a checkout the user names.

IVIF_ZOO (github.com/RollingPlain/IVIF_ZOO) ships its evaluator as scripts
in ``Metric/`` (``eval_torch.py`` with ``evaluation_one(ir, vi, fused)``,
``Metric_torch.py``, ``ssim.py``, ``Qabf.py``, ``Nabf.py``). Nothing of it
is part of this toolbox: :func:`load_evaluation_one` imports it from the
user's folder to compare values and speed with the ``ivif_zoo`` preset
(``benchmarks/bench_fusion_metrics.py --ivif-zoo DIR``). When a package
its scripts import at module level (``torchvision``, ``sklearn``,
``natsort``, ``openpyxl``) is not installed, a stand-in is put in
:data:`sys.modules` for the import: ``to_tensor`` of 2-D float32 arrays
does what torchvision does, the others raise when called.
"""
import importlib
import importlib.util
import os.path as osp
import sys
import types
from typing import Callable, Dict, List

import numpy as np


def _unused(name: str) -> Callable:

    def call(*args, **kwargs):
        raise RuntimeError(f'{name} is a stand-in (the package is not '
                           'installed); evaluation_one does not use it')

    return call


def _to_tensor(pic):
    import torch
    arr = np.asarray(pic)
    if arr.ndim != 2 or arr.dtype.kind != 'f':
        raise TypeError('the to_tensor stand-in takes 2-D float arrays '
                        f'(what ssim.py passes), got {arr.dtype} '
                        f'{arr.shape}')
    return torch.from_numpy(np.ascontiguousarray(arr[None]))


def _module(name: str, **attrs) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    return mod


def _stand_ins() -> Dict[str, types.ModuleType]:
    fn = _module('torchvision.transforms.functional', to_tensor=_to_tensor)
    transforms = _module('torchvision.transforms', functional=fn)
    metrics = _module(
        'sklearn.metrics',
        normalized_mutual_info_score=_unused(
            'sklearn.metrics.normalized_mutual_info_score'))
    xl_utils = _module(
        'openpyxl.utils',
        get_column_letter=_unused('openpyxl.utils.get_column_letter'))
    return {
        'torchvision': _module('torchvision', transforms=transforms),
        'torchvision.transforms': transforms,
        'torchvision.transforms.functional': fn,
        'sklearn': _module('sklearn', metrics=metrics),
        'sklearn.metrics': metrics,
        'natsort': _module('natsort', natsorted=_unused('natsort.natsorted')),
        'openpyxl': _module(
            'openpyxl',
            Workbook=_unused('openpyxl.Workbook'),
            load_workbook=_unused('openpyxl.load_workbook'),
            utils=xl_utils),
        'openpyxl.utils': xl_utils,
    }


def _install_stand_ins() -> List[str]:
    """Stand-ins for the packages that are missing; returns their names."""
    missing = {
        top for top in ('torchvision', 'sklearn', 'natsort', 'openpyxl')
        if top not in sys.modules and importlib.util.find_spec(top) is None
    }
    used = []
    for name, mod in _stand_ins().items():
        if name.split('.')[0] in missing:
            sys.modules[name] = mod
            used.append(name)
    return used


def load_evaluation_one(folder: str) -> Callable:
    """IVIF_ZOO's ``evaluation_one(ir_path, vi_path, fused_path)``.

    Args:
        folder (str): A checkout of IVIF_ZOO (with ``Metric/``), or its
            ``Metric`` folder.

    Returns:
        Callable: the function; it returns the 21 metrics as a tuple in
        the order of
        :data:`~mmfusenas.evaluation.functional.fusion_ivif_zoo.IVIF_ZOO_METRICS`.

    Raises:
        FileNotFoundError: no ``eval_torch.py`` under ``folder``.
    """
    metric = folder if osp.isfile(osp.join(folder, 'eval_torch.py')) else \
        osp.join(folder, 'Metric')
    if not osp.isfile(osp.join(metric, 'eval_torch.py')):
        raise FileNotFoundError(
            f'{folder} holds no IVIF_ZOO evaluator (Metric/eval_torch.py); '
            'clone github.com/RollingPlain/IVIF_ZOO and name its folder')
    _install_stand_ins()
    if metric not in sys.path:
        sys.path.insert(0, metric)
    module = importlib.import_module('eval_torch')
    return module.evaluation_one
