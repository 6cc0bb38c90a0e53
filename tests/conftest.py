"""Shared pytest fixtures.

Tests that need the real images in ``../shared`` (next to the repository root)
skip with an explicit reason when that folder is absent (a user's clone); on
the project's machines it is always present and they always run.
"""
import gc
import os
import os.path as osp
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the opt-in CPU kernel plugin, as a user puts it on PYTHONPATH; the package
# never imports it (tests/test_package_layout.py)
sys.path.insert(0, osp.join(REPO_ROOT, 'projects', 'cpu_kernels'))
# the test helpers (``tests/helpers``, imported as ``helpers``) and the
# folders of the benchmark and reproduction scripts the tests load (a script
# imports a script beside it, as its own folder is on the path when it runs):
# on the path of this process, its xdist workers and the processes a test
# starts (tools, spawned ranks). The toy data and the other helpers the
# tools and benchmarks share are ``mmfusenas.testing``.
TESTS = osp.join(REPO_ROOT, 'tests')
BENCHMARKS = osp.join(REPO_ROOT, 'benchmarks')
REPRODUCTIONS = osp.join(REPO_ROOT, 'projects', 'reproductions')
_PATHS = (TESTS, BENCHMARKS, REPRODUCTIONS)
for path in reversed(_PATHS):
    if path not in sys.path:
        sys.path.insert(0, path)
os.environ['PYTHONPATH'] = os.pathsep.join(
    list(_PATHS) +
    [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
     if p and p not in _PATHS])
SHARED = osp.join(osp.dirname(REPO_ROOT), 'shared')
SHARED_DATA = osp.join(SHARED, 'data')


@pytest.fixture(autouse=True)
def _keep_log_level():
    """Benchmark and reproduction scripts quiet MMEngine's current logger
    (their command line's choice); run in-process by a test, the level
    they set ends with it."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    yield
    logger.setLevel(level)


@pytest.fixture(scope='session')
def shared_data() -> str:
    """Path of ``../shared/data``; skips the test when it is absent."""
    if not osp.isdir(SHARED_DATA):
        pytest.skip(f'real-data test: {SHARED_DATA} not found (the shared '
                    'data folder sits next to the repository on the '
                    "project's machines)")
    return SHARED_DATA


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory) -> str:
    """A module's own toy IVIF set: 8 pairs, seed 3, 64 px, a quarter for
    validation. Modules needing another set define their own ``toy_root``."""
    from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
    root = str(tmp_path_factory.mktemp('toy') / 'toy')
    generate_toy_dataset(root, num=8, seed=3, size=64, val_fraction=0.25)
    return root


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
    for the subprocesses a test starts (``OMP_NUM_THREADS``) and the FMI
    kernel (numba's ``NUMBA_NUM_THREADS``); a value set in the environment
    is kept.

    Every run's config text (logged, dumped, stored in checkpoints) is
    MMEngine's unformatted one (``MMFUSENAS_CONFIG_TEXT=plain``,
    :class:`mmfusenas.engine.runner.CachedTextConfig`): yapf's formatting costs
    seconds per run of the larger configs. ``tests/test_engine/
    test_cached_config.py`` tests the formatted text."""
    os.environ.setdefault('MMFUSENAS_CONFIG_TEXT', 'plain')
    if not os.environ.get('PYTEST_XDIST_WORKER'):
        return
    for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS',
                'NUMBA_NUM_THREADS'):
        os.environ.setdefault(var, '1')
    import torch
    torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))


def pytest_collection_finish(session):
    """Move the objects alive after collection (torch, mmcv, mmdet, mmseg
    and the test modules, imported by then) to the garbage collector's
    permanent generation. MMEngine calls ``gc.collect()`` in every
    ``BaseDataset`` (``serialize_data``) and runner build; each such call
    otherwise walks those millions of module-level objects (~0.4 s a
    call), while only the objects the tests make can become garbage.
    The modules that register into mmdet's, mmseg's and MMFuseNAS's
    registries are imported first (the tests' first build in those scopes
    would import them), so that they are frozen too."""
    from mmdet.utils import register_all_modules as mmdet_modules
    from mmseg.utils import register_all_modules as mmseg_modules

    from mmfusenas.utils import register_all_modules
    mmdet_modules(init_default_scope=False)
    mmseg_modules(init_default_scope=False)
    register_all_modules(init_default_scope=False)
    gc.collect()
    gc.freeze()


#: the test file whose first test froze the objects alive before it
_FROZEN_BEFORE = [None]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before the first test of each file, free what the earlier files
    left and move the objects still alive (modules and caches the earlier
    files loaded inside their tests) to the permanent generation, as after
    collection (:func:`pytest_collection_finish`): later full collections
    (MMEngine's ``gc.collect()`` per dataset and runner build) do not walk
    them again. An object frozen here that later becomes cyclic garbage is
    not freed; one without cycles is, by its reference count."""
    if item.path != _FROZEN_BEFORE[0]:
        _FROZEN_BEFORE[0] = item.path
        gc.collect()
        gc.freeze()


def pytest_addoption(parser):
    parser.addoption(
        '--run-slow', action='store_true', default=False,
        help='also run tests marked slow (long end-to-end runs); the same '
        'as MMFUSENAS_RUN_SLOW=1')


#: The test files that take longest (seconds of a 2-worker run), run first:
#: pytest-xdist (``--dist loadfile``) hands out files in collection order,
#: so a long file collected last would keep one worker busy while the
#: other has nothing left; started first, the many short files fill the
#: gaps at the end. The order only changes when a file runs, not what it
#: runs (each file stays in one worker).
LONG_FILES = (
    'test_evaluation/test_fmi_fast.py',
    'test_engine/test_distributed.py',
    'test_apis/test_deploy.py',
    'test_tools/test_task_guided_training.py',
    'test_tools/test_ruas_task_configs.py',
    'test_engine/test_search_loops_hooks.py',
    'test_tools/test_bench_fusion_real.py',
    'test_models/test_fusion_baselines.py',
    'test_benchmarks/test_process_units.py',
    'test_models/test_registration_learning.py',
    'test_tools/test_tim_conversion.py',
    'test_tools/test_compose_configs.py',
    'test_search/test_implicit_strategy.py',
)


def _long_files_first(items):
    rank = {name: i for i, name in enumerate(LONG_FILES)}
    tests_dir = osp.dirname(osp.abspath(__file__))

    def key(item):
        rel = osp.relpath(str(item.path), tests_dir).replace(os.sep, '/')
        return rank.get(rel, len(LONG_FILES))

    items.sort(key=key)  # stable: the rest keep their collection order


def pytest_collection_modifyitems(config, items):
    _long_files_first(items)
    if config.getoption('--run-slow') or os.environ.get(
            'MMFUSENAS_RUN_SLOW') == '1':
        return
    skip = pytest.mark.skip(
        reason='slow end-to-end test: run with --run-slow or '
        'MMFUSENAS_RUN_SLOW=1')
    for item in items:
        if 'slow' in item.keywords:
            item.add_marker(skip)
