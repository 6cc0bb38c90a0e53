"""mmfusenas.utils.setup_env: temporary environment variables."""
import os

import pytest

from mmfusenas.utils import temporary_environment


def test_temporary_environment_sets_and_restores(monkeypatch):
    monkeypatch.setenv('MMFUSENAS_TEST_KEPT', 'before')
    monkeypatch.delenv('MMFUSENAS_TEST_NEW', raising=False)
    with temporary_environment({'MMFUSENAS_TEST_KEPT': 'during',
                                'MMFUSENAS_TEST_NEW': '1'}):
        assert os.environ['MMFUSENAS_TEST_KEPT'] == 'during'
        assert os.environ['MMFUSENAS_TEST_NEW'] == '1'
    assert os.environ['MMFUSENAS_TEST_KEPT'] == 'before'
    assert 'MMFUSENAS_TEST_NEW' not in os.environ
    # restored on an exception too
    with pytest.raises(RuntimeError, match='inside'):
        with temporary_environment({'MMFUSENAS_TEST_NEW': '2'}):
            raise RuntimeError('inside')
    assert 'MMFUSENAS_TEST_NEW' not in os.environ
