"""Shared pytest fixtures.

Tests that need the real images in ``../shared`` (next to the repository root)
skip with an explicit reason when that folder is absent (a user's clone); on
the project's machines it is always present and they always run.
"""
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED = osp.join(osp.dirname(REPO_ROOT), 'shared')
SHARED_DATA = osp.join(SHARED, 'data')


@pytest.fixture(scope='session')
def shared_data() -> str:
    """Path of ``../shared/data``; skips the test when it is absent."""
    if not osp.isdir(SHARED_DATA):
        pytest.skip(f'real-data test: {SHARED_DATA} not found (the shared '
                    'data folder sits next to the repository on the '
                    "project's machines)")
    return SHARED_DATA
