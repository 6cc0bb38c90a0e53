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
