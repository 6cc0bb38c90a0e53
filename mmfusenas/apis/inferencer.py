"""``FusionInferencer``: MMEngine's :class:`~mmengine.infer.BaseInferencer`
for fusion models and the compound fusion + detector / segmentor models.

As ``mmdet.apis.DetInferencer``::

    from mmfusenas.apis import FusionInferencer
    inferencer = FusionInferencer('mmfusenas::tim/retinanet_ivif_toy.py',
                                  weights='iter_300.pth')
    result = inferencer(('ir/01.png', 'vi/01.png'), out_dir='outputs')

Inputs: pairs of paths or ``uint8`` arrays, or folders paired by file
stem; each pair goes through the config's **test pipeline** and
``model.test_step``, as in ``tools/fuse.py``. The output folder has
MMDetection's layout (``vis/``, ``fused/``, ``panels/``, ``preds/``).
"""
import copy
import difflib
import glob
import json
import math
import os
import os.path as osp
import warnings
from typing import Any, Dict, Iterable, List, Optional, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.infer import BaseInferencer
from mmengine.registry import DefaultScope

from mmfusenas.datasets import PairedImageDataset
from mmfusenas.datasets.transforms import LoadPairedImages
from mmfusenas.utils.fileio import atomic_write, read_image
from mmfusenas.utils.progress import track
from mmfusenas.visualization import draw_boxes, draw_mask, hstack, titled
from mmfusenas.visualization.panels import to_bgr
from .deploy import DEFAULT_TOOL_OPTIMIZE, Optimize
from .inference import (_loader_kind, config_modalities,
                        init_model, load_config, model_family, result_image,
                        test_pipeline_cfg)

#: prefix of a config name shipped in the repository's ``configs/``
NAME_PREFIX = 'mmfusenas::'
#: model families whose inputs are registered source pairs
PAIRED_FAMILIES = ('fusion', 'chain')


def configs_dir() -> str:
    """The ``configs/`` folder shipped with the package: next to the
    installed ``mmfusenas`` package (a source / develop install), or
    ``mmfusenas/.mim/configs`` (a ``mim`` style wheel)."""
    pkg = osp.dirname(osp.dirname(osp.abspath(__file__)))  # mmfusenas/
    for cand in (osp.join(pkg, '.mim', 'configs'),
                 osp.join(osp.dirname(pkg), 'configs')):
        if osp.isdir(cand):
            return cand
    raise FileNotFoundError(
        f'no configs/ folder next to the mmfusenas package ({pkg}); '
        'install MMFuseNAS from its repository (pip install -e .)')


def resolve_model_name(name: str) -> str:
    """The config file of ``mmfusenas::<path under configs/>``.

    ``mmfusenas::tim/fusion_ivif_toy.py`` (the ``.py`` may be left out) is
    ``configs/tim/fusion_ivif_toy.py`` of the installed package.

    Raises:
        FileNotFoundError: no such config; the message lists close names.
    """
    rel = name[len(NAME_PREFIX):] if name.startswith(NAME_PREFIX) else name
    rel = rel.strip('/')
    if not rel.endswith('.py'):
        rel += '.py'
    root = configs_dir()
    path = osp.join(root, rel)
    if osp.isfile(path):
        return path
    known = sorted(
        osp.relpath(p, root).replace(os.sep, '/')
        for p in glob.glob(osp.join(root, '**', '*.py'), recursive=True)
        if '_base_' not in p)
    close = difflib.get_close_matches(rel, known, n=6, cutoff=0.5)
    hint = ('; close names: ' + ', '.join(NAME_PREFIX + c for c in close)
            if close else f'; {len(known)} configs under {root}')
    raise FileNotFoundError(
        f'unknown model name {name!r}: no configs/{rel}{hint}')


class _PairLoader(LoadPairedImages):
    """:class:`LoadPairedImages` that also takes in-memory ``uint8``
    arrays: ``results['img_arrays']`` maps the placeholder "paths" of
    ``img_path`` to OpenCV arrays (grey or BGR), converted exactly as a
    decoded file is."""

    def transform(self, results: dict) -> dict:
        self._arrays = results.pop('img_arrays', None) or {}
        try:
            return super().transform(results)
        finally:
            self._arrays = {}

    def _imread(self, path: str, modality: str) -> np.ndarray:
        if path in self._arrays:
            img = self._arrays[path]
            if img.dtype != np.uint8:
                raise ValueError(
                    f'{modality!r} array has pixel type {img.dtype}; only '
                    'uint8 images are supported')
            return img
        return super()._imread(path, modality)


def _is_image(item: Any) -> bool:
    return isinstance(item, (str, np.ndarray)) or hasattr(item, '__fspath__')


class FusionInferencer(BaseInferencer):
    """Inferencer of fusion models (``ImageFusor``), the compound fusion +
    detector / segmentor models (``FusionDetector``, ``FusionSegmentor``)
    and chains of pre-modules + task model on source pairs.

    Args:
        model (str | Config): a config file, a :class:`Config`, or a name
            ``mmfusenas::<path under configs/>`` (e.g.
            ``'mmfusenas::tim/fusion_ivif_toy.py'``).
        weights (str, optional): checkpoint, loaded strictly. None keeps the
            initial weights (a warning says so).
        device (str, optional): torch device; None picks ``cuda`` when
            available, else ``cpu``.
        optimize (str | Sequence[str], optional): the inference switches of
            :func:`~mmfusenas.apis.init_model` (``'fold_bn'``,
            ``'channels_last'``, ``'compile'``, ``'cpu_kernels'``, ``'all'``;
            None or ``'none'``: the plain model). Defaults to None.
        cfg_options (dict, optional): overrides merged into the config.
        show_progress (bool): progress bar over the batches
            (:func:`mmfusenas.utils.track`). Defaults to True.

    Raises:
        TypeError: the model is not a fusion / compound fusion / chain
            model (the message names the function for it).
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {
        'return_vis', 'show', 'wait_time', 'draw_pred', 'pred_score_thr',
        'img_out_dir', 'no_save_vis', 'save_panels'
    }
    postprocess_kwargs: set = {
        'print_result', 'pred_out_dir', 'return_datasamples', 'no_save_pred'
    }

    def __init__(self,
                 model: Any,
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 optimize: Optimize = DEFAULT_TOOL_OPTIMIZE,
                 cfg_options: Optional[dict] = None,
                 show_progress: bool = True) -> None:
        if isinstance(model, str) and model.startswith(NAME_PREFIX):
            model = resolve_model_name(model)
        cfg = load_config(model, cfg_options)
        self.scope = cfg.get('default_scope', 'mmfusenas')
        self.model = init_model(cfg, weights, device=device,
                                optimize=optimize)
        self.family = model_family(self.model)
        if self.family not in PAIRED_FAMILIES:
            raise TypeError(
                f'FusionInferencer runs fusion models, the compound fusion + '
                f'task models and chains on source pairs; '
                f'{type(self.model).__name__} is a {self.family!r} model: '
                'use mmfusenas.apis.inference_model (inference_enhancer, '
                'inference_gisr, inference_restorer) or its tool')
        self.cfg = cfg
        self.weights = weights
        self.modalities = config_modalities(cfg)
        self.class_names = self._class_names(cfg)
        self.pipeline = self._init_pipeline(cfg)
        self.collate_fn = pseudo_collate
        self.visualizer = None
        self.show_progress = show_progress
        if weights is None:
            warnings.warn('FusionInferencer: no weights: the model runs its '
                          'initial (random) weights')

    # ---------------------------------------------------------------- setup
    @staticmethod
    def _class_names(cfg: Config) -> Optional[Tuple[str, ...]]:
        for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
            ds = (cfg.get(key) or {}).get('dataset') or {}
            classes = (ds.get('metainfo') or {}).get('classes')
            if classes:
                return tuple(classes)
        return None

    def _init_pipeline(self, cfg: Config) -> Compose:
        steps = test_pipeline_cfg(cfg)
        if _loader_kind(steps) != 'paired':
            raise TypeError(f'{steps[0].get("type")} pipelines are not '
                            'paired; FusionInferencer needs LoadPairedImages')
        first = dict(steps[0])
        first.pop('type')
        with DefaultScope.overwrite_default_scope(self.scope):
            return Compose([_PairLoader(**first)] + steps[1:])

    # --------------------------------------------------------------- inputs
    def _one(self, pair: Any, index: int) -> dict:
        """Data info of one sample (paths or arrays)."""
        if isinstance(pair, dict):
            names = list(pair)
            if self.modalities and sorted(names) != sorted(self.modalities):
                raise ValueError(
                    f'the config fuses {len(self.modalities)} modalities '
                    f'{self.modalities}, got the keys {names}')
            names = list(self.modalities) or names
            items = [pair[n] for n in names]
        else:
            items = list(pair)
            if self.modalities and len(items) != len(self.modalities):
                raise ValueError(
                    f'the config fuses {len(self.modalities)} modalities '
                    f'{self.modalities}, got {len(items)} sources')
            names = list(self.modalities) or [
                f'src{i}' for i in range(len(items))]
        img_path, arrays, shapes = {}, {}, {}
        for name, item in zip(names, items):
            if isinstance(item, np.ndarray):
                if item.ndim not in (2, 3):
                    raise ValueError(
                        f'{name!r} array must be (H, W) or (H, W, C), got '
                        f'shape {item.shape}')
                key = f'<array {index} {name}>'
                arrays[key] = item
                img_path[name] = key
                shapes[name] = item.shape[:2]
            else:
                path = os.fspath(item)
                if not osp.isfile(path):
                    raise FileNotFoundError(f'{name!r} image not found: '
                                            f'{path}')
                img_path[name] = path
        if len(set(shapes.values())) > 1:
            raise ValueError(f'the sources of input {index} differ in size: '
                             + ', '.join(f'{n} {s}'
                                         for n, s in shapes.items()))
        first = items[0]
        stem = f'{index:08d}' if isinstance(first, np.ndarray) else \
            osp.splitext(osp.basename(os.fspath(first)))[0]
        return dict(img_path=img_path, img_arrays=arrays, stem=stem,
                    modalities=tuple(names))

    def _folders(self, folders: Dict[str, Any]) -> List[dict]:
        """Pairs of folders ``{modality: DIR}`` by stem (sorted)."""
        names = list(folders)
        if self.modalities and sorted(names) == sorted(self.modalities):
            names = list(self.modalities)
        prefix = {n: osp.abspath(os.fspath(folders[n])) for n in names}
        dataset = PairedImageDataset(
            data_root='', data_prefix=prefix, pipeline=[], test_mode=True,
            check_sizes=True, serialize_data=False)
        infos = []
        for idx in range(len(dataset)):
            info = copy.deepcopy(dataset.get_data_info(idx))
            infos.append(dict(img_path=dict(info['img_path']),
                              img_arrays={}, stem=info['stem'],
                              modalities=tuple(names)))
        return infos

    def _inputs_to_list(self, inputs: Any) -> List[dict]:
        """Every input as a data info (``img_path``, ``img_arrays``,
        ``stem``, ``modalities``), in order.

        Raises:
            FileNotFoundError: a missing file or folder.
            ValueError: sources of one input of different sizes, a wrong
                number of sources, two inputs with one stem.
            TypeError: an input of another kind.
        """
        if isinstance(inputs, dict) or (isinstance(inputs, (list, tuple))
                                        and inputs and all(
                                            _is_image(i) for i in inputs)):
            inputs = [inputs]
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(
                'inputs must be a pair (tuple of paths / arrays), a dict '
                '{modality: path | array | DIR} or a list of them, got '
                f'{type(inputs).__name__}')
        infos: List[dict] = []
        for item in inputs:
            if isinstance(item, dict) and item and all(
                    not isinstance(v, np.ndarray) and osp.isdir(os.fspath(v))
                    for v in item.values()):
                infos.extend(self._folders(item))
            elif isinstance(item, dict) or (
                    isinstance(item, (list, tuple))
                    and all(_is_image(i) for i in item)):
                infos.append(self._one(item, len(infos)))
            else:
                raise TypeError(
                    'each input must be a pair of paths / arrays or a dict '
                    f'{{modality: path | array | DIR}}, got {item!r:.80}')
        stems = [info['stem'] for info in infos]
        dup = sorted({s for s in stems if stems.count(s) > 1})
        if dup:
            raise ValueError(f'inputs share the stems {dup}; outputs are '
                             'named by stem')
        return infos

    # ------------------------------------------------------------- pipeline
    def preprocess(self, inputs: List[dict], batch_size: int = 1,
                   **kwargs) -> Iterable[dict]:
        """Run the test pipeline on each data info and collate
        ``batch_size`` of them (the data preprocessor pads a batch to its
        largest pair)."""
        with DefaultScope.overwrite_default_scope(self.scope):
            items = (self.pipeline(dict(info, img_path=dict(
                info['img_path']))) for info in inputs)
            for chunk in self._get_chunk_data(items, batch_size):
                yield self.collate_fn(chunk)

    @torch.no_grad()
    def forward(self, inputs: dict, **kwargs) -> list:
        """``model.test_step`` on one collated batch."""
        with DefaultScope.overwrite_default_scope(self.scope):
            return self.model.test_step(inputs)

    def __call__(self,
                 inputs: Any,
                 batch_size: int = 1,
                 return_vis: bool = False,
                 show: bool = False,
                 wait_time: int = 0,
                 no_save_vis: bool = False,
                 draw_pred: bool = True,
                 pred_score_thr: float = 0.3,
                 save_panels: bool = False,
                 return_datasamples: bool = False,
                 print_result: bool = False,
                 no_save_pred: bool = False,
                 out_dir: str = '') -> dict:
        """Fuse (and detect / segment) the inputs.

        Args:
            inputs: a pair, a dict ``{modality: path | array | DIR}``, or a
                list of those (see the module doc).
            batch_size (int): pairs per ``test_step``. Defaults to 1.
            return_vis (bool): return the ``vis/`` images as arrays.
            show (bool): show each visualisation in an OpenCV window.
            wait_time (int): ``cv2.waitKey`` milliseconds with ``show``.
            no_save_vis (bool): write no images to ``out_dir``.
            draw_pred (bool): draw the task predictions. Defaults to True.
            pred_score_thr (float): boxes below are not drawn (they are all
                in the predictions). Defaults to 0.3.
            save_panels (bool): also write ``panels/<stem>.png``.
            return_datasamples (bool): return the data samples instead of
                dicts.
            print_result (bool): print the predictions.
            no_save_pred (bool): write no ``preds/``.
            out_dir (str): output folder ('' writes nothing).

        Returns:
            dict: ``predictions`` (one dict or data sample per input) and
            ``visualization`` (the ``vis/`` images with ``return_vis``,
            else empty).
        """
        infos = self._inputs_to_list(inputs)
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        preds = []
        chunks = self.preprocess(infos, batch_size=batch_size)
        num = math.ceil(len(infos) / batch_size)
        for data in track(chunks, f'fusing {len(infos)} input(s)', total=num,
                          enabled=self.show_progress and num > 1):
            preds.extend(self.forward(data))
        img_out_dir = out_dir if out_dir and not no_save_vis else ''
        visualization = self.visualize(
            infos, preds, return_vis=return_vis, show=show,
            wait_time=wait_time, draw_pred=draw_pred,
            pred_score_thr=pred_score_thr, img_out_dir=img_out_dir,
            no_save_vis=no_save_vis, save_panels=save_panels)
        return self.postprocess(
            preds, visualization, return_datasamples,
            print_result=print_result, no_save_pred=no_save_pred,
            pred_out_dir=out_dir)

    # -------------------------------------------------------- visualisation
    @property
    def is_compound(self) -> bool:
        """Whether the model also predicts boxes / masks."""
        from mmfusenas.models.compound import (BaseChainTaskModel,
                                               BaseFusionTaskModel)
        return isinstance(self.model,
                          (BaseChainTaskModel, BaseFusionTaskModel))

    def overlay(self, pred: Any, draw_pred: bool = True,
                pred_score_thr: float = 0.3) -> np.ndarray:
        """The fused image of ``pred`` at the input size (``ori_shape``),
        BGR, with the predicted masks and boxes (score >= threshold)."""
        img = to_bgr(result_image(pred))
        h, w = pred.metainfo.get('ori_shape', img.shape[:2])[:2]
        if img.shape[:2] != (h, w):
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
        if not draw_pred:
            return img
        if 'pred_sem_seg' in pred:
            mask = pred.pred_sem_seg.data.squeeze(0).cpu().numpy()
            if mask.shape != (h, w):
                mask = cv2.resize(mask.astype(np.uint8), (w, h),
                                  interpolation=cv2.INTER_NEAREST)
            img = draw_mask(img, mask)
        inst = pred.get('pred_instances')
        if inst is not None and 'bboxes' in inst:
            scores = inst.scores.cpu().numpy()
            keep = scores >= pred_score_thr
            img = draw_boxes(img, inst.bboxes.cpu().numpy()[keep],
                             inst.labels.cpu().numpy()[keep],
                             self.class_names, scores[keep],
                             thickness=max(1, round(min(h, w) / 240)))
        return img

    def panels(self, info: dict, vis: np.ndarray) -> np.ndarray:
        """The sources and ``vis`` side by side with titles."""
        row = []
        for name in info['modalities']:
            src = info['img_path'][name]
            img = info['img_arrays'].get(src)
            if img is None:  # the file, through the pipeline's backend
                img = read_image(src, 'color', self.pipeline.transforms[0]
                                 .backend_args)
            img = to_bgr(img)
            if img.shape[:2] != vis.shape[:2]:
                img = cv2.resize(img, vis.shape[1::-1],
                                 interpolation=cv2.INTER_AREA)
            row.append(titled(img, name))
        return hstack(row + [titled(vis, 'fused')])

    def visualize(self,
                  inputs: List[dict],
                  preds: List[Any],
                  return_vis: bool = False,
                  show: bool = False,
                  wait_time: int = 0,
                  draw_pred: bool = True,
                  pred_score_thr: float = 0.3,
                  img_out_dir: str = '',
                  no_save_vis: bool = False,
                  save_panels: bool = False) -> List[np.ndarray]:
        """Draw (and write) the visualisation of every prediction.

        Fusion models: ``vis/<stem>.png`` is ``tools/fuse.py``'s PNG (grey
        or BGR). Compound models: the fused image at the input size with
        the overlays; the model's fused image goes to ``fused/``.
        """
        need = return_vis or show or (img_out_dir and not no_save_vis)
        if not need:
            return []
        out = []
        for info, pred in zip(inputs, preds):
            stem = info['stem']
            if self.is_compound:
                vis = self.overlay(pred, draw_pred, pred_score_thr)
            else:
                vis = result_image(pred)
            if show:
                cv2.imshow('FusionInferencer', to_bgr(vis))
                cv2.waitKey(wait_time)
            if img_out_dir and not no_save_vis:
                _write_png(vis, osp.join(img_out_dir, 'vis', f'{stem}.png'))
                if self.is_compound:
                    _write_png(result_image(pred),
                               osp.join(img_out_dir, 'fused', f'{stem}.png'))
                if save_panels:
                    _write_png(self.panels(info, to_bgr(vis)),
                               osp.join(img_out_dir, 'panels',
                                        f'{stem}.png'))
            if return_vis:
                out.append(vis)
        return out

    # -------------------------------------------------------------- results
    def pred2dict(self, pred: Any) -> dict:
        """The JSON-able prediction of one sample: ``stem``,
        ``fused_shape``, and ``labels`` / ``scores`` / ``bboxes`` (input
        pixels, x1 y1 x2 y2) of a detector or ``sem_seg_shape`` /
        ``class_pixels`` of a segmenter."""
        fused = pred.get('pred_fused_rgb', pred.get('pred_fused'))
        result: Dict[str, Any] = dict(stem=pred.metainfo.get('stem'))
        if fused is not None:
            result['fused_shape'] = list(fused.shape[-2:])
        inst = pred.get('pred_instances')
        if inst is not None and 'bboxes' in inst:
            result['labels'] = inst.labels.cpu().tolist()
            result['scores'] = inst.scores.cpu().tolist()
            result['bboxes'] = inst.bboxes.cpu().tolist()
        if 'pred_sem_seg' in pred:
            mask = pred.pred_sem_seg.data.squeeze(0).cpu().numpy()
            labels, counts = np.unique(mask, return_counts=True)
            names = self.class_names or ()
            result['sem_seg_shape'] = list(mask.shape)
            result['class_pixels'] = {
                (names[k] if k < len(names) else str(int(k))): int(c)
                for k, c in zip(labels.tolist(), counts.tolist())
            }
        return result

    def postprocess(self,
                    preds: List[Any],
                    visualization: List[np.ndarray],
                    return_datasamples: bool = False,
                    print_result: bool = False,
                    no_save_pred: bool = False,
                    pred_out_dir: str = '') -> dict:
        """``predictions`` (dicts with the fused image as ``fused``, a
        ``uint8`` OpenCV array, or the data samples) and ``visualization``;
        writes ``preds/<stem>.json`` for compound models."""
        dicts = [self.pred2dict(p) for p in preds]
        if pred_out_dir and not no_save_pred and self.is_compound:
            for d, pred in zip(dicts, preds):
                base = osp.join(pred_out_dir, 'preds', d['stem'])
                atomic_write(json.dumps(d, indent=1).encode(),
                             base + '.json')
                if 'pred_sem_seg' in pred:
                    mask = pred.pred_sem_seg.data.squeeze(0).cpu().numpy()
                    _write_png(mask.astype(np.uint8), base + '_sem_seg.png')
        if print_result:
            print(dicts)
        if return_datasamples:
            predictions: list = preds
        else:
            predictions = [
                dict(d, fused=result_image(p)) for d, p in zip(dicts, preds)
            ]
        return dict(predictions=predictions, visualization=visualization)


def add_inferencer_arguments(parser) -> None:
    """The model options of the demos: ``model``, ``--weights``,
    ``--device``, ``--pred-score-thr``, ``--optimize``, ``--cfg-options``.

    Args:
        parser (argparse.ArgumentParser): the demo's parser.
    """
    from mmengine.config import DictAction

    from .deploy import add_optimize_argument
    parser.add_argument(
        'model',
        help='config file, or a config name of the package, e.g. '
        'mmfusenas::tim/fusion_ivif_light_official.py')
    parser.add_argument(
        '--weights',
        help='checkpoint; without it the model runs its initial (random) '
        'weights, with a warning')
    parser.add_argument(
        '--device', help="torch device (default: 'cuda' when available)")
    parser.add_argument(
        '--pred-score-thr',
        type=float,
        default=0.3,
        help='boxes scoring below are not drawn')
    add_optimize_argument(parser)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.fusion_net.channels=8')


def inferencer_from_args(args, show_progress: bool = True
                         ) -> FusionInferencer:
    """The :class:`FusionInferencer` of :func:`add_inferencer_arguments`'
    options."""
    return FusionInferencer(
        args.model, weights=args.weights, device=args.device,
        optimize=args.optimize, cfg_options=args.cfg_options,
        show_progress=show_progress)


def _write_png(img: np.ndarray, path: str) -> None:
    ok, buf = cv2.imencode('.png', img)
    if not ok:
        raise RuntimeError(f'PNG encoding failed for {path}')
    atomic_write(buf.tobytes(), path)


__all__ = ['FusionInferencer', 'resolve_model_name', 'configs_dir',
           'NAME_PREFIX', 'add_inferencer_arguments', 'inferencer_from_args']
