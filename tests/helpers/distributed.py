"""The multi-process (gloo, CPU) scenarios of the distributed tests.

The tests run them with :func:`mmfusenas.testing.distributed.launch`, which
spawns the ranks and returns every rank's result (or the exception it
raised), never hanging. The scenario functions below build tiny
BatchNorm-free runs (bilevel search, cooperative search, PMI, plain
task-guided training, the DCNAS one-shot supernet and evolution, HBL's
loss-weight search, the hyper-guidance proxy bilevel training) whose
results a test compares with a single process on the union of the ranks'
batches.
"""
import copy
import os
import os.path as osp
from unittest import mock
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.hooks import Hook

from mmfusenas.testing.distributed import strip_batchnorm
from .search_spaces import tiny_search_space

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


# ----------------------------------------------------------------------
# tiny runs
# ----------------------------------------------------------------------
def tiny_fusor(fusion_net: Optional[dict] = None) -> dict:
    """An ImageFusor config around ``fusion_net`` (mean-reduced losses)."""
    return dict(
        type='ImageFusor',
        fusion_net=fusion_net or dict(
            type='TIMFusionNet',
            channels=4,
            cells=[
                dict(type='SuccessiveCell', ops=['DilConv_3_2']),
            ]),
        losses=[
            dict(type='MaxIntensityLoss'),
            dict(type='MaxGradientLoss', loss_weight=2.0)
        ])


def build_tiny_model(kind: str, strategy: str = 'IASStrategy',
                     arch_update_interval: int = 2) -> nn.Module:
    """``'search'``: a BilevelSearchAlgorithm on the tiny space;
    ``'fusor'``: a fixed tiny ImageFusor. BatchNorm stripped, seeded."""
    from mmfusenas.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmfusenas')
    torch.manual_seed(0)
    if kind == 'search':
        model = MODELS.build(
            dict(
                type='BilevelSearchAlgorithm',
                architecture=tiny_fusor(tiny_search_space()),
                strategy=dict(type=strategy),
                arch_update_interval=arch_update_interval))
    elif kind == 'fusor':
        model = MODELS.build(tiny_fusor())
    else:
        raise ValueError(f'unknown kind {kind!r}')
    return strip_batchnorm(model)


def _loader(data_root: str,
            split: str,
            batch_size: int,
            sampler: str,
            seed: int,
            swap: bool = False,
            size: int = 16) -> dict:
    """A deterministic loader (no random augmentation) of 16x16 pairs."""
    order = dict(vi='vi', ir='ir') if swap else dict(ir='ir', vi='vi')
    return dict(
        batch_size=batch_size,
        num_workers=0,
        sampler=dict(type=sampler, shuffle=True, seed=seed),
        dataset=dict(
            type='PairedImageDataset',
            data_root=data_root,
            data_prefix=order,
            ann_file=f'splits/{split}.txt',
            pipeline=[
                dict(type='LoadPairedImages'),
                dict(type='PairedResize', scale=size, interpolation='area'),
                dict(type='PackFusionInputs')
            ]))


def _runner(model, work_dir: str, distributed: bool, name: str,
            guard: bool = False, **kwargs):
    from mmengine.runner import Runner
    hooks = dict(
        checkpoint=dict(
            type='CheckpointHook',
            interval=1,
            by_epoch=kwargs.pop('by_epoch', True),
            backend_args=dict(backend='atomic_local')),
        logger=dict(type='LoggerHook', interval=1))
    if guard:  # as in configs/_base_/default_runtime.py
        hooks['finite_guard'] = dict(type='FiniteStepGuardHook')
    return Runner(
        model=model,
        work_dir=work_dir,
        default_hooks=hooks,
        launcher='pytorch' if distributed else 'none',
        cfg=dict(
            model_wrapper_cfg=dict(
                type='mmfusenas.AlgorithmDistributedDataParallel')),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        default_scope='mmfusenas',
        randomness=dict(seed=0),
        experiment_name=name,
        log_level='WARNING',
        **kwargs)


def _state(runner) -> Dict[str, torch.Tensor]:
    model = runner.model
    model = getattr(model, 'module', model)
    return {
        k: v.detach().clone()
        for k, v in model.state_dict().items()
        if isinstance(v, torch.Tensor) and v.is_floating_point()
    }


def run_search(rank: int, world_size: int, work_dir: str, data_root: str,
               init: str, batch_size: int, strategy: str = 'IASStrategy',
               loop: str = 'epoch', resume_from: Optional[str] = None,
               nan_at: Optional[tuple] = None) -> Dict[str, Any]:
    """A bilevel search of the tiny space (2 epochs or 4 iterations).

    Args:
        rank, world_size: From :func:`launch` (``0, 1`` in one process).
        work_dir (str): Work dir (rank 0 writes checkpoints, genotypes).
        data_root (str): Toy data with ``splits/{train,val}.txt``.
        init (str): Checkpoint of the initial weights (``load_from``).
        batch_size (int): Per-rank batch size.
        strategy (str): Strategy type. Defaults to IAS.
        loop (str): ``'epoch'`` (BilevelEpochBasedTrainLoop, 2 epochs,
            DefaultSampler) or ``'iter'`` (BilevelIterBasedTrainLoop, 4
            iterations, InfiniteSampler).
        resume_from (str, optional): Resume from this checkpoint.
        nan_at (tuple, optional): ``(rank, iteration)``: that rank's loss
            is NaN at that iteration.

    Returns:
        dict: ``state`` (float state dict), ``alphas`` and ``iters``; with
        ``nan_at``, the ``FloatingPointError`` as ``error`` and whether
        the weights stayed ``finite``.
    """
    distributed = world_size > 1
    model = build_tiny_model('search', strategy)
    sampler = 'DefaultSampler' if loop == 'epoch' else 'InfiniteSampler'
    train_cfg = dict(
        type='BilevelEpochBasedTrainLoop'
        if loop == 'epoch' else 'BilevelIterBasedTrainLoop',
        arch_dataloader=_loader(data_root, 'val', batch_size, sampler, 7))
    if loop == 'epoch':
        train_cfg['max_epochs'] = 2
    else:
        train_cfg['max_iters'] = 4
    hooks = [dict(type='GenotypeExportHook', by_epoch=loop == 'epoch')]
    if nan_at is not None:
        hooks.append(NaNInjectionHook(*nan_at))
    runner = _runner(
        model,
        work_dir,
        distributed,
        f'search_{loop}_{strategy}_{world_size}_{bool(resume_from)}',
        guard=True,
        by_epoch=loop == 'epoch',
        train_dataloader=_loader(data_root, 'train', batch_size, sampler, 5),
        train_cfg=train_cfg,
        optim_wrapper=dict(
            constructor='BilevelOptimWrapperConstructor',
            weights=dict(
                optimizer=dict(type='SGD', lr=0.05, momentum=0.9),
                clip_grad=dict(max_norm=1.0)),
            arch=dict(
                optimizer=dict(type='Adam', lr=0.01, betas=(0.5, 0.999)))),
        custom_hooks=hooks,
        load_from=resume_from or init,
        resume=resume_from is not None)
    try:
        runner.train()
    except FloatingPointError as err:
        if nan_at is None:
            raise
        return dict(error=str(err), finite=all(
            bool(v.isfinite().all()) for v in _state(runner).values()))
    state = _state(runner)
    return dict(
        state=state,
        alphas={k: v for k, v in state.items() if k.startswith('arch_')},
        iters=runner.iter)


def run_pmi(rank: int, world_size: int, work_dir: str, data_root: str,
            init: str, batch_size: int, order: str = 'first',
            parallel: str = 'episodes') -> dict:
    """Two PMI outer iterations over two tasks (ivif and swapped stacks),
    K = 2 inner Adam steps, the ranks splitting the episodes' batches or
    (``parallel='tasks'``) the tasks; returns the float state dict and the
    logged losses of the last step."""
    distributed = world_size > 1
    model = build_tiny_model('fusor')
    runner = _runner(
        model,
        work_dir,
        distributed,
        f'pmi_{order}_{world_size}',
        by_epoch=False,
        train_dataloader=_loader(data_root, 'train', batch_size,
                                 'InfiniteSampler', 5),
        train_cfg=dict(
            type='PMILoop',
            tasks=[
                dict(name='ivif'),
                dict(
                    name='viir',
                    dataloader=_loader(data_root, 'val', batch_size,
                                       'InfiniteSampler', 9, swap=True))
            ],
            max_iters=2,
            inner_steps=2,
            inner_lr=1e-2,
            order=order,
            parallel=parallel),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        load_from=init)
    runner.train()
    logged = {
        k: float(runner.message_hub.get_scalar(f'train/{k}').current())
        for k in ('loss', 'loss_meta_ivif', 'loss_meta_viir')
    }
    return dict(
        state=_state(runner),
        iters=runner.iter,
        logged=logged,
        my_tasks=list(runner.train_loop.my_tasks))


def run_cooperative(rank: int, world_size: int, work_dir: str,
                    data_root: str, init: str, batch_size: int) -> dict:
    """Two epochs of the RUAS cooperative search of
    ``configs/ruas/search_ruas_toy.py`` with a one-stage / one-cell supernet,
    first-order scene and task strategies (exact equivalence; the
    finite-difference strategies are covered by :func:`run_search`) and
    16x16 inputs; returns the float state dict."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'ruas',
                                   'search_ruas_toy.py'))
    model = build_cooperative_model(cfg)
    pipeline = [
        dict(type='LoadEnhanceImages'),
        dict(type='PairedResize', scale=16, interpolation='area'),
        dict(type='PackEnhanceInputs'),
    ]
    loaders = []
    # the config's split hygiene: the weights and α halves of train/
    for loader, seed in ((cfg.train_dataloader, 5),
                         (cfg.train_cfg.arch_dataloader, 7)):
        loader = copy.deepcopy(loader)
        loader.batch_size = batch_size
        loader.sampler = dict(type='DefaultSampler', shuffle=True, seed=seed)
        loader.dataset.data_root = osp.join(data_root, 'train') + '/'
        loader.dataset.pipeline = pipeline
        loaders.append(loader.to_dict())
    runner = _runner(
        model,
        work_dir,
        world_size > 1,
        f'cooperative_{world_size}',
        train_dataloader=loaders[0],
        train_cfg=dict(
            type='BilevelEpochBasedTrainLoop',
            max_epochs=2,
            arch_dataloader=loaders[1]),
        optim_wrapper=cfg.optim_wrapper.to_dict(),
        load_from=init)
    runner.train()
    return dict(state=_state(runner), iters=runner.iter)


def build_cooperative_model(cfg=None) -> nn.Module:
    """The small cooperative RUAS search of :func:`run_cooperative`."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmfusenas.registry import MODELS
    init_default_scope('mmfusenas')
    if cfg is None:
        cfg = Config.fromfile(
            osp.join(REPO_ROOT, 'configs', 'ruas', 'search_ruas_toy.py'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.architecture.network.scene.num_stages = 1
    model_cfg.architecture.network.denoiser.num_cells = 1
    model_cfg.task_update_interval = 2
    first = dict(type='DartsFirstOrderStrategy')
    model_cfg.strategy = dict(
        type='CooperativeStrategy',
        mode='cooperative',
        beta=1.0,
        scene_strategy=first,
        task_strategy=first,
        coupling_strategy=first)
    torch.manual_seed(0)
    return strip_batchnorm(MODELS.build(model_cfg))


def build_task_guided_model(cfg=None) -> nn.Module:
    """``configs/tim/fcn_r18_mfnet_toy.py`` (fusion N_F + FCN-R18/4 with an
    auxiliary head) at C = 4, BatchNorm and dropout removed, seeded."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmfusenas.registry import MODELS
    init_default_scope('mmfusenas')
    if cfg is None:
        cfg = Config.fromfile(
            osp.join(REPO_ROOT, 'configs', 'tim', 'fcn_r18_mfnet_toy.py'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.fusion_net.channels = 4
    # dropout draws differ between the ranks and one process
    model_cfg.segmentor.decode_head.dropout_ratio = 0.0
    model_cfg.segmentor.auxiliary_head.dropout_ratio = 0.0
    torch.manual_seed(0)
    return strip_batchnorm(MODELS.build(model_cfg))


def run_task_guided(rank: int, world_size: int, work_dir: str,
                    data_root: str, init: str, batch_size: int) -> dict:
    """Plain task-guided training (fusion + segmentation losses) of
    :func:`build_task_guided_model`: 3 iterations on 32x32 toy pairs
    without random flips; returns the float state dict."""
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'tim', 'fcn_r18_mfnet_toy.py'))
    loader = copy.deepcopy(cfg.train_dataloader)
    loader.batch_size = batch_size
    loader.sampler = dict(type='InfiniteSampler', shuffle=True, seed=5)
    loader.dataset.data_root = data_root
    loader.dataset.pipeline = [
        t for t in cfg.test_pipeline if t['type'] != 'PairedResize'
    ][:-1] + [
        dict(type='PairedResize', scale=(32, 32), interpolation='area'),
        dict(type='PackFusionSegInputs')
    ]
    runner = _runner(
        build_task_guided_model(cfg),
        work_dir,
        world_size > 1,
        f'task_guided_{world_size}',
        by_epoch=False,
        train_dataloader=loader.to_dict(),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=3),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
            clip_grad=dict(max_norm=1.0)),
        load_from=init)
    runner.train()
    return dict(
        state=_state(runner),
        iters=runner.iter,
        mode=getattr(runner.model, 'mode', None))


def run_train_tool(rank: int, world_size: int, argv: Sequence[str],
                   tool: str = 'train.py') -> dict:
    """``tools/<tool>`` (default ``tools/train.py``) with ``argv`` (the
    process group is the tool's to initialise); returns the rank, the
    world size and the backend."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'mmfusenas_tool_' + osp.basename(tool)[:-3],
        osp.join(REPO_ROOT, 'tools', tool))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(list(argv))
    return dict(
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        backend=dist.get_backend())


class NaNInjectionHook(Hook):
    """Test hook: on ``rank`` at ``iteration``, the architecture's losses
    are NaN (its weights stay finite)."""

    def __init__(self, rank: int, iteration: int) -> None:
        self.rank, self.iteration = rank, iteration

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        from mmengine.dist import get_rank
        if get_rank() == self.rank and \
                runner.iter == self.iteration:
            model = getattr(runner.model, 'module', runner.model)
            model.architecture.register_forward_hook(
                lambda module, args, out: {
                    k: v * float('nan') for k, v in out.items()
                } if isinstance(out, dict) else out)


def _nan_gradient_model(nan_stem: str) -> nn.Module:
    """``y = w·x + b`` with an L2 loss; a batch holding the sample named
    ``nan_stem`` adds ``sqrt(0·w)``: the loss stays finite, the gradient of
    ``w`` is NaN."""
    from mmengine.model import BaseModel

    class _Model(BaseModel):

        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.linear = nn.Linear(2, 1)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            out = self.linear(inputs)
            if mode != 'loss':
                return out
            loss = out.pow(2).mean()
            if any(s.metainfo.get('stem') == nan_stem
                   for s in data_samples or []):
                loss = loss + torch.sqrt(self.linear.weight[0, 0] * 0)
            return dict(loss=loss)

    return _Model()


def _stem_batch(items: Sequence[dict]) -> dict:
    return dict(
        inputs=torch.stack([x['inputs'] for x in items]),
        data_samples=[x['data_samples'] for x in items])


def run_nan_gradient(rank: int, world_size: int, work_dir: str,
                     nan_stem: str, mode: str = 'ddp') -> Dict[str, Any]:
    """Train :func:`_nan_gradient_model` with the finite-step guard on 8
    samples ``img00`` .. ``img07`` (``DefaultSampler`` without shuffling:
    rank r of 2 reads ``img0{r}, img0{r+2}`` at iteration 0, ``img0{r+4},
    img0{r+6}`` at iteration 1), batch size 2 per rank, 2 iterations.

    Args:
        rank, world_size: From :func:`launch`.
        work_dir (str): The work dir.
        nan_stem (str): The sample whose batch gets a NaN gradient.
        mode (str): ``mode`` of ``AlgorithmDistributedDataParallel``.

    Returns:
        dict: ``iters`` (when no error was raised).
    """
    from mmengine.dataset import DefaultSampler
    from mmengine.runner import Runner
    from mmengine.structures import BaseDataElement
    items = [
        dict(
            inputs=torch.tensor([float(i), 1.0]),
            data_samples=BaseDataElement(metainfo=dict(stem=f'img{i:02d}')))
        for i in range(8)
    ]
    loader = torch.utils.data.DataLoader(
        items,
        batch_size=2,
        sampler=DefaultSampler(items, shuffle=False),
        collate_fn=_stem_batch)
    runner = Runner(
        model=_nan_gradient_model(nan_stem),
        work_dir=work_dir,
        train_dataloader=loader,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=2),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=100,
                            save_last=False),
            finite_guard=dict(type='FiniteStepGuardHook')),
        launcher='pytorch' if world_size > 1 else 'none',
        cfg=dict(
            model_wrapper_cfg=dict(
                type='mmfusenas.AlgorithmDistributedDataParallel',
                mode=mode)),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        default_scope='mmfusenas',
        experiment_name=f'nan_gradient_{mode}_{world_size}',
        log_level='WARNING')
    runner.train()
    return dict(iters=runner.iter)


def save_init(kind: str, path: str) -> str:
    """Write the seeded initial weights of :func:`build_tiny_model`
    (``kind='cooperative'``: of :func:`build_cooperative_model`,
    ``'task_guided'``: of :func:`build_task_guided_model`, ``'one_shot'``:
    of :func:`build_one_shot_model`)."""
    builders = dict(
        cooperative=build_cooperative_model,
        task_guided=build_task_guided_model,
        one_shot=build_one_shot_model)
    model = builders[kind]() if kind in builders else build_tiny_model(kind)
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


# ----------------------------------------------------------------------
# one-shot supernet, evolution, loss-weight / proxy algorithms
# ----------------------------------------------------------------------
def build_one_shot_model() -> nn.Module:
    """A tiny DCNAS supernet (C = 4, B = 1) in ``GuidedDepthSR``, seeded,
    plain L1 (no invalid-pixel mask: its per-rank normaliser would differ
    from the union batch's)."""
    from mmengine.registry import init_default_scope

    from mmfusenas.registry import MODELS
    init_default_scope('mmfusenas')
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='GuidedDepthSR',
            network=dict(type='DCNASNet', num_features=4, num_blocks=1),
            loss_space='normalised',
            mask_invalid=False))


def _gisr_loader(data_root: str, split: str, batch_size: int, sampler: dict):
    return dict(
        batch_size=batch_size,
        num_workers=0,
        sampler=sampler,
        collate_fn=dict(type='default_collate'),
        dataset=dict(
            type='GISRDataset',
            data_root=osp.join(data_root, split),
            pipeline=[
                dict(type='LoadGISRSample'),
                dict(type='GISRModCrop', multiple=32),
                dict(type='GISRDegrade', scale=4, norm='lr_minmax'),
                dict(type='PackGISRInputs')
            ],
            test_mode=split != 'train'))


def one_shot_run_cfg(data_root: str, sampler: dict, max_iters: int,
                     batch_size: int, val_batch_size: int = 0) -> dict:
    """Runner arguments of a one-shot supernet search on the toy RGB-D
    data (``_gisr_loader``) with ``sampler``."""
    return dict(
        train_dataloader=_gisr_loader(
            data_root, 'train', batch_size,
            dict(type='InfiniteSampler', shuffle=True, seed=5)),
        val_dataloader=_gisr_loader(data_root, 'val',
                                    val_batch_size or batch_size,
                                    dict(type='DefaultSampler',
                                         shuffle=False)),
        val_cfg=dict(type='ValLoop'),
        val_evaluator=dict(type='GISRMetric', preset='rgbdd'),
        train_cfg=dict(type='OneShotIterBasedTrainLoop', max_iters=max_iters,
                       val_interval=100, sampler=sampler),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-2)))


class PathRecorderHook(Hook):
    """Test hook: the one-shot path of every training iteration."""

    def __init__(self) -> None:
        self.paths: List[Dict[str, str]] = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        from mmfusenas.models.mutables import OneShotChoice
        model = getattr(runner.model, 'module', runner.model)
        self.paths.append({
            m.key: m.current
            for m in model.modules() if isinstance(m, OneShotChoice)
        })


def run_one_shot(rank: int, world_size: int, work_dir: str, data_root: str,
                 init: str, batch_size: int,
                 predictor: Optional[str] = None) -> dict:
    """Three supernet iterations of :func:`build_one_shot_model` with the
    best-of-m sampler (m = 2 band-free candidates, scored on one validation
    batch per rank) seeded with the *rank*: the ranks must follow rank 0's
    random state. With a ``predictor`` file: the predictor sampler instead,
    refreshed before iterations 1 and 2 on 3 paths scored on one training
    batch. Returns the float state dict, the paths trained, the wrapper's
    mode and (predictor) the refreshed predictor's parameters and the
    inputs of each refresh's fit."""
    sampler = dict(type='BestOfMPathSampler', m=2, val_batches=1, seed=rank)
    if predictor is not None:
        sampler = dict(
            type='PredictorPathSampler',
            predictor=predictor,
            m=2,
            refresh_interval=1,
            refresh_start=1,
            refresh_paths=3,
            refresh_batches=1,
            refresh_epochs=2,
            refresh_lr=1e-2,
            seed=rank)
    recorder = PathRecorderHook()
    fits = []
    import mmfusenas.search.predictors as predictors
    fit = predictors.train_predictor

    def recording_fit(model, codes, labels, *args, **kwargs):
        # what each refresh fits the predictor on, so that a test can
        # compare the labels and replay the fits
        fits.append(
            dict(codes=[[int(v) for v in c] for c in codes],
                 labels=[float(y) for y in labels],
                 args=args,
                 kwargs=kwargs))
        return fit(model, codes, labels, *args, **kwargs)

    runner = _runner(
        build_one_shot_model(),
        work_dir,
        world_size > 1,
        f'one_shot_{world_size}',
        by_epoch=False,
        **one_shot_run_cfg(data_root, sampler, 3, batch_size),
        custom_hooks=[recorder],
        load_from=init)
    with mock.patch.object(predictors, 'train_predictor', recording_fit):
        runner.train()
    out = dict(
        state=_state(runner),
        paths=recorder.paths,
        iters=runner.iter,
        mode=getattr(runner.model, 'mode', None))
    if predictor is not None:
        sampler = runner.train_loop.sampler
        out['refreshes'] = sampler.refreshes
        out['fits'] = fits
        out['predictor'] = {
            k: v.detach().clone()
            for k, v in sampler.predictor.state_dict().items()
        }
    return out


def run_evolution(rank: int, world_size: int, work_dir: str, data_root: str,
                  supernet: str, generations: int) -> dict:
    """The constrained-evolution loop on the supernet checkpoint
    ``supernet`` (population 4, top-k 2, 2 mutations, 2 crossovers, no
    budget) for ``generations`` generations (a later call with the same
    ``work_dir`` resumes from its state file). Returns the state file, the
    number of paths this rank scored and the exported file names."""
    import json
    val = _gisr_loader(data_root, 'val', 1,
                       dict(type='DefaultSampler', shuffle=False))
    runner = _runner(
        build_one_shot_model(),
        work_dir,
        world_size > 1,
        f'evolution_{world_size}_{generations}',
        by_epoch=False,
        train_dataloader=val,  # unused (as in the search configs)
        train_cfg=dict(
            type='EvolutionSearchLoop',
            dataloader=val,
            evaluator=dict(type='GISRMetric', preset='rgbdd'),
            metric='gisr/RMSE',
            fix_network=dict(type='DCNASNet', num_features=4),
            population_size=4,
            top_k=2,
            num_mutation=2,
            num_crossover=2,
            max_iters=generations,
            seed=0),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-2)),
        load_from=supernet)
    loop = runner.train_loop
    scored = []
    score = loop.score

    def counting(path):
        scored.append(dict(path))
        return score(path)

    loop.score = counting
    runner.train()
    out = osp.join(work_dir, 'search')
    with open(osp.join(out, 'evolution_state.json'), encoding='utf-8') as f:
        state = json.load(f)
    return dict(
        state=dict(
            scores=state['scores'],
            topk=state['topk'],
            iteration=state['iteration'],
            rng=repr(state['rng'])),
        scored=len(scored),
        files=sorted(os.listdir(out)))


def _hyper_batch(kind: str, seed: int, n: int) -> dict:
    """A global batch of ``n`` samples for :func:`run_hyper_algorithms`."""
    from mmengine.structures import BaseDataElement
    g = torch.Generator().manual_seed(seed)
    if kind == 'hbl':
        low = (torch.rand(n, 3, 12, 12, generator=g) * 80).to(torch.uint8)
        gt = (low.float() * 2.5).clamp(0, 255).to(torch.uint8)
        return dict(
            inputs=list(low),
            data_samples=[BaseDataElement(gt_img=gt[i]) for i in range(n)])
    samples, inputs = [], []
    for i in range(n):
        k = torch.rand(5, 5, generator=g)
        samples.append(
            BaseDataElement(
                gt_img=torch.rand(1, 12, 12, generator=g),
                kernel=k / k.sum(),
                noise_sigma=0.01 + 0.01 * i))
        inputs.append(torch.rand(1, 12, 12, generator=g))
    return dict(inputs=inputs, data_samples=samples)


def build_hyper_algorithm(kind: str) -> nn.Module:
    """``'hbl'``: a :class:`LossWeightSearchAlgorithm` (four pixel losses,
    -PSNR objective, DARTS 2nd order with the optimizer's momentum, the
    official solver); ``'proxy_alternating'`` / ``'proxy_hypergradient'``:
    a :class:`ProxyBilevelAlgorithm` on a two-stage HQS restorer. Seeded."""
    from mmengine.registry import init_default_scope

    from mmfusenas.registry import MODELS
    init_default_scope('mmfusenas')
    torch.manual_seed(0)
    if kind == 'hbl':
        return MODELS.build(
            dict(
                type='LossWeightSearchAlgorithm',
                architecture=dict(
                    type='ImageEnhancer',
                    network=dict(type='HBLConv', channels=3, kernel_size=3),
                    losses=[
                        dict(type='PixelL1Loss'),
                        dict(type='PixelMSELoss'),
                        dict(type='TotalVariationLoss'),
                        dict(
                            type='SSIMDistanceLoss',
                            loss_weight=10,
                            padding='reflect')
                    ]),
                objective=dict(
                    type='FullReferenceQualityObjective', metric='psnr'),
                strategy=dict(
                    type='DartsSecondOrderStrategy',
                    use_optimizer_state=True)))
    scheme = kind.split('_', 1)[1]
    return MODELS.build(
        dict(
            type='ProxyBilevelAlgorithm',
            scheme=scheme,
            strategy=dict(type='DartsSecondOrderStrategy')
            if scheme == 'hypergradient' else None,
            architecture=dict(
                type='HQSRestorer',
                network=dict(
                    type='UnrolledHQSNet',
                    num_stages=2,
                    proxy=dict(type='NoiseLevelProxy', width=4),
                    denoiser=dict(
                        type='DilatedDenoiser', width=4,
                        dilations=(1, 2, 1))),
                guidance_weight=100.0,
                guidance_stages='all')))


def run_hyper_algorithms(rank: int, world_size: int,
                         kinds: Sequence[str] = ('hbl', 'proxy_alternating',
                                                 'proxy_hypergradient'),
                         steps: int = 3,
                         global_batch: int = 4) -> dict:
    """``steps`` train steps of each algorithm of ``kinds``
    (:func:`build_hyper_algorithm`) through
    :class:`~mmfusenas.engine.AlgorithmDistributedDataParallel` (in a
    distributed run), rank r taking its contiguous share of every global
    batch of ``global_batch`` samples. Returns ``{kind: float state}``."""
    from mmfusenas.engine import AlgorithmDistributedDataParallel
    from mmfusenas.engine import BilevelOptimWrapperConstructor
    per_rank = global_batch // world_size
    lo, hi = rank * per_rank, (rank + 1) * per_rank
    out = {}
    for kind in kinds:
        algo = build_hyper_algorithm(kind)
        if kind == 'hbl':
            optim = dict(
                weights=dict(
                    optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
                    clip_grad=dict(max_norm=5.0)),
                arch=dict(
                    optimizer=dict(
                        type='Adam', lr=0.05, betas=(0.5, 0.999),
                        weight_decay=1e-4)))
        else:
            adam = dict(type='Adam', lr=1e-2)
            optim = dict(weights=dict(optimizer=adam),
                         arch=dict(optimizer=adam))
        ow = BilevelOptimWrapperConstructor(optim)(algo)
        model = AlgorithmDistributedDataParallel(algo) \
            if world_size > 1 else algo
        for step in range(steps):
            train = _hyper_batch(kind, 10 + step, global_batch)
            val = _hyper_batch(kind, 100 + step, global_batch)
            data = {
                name: {k: v[lo:hi]
                       for k, v in batch.items()}
                for name, batch in (('train', train), ('val', val))
            }
            model.train_step(data, ow)
        out[kind] = {
            k: v.detach().clone()
            for k, v in algo.state_dict().items()
            if isinstance(v, torch.Tensor) and v.is_floating_point()
        }
    return out
