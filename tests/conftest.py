"""Shared pytest fixtures.

Tests that need the real images in ``../shared`` (next to the repository root)
skip with an explicit reason when that folder is absent (a user's clone); on
the project's machines it is always present and they always run.
"""
import gc
import os
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


@pytest.fixture(scope='module')
def one_thread():
    """One intra-op thread for a module's tests: the small convolutions of
    the tests run faster than with threads competing on a shared CPU.
    Use with ``pytestmark = pytest.mark.usefixtures('one_thread')``."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def pytest_configure(config):
    """Under pytest-xdist (``-n``, set in ``pytest.ini``) each worker process
    gets one thread: as many workers as cores run at once, and threads of
    one worker competing with the other workers' would only slow both. Also
    for the subprocesses a test starts (``OMP_NUM_THREADS``) and the
    compiled FMI kernels (``MMFUSENAS_FMI_THREADS``); a value set in the
    environment is kept."""
    if not os.environ.get('PYTEST_XDIST_WORKER'):
        return
    for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS',
                'MMFUSENAS_FMI_THREADS'):
        os.environ.setdefault(var, '1')
    import torch
    torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))


def pytest_collection_finish(session):
    """Move the objects alive after collection (torch, mmcv, mmdet, mmseg
    and the test modules, imported by then) to the garbage collector's
    permanent generation. MMEngine calls ``gc.collect()`` in every
    ``BaseDataset`` (``serialize_data``) and runner build; each such call
    otherwise walks those millions of module-level objects (~0.4 s a
    call), while only the objects the tests make can become garbage."""
    gc.collect()
    gc.freeze()


def pytest_addoption(parser):
    parser.addoption(
        '--run-slow', action='store_true', default=False,
        help='also run tests marked slow (long end-to-end runs); the same '
        'as MMFUSENAS_RUN_SLOW=1')


def pytest_collection_modifyitems(config, items):
    if config.getoption('--run-slow') or os.environ.get(
            'MMFUSENAS_RUN_SLOW') == '1':
        return
    skip = pytest.mark.skip(
        reason='slow end-to-end test: run with --run-slow or '
        'MMFUSENAS_RUN_SLOW=1')
    for item in items:
        if 'slow' in item.keywords:
            item.add_marker(skip)
