"""Fuse folders of registered image pairs with a trained model.

``python tools/fuse.py CONFIG CHECKPOINT --ir DIR --vi DIR --out DIR``
(or ``--modalities mri=DIR pet=DIR`` for other modality names) pairs the
files of the folders by stem and writes one PNG per pair to ``--out``
(``<stem>.png``, atomically). Loading, colour handling (a colour source is
fused through its luminance and the result gets its chroma back), padding to
the network's size multiple (the data preprocessor's ``pad_size_divisor``)
and cropping back are those of training / testing: a
:class:`~mmfusenas.datasets.PairedImageDataset` with the config's test
pipeline feeds ``model.test_step``. ``--metrics`` adds fusion metrics per
pair and their mean, computed on each written PNG read back from disk with
the reading, gray rule and metric functions of
``tools/analysis_tools/eval_fusion.py``
(:mod:`mmfusenas.evaluation.fusion_files`): the same numbers that
``eval_fusion.py`` gives on the output folder. A warning on stderr names
the pairs whose fused image is constant or whose metrics are not finite.

The model is built with :func:`mmfusenas.apis.init_model` and every pair
goes through :func:`mmfusenas.apis.inference_fusion`. Before anything is
written every file is decoded once: a corrupt file stops the run with a
list of all bad pairs (nothing written), or, with ``--skip-bad``, those
pairs are skipped and listed in the final summary. ``CHECKPOINT`` ``none``
runs the config's initial (random) weights for a quick look at the pipeline,
with a warning on stderr. ``--data-root`` is not
needed here (the folders are given); ``--tim-official PROTOCOL`` runs a
converted official TIM model with the authors' test protocol
(:func:`mmfusenas.models.fusion.tim_official.fuse_tim_official`; see
``docs/user_guides/official_weights.md``). See
``docs/user_guides/inference.md``.
"""
import argparse
import os.path as osp
import sys
import time
from collections import OrderedDict
from typing import Dict, Optional, Sequence

from mmengine.config import Config, DictAction

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

from mmfusenas.apis import (add_optimize_argument,  # noqa: E402
                            config_modalities, inference_fusion, init_model,
                            load_config, parse_optimize, result_image)
from mmfusenas.apis.inference import loader_cfg  # noqa: E402
from mmfusenas.datasets import PairedImageDataset  # noqa: E402
from mmfusenas.datasets.file_check import (  # noqa: E402
    check_dataset_files, refuse_unreadable)
from mmfusenas.datasets.paired_image_dataset import (  # noqa: E402
    PairCheckError, listing)
from mmfusenas.evaluation.fusion_presets import (  # noqa: E402
    DEFAULT_FUSION_PRESET, FUSION_PRESETS, degenerate_pairs_message,
    resolve_metrics)
from mmfusenas.evaluation.fusion_files import (  # noqa: E402
    format_metrics_table, mean_metrics, score_files)
from mmfusenas.models.fusion.tim_official import (  # noqa: E402
    TIM_OFFICIAL, fuse_tim_official)
from mmfusenas.utils.fileio import write_png  # noqa: E402
from mmfusenas.utils.progress import track  # noqa: E402

#: printed (stderr) when CHECKPOINT is ``none``
UNTRAINED_WARNING = (
    '*' * 72 + '\nWARNING: checkpoint "none": the model runs its initial, '
    'untrained (random)\nweights. The fused images only show that the '
    'pipeline runs; they say\nnothing about the method (they may be '
    'constant, e.g. all black).\n' + '*' * 72)

DEFAULT_PIPELINE = [
    dict(type='LoadPairedImages'),
    dict(type='PackFusionInputs'),
]


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fuse folders of registered image pairs (paired by '
        'file stem) with a trained MMFuseNAS model')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint',
        help="checkpoint file, or 'none' to run the config's initial "
        '(random) weights: a quick look at the pipeline, with a warning; '
        'the images say nothing about the method')
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
    parser.add_argument(
        '--data-root',
        help='instead of --ir/--vi: fuse the config\'s test data under this '
        'folder (its data_prefix sub-folders, e.g. DIR/ir and DIR/vi)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--metrics',
        nargs='*',
        metavar='NAME',
        help='compute fusion metrics (two sources only) on each written '
        'PNG, read back as tools/analysis_tools/eval_fusion.py reads it (the '
        "same numbers): without names the preset's default list, 'all', or "
        'the names given (e.g. VIF MI)')
    parser.add_argument(
        '--preset',
        default=DEFAULT_FUSION_PRESET,
        choices=sorted(FUSION_PRESETS),
        help='metric conventions (see docs/user_guides/evaluation.md)')
    parser.add_argument(
        '--device',
        help="torch device, e.g. 'cpu', 'cuda:0' (default: 'cuda' when "
        "available, else 'cpu')")
    parser.add_argument(
        '--skip-bad',
        action='store_true',
        help='skip pairs whose files cannot be decoded (listed in the '
        'summary) instead of stopping before anything is written')
    parser.add_argument(
        '--tim-official',
        choices=sorted(TIM_OFFICIAL),
        metavar='PROTOCOL',
        help='run a converted official TIM model with the official test '
        f'protocol ({", ".join(sorted(TIM_OFFICIAL))}): official reading, '
        'BN batch statistics, padding and saving '
        '(docs/user_guides/official_weights.md)')
    parser.add_argument(
        '--pad-mode',
        default='reflect',
        choices=('reflect', 'replicate'),
        help='with --tim-official: padding of the inputs to a multiple of '
        '4 (the official one is unknown)')
    add_optimize_argument(parser)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.fusion_net.channels=8')
    return parser.parse_args(argv)


def resolve_folders(args: argparse.Namespace,
                    cfg: Config) -> 'OrderedDict[str, str]':
    """Modality name -> absolute folder, in stacking order.

    Raises:
        ValueError: neither or both of ``--ir/--vi`` and ``--modalities``,
            a malformed ``NAME=DIR`` or a repeated name.
        FileNotFoundError: a folder does not exist.
    """
    pairs = [('ir', args.ir), ('vi', args.vi)]
    data_root = getattr(args, 'data_root', None)
    if data_root and (args.modalities or args.ir or args.vi):
        raise ValueError('give either --data-root or the folders '
                         '(--ir/--vi or --modalities), not both')
    if data_root:
        prefix = loader_cfg(cfg).get('dataset', {}).get('data_prefix')
        if not prefix:
            raise ValueError('--data-root: the config has no dataset '
                             'data_prefix to find the modality folders in')
        pairs = [(name, osp.join(data_root, sub))
                 for name, sub in prefix.items()]
    elif args.modalities:
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
            if data_root:
                flag = f'--data-root ({name!r})'
            raise FileNotFoundError(f'{flag} folder does not exist: {folder}')
    order = config_modalities(cfg)
    if sorted(order) == sorted(names):
        pairs.sort(key=lambda pair: order.index(pair[0]))
    return OrderedDict((name, osp.abspath(folder)) for name, folder in pairs)


def build_dataset(cfg: Config,
                  folders: Dict[str, str],
                  check_sizes: bool = True) -> PairedImageDataset:
    """A dataset over ``folders`` with the config's test pipeline.

    Pairs are matched by stem; unpaired files raise a ValueError listing
    them, and so do pairs of different sizes and unreadable files with
    ``check_sizes`` (a :class:`PairCheckError` that names ``--skip-bad``).
    """
    loader = cfg.get('test_dataloader') or {}
    pipeline = loader.get('dataset', {}).get('pipeline', DEFAULT_PIPELINE)
    try:
        return PairedImageDataset(
            data_root='',
            data_prefix=dict(folders),
            pipeline=pipeline,
            test_mode=True,
            check_sizes=check_sizes,
            serialize_data=False)
    except PairCheckError as err:  # sizes differ / headers unreadable
        raise PairCheckError(
            f'{err}\nNothing was written (fix them, or pass --skip-bad to '
            'fuse the rest).') from None


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """Fuse the folders; return the mean metrics (empty without
    ``--metrics``)."""
    args = parse_args(argv)
    checkpoint = None if args.checkpoint.lower() == 'none' else \
        args.checkpoint
    for kind, path in (('config', args.config), ('checkpoint', checkpoint)):
        if path is not None and not osp.isfile(path):
            raise FileNotFoundError(f'{kind} file not found: {path}')
    cfg = load_config(args.config, args.cfg_options)
    folders = resolve_folders(args, cfg)
    names = None
    if args.metrics is not None:
        if len(folders) != 2:
            raise ValueError(f'--metrics needs exactly two sources, got '
                             f'{list(folders)}')
        # eval_fusion.py's names: none = the preset's default list
        names = resolve_metrics(
            args.preset, 'all' if args.metrics == ['all'] else
            (args.metrics or None))
    if (args.tim_official and 'fold_bn' in parse_optimize(args.optimize)
            and TIM_OFFICIAL[args.tim_official]['batch_stats']):
        raise ValueError(
            f'--optimize fold_bn cannot be combined with --tim-official '
            f'{args.tim_official}: that protocol runs BatchNorm on batch '
            f'statistics, which folding removes')
    # with --skip-bad, undecodable headers are found by the check below
    dataset = build_dataset(cfg, folders, check_sizes=not args.skip_bad)
    bad = check_dataset_files(dataset, f'checking {len(dataset)} pair(s)')
    if not args.skip_bad:
        refuse_unreadable(bad, len(dataset), 'pair(s)', 'fuse the rest')
    model = init_model(
        cfg, checkpoint, device=args.device, optimize=args.optimize)
    if checkpoint is None:
        print(UNTRAINED_WARNING, file=sys.stderr, flush=True)

    start, written = time.perf_counter(), 0
    per_image: Dict[str, Dict[str, float]] = {}
    constant: Dict[str, float] = {}
    for idx in track(range(len(dataset)), f'fusing {len(dataset)} pair(s)'):
        if idx in bad:
            continue
        info = dataset.get_data_info(idx)
        stem = info['stem']
        if args.tim_official:
            img = fuse_tim_official(
                model, list(info['img_path'].values()), args.tim_official,
                pad_mode=args.pad_mode)
        else:
            img = result_image(inference_fusion(model, info))
        out_path = osp.join(args.out, f'{stem}.png')
        write_png(img, out_path)
        written += 1
        if names is not None:
            # the written file, read back as eval_fusion.py reads it
            source_a, source_b = info['img_path'].values()
            per_image[stem], imgs = score_files(
                {'IR': source_a, 'VI': source_b, 'fused': out_path},
                args.preset, names, stem, device=args.device)
            if imgs['fused'].min() == imgs['fused'].max():
                constant[stem] = float(imgs['fused'].flat[0])
    elapsed = time.perf_counter() - start
    print(f'wrote {written} fused image(s) to {args.out} in {elapsed:.1f} s'
          f' ({elapsed / max(written, 1):.2f} s per pair); skipped '
          f'{len(bad)}' + (':\n' + listing(list(bad.values())) if bad
                           else ''))
    if names is None or not per_image:
        return {}
    means = mean_metrics(per_image, names)
    print(format_metrics_table(per_image, means, args.preset))
    warning = degenerate_pairs_message(per_image, constant)
    if warning:
        print(f'warning: {warning}', file=sys.stderr)
    return means


if __name__ == '__main__':
    main()
