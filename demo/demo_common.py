"""Arguments shared by the demos (model, weights, device, optimisation)."""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmengine.config import DictAction  # noqa: E402

from mmfusenas.apis import add_optimize_argument  # noqa: E402


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``model``, ``--weights``, ``--device``, ``--optimize``,
    ``--cfg-options``."""
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


def build_inferencer(args: argparse.Namespace, show_progress: bool = True):
    """The :class:`~mmfusenas.apis.FusionInferencer` of the arguments."""
    from mmfusenas.apis import FusionInferencer
    return FusionInferencer(
        args.model, weights=args.weights, device=args.device,
        optimize=args.optimize, cfg_options=args.cfg_options,
        show_progress=show_progress)
