"""Fuse folders of registered image pairs with a trained model.

``python tools/fuse.py CONFIG CHECKPOINT --ir DIR --vi DIR --out DIR``
(or ``--modalities mri=DIR pet=DIR`` for other modality names) pairs the
files of the folders by stem and writes one PNG per pair to ``--out``
(``<stem>.png``, atomically). Loading, colour handling (a colour source is
fused through its luminance and the result gets its chroma back), padding to
the network's size multiple (the data preprocessor's ``pad_size_divisor``)
and cropping back are those of training / testing: a
:class:`~mmfusenas.datasets.PairedImageDataset` with the config's test
pipeline feeds ``model.test_step``. ``--metrics`` adds fusion metrics
(:class:`~mmfusenas.evaluation.FusionMetric`) per pair and their mean. See
``docs/fuse.md``.
"""
import argparse
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import cv2
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.runner.checkpoint import load_checkpoint
from terminaltables import AsciiTable
from tqdm import tqdm

from mmfusenas.datasets import PairedImageDataset
from mmfusenas.utils.fileio import atomic_write
from mmfusenas.engine.hooks.fused_image_save_hook import tensor_to_uint8_image
from mmfusenas.evaluation.functional import FUSION_PRESETS
from mmfusenas.evaluation.metrics import FusionMetric
from mmfusenas.registry import MODELS

DEFAULT_PIPELINE = [
    dict(type='LoadPairedImages'),
    dict(type='PackFusionInputs'),
]


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fuse folders of registered image pairs (paired by '
        'file stem) with a trained MMFuseNAS model')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--ir',
        help='folder of infrared images (modality '
        "'ir', first source)")
    parser.add_argument(
        '--vi',
        help='folder of visible images (modality '
        "'vi', second source)")
    parser.add_argument(
        '--modalities',
        nargs='+',
        metavar='NAME=DIR',
        help='instead of --ir/--vi: one NAME=DIR per source, e.g. '
        'mri=data/MRI pet=data/PET; names known to the config are stacked '
        'in the config\'s order, other names in the order given')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--metrics',
        nargs='*',
        metavar='NAME',
        help='compute fusion metrics (two sources only): without names the '
        "preset's default list, or the names given (e.g. VIF MI)")
    parser.add_argument(
        '--preset',
        default='cddfuse',
        choices=sorted(FUSION_PRESETS),
        help='metric conventions (see docs/evaluation.md)')
    parser.add_argument(
        '--device', default='cpu', help="torch device, e.g. 'cpu', 'cuda:0'")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.fusion_net.channels=8')
    return parser.parse_args(argv)


def config_modalities(cfg: Config) -> List[str]:
    """Modality names of the config's test (or train) dataset, if any."""
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        loader = cfg.get(key)
        prefix = (loader or {}).get('dataset', {}).get('data_prefix')
        if prefix:
            return list(prefix)
    return []


def resolve_folders(args: argparse.Namespace,
                    cfg: Config) -> 'OrderedDict[str, str]':
    """Modality name -> absolute folder, in stacking order.

    Raises:
        ValueError: neither or both of ``--ir/--vi`` and ``--modalities``,
            a malformed ``NAME=DIR`` or a repeated name.
        FileNotFoundError: a folder does not exist.
    """
    pairs = [('ir', args.ir), ('vi', args.vi)]
    if args.modalities:
        if args.ir or args.vi:
            raise ValueError('give either --ir/--vi or --modalities, not '
                             'both')
        pairs = []
        for item in args.modalities:
            name, sep, folder = item.partition('=')
            if not sep or not name or not folder:
                raise ValueError(f'--modalities expects NAME=DIR items, got '
                                 f'{item!r}')
            pairs.append((name, folder))
    elif not (args.ir and args.vi):
        raise ValueError('give both --ir and --vi (or --modalities '
                         'NAME=DIR ...)')
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError(f'modality names must be unique, got {names}')
    for name, folder in pairs:
        if not osp.isdir(folder):
            flag = f'--{name}' if not args.modalities else \
                f'--modalities {name}='
            raise FileNotFoundError(f'{flag} folder does not exist: {folder}')
    order = config_modalities(cfg)
    if sorted(order) == sorted(names):
        pairs.sort(key=lambda pair: order.index(pair[0]))
    return OrderedDict((name, osp.abspath(folder)) for name, folder in pairs)


def build_dataset(cfg: Config, folders: Dict[str, str]) -> PairedImageDataset:
    """A dataset over ``folders`` with the config's test pipeline.

    Pairs are matched by stem; unpaired files and pairs of different sizes
    raise a ValueError listing them (``check_sizes=True``).
    """
    loader = cfg.get('test_dataloader') or {}
    pipeline = loader.get('dataset', {}).get('pipeline', DEFAULT_PIPELINE)
    return PairedImageDataset(
        data_root='',
        data_prefix=dict(folders),
        pipeline=pipeline,
        test_mode=True,
        check_sizes=True,
        serialize_data=False)


def format_table(results: List[Dict], names: Sequence[str],
                 means: Dict[str, float]) -> str:
    """Per-pair metric rows and the mean row as an ASCII table."""
    rows = [['pair'] + list(names)]
    rows += [[r['stem']] + [f'{r[n]:.4f}' for n in names] for r in results]
    rows.append([f'mean (n={len(results)})'] +
                [f'{means[n]:.4f}' for n in names])
    return AsciiTable(rows).table


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """Fuse the folders; return the mean metrics (empty without
    ``--metrics``)."""
    args = parse_args(argv)
    for kind, path in (('config', args.config), ('checkpoint',
                                                 args.checkpoint)):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{kind} file not found: {path}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    folders = resolve_folders(args, cfg)
    metric = None
    if args.metrics is not None:
        if len(folders) != 2:
            raise ValueError(f'--metrics needs exactly two sources, got '
                             f'{list(folders)}')
        metric = FusionMetric(args.preset, args.metrics or None)
    dataset = build_dataset(cfg, folders)

    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    model.to(torch.device(args.device)).eval()

    for idx in tqdm(range(len(dataset)), desc='fusing', unit='pair'):
        with torch.no_grad():
            (sample, ) = model.test_step(pseudo_collate([dataset[idx]]))
        img = sample.get('pred_fused_rgb', sample.pred_fused)
        ok, buf = cv2.imencode('.png', tensor_to_uint8_image(img))
        if not ok:
            raise RuntimeError(f'PNG encoding failed for {sample.stem}')
        atomic_write(buf.tobytes(), osp.join(args.out, f'{sample.stem}.png'))
        if metric is not None:
            metric.process(None, [sample.cpu()])
    print(f'wrote {len(dataset)} fused image(s) to {args.out}')
    if metric is None:
        return {}
    names = metric.metric_names
    means = {
        n: sum(r[n] for r in metric.results) / len(metric.results)
        for n in names
    }
    print(format_table(metric.results, names, means))
    return means


if __name__ == '__main__':
    main()
