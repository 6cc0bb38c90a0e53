"""``init_model`` and ``inference_model``: every model family runs through
its config's test pipeline and ``model.test_step``."""
import copy
import os
import os.path as osp
from typing import Any, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.device import get_device
from mmengine.registry import FUNCTIONS, DefaultScope, init_default_scope

from mmfusenas.datasets.transforms import LoadPairedImages
from mmfusenas.engine.hooks.fused_image_save_hook import prediction_image
from mmfusenas.registry import MODELS
from mmfusenas.utils.checkpoint import load_model_weights
from mmfusenas.utils.config_tree import type_name
from .deploy import Optimize, optimize_for_inference

#: a prediction's image as an OpenCV ``uint8`` array
result_image = prediction_image
#: first pipeline step -> kind of input it expects
LOADER_KINDS = {'LoadPairedImages': 'paired', 'LoadEnhanceImages': 'enhance',
                'LoadImageFromFile': 'single'}


def load_config(config: Union[str, Config],
                cfg_options: Optional[dict] = None) -> Config:
    """A :class:`Config` from a path (checked) or a Config (copied)."""
    if isinstance(config, Config):
        config = copy.deepcopy(config)
    elif osp.isfile(config):
        config = Config.fromfile(config)
    else:
        raise FileNotFoundError(f'config file not found: {config}')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    return config


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: Optional[str] = None,
               cfg_options: Optional[dict] = None,
               optimize: Optimize = None) -> nn.Module:
    """The config's model (config kept as ``model.cfg``) with
    ``checkpoint`` loaded (None: initial weights), on ``device`` (None:
    ``get_device()``), in eval mode, optimised by
    :func:`~mmfusenas.apis.deploy.optimize_for_inference`."""
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmfusenas'))
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_model_weights(model, checkpoint)
    model.cfg = cfg
    model = model.to(torch.device(device or get_device())).eval()
    return optimize_for_inference(model, optimize)


def _scope(cfg: Optional[Config]):
    return DefaultScope.overwrite_default_scope(
        (cfg or {}).get('default_scope', 'mmfusenas'))


def loader_cfg(cfg: Config) -> dict:
    """The test (else val, else train) dataloader config."""
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        if (cfg.get(key) or {}).get('dataset'):
            return cfg[key]
    return {}


def config_modalities(cfg: Config) -> List[str]:
    """Modality names of the config's test (or val / train) dataset."""
    prefix = loader_cfg(cfg).get('dataset', {}).get('data_prefix') or {}
    if any(k in prefix for k in ('img_path', 'img', 'seg_map_path')):
        return []
    return [k for k in prefix if not str(k).startswith('_')]


def test_pipeline_cfg(cfg: Config) -> List[dict]:
    """The config's test pipeline without annotation loading."""
    pipeline = loader_cfg(cfg).get('dataset', {}).get('pipeline')
    if not pipeline:
        raise KeyError('the config has no test_dataloader.dataset.pipeline '
                       '(inference reads images with it)')
    return [copy.deepcopy(s) for s in pipeline if type_name(s) not in
            ('LoadPairedAnnotations', 'LoadAnnotations')]


def loader_kind(pipeline: Sequence[dict]) -> str:
    """The input kind (``LOADER_KINDS``) of a test pipeline's loader."""
    kind = LOADER_KINDS.get(type_name(pipeline[0]))
    if kind is None:
        raise ValueError(f'cannot run inference with a pipeline starting with '
                         f"{pipeline[0].get('type')!r}; expected one of "
                         f'{tuple(LOADER_KINDS)}')
    return kind


class _PairLoader(LoadPairedImages):
    """:class:`LoadPairedImages` that also takes ``uint8`` arrays
    (``results['img_arrays']``: placeholder path -> OpenCV image)."""
    _arrays: dict = {}

    def transform(self, results: dict) -> dict:
        self._arrays = results.pop('img_arrays', None) or {}
        return super().transform(results)

    def _imread(self, path: str, modality: str) -> np.ndarray:
        img = self._arrays.get(path)
        if img is None:
            return super()._imread(path, modality)
        if img.dtype != np.uint8:
            raise ValueError(f'{modality!r} array has pixel type {img.dtype};'
                             ' only uint8 images are supported')
        return img


def build_pipeline(cfg: Config) -> Compose:
    """The test pipeline; a paired loader also takes arrays."""
    steps = test_pipeline_cfg(cfg)
    if type_name(steps[0]) == 'LoadPairedImages':
        steps[0] = _PairLoader(
            **{k: v for k, v in steps[0].items() if k != 'type'})
    with _scope(cfg):
        return Compose(steps)


def _check_file(path: Any, what: str) -> str:
    # names the input (depth, guide, image) a bare loader error would not
    path = os.fspath(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    return path


def make_data_info(cfg: Config, inputs: Any, index: int = 0) -> dict:
    """The data info of one input of :func:`inference_model` (array inputs
    get the stem ``f'{index:08d}'``; a dict with ``img_path`` is copied)."""
    if isinstance(inputs, dict) and 'img_path' in inputs:
        return copy.deepcopy(inputs)
    kind = loader_kind(test_pipeline_cfg(cfg))
    if kind != 'paired':
        path = os.fspath(inputs)
        stem = osp.splitext(osp.basename(path))[0]
        if kind == 'enhance':
            return dict(img_path=dict(low=path), stem=stem,
                        modalities=('low', ))
        return dict(img_path=path, img_id=stem, stem=stem)
    names = config_modalities(cfg)
    if isinstance(inputs, (list, tuple)):
        if names and len(inputs) != len(names):
            raise ValueError(f'the config fuses {len(names)} modalities '
                             f'{names}, got {len(inputs)} sources')
        inputs = dict(zip(names or [f'src{i}' for i in range(len(inputs))],
                          inputs))
    elif not isinstance(inputs, dict):
        raise TypeError('fusion inputs must be a dict {modality: path} or a '
                        f'sequence of paths, got {type(inputs).__name__}')
    elif names and sorted(inputs) != sorted(names):
        raise ValueError(f'the config fuses {len(names)} modalities '
                         f'{names}, got the keys {list(inputs)}')
    names = names or list(inputs)
    img_path, arrays = {}, {}  # the loader checks files, shapes, sizes
    for name in names:
        if isinstance(inputs[name], np.ndarray):
            img_path[name] = f'<array {index} {name}>'
            arrays[img_path[name]] = inputs[name]
        else:
            img_path[name] = os.fspath(inputs[name])
    first = img_path[names[0]]
    stem = f'{index:08d}' if first in arrays else \
        osp.splitext(osp.basename(first))[0]
    info = dict(img_path=img_path, stem=stem, modalities=tuple(names))
    if arrays:
        info['img_arrays'] = arrays
    return info


def _gisr_info(inputs: Any, gt: Optional[str]) -> dict:
    from mmfusenas.datasets.gisr_dataset import RGB_TAGS, sample_id
    from mmfusenas.datasets.transforms.gisr_transforms import (read_depth,
                                                               read_rgb)
    if isinstance(inputs, dict):
        if set(inputs) != {'depth', 'rgb'}:
            raise KeyError('guided SR inputs must be (depth, rgb) or '
                           f"dict(depth=, rgb=), got keys {sorted(inputs)}")
        inputs = inputs['depth'], inputs['rgb']
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
        raise TypeError('guided SR inputs must be a (depth, rgb) pair of '
                        f'paths, got {type(inputs).__name__}')
    depth = _check_file(inputs[0], 'depth map')
    rgb = _check_file(inputs[1], 'RGB guide')
    if gt is not None:
        _check_file(gt, 'ground-truth depth')
    d_shape, r_shape = read_depth(depth).shape, read_rgb(rgb).shape[:2]
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
    return dict(sample_id=sid, rgb_path=rgb, depth_path=gt, lr_path=depth)


def build_batch(model: nn.Module, inputs: Any, batch: bool = False,
                gt: Optional[str] = None,
                kernel: Union[None, str, np.ndarray, Sequence] = None,
                color: bool = False,
                noise_sigma: Optional[float] = None,
                pad: bool = True) -> Any:
    """The collated batch ``model.test_step`` takes for ``inputs``.

    ``gt``: guided SR, the HR ground truth of a real LR depth. ``kernel``
    (file, array, or with ``batch`` a list), ``color``, ``noise_sigma`` (in
    [0, 1]), ``pad`` (edge padding + edgetaper): restoration.
    """
    family = model_family(model)
    items = list(inputs) if batch else [inputs]
    if family == 'restoration':
        from mmfusenas.datasets.restoration_folder_dataset import \
            restoration_sample
        kernels = list(kernel) if batch and isinstance(
            kernel, (list, tuple)) else [kernel] * len(items)
        if len(kernels) != len(items):
            raise ValueError(f'{len(items)} images but {len(kernels)} kernels')
        data = []
        for img, k in zip(items, kernels):
            if isinstance(img, (list, tuple)):
                if len(img) != 2:
                    raise ValueError('restoration inputs are an image path '
                                     f'or an (image, kernel) pair, got {img}')
                img, k = img
            img = _check_file(img, 'image')
            data.append(restoration_sample(img, k, None, color, noise_sigma,
                                           pad))
        return pseudo_collate(data)
    if kernel is not None:
        raise ValueError(f'{type(model).__name__} takes no blur kernel')
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise AttributeError('the model has no .cfg; build it with '
                             'mmfusenas.apis.init_model')
    pipeline = build_pipeline(cfg)
    with _scope(cfg):
        if family == 'gisr':
            fn = loader_cfg(cfg).get('collate_fn')
            collate = FUNCTIONS.get(fn['type']) if fn else pseudo_collate
            return collate([pipeline(_gisr_info(i, gt)) for i in items])
        return pseudo_collate([pipeline(make_data_info(cfg, item, i))
                               for i, item in enumerate(items)])


def model_family(model: nn.Module) -> Optional[str]:
    """``'fusion'``, ``'enhance'``, ``'chain'``, ``'gisr'``,
    ``'restoration'``, or None (another model)."""
    from mmfusenas.models.compound import (BasePreTaskModel, FusionDetector,
                                           FusionSegmentor, SceneDetector,
                                           SceneSegmentor)
    from mmfusenas.models.enhancers import ImageEnhancer
    from mmfusenas.models.fusion import ImageFusor
    from mmfusenas.models.gisr import GuidedDepthSR
    from mmfusenas.models.restoration import HQSRestorer
    if isinstance(model, (ImageFusor, FusionDetector, FusionSegmentor)):
        return 'fusion'
    if isinstance(model, (ImageEnhancer, SceneDetector, SceneSegmentor)):
        return 'enhance'
    if isinstance(model, BasePreTaskModel):  # every other compound model
        return 'chain'
    if isinstance(model, GuidedDepthSR):
        return 'gisr'
    # ProxyBilevelAlgorithm (search/) wraps the restorer
    if isinstance(model, HQSRestorer) or isinstance(
            getattr(model, 'architecture', None), HQSRestorer):
        return 'restoration'
    return None


def inference_model(model: nn.Module, inputs: Any, batch: bool = False,
                    **kwargs) -> Any:
    """Run a model of :func:`init_model` on one input (a list with
    ``batch``) through its test pipeline and ``test_step``.

    Inputs: ``{modality: path | array}`` or sources in config order
    (fusion, chain); an image path (enhancement, scene); ``(depth, rgb)``
    (``GuidedDepthSR``); an image or ``(image, kernel)`` (HQS restoration).
    ``**kwargs``: see :func:`build_batch`. Returns data sample(s), or for
    guided SR dict(s) with ``pred_depth``, ``bicubic``, ``sample_id`` (+
    ``gt_depth``).
    """
    data = build_batch(model, inputs, batch, **kwargs)
    with _scope(getattr(model, 'cfg', None)), torch.no_grad():
        out = model.test_step(data)
    return out if batch else out[0]


def _of_family(model: nn.Module, family: str, what: str) -> nn.Module:
    if model_family(model) != family:
        raise TypeError(f'no inference function for {type(model).__name__} '
                        f'as {what}; use inference_model')
    return model


def inference_fusion(model: nn.Module, inputs: Any, batch: bool = False):
    """:func:`inference_model` for fusion and compound fusion models."""
    return inference_model(_of_family(model, 'fusion', 'a fusion model'),
                           inputs, batch)


def inference_enhancer(model: nn.Module, inputs: Any, batch: bool = False):
    """:func:`inference_model` for enhancers and scene + task models."""
    return inference_model(
        _of_family(model, 'enhance', 'an enhancement model'), inputs, batch)
