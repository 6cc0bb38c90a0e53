"""MMFuseNAS: task-guided, architecture-searched multi-modality imaging."""
import sys

from .version import PYTHON_MIN, __version__, version_info

if sys.version_info[:2] < PYTHON_MIN:
    raise ImportError(
        f'MMFuseNAS {__version__} needs Python>='
        f'{".".join(map(str, PYTHON_MIN))}, but Python '
        f'{sys.version.split()[0]} is running (see README "Supported '
        f'versions").')

import importlib.metadata  # noqa: E402
import importlib.util  # noqa: E402

from mmengine.utils import digit_version  # noqa: E402

# The stack MMFuseNAS is tested against (see README "Supported versions").
# torch >= 2.6: the code calls torch.nn.utils.get_total_norm (new in 2.6).
TORCH_MIN, TORCH_MAX = '2.6.0', '2.14.0'
MMCV_MIN, MMCV_MAX = '2.1.0', '2.2.0'  # mmdet 3.3.0 itself needs mmcv < 2.2
MMENGINE_MIN, MMENGINE_MAX = '0.10.0', '1.0.0'
MMDET_MIN, MMDET_MAX = '3.3.0', '3.4.0'
MMSEG_MIN, MMSEG_MAX = '1.2.2', '1.3.0'

_STACK_HINT = ('Install the tested stack with `pip install -r '
               'requirements/runtime.txt` (see README.md).')
_TORCH_HINT = ('Install one with `TORCH_SPEC=torch==2.13.0 bash '
               'tools/install.sh` in a fresh environment (CPU build: also '
               'TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu; see '
               'README.md).')


def _check_version(name: str, installed: str, low: str, high: str,
                   hint: str = _STACK_HINT) -> None:
    """Raise an error that says exactly which version of ``name`` is needed."""
    if not (digit_version(low) <= digit_version(installed) <
            digit_version(high)):
        raise AssertionError(
            f'MMFuseNAS {__version__} needs {name}>={low},<{high}, but '
            f'{name}=={installed} is installed. {hint}')


def _installed(module_name: str, dist_name: str) -> str:
    """The version of ``module_name``: its ``__version__`` once imported,
    otherwise the installed distribution's metadata (``import mmfusenas``
    imports none of torch, mmcv, mmdet and mmseg, so that a tool needing
    none of them, e.g. ``eval_fusion.py``, starts fast)."""
    module = sys.modules.get(module_name)
    if module is not None:
        return str(module.__version__)
    return importlib.metadata.version(dist_name)


def _check_torch() -> None:
    """:func:`_check_version` of the installed torch (before mmcv, whose
    compiled ops fail obscurely on a wrong torch)."""
    _check_version('torch', _installed('torch', 'torch'), TORCH_MIN,
                   TORCH_MAX, _TORCH_HINT)


def _check_package(module_name: str, dist_name: str, low: str,
                   high: str) -> None:
    try:
        if importlib.util.find_spec(module_name) is None:
            raise ImportError(f'no module named {module_name!r}')
        installed = _installed(module_name, dist_name)
    except (ImportError, importlib.metadata.PackageNotFoundError) as err:
        raise ImportError(
            f'MMFuseNAS {__version__} needs {dist_name}>={low},<{high}, which '
            f'is not importable ({err}). Install the tested stack with '
            f'`pip install -r requirements/runtime.txt` (see README.md).'
        ) from err
    _check_version(dist_name, installed, low, high)


_check_torch()
_check_package('mmcv', 'mmcv', MMCV_MIN, MMCV_MAX)
_check_package('mmengine', 'mmengine', MMENGINE_MIN, MMENGINE_MAX)
_check_package('mmdet', 'mmdet', MMDET_MIN, MMDET_MAX)
_check_package('mmseg', 'mmsegmentation', MMSEG_MIN, MMSEG_MAX)

# Configs of other projects can name ours, ``_base_ = 'mmfusenas::tim/x.py'``:
# MMEngine resolves ``package::path`` through MODULE2PACKAGE and the package's
# ``.mim/configs`` folder (a link to configs/ in a source checkout). The
# allow-list of what MMEngine writes into checkpoints (for ``weights_only``
# loading) is set when mmfusenas.registry or mmfusenas.utils.checkpoint is
# imported.
# MMEngine 0.10.7 looks for that folder beside the distribution's metadata,
# which a PEP 660 editable install (`pip install -e .` with setuptools >= 64)
# keeps in site-packages, away from the source tree: MMFuseNAS is located
# from its import path instead (as MMEngine's main branch does for every
# package), other packages as before.
import mmengine.utils  # noqa: E402
from mmengine.config.utils import MODULE2PACKAGE  # noqa: E402
from mmengine.utils import package_utils  # noqa: E402

MODULE2PACKAGE.setdefault('mmfusenas', 'mmfusenas')


def _installed_path(package: str,
                    _mmengine=package_utils.get_installed_path) -> str:
    if package == __name__:
        return sys.modules[__name__].__path__[0]
    return _mmengine(package)


for _module in (package_utils, mmengine.utils,
                sys.modules.get('mmengine.config.config')):
    if getattr(_module, 'get_installed_path', None) is not None:
        _module.get_installed_path = _installed_path

__all__ = ['__version__', 'version_info']
