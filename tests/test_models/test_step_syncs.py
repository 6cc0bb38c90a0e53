"""Host-device synchronisations on a training step: MMFuseNAS's own code on
the headline's step (TIM's fusion net + RetinaNet, ``retinanet_ivif_toy.py``)
and on a step of its search with an α update (``search_retinanet_ivif_toy.py``,
DARTS) makes none (NaN / Inf is ``FiniteStepGuardHook``'s, a runner hook;
the logged values are tensors MMEngine's logging reads); :func:`check_finite`
makes one sync and builds its message only when it raises."""
import copy
import traceback

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner import load_state_dict
from torch.overrides import TorchFunctionMode

from mmfusenas.registry import DATASETS, MODELS
from mmfusenas.utils import register_all_modules
from mmfusenas.utils.distributed import check_finite
from helpers import REPO_ROOT

PACKAGE = f'{REPO_ROOT}/mmfusenas/'
#: tensor methods that wait for the device and copy a value to the host
SYNCS = {'item', '__bool__', '__float__', '__int__', 'tolist', 'numpy'}


class PackageSyncs(TorchFunctionMode):
    """Count the syncs whose caller is a line of the package."""

    def __init__(self):
        super().__init__()
        self.lines = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, '__name__', '') in SYNCS:
            caller = traceback.extract_stack(limit=2)[0]
            if caller.filename.startswith(PACKAGE):
                self.lines.append(f'{caller.filename}:{caller.lineno} '
                                  f'{func.__name__}')
        return func(*args, **(kwargs or {}))


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
    register_all_modules()
    root = str(tmp_path_factory.mktemp('toy'))
    generate_toy_dataset(root, num=4, seed=0, size=64)
    return root


def toy_model(config, root):
    """The model of ``configs/tim/<config>`` (seed 0, training mode) and a
    batch of two toy samples of its training set."""
    cfg = Config.fromfile(f'{REPO_ROOT}/configs/tim/{config}')
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.data_root = root
    dataset = DATASETS.build(dataset_cfg)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    return model, pseudo_collate([dataset[0], dataset[1]])


@pytest.fixture(scope='module')
def headline(toy_root):
    model, batch = toy_model('retinanet_ivif_toy.py', toy_root)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-4))
    model.train_step(batch, wrapper)  # lazy set-up outside the count
    return model, wrapper, batch


def test_the_headline_step_makes_no_sync_in_the_package(headline):
    model, wrapper, batch = headline
    with PackageSyncs() as syncs:
        log_vars = model.train_step(batch, wrapper)
    assert len(log_vars) >= 3  # the detector's and the fusion net's losses
    assert syncs.lines == []


@pytest.fixture(scope='module')
def search(toy_root):
    algo, batch = toy_model('search_retinanet_ivif_toy.py', toy_root)
    wrappers = OptimWrapperDict(
        weights=OptimWrapper(torch.optim.SGD(algo.weight_parameters(),
                                             lr=1e-4)),
        arch=OptimWrapper(torch.optim.Adam(algo.arch_parameters(), lr=1e-3)))
    data = dict(train=batch, val=batch)
    algo.train_step(data, wrappers)  # lazy set-up outside the count
    return algo, wrappers, data


def test_a_search_step_with_an_arch_update_makes_no_sync_in_the_package(
        search):
    algo, wrappers, data = search
    assert algo.arch_step_due
    steps = algo.num_train_steps
    with PackageSyncs() as syncs:
        log_vars = algo.train_step(data, wrappers)
    assert {'upper_loss', 'hypergrad_norm', 'arch_reg'} <= set(log_vars)
    assert all(isinstance(v, torch.Tensor) for v in log_vars.values())
    assert syncs.lines == []
    # the host's step count follows the saved buffer, also after a load
    assert algo.num_train_steps == int(algo.train_step_count) == steps + 1
    state = algo.state_dict()
    state['train_step_count'] = torch.tensor(41)
    algo.load_state_dict(state)
    assert algo.num_train_steps == 41
    state['train_step_count'] = torch.tensor(7)
    load_state_dict(algo, state, strict=True)  # the runner's (resume)
    assert algo.num_train_steps == 7


def test_check_finite_makes_one_sync_and_names_the_value():
    with PackageSyncs() as syncs:
        check_finite(torch.tensor(1.0), 'x')
    assert len(syncs.lines) == 1
    with pytest.raises(FloatingPointError, match=r'^x is not finite: nan$'):
        check_finite(torch.tensor(float('nan')), 'x')
