"""Distributed search and training with 2 real processes (gloo, CPU).

Every test launches 2 ranks with :func:`mmfusenas.testing.distributed.launch`
(forked processes, a fresh gloo group, a time limit so nothing hangs) and
compares with one process on the union of the ranks' batches: 2 ranks with
per-rank batch b must end with the same α and weights as 1 process with
batch 2b (BatchNorm-free nets, mean-reduced losses, samplers sharding one
seeded permutation). Both ranks must also hold bit-identical states.
"""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist

from mmfusenas.datasets.toy_data import generate_toy_dataset
# imported here, before the ranks are forked, so that they inherit it
from mmfusenas.engine import AlgorithmDistributedDataParallel
from mmfusenas.models.mutables import Genotype
from mmfusenas.testing.distributed import (launch, results_or_raise,
                                           run_cooperative, run_pmi,
                                           run_search, run_task_guided,
                                           run_train_tool, save_init)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# float32 summation order differs between 2 x b and 1 x 2b
ATOL = 1e-5


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    """16 toy IR/VIS pairs (8 weight split, 8 α split), resized to 16 px by
    the loaders."""
    root = str(tmp_path_factory.mktemp('toy') / 'toy')
    generate_toy_dataset(root, num=16, seed=3, size=64, val_fraction=0.5)
    return root


@pytest.fixture(scope='module')
def inits(tmp_path_factory):
    folder = tmp_path_factory.mktemp('init')
    return {
        kind: save_init(kind, str(folder / f'{kind}.pth'))
        for kind in ('search', 'fusor')
    }


def assert_equivalent(single, ranks, atol=ATOL):
    """Both ranks identical; each within ``atol`` of the single process."""
    assert len(ranks) == 2
    assert set(single['state']) == set(ranks[0]['state'])
    for key, ref in single['state'].items():
        r0, r1 = ranks[0]['state'][key], ranks[1]['state'][key]
        assert torch.equal(r0, r1), f'{key} differs between the ranks'
        torch.testing.assert_close(
            r0, ref, atol=atol, rtol=0, msg=lambda m: f'{key}: {m}')


def moved(state, init, prefix):
    """How far the entries starting with ``prefix`` moved from ``init``."""
    start = torch.load(init, weights_only=True)['state_dict']
    return max((v - start[k]).abs().max().item()
               for k, v in state.items() if k.startswith(prefix))


def test_ias_search_two_ranks_equal_one_process_and_resume(
        toy, inits, tmp_path):
    """IAS (implicit, Gauss–Newton) search, epoch loop, T = 2, gradient
    clipping: α and θ of 2 ranks x batch 2 = 1 process x batch 4; a
    distributed resume from the epoch-1 checkpoint continues the same α
    trajectory; rank 0 exports the genotype."""
    single = run_search(0, 1, str(tmp_path / 'one'), toy, inits['search'], 4)
    work = str(tmp_path / 'two')
    ranks = results_or_raise(
        launch(run_search, 2, (work, toy, inits['search'], 2)))
    assert single['iters'] == ranks[0]['iters'] == 4  # 2 epochs x 2 steps
    assert_equivalent(single, ranks)
    assert moved(single['state'], inits['search'], 'arch_params') > 1e-3
    genotype = Genotype.load(osp.join(work, 'genotypes', 'latest.yaml'))
    assert genotype.meta['train_steps'] == 4 and genotype.meta['epoch'] == 2
    assert sorted(os.listdir(osp.join(work, 'genotypes'))) == [
        'epoch_1.yaml', 'epoch_2.yaml', 'latest.yaml'
    ]  # written once, atomically (no temporary files left)

    resumed = results_or_raise(
        launch(run_search, 2, (str(tmp_path / 'resumed'), toy,
                               inits['search'], 2, 'IASStrategy', 'epoch',
                               osp.join(work, 'epoch_1.pth'))))
    for key, value in ranks[0]['state'].items():
        assert torch.equal(resumed[0]['state'][key], value), key


def test_darts_second_order_iter_loop_two_ranks_and_resume(
        toy, inits, tmp_path):
    """DARTS 2nd order (virtual step + finite-difference HVP, every rank
    the same) with the iteration loop and InfiniteSampler; resume from the
    iteration-2 checkpoint is bit-exact."""
    args = ('DartsSecondOrderStrategy', 'iter')
    single = run_search(0, 1, str(tmp_path / 'one'), toy, inits['search'], 4,
                        *args)
    work = str(tmp_path / 'two')
    ranks = results_or_raise(
        launch(run_search, 2, (work, toy, inits['search'], 2, *args)))
    assert single['iters'] == ranks[0]['iters'] == 4
    # the central difference divides float32 rounding by ε = r / ‖v‖
    assert_equivalent(single, ranks, atol=5e-5)
    assert moved(single['state'], inits['search'], 'arch_params') > 1e-2
    resumed = results_or_raise(
        launch(run_search,
               2, (str(tmp_path / 'resumed'), toy, inits['search'], 2, *args,
                   osp.join(work, 'iter_2.pth'))))
    for key, value in ranks[0]['state'].items():
        assert torch.equal(resumed[0]['state'][key], value), key


@pytest.mark.slow
def test_cooperative_search_two_ranks_equal_one_process(tmp_path):
    """RUAS cooperative search (scene + denoiser, β coupling, task steps
    every 2nd step, some α without gradient in a step)."""
    from mmfusenas.datasets.toy_lowlight import generate_toy_lowlight
    data = str(tmp_path / 'lowlight')
    generate_toy_lowlight(data, num_train=8, num_val=8, seed=0)
    init = save_init('cooperative', str(tmp_path / 'init.pth'))
    single = run_cooperative(0, 1, str(tmp_path / 'one'), data, init, 4)
    ranks = results_or_raise(
        launch(run_cooperative, 2, (str(tmp_path / 'two'), data, init, 2)))
    assert single['iters'] == 4
    assert_equivalent(single, ranks)
    assert moved(single['state'], init, 'arch_params') > 1e-3


@pytest.mark.parametrize('order', ['first', 'second'])
def test_pmi_two_ranks_equal_one_process(toy, inits, tmp_path, order):
    """PMI: two tasks, K = 2 inner Adam steps, 2 outer steps; the episodes'
    batches are split across the ranks (second order: through the
    differentiable all-reduce of the inner gradients)."""
    single = run_pmi(0, 1, str(tmp_path / 'one'), toy, inits['fusor'], 4,
                     order)
    ranks = results_or_raise(
        launch(run_pmi, 2,
               (str(tmp_path / 'two'), toy, inits['fusor'], 2, order)))
    assert single['iters'] == ranks[0]['iters'] == 2
    assert_equivalent(single, ranks)
    assert moved(single['state'], inits['fusor'], 'fusion_net') > 1e-3
    assert osp.isfile(str(tmp_path / 'two' / 'pmi_init.pth'))


def test_task_guided_training_two_ranks_equal_one_process(toy, tmp_path):
    """Plain task-guided training (N_F + FCN-R18/4 with auxiliary head,
    fusion + segmentation losses, SGD + momentum + clipping) trains through
    DDP's reducer (wrapper mode 'ddp'): 2 ranks = 1 process."""
    init = save_init('task_guided', str(tmp_path / 'init.pth'))
    single = run_task_guided(0, 1, str(tmp_path / 'one'), toy, init, 4)
    ranks = results_or_raise(
        launch(run_task_guided, 2, (str(tmp_path / 'two'), toy, init, 2)))
    assert [r['mode'] for r in ranks] == ['ddp', 'ddp']
    assert single['iters'] == 3
    assert_equivalent(single, ranks)
    assert moved(single['state'], init, 'segmentor') > 1e-3


def test_nan_on_one_rank_stops_every_rank(toy, inits, tmp_path):
    """Rank 1's weights become NaN before step 1: both ranks raise the
    same FloatingPointError naming rank 1 (no rank waits forever)."""
    results = launch(
        run_search,
        2, (str(tmp_path / 'nan'), toy, inits['search'], 2, 'IASStrategy',
            'epoch', None, (1, 1)),
        timeout=120)
    for result in results:
        assert result.get('error') == 'FloatingPointError', result
        assert 'is nan on samples' in result['message']
        assert 'rank(s) [1] of 2 failed' in result['message']


def _primitives(rank, world_size):
    from mmfusenas.utils import distributed as D
    out = {}
    out['map'] = D.parallel_map(lambda x: (x * x, D.get_rank_world()[0]),
                                list(range(5)))
    out['broadcast'] = D.broadcast_object(dict(rank=rank), src=1)
    gen = D.shared_generator(seed=3, counter=7)
    out['sample'] = torch.randint(0, 1000, (4, ), generator=gen)
    # rank 0 uses both parameters, rank 1 only the first
    a = torch.nn.Parameter(torch.zeros(2))
    b = torch.nn.Parameter(torch.zeros(2))
    c = torch.nn.Parameter(torch.zeros(1))  # used by nobody
    a.grad = torch.full((2, ), float(rank + 1))
    if rank == 0:
        b.grad = torch.tensor([4., 8.])
    D.average_grads_([a, b, c])
    out['grads'] = [a.grad, b.grad, c.grad is None]
    with D.data_parallel():
        grads = D.average_gradients(
            [torch.tensor([float(rank)]), None if rank else torch.ones(1)],
            [a, torch.zeros(1)])
        out['functional'] = grads
        out['loss'] = D.average_value(float(rank))
        try:
            D.check_finite(
                torch.tensor(float('inf') if rank == 1 else 1.), 'x')
        except FloatingPointError as err:
            out['error'] = str(err)
    out['seed'] = D.rank_seed(10, 3)
    out.update(_wrapper_checks())
    return out


def _wrapper_checks():
    """AlgorithmDistributedDataParallel: mode detection, optim wrapper
    selection, averaged steps that keep a scheduler's step wrapper."""
    from mmengine.model import BaseModel
    from mmengine.optim import OptimWrapper, OptimWrapperDict

    from mmfusenas.utils import distributed as D

    class Plain(BaseModel):

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, inputs, data_samples=None, mode='tensor'):
            return dict(loss=(self.w * inputs).mean())

    class Algo(Plain):
        grad_sync_groups = ('arch', )

        def train_step(self, data, optim_wrapper):
            return {}

    out = {}
    plain = AlgorithmDistributedDataParallel(Plain())
    algo = AlgorithmDistributedDataParallel(Algo())
    out['modes'] = [plain.mode, algo.mode]
    weights = OptimWrapper(torch.optim.SGD([algo.module.w], lr=1.0))
    arch = OptimWrapper(torch.optim.SGD([algo.module.w], lr=1.0))
    optim = OptimWrapperDict(weights=weights, arch=arch)
    out['synced'] = [w is arch for w in algo._synced_wrappers(optim)]
    Algo.grad_sync_groups = ('predictor', )
    try:
        algo._synced_wrappers(optim)
    except KeyError as err:
        out['unknown'] = str(err)
    # a scheduler-style instance wrapper of step survives the context
    counted = []
    original = arch.step

    def counting_step(*args, **kwargs):
        counted.append(1)
        return original(*args, **kwargs)

    arch.step = counting_step
    rank = D.get_rank_world()[0]
    algo.module.w.grad = torch.tensor([float(rank)])
    with D.averaged_optimizer_steps([arch]):
        arch.step()
    out['stepped'] = algo.module.w.detach().clone()  # 1 - mean(0, 1)
    out['restored'] = arch.step is counting_step and len(counted) == 1
    return out


def test_collectives_for_algorithms():
    """parallel_map / broadcast_object / shared_generator / gradient
    averaging with parameters unused on some or all ranks; the wrapper's
    mode detection and optim wrapper selection."""
    ranks = results_or_raise(launch(_primitives, 2))
    for rank, out in enumerate(ranks):
        assert out['map'] == [(0, 0), (1, 1), (4, 0), (9, 1), (16, 0)]
        assert out['broadcast'] == dict(rank=1)
        torch.testing.assert_close(out['grads'][0], torch.full((2, ), 1.5))
        torch.testing.assert_close(out['grads'][1], torch.tensor([2., 4.]))
        assert out['grads'][2] is True  # unused everywhere: stays None
        torch.testing.assert_close(out['functional'][0], torch.tensor([.5]))
        torch.testing.assert_close(out['functional'][1], torch.tensor([.5]))
        assert out['loss'] == 0.5
        assert out['error'] == ('x is not finite: inf [rank(s) [1] of 2 '
                                'failed; every rank stops]')
        assert out['seed'] == 13 * 2 + rank
        assert out['modes'] == ['ddp', 'algorithm']
        assert out['synced'] == [True]  # only the named 'arch' wrapper
        assert 'predictor' in out['unknown']
        torch.testing.assert_close(out['stepped'], torch.tensor([0.5]))
        assert out['restored']
    assert torch.equal(ranks[0]['sample'], ranks[1]['sample'])


def _search_argv(toy, work_dir, epochs=2):
    opts = [
        f'train_cfg.max_epochs={epochs}', 'model.arch_update_interval=2',
        'model.architecture.fusion_net.channels=4',
        'env_cfg.dist_cfg.backend=gloo'
    ]
    for loaders in ('train_dataloader', 'train_cfg.arch_dataloader'):
        for i in (0, 1):
            opts += [
                f'{loaders}.{i}.dataset.data_root={toy}',
                f'{loaders}.{i}.batch_size=2',
                f'{loaders}.{i}.dataset.pipeline.1.crop_size=[16,16]'
            ]
    return [
        osp.join(REPO, 'configs', 'tim', 'search_fusion_ivif_toy.py'),
        '--work-dir', work_dir, '--launcher', 'pytorch', '--cfg-options',
        *opts
    ]


def test_train_tool_initialises_gloo_and_exports_the_genotype(
        toy, tmp_path):
    """``tools/train.py --launcher pytorch`` of the toy TIM search on a
    machine without CUDA: the tool initialises gloo itself (the config asks
    for NCCL: it becomes gloo), wraps the algorithm in
    AlgorithmDistributedDataParallel and rank 0 writes the genotypes."""
    work = str(tmp_path / 'work')
    argv = _search_argv(toy, work, epochs=1)
    argv[argv.index('env_cfg.dist_cfg.backend=gloo')] = \
        'env_cfg.dist_cfg.backend=nccl'
    ranks = results_or_raise(
        launch(run_train_tool, 2, (argv, ), init_process_group=False))
    assert [r['rank'] for r in ranks] == [0, 1]
    assert {r['backend'] for r in ranks} == {'gloo'}
    genotype = Genotype.load(osp.join(work, 'genotypes', 'latest.yaml'))
    # the config's weights split is half of the 8 training pairs
    # (splits/search_weights.txt): 2 pairs per rank, batch 2 -> 1 step
    assert genotype.meta['train_steps'] == 1
    assert [osp.basename(p)
            for p in glob.glob(osp.join(work, '*.pth'))] == ['epoch_1.pth']


def test_setup_distributed_leaves_single_process_runs_alone():
    from mmengine.config import Config

    from mmfusenas.utils.config import setup_distributed
    cfg = Config(dict(launcher='none'))
    setup_distributed(cfg)
    assert 'model_wrapper_cfg' not in cfg and not dist.is_initialized()


def test_setup_distributed_names_what_is_missing(monkeypatch):
    from mmengine.config import Config

    from mmfusenas.utils.config import setup_distributed
    from mmfusenas.utils.distributed import init_cpu_distributed
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config(dict(launcher='pytorch'))
    with pytest.raises(RuntimeError, match='torch.distributed.run'):
        setup_distributed(cfg)
    # the wrapper default is set before the group is initialised
    assert cfg.model_wrapper_cfg == dict(
        type='mmfusenas.AlgorithmDistributedDataParallel')
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match='NCCL needs CUDA'):
        init_cpu_distributed('pytorch', backend='nccl')
    with pytest.raises(ValueError, match='launcher must be one of'):
        init_cpu_distributed('none')


def test_plain_ddp_wrapper_is_refused_by_the_bilevel_loops():
    from mmengine.model import MMDistributedDataParallel

    from mmfusenas.search.loops.bilevel_loops import _BilevelLoopMixin

    class Loop(_BilevelLoopMixin):
        runner = type('R', (), {})()

    loop = Loop()
    loop.runner.model = MMDistributedDataParallel.__new__(
        MMDistributedDataParallel)
    with pytest.raises(TypeError, match='AlgorithmDistributedDataParallel'):
        loop._check_model()


@pytest.mark.slow
def test_torch_distributed_run_command(toy, tmp_path):
    """The issue's command, with ``python -m torch.distributed.run`` in a
    subprocess (fresh interpreters, as users start it)."""
    from mmfusenas.testing.distributed import free_port
    work = str(tmp_path / 'work')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    subprocess.run([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        f'--master_port={free_port()}', 'tools/train.py',
        *_search_argv(toy, work)
    ],
                   cwd=REPO,
                   env=env,
                   check=True,
                   capture_output=True,
                   timeout=900)
    genotype = Genotype.load(osp.join(work, 'genotypes', 'latest.yaml'))
    assert genotype.meta['train_steps'] == 4
