import pytest

import mmfusenas
from mmfusenas import _check_package, _check_version


def test_installed_stack_is_accepted():
    import mmcv
    import mmdet
    import mmseg
    assert mmcv.__version__ == '2.1.0'
    assert mmdet.__version__ == '3.3.0' and mmseg.__version__ == '1.2.2'
    assert mmfusenas.__version__ == '0.1.0'


def test_wrong_version_names_the_needed_range():
    with pytest.raises(AssertionError,
                       match=r'needs mmcv>=2\.1\.0,<2\.2\.0, but mmcv==2\.2\.0 '
                       r'is installed'):
        _check_version('mmcv', '2.2.0', '2.1.0', '2.2.0')
    with pytest.raises(ImportError,
                       match=r'needs mmsegmentation>=1\.2\.2,<1\.3\.0'):
        _check_package('no_such_module_xyz', 'mmsegmentation', '1.2.2',
                       '1.3.0')


@pytest.mark.parametrize('version', ['2.5.1', '2.1.0+cpu', '2.14.0'])
def test_torch_out_of_the_supported_range_is_refused(monkeypatch, version):
    import torch
    monkeypatch.setattr(torch, '__version__', version)
    with pytest.raises(AssertionError) as err:
        mmfusenas._check_torch()
    assert str(err.value).startswith(
        f'MMFuseNAS 0.1.0 needs torch>=2.6.0,<2.14.0, but torch=={version} '
        'is installed. Install one with `TORCH_SPEC=torch==2.13.0 bash '
        'tools/install.sh`')
    monkeypatch.setattr(torch, '__version__', '2.6.0+cpu')
    mmfusenas._check_torch()  # the floor is accepted


def test_readme_table_states_what_the_import_checks():
    """Every "≥ low, < high" of README's "Supported versions" table is the
    range mmfusenas/__init__.py checks, torch included."""
    import re

    from helpers import REPO_ROOT
    text = open(f'{REPO_ROOT}/README.md', encoding='utf-8').read()
    section = text.split('## Supported versions', 1)[1].split('\n\n', 2)[1]
    stated = {}
    for row in section.splitlines()[2:]:
        cells = [c.strip() for c in row.strip('|').split('|')]
        found = re.match(r'≥ ([\d.]+), < ([\d.]+)', cells[2])
        if found:
            stated[cells[0].split(' (')[0]] = found.groups()
    assert stated == {
        'torch': (mmfusenas.TORCH_MIN, mmfusenas.TORCH_MAX),
        'mmengine': (mmfusenas.MMENGINE_MIN, mmfusenas.MMENGINE_MAX),
        'mmcv': (mmfusenas.MMCV_MIN, mmfusenas.MMCV_MAX),
        'mmdet': (mmfusenas.MMDET_MIN, mmfusenas.MMDET_MAX),
        'mmsegmentation': (mmfusenas.MMSEG_MIN, mmfusenas.MMSEG_MAX),
    }
    # torch.nn.utils.get_total_norm, called by the code, is new in 2.6
    import torch
    assert mmfusenas.TORCH_MIN == '2.6.0'
    assert callable(torch.nn.utils.get_total_norm)
