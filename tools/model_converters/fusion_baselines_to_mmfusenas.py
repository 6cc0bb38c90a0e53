"""Convert the official weights of published IVIF networks to MMFuseNAS.

``python tools/model_converters/fusion_baselines_to_mmfusenas.py
{seafusion,tardal,ifcnn_max} SRC DST [--trust]``

- ``seafusion``: SeAFusion ``FusionNet`` (``SeAFusion.pth``) ->
  ``configs/baselines/seafusion_ivif.py``;
- ``tardal``: TarDAL ``Generator`` (``tardal.pt``, ``tardal+.pt``,
  ``tardal++.pt``) -> ``configs/baselines/tardal_ivif.py``
  (``tardal.pt``: ``tardal_ivif_bntrain.py``);
- ``ifcnn_max``: IFCNN-MAX (``IFCNN-MAX.pth``) ->
  ``configs/baselines/ifcnn_max_ivif.py``.

The official keys map one to one onto the network's keys under
``fusion_net.`` (the modules keep the official layer names); the key set
and every shape are checked strictly, the result is loaded strictly into
the network, and ``{'state_dict': ..., 'meta': ...}`` is written
atomically (nothing is written on any error). A file of another network,
a missing, empty or corrupt file is an error naming the file (and the
expected network). The files are loaded with ``weights_only=True``; only a
file that needs full unpickling requires ``--trust``.

``python tools/model_converters/fusion_baselines_to_mmfusenas.py --empty
DST`` writes the (empty) checkpoint the weight-free classical rules
(``configs/baselines/classical_*_ivif.py``) run with.
See ``docs/methods/fusion_baselines.md``.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.models.fusion.baselines import (  # noqa: E402
    BASELINE_NETWORKS, convert_fusion_baseline)
from mmfusenas.utils.checkpoint import save_converted_checkpoint  # noqa: E402
from mmfusenas.version import __version__  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert official SeAFusion / TarDAL / IFCNN-MAX weights '
        'to an MMFuseNAS checkpoint')
    parser.add_argument(
        'args',
        nargs='+',
        metavar='NAME SRC DST',
        help=f'NAME ({", ".join(BASELINE_NETWORKS)}), the official file and '
        'the output checkpoint; with --empty only DST')
    parser.add_argument(
        '--empty',
        action='store_true',
        help='write an empty checkpoint for the weight-free classical rules')
    parser.add_argument(
        '--trust',
        action='store_true',
        help='allow full unpickling of SRC if safe loading fails (only for '
        'files from a trusted source)')
    args = parser.parse_args(argv)
    if args.empty:
        if len(args.args) != 1:
            parser.error('--empty takes only DST')
        args.name, args.src, args.dst = None, None, args.args[0]
    else:
        if len(args.args) != 3:
            parser.error('expected NAME SRC DST')
        args.name, args.src, args.dst = args.args
        if args.name not in BASELINE_NETWORKS:
            parser.error(f'NAME must be one of {list(BASELINE_NETWORKS)}, '
                         f'got {args.name!r}')
    return args


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Convert; return the ``meta`` written with the checkpoint."""
    args = parse_args(argv)
    if args.empty:
        meta = dict(baseline='classical (no weights)',
                    mmfusenas_version=__version__)
        save_converted_checkpoint({}, meta, args.dst)
        print(f'wrote an empty checkpoint: {args.dst}')
        return meta
    ckpt = convert_fusion_baseline(args.name, args.src, trust=args.trust)
    meta = dict(ckpt['meta'], mmfusenas_version=__version__)
    save_converted_checkpoint(ckpt['state_dict'], meta, args.dst)
    print(f'converted {args.src} ({args.name}, {meta["num_tensors"]} '
          f'tensors) -> {args.dst}')
    return meta


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, IsADirectoryError, KeyError, RuntimeError,
            ValueError) as err:
        sys.exit(f'error: {err}')
