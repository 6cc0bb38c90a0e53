"""The toy and real search spaces of the search-vs-random control
(``benchmarks/bench_search_vs_random.py``) and the helpers that set up their
runs, shared with ``projects/reproductions/bench_neck_anchor_levels.py``."""
import json
import os.path as osp
from typing import Any, Dict, List

import torch
from mmengine.config import Config

#: the repository root: the spaces' config paths and real data folders are
#: relative to it
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: the chain configs resize to 128 px; the benchmark's toy pairs are 64 px
_CHAIN_64 = {'dataset.pipeline.2.scale': (64, 64)}
#: the chain space's retraining budget (iterations, --quick / default; its
#: toy pairs: ``CHAIN_TOY_PAIRS`` of
#: :mod:`mmfusenas.testing.toy_data.control_sets`): a retraining cut at 30
#: iterations of the chain config's schedule ran at its peak rate
#: throughout and ended in one of two modes whatever the genotype
#: (docs/methods/compose.md)
CHAIN_RETRAIN_ITERS = (150, 300)

#: RetinaNet anchors matched to the 64 px toy objects (4-18 px): base size
#: 0.4 x stride, so that every neck output level (strides 4-32) gets
#: positives (the toy configs' 2 x stride, meant for 128 px, give the
#: stride-16/32 outputs none at 64 px and their cells no task gradient;
#: docs/user_guides/search.md Sec. 10, "TIM detection neck")
_NECK_ANCHORS_64 = {'bbox_head.anchor_generator.octave_base_scale': 0.4}


def _prefixed(prefix: str, opts: Dict[str, Any]) -> Dict[str, Any]:
    return {prefix + k: v for k, v in opts.items()}


#: the search spaces: configs, genotype keys, searched part, budgets; the
#: data: ``data`` (a toy generator of
#: :data:`mmfusenas.testing.toy_data.control_sets.DATA`) or ``real_data`` (a
#: folder relative to the repository root that the configs' data roots
#: name; :func:`resolve_real_data`), ``held_out`` (what the score reads);
#: ``config_arch_interval``: keep the search config's ``arch_update_interval``
#: (its T weight steps per α step) for every strategy instead of an α step
#: after every weight step
SPACES: Dict[str, dict] = {
    'tim_fusion': dict(
        title='TIM fusion N_F (two-level: cell per position, op per edge)',
        search='configs/tim/search_fusion_ivif_toy.py',
        retrain='configs/tim/retrain_fusion_ivif_toy.py',
        genotype_keys=['model.fusion_net.genotype'],
        part='fusion_net',
        data='ivif',
        default='ias_paper',
        search_opts=lambda quick: {
            'train_cfg.max_epochs': 4 if quick else 8,
            'model.arch_update_interval': 1,
        },
        retrain_opts=lambda quick: {
            'train_cfg.max_iters': 60 if quick else 150,
            'train_dataloader.batch_size': 4,
            'train_dataloader.dataset.pipeline.1.crop_size': (32, 32),
            'param_scheduler.0.milestones': [10**6],
        }),
    'tim_neck': dict(
        title='TIM detection neck (SearchableDistillationNeck, RetinaNet)',
        search='configs/tim/search_retinanet_ivif_toy.py',
        retrain='configs/tim/retrain_retinanet_ivif_toy.py',
        genotype_keys=['model.detector.neck.genotype'],
        part='detector.neck',
        data='ivif',
        default='darts1',
        img_scale=(64, 64),  # the toy pairs' own size (no 2x up-sampling)
        search_opts=lambda quick: dict(
            {'train_cfg.max_iters': 60 if quick else 120,
             'train_dataloader.batch_size': 4,
             'train_cfg.arch_dataloader.batch_size': 4},
            **_prefixed('model.architecture.detector.', _NECK_ANCHORS_64)),
        # 300 retraining iterations by default: at 120 the random necks'
        # held-out losses differ by no more than the retrain noise (estimated
        # true between-neck s.d. 0 on two machines), at 300 by ~0.1, as much
        # as the noise of one retrain seed (signal_vs_noise;
        # docs/user_guides/search.md Sec. 10, "signal vs noise"); --quick
        # keeps 60 (a smoke run)
        retrain_opts=lambda quick: dict(
            {'train_cfg.max_iters': 60 if quick else 300,
             'train_dataloader.batch_size': 4},
            **_prefixed('model.detector.', _NECK_ANCHORS_64)),
        # the retraining's learning rate anneals to ~0 at its last
        # iteration (annealed_schedule): the seed noise of the held-out
        # score (docs/user_guides/search.md)
        anneal_retrain=True,
        anchor_check=True,  # print / return the positives per level
        # also ranked by the detector's own held-out loss (rank_pct_by_term
        # 'task'): the fusion terms are N_F's, not the neck's, and blow up
        # on some retrain seeds (docs/user_guides/search.md Sec. 10)
        score_groups={'task': ('loss_cls', 'loss_bbox')},
        score_pipeline='train',
        score_flips=False),  # the training pipeline without its flips
    'tim_decoder': dict(
        title='TIM segmentation decoder (DeepLabv3+ R18)',
        search='configs/tim/search_deeplabv3plus_r18_msrs_toy.py',
        retrain='configs/tim/retrain_deeplabv3plus_r18_msrs_toy.py',
        genotype_keys=['model.segmentor.decode_head.genotype'],
        part='segmentor.decode_head',
        data='ivif',
        default='darts1',
        img_scale=(64, 64),  # the toy pairs' own size (no 2x up-sampling)
        search_opts=lambda quick: {
            'train_cfg.max_iters': 60 if quick else 120,
            'train_dataloader.batch_size': 4,
            'train_cfg.arch_dataloader.batch_size': 4,
        },
        retrain_opts=lambda quick: {
            'train_cfg.max_iters': 60 if quick else 120,
            'train_dataloader.batch_size': 4,
        },
        score_pipeline='train'),
    'ruas_scene': dict(
        title='RUAS scene + denoiser (enhancement, unsupervised)',
        search='configs/ruas/search_ruas_toy.py',
        retrain='configs/ruas/retrain_ruas_toy.py',
        genotype_keys=['model.network.genotype'],
        part='network',
        data='lowlight',
        default='cooperative',
        search_opts=lambda quick: {'train_cfg.max_epochs': 2 if quick else 4},
        retrain_opts=lambda quick: {
            'train_cfg.max_iters': 20 if quick else 60},
        strategies_fixed=True),
    'ruas_det': dict(
        title='RUAS detection task cells (SSD, ExDark layout)',
        search='configs/ruas/search_ssd_exdark_toy.py',
        retrain='configs/ruas/retrain_ssd_exdark_toy.py',
        genotype_keys=[
            'model.scene_net.genotype', 'model.detector.neck.genotype',
            'model.detector.bbox_head.genotype'
        ],
        part='detector.neck',
        data='exdark',
        default='cooperative',
        search_opts=lambda quick: {'train_cfg.max_iters': 20 if quick else 60},
        retrain_opts=lambda quick: {
            'train_cfg.max_iters': 20 if quick else 60},
        score_pipeline='train',
        strategies_fixed=True),
    'chain': dict(
        title='chain: RUAS scene -> TIM N_F -> RetinaNet distillation neck '
        '(night-time toy)',
        search='configs/compose/search_chain_retinanet_night_toy.py',
        retrain='configs/compose/retrain_chain_retinanet_night_toy.py',
        genotype_keys=[
            'model.stages.0.module.genotype',
            'model.stages.1.module.genotype',
            'model.detector.neck.genotype'
        ],
        part=['scene_net', 'fusion_net'],
        data='night',
        default='cooperative',
        # the search config's own budget (120 iterations, alpha batch 8)
        # with --quick too: at 60 x 4 N_F's alpha stayed near uniform and
        # the control ranked 0 / 100 %, at 120 x 8 100 / 100 %
        # (docs/methods/compose.md)
        search_opts=lambda quick: dict(
            **{f'train_dataloader.{k}': v for k, v in _CHAIN_64.items()},
            **{f'train_cfg.arch_dataloader.{k}': v
               for k, v in _CHAIN_64.items()}),
        retrain_opts=lambda quick: dict(
            {'train_cfg.max_iters': CHAIN_RETRAIN_ITERS[0 if quick else 1],
             'train_dataloader.batch_size': 4},
            **{f'train_dataloader.{k}': v for k, v in _CHAIN_64.items()}),
        # all three parts train jointly from iteration 0 (the benchmark
        # drops the config's ChainStagingHook) on a schedule annealed to
        # the budget: the config's own schedule starts after its 50
        # warm-up iterations, so a shorter retraining never left its peak
        # rate, and N_F's BatchNorm statistics after 30 iterations still
        # held 0.9^30 of their initial values (docs/methods/compose.md)
        anneal_retrain=True,
        score_pipeline='train',
        score_flips=False,  # a deterministic held-out score
        strategies_fixed=True),
    'tim_fusion_roadscene221': dict(
        title='TIM fusion N_F on real IR/VIS pairs (RoadScene221 search '
        'halves; IVIF only)',
        search='configs/tim/search_fusion_ivif_roadscene221_cpu.py',
        retrain='configs/tim/retrain_fusion_ivif_roadscene221_cpu.py',
        genotype_keys=['model.fusion_net.genotype'],
        part='fusion_net',
        # real pairs instead of a toy generator: the configs' data roots
        # under ../shared/data/fusion (relative to the repository root)
        real_data='../shared/data/fusion',
        held_out='RoadScene-50 test pairs (whole images)',
        default='ias_paper',
        # the config's T = 5 weight steps per α step (TIM's IAS), as its
        # budget was sized
        config_arch_interval=True,
        # the configs' own budgets (their headers): 6 search epochs of 22
        # weight steps, 300 retraining steps; --quick a smoke run
        search_opts=lambda quick: {'train_cfg.max_epochs': 2} if quick
        else {},
        retrain_opts=lambda quick: {'train_cfg.max_iters': 100} if quick
        else {}),
}


#: the real space's search with the content_ssim loss set, run until
#: softmax(α) has separated (ArchSeparationHook: top-1 >= 1.5 x top-2 on
#: every key) or the config's epoch cap; retrained and scored with that loss
SPACES['tim_fusion_roadscene221_separation'] = dict(
    SPACES['tim_fusion_roadscene221'],
    title='TIM fusion N_F on real IR/VIS pairs (RoadScene221 search halves; '
    'IVIF only; content_ssim loss), searched until softmax(α) separates',
    search='configs/tim/search_fusion_ivif_roadscene221_separation_cpu.py',
    retrain='configs/tim/retrain_fusion_ivif_roadscene221_content_ssim_cpu.py')


def real_data_root(spec: dict, name: str = '?') -> str:
    """The absolute folder of a space's real data (``real_data``, relative
    to the repository root), or ``''`` for a space on a toy generator.

    Raises:
        FileNotFoundError: the folder does not exist (named, with the
            configs that read it).
    """
    rel = spec.get('real_data')
    if not rel:
        return ''
    path = osp.normpath(osp.join(ROOT, rel))
    if not osp.isdir(path):
        raise FileNotFoundError(
            f'space {name!r} reads real data from {path} ({rel} beside the '
            f'repository root, as {spec["search"]} and {spec["retrain"]} '
            'name it), which does not exist; put the data folder there '
            '(docs/user_guides/datasets.md) or choose a toy space')
    return path


def resolve_real_data(cfg: Any, spec: dict) -> None:
    """Rewrite, in place, every ``data_root`` of a config that starts with
    the space's ``real_data`` folder (as the configs write it, relative to
    the repository root) into the absolute path: the units run in their
    own work folder, not in the repository root. A space without
    ``real_data`` is left as it is."""
    rel = spec.get('real_data')
    if not rel:
        return
    prefix = rel.rstrip('/')
    absolute = osp.normpath(osp.join(ROOT, prefix))

    def walk(node):
        if isinstance(node, (dict, Config)):
            for key, value in node.items():
                if key == 'data_root' and isinstance(value, str) and (
                        value.rstrip('/') == prefix
                        or value.startswith(prefix + '/')):
                    node[key] = absolute + value[len(prefix):]
                else:
                    walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(cfg)


#: the custom hooks a control's run keeps: they shape the search (its
#: schedule, its stopping rule) or what it records; every other custom hook
#: (visualisation, EMA, ...) is dropped
KEPT_HOOKS = ('ArchScheduleHook', 'RUASTrainingStrategyHook',
              'ArchSeparationHook')


def quiet_run(cfg: Config, work_dir: str, seed: int, name: str) -> None:
    """Set a control run's work dir, experiment name and seed, and quiet it:
    warnings only, logger and checkpoint hooks at intervals no run reaches,
    no visualiser backend, no validation, only the custom hooks of
    :data:`KEPT_HOOKS`, no cuDNN benchmark."""
    cfg.work_dir = work_dir
    cfg.experiment_name = name
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.log_level = 'WARNING'
    cfg.default_hooks = dict(
        cfg.get('default_hooks', {}),
        logger=dict(type='LoggerHook', interval=10**6),
        checkpoint=dict(type='CheckpointHook', interval=10**9),
    )
    cfg.visualizer = dict(type='Visualizer', vis_backends=[])
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', []) if h['type'] in KEPT_HOOKS
    ]
    for key in ('val_dataloader', 'val_evaluator', 'val_cfg'):
        cfg[key] = None
    cfg.env_cfg = dict(cfg.get('env_cfg', {}), cudnn_benchmark=False)


def merge_options(cfg: Config, opts: Dict[str, Any]) -> None:
    """Merge ``{dotted key: value}`` options into ``cfg`` (list indices
    allowed, as ``--cfg-options``)."""
    cfg.merge_from_dict(opts, allow_list_keys=True)


def set_img_scale(cfg: Any, scale) -> None:
    """Set ``scale`` on every ``PairedResize`` of the config (all loaders,
    search and retrain alike)."""
    if isinstance(cfg, dict):
        if cfg.get('type') == 'PairedResize':
            cfg['scale'] = tuple(scale)
        for v in cfg.values():
            set_img_scale(v, scale)
    elif isinstance(cfg, (list, tuple)):
        for v in cfg:
            set_img_scale(v, scale)


def anchor_positives(detector: dict, ann_file: str,
                     img_scale) -> List[int]:
    """Positive anchors per pyramid level of a detector config's RetinaNet
    head on the boxes of a COCO file, every image resized to ``img_scale``.

    The head's anchor generator and the detector's ``train_cfg.assigner``
    (a max-IoU assigner) label the anchors of each image as in training
    (no flips); a level whose count is 0 gives its neck output, and the
    cells that only it depends on, no classification / regression target.

    Args:
        detector (dict): a detector config with ``bbox_head.anchor_generator``
            and ``train_cfg.assigner``.
        ann_file (str): COCO json with ``images`` (``width``, ``height``) and
            ``annotations`` (``bbox`` as ``x, y, w, h``).
        img_scale (tuple): ``(w, h)`` the images are resized to.

    Returns:
        list[int]: positives per level, finest first.
    """
    from mmdet.registry import TASK_UTILS
    from mmdet.utils import register_all_modules
    from mmengine.registry import DefaultScope
    from mmengine.structures import InstanceData
    try:
        gen_cfg = detector['bbox_head']['anchor_generator']
        assigner_cfg = detector['train_cfg']['assigner']
    except KeyError as err:
        raise KeyError(f'anchor_positives: the detector config has no '
                       f'{err}; it needs bbox_head.anchor_generator and '
                       f'train_cfg.assigner') from None
    # mmdet's types, whatever default scope an earlier build left behind
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmdet'):
        gen = TASK_UTILS.build(gen_cfg)
        assigner = TASK_UTILS.build(assigner_cfg)
    w, h = img_scale
    sizes = [(-(-h // sh), -(-w // sw)) for sw, sh in gen.strides]
    anchors = gen.grid_priors(sizes, device='cpu')
    level = torch.cat([
        torch.full((len(a), ), i, dtype=torch.long)
        for i, a in enumerate(anchors)
    ])
    priors = torch.cat(anchors)
    with open(ann_file) as f:
        ann = json.load(f)
    images = {im['id']: im for im in ann['images']}
    boxes: Dict[int, list] = {}
    for a in ann['annotations']:
        boxes.setdefault(a['image_id'], []).append(a['bbox'])
    counts = torch.zeros(len(anchors), dtype=torch.long)
    for image_id, xywh in boxes.items():
        im = images[image_id]
        b = torch.tensor(xywh, dtype=torch.float32)
        b[:, 2:] += b[:, :2]
        b *= torch.tensor([w / im['width'], h / im['height']] * 2)
        result = assigner.assign(
            InstanceData(priors=priors),
            InstanceData(
                bboxes=b, labels=torch.zeros(len(b), dtype=torch.long)))
        counts += torch.bincount(
            level[result.gt_inds > 0], minlength=len(anchors))
    return counts.tolist()
