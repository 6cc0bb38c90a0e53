"""High-level inference APIs, as ``mmdet.apis`` / ``mmseg.apis`` have.

::

    from mmfusenas.apis import init_model, inference_model
    model = init_model('configs/tim/fusion_ivif_official.py', 'tim.pth')
    sample = inference_model(model, dict(ir='ir/01.png', vi='vi/01.png'))

:func:`init_model` builds a model from a config; :func:`inference_model`
dispatches on the model type to one function per task family
(:func:`inference_fusion`, :func:`inference_enhancer`,
:func:`inference_chain`, :func:`inference_gisr`, :func:`inference_restorer`),
all built on the config's **test pipeline** (the colour handling, resizing
and padding of ``tools/test.py``) and ``model.test_step``.
"""
import copy
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.device import get_device
from mmengine.registry import DefaultScope, init_default_scope

from mmfusenas.engine.hooks.fused_image_save_hook import prediction_image
from .deploy import Optimize, optimize_for_inference
from mmfusenas.registry import MODELS
from mmfusenas.utils.checkpoint import load_model_weights

PathOrCfg = Union[str, Config]
#: pipeline steps that read annotations; inference drops them
ANNOTATION_LOADERS = ('LoadPairedAnnotations', 'LoadAnnotations')
#: first pipeline step -> kind of data info it expects
PAIRED_LOADERS = ('LoadPairedImages', )
ENHANCE_LOADERS = ('LoadEnhanceImages', )
SINGLE_LOADERS = ('LoadImageFromFile', )


def _short_type(step: dict) -> str:
    return str(step.get('type', '')).split('.')[-1]


def load_config(config: PathOrCfg,
                cfg_options: Optional[dict] = None) -> Config:
    """A :class:`Config` from a path (checked) or a Config (copied)."""
    if isinstance(config, (str, bytes)) or hasattr(config, '__fspath__'):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file not found: {config}')
        config = Config.fromfile(config)
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a file path or a Config, got '
                        f'{type(config).__name__}')
    else:
        config = copy.deepcopy(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    return config


def init_model(config: PathOrCfg,
               checkpoint: Optional[str] = None,
               device: Optional[str] = None,
               cfg_options: Optional[dict] = None,
               strict: bool = True,
               optimize: Optimize = None) -> nn.Module:
    """Build the config's model, load a checkpoint and set eval mode.

    Like ``mmdet.apis.init_detector``: the config is kept as
    ``model.cfg`` (the inference functions read its test pipeline).

    Args:
        config (str | Config): config file or object.
        checkpoint (str, optional): checkpoint file (``{'state_dict': ...}``
            as MMEngine writes, or a plain state dict), loaded by the
            checked loader
            :func:`~mmfusenas.utils.checkpoint.load_model_weights`
            (``weights_only=True``, CRC-32 of every zip entry, finite
            tensors, keys and shapes; every error names the file). None
            keeps the initial weights.
        device (str, optional): torch device, e.g. ``'cpu'``, ``'cuda:0'``;
            None: ``'cuda'`` when available, else ``'cpu'``
            (:func:`mmengine.device.get_device`).
        cfg_options (dict, optional): overrides merged into the config.
        strict (bool): every model key must be in the checkpoint and vice
            versa. Defaults to True.
        optimize (str | Sequence[str], optional): inference optimisations
            (``'cpu_kernels'``, ``'fold_bn'``, ``'channels_last'``,
            ``'compile'``, ``'all'``), see
            :func:`mmfusenas.apis.deploy.optimize_for_inference`. Defaults
            to None: the plain model.

    Returns:
        nn.Module: the model in eval mode on ``device``.
    """
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmfusenas'))
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        # the checked loader: CRC-32 of every entry, finite tensors, keys
        # and shapes, official files recognised (errors name the file)
        load_model_weights(model, checkpoint, strict=strict)
    model.cfg = cfg
    model = model.to(torch.device(device or get_device())).eval()
    return optimize_for_inference(model, optimize)


def _dataset_cfg(cfg: Config) -> dict:
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        loader = cfg.get(key)
        if loader and loader.get('dataset'):
            return loader['dataset']
    return {}


def config_modalities(cfg: Config) -> List[str]:
    """Modality names of the config's test (or val / train) dataset."""
    prefix = _dataset_cfg(cfg).get('data_prefix') or {}
    if any(k in prefix for k in ('img_path', 'img', 'seg_map_path')):
        return []
    return [k for k in prefix if not str(k).startswith('_')]


def test_pipeline_cfg(cfg: Config) -> List[dict]:
    """The config's test pipeline without annotation loading.

    Raises:
        KeyError: the config has no dataset pipeline.
    """
    pipeline = _dataset_cfg(cfg).get('pipeline')
    if not pipeline:
        raise KeyError('the config has no test_dataloader.dataset.pipeline '
                       '(inference reads images with it)')
    return [
        copy.deepcopy(step) for step in pipeline
        if _short_type(step) not in ANNOTATION_LOADERS
    ]


def _loader_kind(pipeline: Sequence[dict]) -> str:
    first = _short_type(pipeline[0])
    if first in PAIRED_LOADERS:
        return 'paired'
    if first in ENHANCE_LOADERS:
        return 'enhance'
    if first in SINGLE_LOADERS:
        return 'single'
    raise ValueError(f'cannot run inference with a pipeline starting with '
                     f"{pipeline[0].get('type')!r}; expected one of "
                     f'{PAIRED_LOADERS + ENHANCE_LOADERS + SINGLE_LOADERS}')


def _check_file(path: Any, what: str) -> str:
    if not isinstance(path, str):
        raise TypeError(f'{what} must be a file path (str), got '
                        f'{type(path).__name__}')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    return path


def make_data_info(cfg: Config, inputs: Any) -> dict:
    """The data info (dataset item before the pipeline) of one input.

    Args:
        cfg (Config): the model's config.
        inputs: for paired (fusion) pipelines a dict ``{modality: path}``
            or a sequence of paths in the config's modality order; for
            enhancement / scene pipelines one path. A dict that already has
            ``img_path`` is passed on unchanged (a dataset item).

    Returns:
        dict: e.g. ``dict(img_path={'ir': ..., 'vi': ...}, stem='01',
        modalities=('ir', 'vi'))``.
    """
    if isinstance(inputs, dict) and 'img_path' in inputs:
        return copy.deepcopy(inputs)
    kind = _loader_kind(test_pipeline_cfg(cfg))
    if kind == 'paired':
        names = config_modalities(cfg)
        if isinstance(inputs, dict):
            paths = dict(inputs)
            if names and sorted(paths) == sorted(names):
                paths = {n: paths[n] for n in names}
        elif isinstance(inputs, (list, tuple)):
            if names and len(inputs) != len(names):
                raise ValueError(
                    f'the config fuses {len(names)} modalities {names}, got '
                    f'{len(inputs)} paths')
            paths = dict(
                zip(names or [f'src{i}' for i in range(len(inputs))],
                    inputs))
        else:
            raise TypeError('fusion inputs must be a dict {modality: path} '
                            f'or a sequence of paths, got '
                            f'{type(inputs).__name__}')
        for name, path in paths.items():
            _check_file(path, f'{name!r} image')
        first = next(iter(paths.values()))
        return dict(
            img_path=paths,
            stem=osp.splitext(osp.basename(first))[0],
            modalities=tuple(paths))
    path = _check_file(inputs, 'image')
    stem = osp.splitext(osp.basename(path))[0]
    if kind == 'enhance':
        return dict(img_path=dict(low=path), stem=stem, modalities=('low', ))
    return dict(img_path=path, img_id=stem, stem=stem)


def _scope(model: nn.Module):
    cfg = getattr(model, 'cfg', None) or {}
    return DefaultScope.overwrite_default_scope(
        cfg.get('default_scope', 'mmfusenas'))


def build_batch(model: nn.Module, inputs: Any, batch: bool = False,
                gt: Optional[str] = None,
                kernel: Union[None, str, np.ndarray, Sequence] = None,
                color: bool = False,
                noise_sigma: Optional[float] = None,
                pad: bool = True) -> Any:
    """The collated batch ``model.test_step`` takes for these inputs.

    What every inference function runs (and what
    ``tools/analysis_tools/benchmark.py`` times ``test_step`` on): the
    config's test pipeline (``make_data_info`` items; guided SR items with
    the test loader's ``collate_fn``), or for hyper-guidance restorers the
    item of :func:`~mmfusenas.datasets.restoration_sample` (``kernel``,
    ``color``, ``noise_sigma``, ``pad`` as in :func:`inference_restorer`).
    ``gt`` is the ground truth of a real LR depth (:func:`inference_gisr`).
    """
    family = model_family(model)
    items = list(inputs) if batch else [inputs]
    if family == 'restoration':
        from mmfusenas.datasets.restoration_folder_dataset import \
            restoration_sample
        if batch and isinstance(kernel, (list, tuple)):
            if len(kernel) != len(items):
                raise ValueError(f'{len(items)} images but {len(kernel)} '
                                 'kernels')
            kernels = list(kernel)
        else:
            kernels = [kernel] * len(items)
        data = []
        for img, k in zip(items, kernels):
            _check_file(img, 'image')
            if isinstance(k, str):
                _check_file(k, 'kernel')
            data.append(
                restoration_sample(img, k, None, color, noise_sigma, pad))
        return pseudo_collate(data)
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise AttributeError('the model has no .cfg; build it with '
                             'mmfusenas.apis.init_model')
    with _scope(model):
        pipeline = Compose(test_pipeline_cfg(cfg))
        if family == 'gisr':
            return _collate(cfg)(
                [pipeline(_gisr_info(item, gt)) for item in items])
        return pseudo_collate(
            [pipeline(make_data_info(cfg, item)) for item in items])


def _run(model: nn.Module, inputs: Any, batch: bool, **kwargs) -> Any:
    data = build_batch(model, inputs, batch, **kwargs)
    with _scope(model), torch.no_grad():
        out = model.test_step(data)
    return out if batch else out[0]


def model_family(model: nn.Module) -> Optional[str]:
    """The task family the inference functions see in ``model``:
    ``'fusion'``, ``'enhance'``, ``'chain'``, ``'gisr'``,
    ``'restoration'``, or None (another model)."""
    try:
        return _family(model)
    except TypeError:
        return None


def _family(model: nn.Module) -> str:
    """``'fusion'``, ``'enhance'``, ``'chain'``, ``'gisr'`` or
    ``'restoration'``."""
    from mmfusenas.models.compound import (BaseChainTaskModel,
                                           BaseFusionTaskModel,
                                           BaseSceneTaskModel)
    from mmfusenas.models.enhancers import ImageEnhancer
    from mmfusenas.models.fusion import ImageFusor
    from mmfusenas.models.gisr import GuidedDepthSR
    from mmfusenas.models.restoration import HQSRestorer
    if isinstance(model, (ImageFusor, BaseFusionTaskModel)):
        return 'fusion'
    if isinstance(model, (ImageEnhancer, BaseSceneTaskModel)):
        return 'enhance'
    if isinstance(model, BaseChainTaskModel):
        return 'chain'
    if isinstance(model, GuidedDepthSR):
        return 'gisr'
    # ProxyBilevelAlgorithm (search/, above this room) wraps the restorer
    if isinstance(model, HQSRestorer) or isinstance(
            getattr(model, 'architecture', None), HQSRestorer):
        return 'restoration'
    raise TypeError(
        f'no inference function for {type(model).__name__}: supported are '
        'ImageFusor, ImageEnhancer (RUAS, HBL), the compound fusion / scene '
        '/ chain task models, GuidedDepthSR (DCNAS) and HQSRestorer / '
        'ProxyBilevelAlgorithm (hyper-guidance)')


def inference_fusion(model: nn.Module, inputs: Any,
                     batch: bool = False) -> Any:
    """Fuse one pair (or a list of pairs with ``batch=True``).

    Args:
        model (nn.Module): a fusion model (``ImageFusor``) or a compound
            fusion + task model, from :func:`init_model`.
        inputs: ``{modality: path}``, paths in config order, or (``batch``)
            a list of those.
        batch (bool): ``inputs`` is a list of pairs. Defaults to False.

    Returns:
        data sample(s) with ``pred_fused`` (``(1, H, W)`` in ``[0, 1]``),
        ``pred_fused_rgb`` for a colour source and, for compound models,
        ``pred_instances`` / ``pred_sem_seg``.
    """
    if _family(model) != 'fusion':
        raise TypeError(f'{type(model).__name__} is not a fusion model; '
                        'use inference_enhancer')
    return _run(model, inputs, batch)


def inference_enhancer(model: nn.Module, inputs: Any,
                       batch: bool = False) -> Any:
    """Enhance one image (or a list with ``batch=True``).

    Works for ``ImageEnhancer`` (RUAS) and the compound scene + task
    models (``SceneDetector`` / ``SceneSegmentor``).

    Returns:
        data sample(s) with ``pred_img`` (``(3, H, W)`` RGB in ``[0, 1]``)
        and, for compound models, ``pred_instances`` / ``pred_sem_seg``.
    """
    if _family(model) != 'enhance':
        raise TypeError(f'{type(model).__name__} is not an enhancement / '
                        'scene model; use inference_fusion')
    return _run(model, inputs, batch)


def inference_chain(model: nn.Module, inputs: Any,
                    batch: bool = False) -> Any:
    """Run a chain of pre-modules + task model on one set of sources.

    Args:
        model (nn.Module): a ``ChainDetector`` / ``ChainSegmentor``.
        inputs: ``{source: path}`` or paths in the config's source order
            (as :func:`inference_fusion`); a list of those with ``batch``.

    Returns:
        data sample(s) with every stage's image as ``pred_<output>``
        (``(C, H, W)`` in ``[0, 1]``, e.g. ``pred_vi_enh``), ``pred_fused``
        (+ ``pred_fused_rgb``) for a 1-channel task input and the task
        predictions (``pred_instances`` / ``pred_sem_seg``).
    """
    if _family(model) != 'chain':
        raise TypeError(f'{type(model).__name__} is not a chain task model')
    return _run(model, inputs, batch)


def _gisr_info(inputs: Any, gt: Optional[str]) -> dict:
    from mmfusenas.datasets.gisr_dataset import RGB_TAGS, sample_id
    from mmfusenas.datasets.transforms.gisr_transforms import (read_depth,
                                                               read_rgb)
    if isinstance(inputs, dict):
        unknown = set(inputs) - {'depth', 'rgb'}
        if unknown or 'rgb' not in inputs or 'depth' not in inputs:
            raise KeyError('guided SR inputs must be (depth, rgb) or '
                           f"dict(depth=, rgb=), got keys {sorted(inputs)}")
        depth, rgb = inputs['depth'], inputs['rgb']
    elif isinstance(inputs, (list, tuple)) and len(inputs) == 2:
        depth, rgb = inputs
    else:
        raise TypeError('guided SR inputs must be a (depth, rgb) pair of '
                        f'paths, got {type(inputs).__name__}')
    _check_file(depth, 'depth map')
    _check_file(rgb, 'RGB guide')
    d_shape = read_depth(depth).shape
    r_shape = read_rgb(rgb).shape[:2]
    sid = sample_id(osp.splitext(osp.basename(rgb))[0], RGB_TAGS)
    if d_shape == r_shape:  # HR depth: the pipeline degrades it
        if gt is not None:
            raise ValueError(f'{depth} has the RGB size {r_shape}: it is '
                             'the ground truth already (gt= is for real LR '
                             'depth)')
        return dict(sample_id=sid, rgb_path=rgb, depth_path=depth,
                    lr_path=None)
    if d_shape[0] > r_shape[0] or d_shape[1] > r_shape[1]:
        raise ValueError(f'depth map {depth} {d_shape} is larger than its '
                         f'RGB guide {rgb} {r_shape}')
    if gt is not None:
        _check_file(gt, 'ground-truth depth')
    return dict(sample_id=sid, rgb_path=rgb, depth_path=gt, lr_path=depth)


def inference_gisr(model: nn.Module, inputs: Any, gt: Optional[str] = None,
                   batch: bool = False) -> Any:
    """Guided depth super-resolution of one depth map with its RGB guide.

    The depth is read in its stored unit (8/16-bit PNG, ``.npy``, TIFF):

    - **same size as the RGB** (a benchmark's HR depth): the config's test
      pipeline mod-crops and degrades it (bicubic ×scale, normalisation)
      as ``tools/test.py`` does; the result also has ``gt_depth``;
    - **smaller** (real sensor LR depth, e.g. RGB-D-D ``DepthLR``): it is
      normalised by its own min / max and bicubic-upsampled to the
      (mod-cropped) RGB size; ``gt`` optionally names the HR ground truth.

    Args:
        model (nn.Module): a ``GuidedDepthSR`` from :func:`init_model`.
        inputs: ``(depth_path, rgb_path)`` or ``dict(depth=, rgb=)``; a
            list of those with ``batch`` (same sizes).
        gt (str, optional): HR ground truth of a real LR depth.
        batch (bool): ``inputs`` is a list. Defaults to False.

    Returns:
        dict(s) with ``pred_depth`` (``(H, W)`` float, stored unit),
        ``bicubic`` (the upsampled input, same unit), ``sample_id`` and,
        with ground truth, ``gt_depth``.
    """
    if _family(model) != 'gisr':
        raise TypeError(f'{type(model).__name__} is not a guided depth SR '
                        'model (GuidedDepthSR)')
    return _run(model, inputs, batch, gt=gt)


def _collate(cfg: Config):
    """The test loader's ``collate_fn`` (pseudo_collate by default)."""
    from mmengine.registry import FUNCTIONS
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        loader = cfg.get(key)
        if loader and loader.get('dataset'):
            fn = loader.get('collate_fn')
            if fn is None:
                return pseudo_collate
            fn = dict(fn)
            return FUNCTIONS.get(fn.pop('type'))
    return pseudo_collate


def inference_restorer(model: nn.Module, image: Any,
                       kernel: Union[None, str, np.ndarray] = None,
                       color: bool = False,
                       noise_sigma: Optional[float] = None,
                       pad: bool = True,
                       batch: bool = False) -> Any:
    """Restore one image: non-blind deblurring with its kernel, deraining,
    dehazing (hyper-guidance ``HQSRestorer`` / ``ProxyBilevelAlgorithm``),
    or HBL / RUAS enhancement (``ImageEnhancer``, no kernel).

    The HQS path is that of ``tools/deblur.py`` (the same
    :func:`~mmfusenas.datasets.restoration_sample`): with a kernel the
    image is edge-padded by ``⌊k/2⌋`` and edge-tapered, and the padding is
    cropped off the prediction.

    Args:
        model (nn.Module): from :func:`init_model`.
        image (str): the degraded image (or a list with ``batch``).
        kernel (str | np.ndarray, optional): blur kernel file (``.png`` /
            ``.dlm`` / ``.txt`` / ``.npy`` / ``.mat``) or 2-D array; with
            ``batch`` one kernel for all or a list.
        color (bool): RGB (a grayscale deblurring network restores each
            channel). Defaults to False (``tools/deblur.py --color``).
        noise_sigma (float, optional): noise level in ``[0, 1]`` units
            (manual-guidance models need it).
        pad (bool): edge padding + edgetaper with a kernel. Defaults to
            True (``--no-pad`` turns it off).
        batch (bool): ``image`` is a list. Defaults to False.

    Returns:
        data sample(s) with ``pred_img`` (``(C, H, W)`` in ``[0, 1]``; BGR
        ``uint8`` via :func:`result_image`).
    """
    family = _family(model)
    if family == 'enhance':
        if kernel is not None:
            raise ValueError(f'{type(model).__name__} takes no blur kernel '
                             '(it is an enhancement / HBL model)')
        return inference_enhancer(model, image, batch)
    if family != 'restoration':
        raise TypeError(f'{type(model).__name__} is not a restoration '
                        'model (HQSRestorer, ProxyBilevelAlgorithm, '
                        'ImageEnhancer)')
    return _run(model, image, batch, kernel=kernel, color=color,
                noise_sigma=noise_sigma, pad=pad)


def inference_model(model: nn.Module, inputs: Any,
                    batch: bool = False, **kwargs) -> Any:
    """Run any supported model on its inputs (dispatch on the model type).

    ============================ ==========================================
    model                        ``inputs`` / function
    ============================ ==========================================
    fusion (+ task)              :func:`inference_fusion`
    enhancement / scene (+ task) :func:`inference_enhancer`
    chain of pre-modules + task  :func:`inference_chain`
    ``GuidedDepthSR``            ``(depth, rgb)``: :func:`inference_gisr`
    restoration                  ``image`` or ``(image, kernel)``:
                                 :func:`inference_restorer`
    ============================ ==========================================

    Other models with a ``test_step`` run through the config's test
    pipeline when it starts with a known loader (``LoadPairedImages``,
    ``LoadEnhanceImages``, ``LoadImageFromFile``); otherwise a
    ``ValueError`` names the loader.

    Args:
        model (nn.Module): from :func:`init_model`.
        inputs: as the family's function takes them.
        batch (bool): a list of inputs. Defaults to False.
        **kwargs: passed to the family's function (e.g. ``gt=`` for guided
            SR, ``color=`` / ``noise_sigma=`` for restoration).
    """
    try:
        family = _family(model)
    except TypeError:
        if not hasattr(model, 'test_step'):
            raise
        return _run(model, inputs, batch)
    if family == 'fusion':
        return inference_fusion(model, inputs, batch)
    if family == 'chain':
        return inference_chain(model, inputs, batch)
    if family == 'gisr':
        return inference_gisr(model, inputs, batch=batch, **kwargs)
    if family == 'restoration':
        pairs = [
            tuple(item) if isinstance(item, (list, tuple)) else
            (item, kwargs.get('kernel'))
            for item in (list(inputs) if batch else [inputs])
        ]
        kwargs.pop('kernel', None)
        if any(len(p) != 2 for p in pairs):
            raise ValueError('restoration inputs are an image path or an '
                             '(image, kernel) pair')
        images, kernels = [p[0] for p in pairs], [p[1] for p in pairs]
        if batch:
            return inference_restorer(model, images, kernels, batch=True,
                                      **kwargs)
        return inference_restorer(model, images[0], kernels[0], **kwargs)
    return inference_enhancer(model, inputs, batch)


def result_image(sample: Any, color: bool = True,
                 rounding: Optional[str] = None) -> np.ndarray:
    """The image a prediction carries as a ``uint8`` OpenCV array.

    ``rounding`` None: the prediction's own convention (``rounding``
    metainfo of a fusor's ``postprocess``), else ``'round'``.

    ``pred_fused_rgb`` (with ``color``) or ``pred_fused`` for fusion
    models, ``pred_img`` for enhancement / scene models; grey ``(H, W)``
    or BGR ``(H, W, 3)``, ready for ``cv2.imwrite``.
    """
    return prediction_image(sample, color=color, rounding=rounding)


def check_dataset_files(dataset: Any,
                        progress: bool = True) -> List[Dict[str, str]]:
    """Decode every sample's files with the dataset's loading step.

    Tools run this before writing anything, so that a corrupt or truncated
    file (a valid header but undecodable data) is reported up front
    instead of stopping a folder run midway.

    Args:
        dataset: a dataset whose ``pipeline.transforms[0]`` loads the
            files of ``dataset.get_data_info(i)``.
        progress (bool): show a progress bar. Defaults to True.

    Returns:
        list[dict]: ``dict(index=, stem=, error=)`` per bad sample (empty
        when every sample decodes).
    """
    from mmengine.utils import ProgressBar
    loader = dataset.pipeline.transforms[0]
    bar = ProgressBar(len(dataset)) if progress and len(dataset) else None
    bad = []
    for idx in range(len(dataset)):
        info = copy.deepcopy(dataset.get_data_info(idx))
        try:
            loader(info)
        except (OSError, ValueError, KeyError) as err:
            stem = info.get('stem') or str(info.get('img_path'))
            bad.append(dict(index=idx, stem=stem,
                            error=f'{type(err).__name__}: {err}'))
        if bar is not None:
            bar.update()
    if bar is not None:
        print()
    return bad


def refuse_unreadable(bad: Sequence[Dict[str, str]], total: int,
                      noun: str, rest: str) -> None:
    """Raise the folder tools' error for unreadable samples (if any).

    Args:
        bad: :func:`check_dataset_files` results.
        total (int): number of samples.
        noun (str): e.g. ``'pair(s)'``.
        rest (str): what ``--skip-bad`` does, e.g. ``'fuse the rest'``.

    Raises:
        ValueError: listing every bad sample; says nothing was written.
    """
    if bad:
        raise ValueError(
            f'{len(bad)} of {total} {noun} cannot be read; nothing was '
            f'written (fix them, or pass --skip-bad to {rest}):\n' +
            format_skipped(bad))


def format_skipped(bad: Sequence[Dict[str, str]], limit: int = 20) -> str:
    """One line per bad sample (at most ``limit``), for tool summaries."""
    lines = [f'  {b["stem"]}: {b["error"]}' for b in bad[:limit]]
    if len(bad) > limit:
        lines.append(f'  ... and {len(bad) - limit} more')
    return '\n'.join(lines)
