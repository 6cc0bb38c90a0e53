"""``FusionInferencer``: an MMEngine ``BaseInferencer`` for fusion,
compound fusion + task and chain models."""
import difflib
import glob
import json
import os
import os.path as osp
import warnings
from typing import Any, Dict, Iterable, List, Optional

import cv2
import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.infer import BaseInferencer

from mmfusenas.datasets import PairedImageDataset
from mmfusenas.utils.fileio import atomic_write, read_image, write_png
from mmfusenas.visualization import (draw_boxes, draw_mask, hstack, titled,
                                     to_bgr)
from .deploy import Optimize
from .inference import (_scope, build_pipeline, config_modalities,
                        init_model, load_config, loader_cfg, make_data_info,
                        model_family, result_image)

#: prefix of a config name shipped in the package's ``.mim/configs``
NAME_PREFIX = 'mmfusenas::'


def resolve_model_name(name: str) -> str:
    """The config file of ``mmfusenas::<path under configs/>`` (``.py``
    optional); an unknown name's error lists close names."""
    rel = name.removeprefix(NAME_PREFIX).strip('/')
    rel = rel if rel.endswith('.py') else rel + '.py'
    root = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), '.mim',
                    'configs')
    if osp.isfile(osp.join(root, rel)):
        return osp.join(root, rel)
    known = sorted(
        osp.relpath(p, root).replace(os.sep, '/')
        for p in glob.glob(osp.join(root, '**', '*.py'), recursive=True)
        if '_base_' not in p)
    close = difflib.get_close_matches(rel, known, n=6, cutoff=0.5)
    hint = ('; close names: ' + ', '.join(NAME_PREFIX + c for c in close)
            if close else f'; {len(known)} configs under {root}')
    raise FileNotFoundError(
        f'unknown model name {name!r}: no configs/{rel}{hint}')


def panel(sources: Dict[str, np.ndarray], vis: np.ndarray) -> np.ndarray:
    """The titled sources and ``vis`` side by side, at ``vis``'s size."""
    row = []
    for name, img in sources.items():
        img = to_bgr(img)
        if img.shape[:2] != vis.shape[:2]:
            img = cv2.resize(img, vis.shape[1::-1],
                             interpolation=cv2.INTER_AREA)
        row.append(titled(img, name))
    return hstack(row + [titled(vis, 'fused')])


class FusionInferencer(BaseInferencer):
    """Inferencer of fusion, compound fusion + task and chain models
    (``model``: a config, its file or ``mmfusenas::<path under configs/>``;
    no ``weights``: the initial ones, with a warning). Arguments:
    ``docs/user_guides/inference.md``."""

    visualize_kwargs: set = {
        'return_vis', 'show', 'wait_time', 'draw_pred', 'pred_score_thr',
        'img_out_dir', 'no_save_vis', 'save_panels'
    }
    postprocess_kwargs: set = {
        'print_result', 'pred_out_dir', 'return_datasamples', 'no_save_pred'
    }
    _init_pipeline = staticmethod(build_pipeline)

    def __init__(self,
                 model: Any,
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 optimize: Optimize = None,
                 cfg_options: Optional[dict] = None,
                 show_progress: bool = True) -> None:
        from mmfusenas.models.compound import BasePreTaskModel
        if isinstance(model, str) and model.startswith(NAME_PREFIX):
            model = resolve_model_name(model)
        self.cfg = cfg = load_config(model, cfg_options)
        self.model = init_model(cfg, weights, device=device,
                                optimize=optimize)
        family = model_family(self.model)
        if family not in ('fusion', 'chain'):
            raise TypeError(
                'FusionInferencer runs fusion, compound fusion + task and '
                f'chain models; {type(self.model).__name__} is a {family!r} '
                'model: use mmfusenas.apis.inference_model or its tool')
        #: whether the model also predicts boxes / masks
        self.is_compound = isinstance(self.model, BasePreTaskModel)
        self.modalities = config_modalities(cfg)
        metainfo = loader_cfg(cfg).get('dataset', {}).get('metainfo') or {}
        self.class_names = tuple(metainfo.get('classes') or ()) or None
        self.pipeline = self._init_pipeline(cfg)
        self.collate_fn = pseudo_collate
        self.visualizer = None
        self.show_progress = show_progress
        if weights is None:
            warnings.warn('FusionInferencer: no weights: the model runs its '
                          'initial (random) weights')

    def _folders(self, folders: Dict[str, Any]) -> List[dict]:
        """Data infos of folders ``{modality: DIR}`` paired by stem."""
        names = list(folders)
        if self.modalities and sorted(names) == sorted(self.modalities):
            names = list(self.modalities)
        dataset = PairedImageDataset(
            data_root='', test_mode=True, check_sizes=True, pipeline=[],
            serialize_data=False,
            data_prefix={n: osp.abspath(os.fspath(folders[n]))
                         for n in names})
        return [dict(img_path=dict(info['img_path']), stem=info['stem'],
                     modalities=tuple(names))
                for info in map(dataset.get_data_info, range(len(dataset)))]

    def _inputs_to_list(self, inputs: Any) -> List[dict]:
        """Data infos of a pair, a dict ``{modality: path | array | DIR}``
        or a list of them; repeated stems are refused."""
        pair = isinstance(inputs, (list, tuple)) and inputs and all(
            isinstance(i, (str, os.PathLike, np.ndarray)) for i in inputs)
        if isinstance(inputs, dict) or pair:
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
            else:
                infos.append(make_data_info(self.cfg, item, len(infos)))
        stems = [info['stem'] for info in infos]
        dup = sorted({s for s in stems if stems.count(s) > 1})
        if dup:
            raise ValueError(f'inputs share the stems {dup}; outputs are '
                             'named by stem')
        return infos

    def preprocess(self, inputs: List[dict], batch_size: int = 1,
                   **kwargs) -> Iterable[dict]:
        """The test pipeline on each data info, ``batch_size`` at a time."""
        with _scope(self.cfg):
            items = (self.pipeline(dict(info, img_path=dict(
                info['img_path']))) for info in inputs)
            yield from map(self.collate_fn,
                           self._get_chunk_data(items, batch_size))

    @torch.no_grad()
    def forward(self, inputs: dict, **kwargs) -> list:
        with _scope(self.cfg):
            return self.model.test_step(inputs)

    def __call__(self, inputs: Any, batch_size: int = 1, out_dir: str = '',
                 **kwargs) -> dict:
        """Run ``batch_size`` inputs per ``test_step``, writing under
        ``out_dir`` ('': nothing); returns ``predictions`` and
        ``visualization``."""
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        return super().__call__(inputs, batch_size=batch_size,
                                img_out_dir=out_dir, pred_out_dir=out_dir,
                                **kwargs)

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
            img = draw_mask(img, cv2.resize(mask.astype(np.uint8), (w, h),
                                            interpolation=cv2.INTER_NEAREST))
        inst = pred.get('pred_instances')
        if inst is not None and 'bboxes' in inst:
            scores = inst.scores.cpu().numpy()
            keep = scores >= pred_score_thr
            img = draw_boxes(img, inst.bboxes.cpu().numpy()[keep],
                             inst.labels.cpu().numpy()[keep],
                             self.class_names, scores[keep],
                             thickness=max(1, round(min(h, w) / 240)))
        return img

    def visualize(self, inputs: List[dict], preds: List[Any],
                  return_vis: bool = False, show: bool = False,
                  wait_time: int = 0, draw_pred: bool = True,
                  pred_score_thr: float = 0.3, img_out_dir: str = '',
                  no_save_vis: bool = False,
                  save_panels: bool = False) -> List[np.ndarray]:
        """Write ``vis/<stem>.png`` (compound models: :meth:`overlay`, and
        the fused image in ``fused/``) and with ``save_panels``
        ``panels/<stem>.png`` under ``img_out_dir``."""
        img_out_dir = '' if no_save_vis else img_out_dir
        if not (return_vis or show or img_out_dir):
            return []
        out = []
        backend = self.pipeline.transforms[0].backend_args
        for info, pred in zip(inputs, preds):
            stem = info['stem']
            vis = self.overlay(pred, draw_pred, pred_score_thr) \
                if self.is_compound else result_image(pred)
            if show:
                cv2.imshow('FusionInferencer', to_bgr(vis))
                cv2.waitKey(wait_time)
            if img_out_dir:
                write_png(vis, osp.join(img_out_dir, 'vis', f'{stem}.png'))
                if self.is_compound:
                    write_png(result_image(pred),
                              osp.join(img_out_dir, 'fused', f'{stem}.png'))
                if save_panels:
                    arrays = info.get('img_arrays', {})
                    sources = {n: arrays[p] if p in arrays else
                               read_image(p, 'color', backend)
                               for n, p in info['img_path'].items()}
                    write_png(panel(sources, to_bgr(vis)),
                              osp.join(img_out_dir, 'panels', f'{stem}.png'))
            if return_vis:
                out.append(vis)
        return out

    def pred2dict(self, pred: Any) -> dict:
        """``stem``, ``fused_shape`` and ``labels`` / ``scores`` /
        ``bboxes`` or ``sem_seg_shape`` / ``class_pixels``."""
        fused = pred.get('pred_fused_rgb', pred.get('pred_fused'))
        result: Dict[str, Any] = dict(stem=pred.metainfo.get('stem'))
        if fused is not None:
            result['fused_shape'] = list(fused.shape[-2:])
        inst = pred.get('pred_instances')
        if inst is not None and 'bboxes' in inst:
            for key in ('labels', 'scores', 'bboxes'):
                result[key] = inst[key].cpu().tolist()
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

    def postprocess(self, preds: List[Any], visualization: List[np.ndarray],
                    return_datasamples: bool = False,
                    print_result: bool = False, no_save_pred: bool = False,
                    pred_out_dir: str = '') -> dict:
        """``predictions`` (dicts with the fused image as ``fused``, or the
        data samples) and ``visualization``; compound models write
        ``preds/<stem>.json`` (and a label map ``_sem_seg.png``)."""
        dicts = [self.pred2dict(p) for p in preds]
        save = pred_out_dir and not no_save_pred and self.is_compound
        for d, pred in zip(dicts, preds) if save else ():
            base = osp.join(pred_out_dir, 'preds', d['stem'])
            atomic_write(json.dumps(d, indent=1).encode(), base + '.json')
            if 'pred_sem_seg' in pred:
                mask = pred.pred_sem_seg.data.squeeze(0).cpu().numpy()
                write_png(mask.astype(np.uint8), base + '_sem_seg.png')
        if print_result:
            print(dicts)
        predictions = preds if return_datasamples else [
            dict(d, fused=result_image(p)) for d, p in zip(dicts, preds)]
        return dict(predictions=predictions, visualization=visualization)


def add_inferencer_arguments(parser) -> None:
    """The demos' model options: ``model``, ``--weights``, ``--device``,
    ``--pred-score-thr``, ``--optimize``, ``--cfg-options``."""
    from mmengine.config import DictAction

    from .deploy import add_optimize_argument
    parser.add_argument('model', help='config file or mmfusenas::<name>')
    parser.add_argument('--weights', help='checkpoint (none: initial weights)')
    parser.add_argument('--device', help='torch device')
    parser.add_argument('--pred-score-thr', type=float, default=0.3,
                        help='boxes scoring below are not drawn')
    add_optimize_argument(parser)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings')


def inferencer_from_args(args, show_progress: bool = True
                         ) -> FusionInferencer:
    """The :class:`FusionInferencer` of :func:`add_inferencer_arguments`."""
    return FusionInferencer(
        args.model, weights=args.weights, device=args.device,
        optimize=args.optimize, cfg_options=args.cfg_options,
        show_progress=show_progress)
