"""Convert official RUAS checkpoints to MMFuseNAS checkpoints.

``python tools/model_converters/ruas_official_to_mmfusenas.py SRC.pt DST.pth
--trust [--config CFG] [--scene-only]``

Sources (plain state dicts saved with ``torch.save``):

* TPAMI ``vis-opt-group/RUAS`` ``weights/{lol,mit,darkface}.pt``: the full
  network (98 tensors) -> ``configs/ruas/ruas_a_lol.py``;
* CVPR ``KarelZhang/RUAS`` ``ckpt/{lol,upe,dark}.pt``: scene module +
  noise removal, no estimator (76 tensors) -> ``configs/ruas/ruas_lol.py``.

The layout is recognised from the keys (``estimation.*`` only in TPAMI
files). ``--scene-only`` keeps the scene module (``enhance_net.*``) and
drops the rest explicitly (listed in the output's ``meta``) ->
``configs/ruas/ruas_s_lol.py``. ``--config`` names another target config
(its ``model`` must build an :class:`ImageEnhancer` around a
:class:`RUASNet`).

Key rule (official -> ours, ``<e>`` = the edge index of ``c1_d, c1_r, c2_d,
c2_r, c3_d, c3_r, c4`` = 0..6)::

    enhance_net.iems.<k>.cell.<edge>.op.*
        -> network.scene.stages.<k>.cell.edges.<e>.conv.*
    enhance_net.iems.<k>.cell.c5.*
        -> network.scene.stages.<k>.cell.fuse.*
    denoise_net.stem.*          -> network.denoiser.stem.*
    denoise_net.nrms.<k>.<edge>.op.*
        -> network.denoiser.cells.<k>.edges.<e>.conv.*
    denoise_net.nrms.<k>.c5.*   -> network.denoiser.cells.<k>.fuse.*
    denoise_net.activate.0.*    -> network.denoiser.head.*
    estimation.estimation.<j>.* -> network.estimator.layers.<j>.*

(``reluconv_3x3`` edges store their conv as ``<edge>.conv.0.*``.) The
coverage is strict: an official key no rule maps, a mapped key the target
model lacks, a target key no official key provides, or a shape mismatch is
an error naming the keys. The output is ``{'state_dict': ..., 'meta':
...}``, written atomically.

The official checkpoints are third-party files. They are first loaded with
``weights_only=True`` (the files of the official repositories hold plain
tensors and load this way, no flag needed). Only a file that needs full
unpickling (which can execute code) requires ``--trust``; when ``--trust``
makes that fallback happen, a warning on stderr says so.
"""
import argparse
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import List, Mapping, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.models.cells import RUAS_EDGE_NAMES  # noqa: E402
from mmfusenas.registry import MODELS  # noqa: E402
from mmfusenas.utils.checkpoint import (  # noqa: E402
    load_legacy_checkpoint, save_converted_checkpoint)
from mmfusenas.utils.state_dict_conversion import (  # noqa: E402
    file_sha256, strict_remap)
from mmfusenas.version import __version__  # noqa: E402

#: target config of each source layout (relative to the repository root)
DEFAULT_CONFIGS = dict(
    tpami='configs/ruas/ruas_a_lol.py',
    cvpr='configs/ruas/ruas_lol.py',
    scene='configs/ruas/ruas_s_lol.py')

_EDGE = '|'.join(RUAS_EDGE_NAMES)
_EDGE_INDEX = {name: i for i, name in enumerate(RUAS_EDGE_NAMES)}
_PARAM = r'(weight|bias)'

# (official pattern, function of the match -> our key)
_RULES = [
    (re.compile(rf'enhance_net\.iems\.(\d+)\.cell\.({_EDGE})\.'
                rf'(?:op|conv\.0)\.{_PARAM}'),
     lambda m: f'network.scene.stages.{m[1]}.cell.edges.'
     f'{_EDGE_INDEX[m[2]]}.conv.{m[3]}'),
    (re.compile(rf'enhance_net\.iems\.(\d+)\.cell\.c5\.{_PARAM}'),
     lambda m: f'network.scene.stages.{m[1]}.cell.fuse.{m[2]}'),
    (re.compile(rf'denoise_net\.stem\.{_PARAM}'),
     lambda m: f'network.denoiser.stem.{m[1]}'),
    (re.compile(rf'denoise_net\.nrms\.(\d+)\.({_EDGE})\.(?:op|conv\.0)\.'
                rf'{_PARAM}'),
     lambda m: f'network.denoiser.cells.{m[1]}.edges.'
     f'{_EDGE_INDEX[m[2]]}.conv.{m[3]}'),
    (re.compile(rf'denoise_net\.nrms\.(\d+)\.c5\.{_PARAM}'),
     lambda m: f'network.denoiser.cells.{m[1]}.fuse.{m[2]}'),
    (re.compile(rf'denoise_net\.activate\.0\.{_PARAM}'),
     lambda m: f'network.denoiser.head.{m[1]}'),
    (re.compile(rf'estimation\.estimation\.(\d+)\.{_PARAM}'),
     lambda m: f'network.estimator.layers.{m[1]}.{m[2]}'),
]


def map_key(key: str) -> Optional[str]:
    """Our key of an official key, or None when no rule maps it."""
    for pattern, target in _RULES:
        match = pattern.fullmatch(key)
        if match:
            return target(match)
    return None


def detect_layout(state_dict: Mapping[str, torch.Tensor]) -> str:
    """``'tpami'`` (an ``estimation.*`` key) or ``'cvpr'``."""
    return 'tpami' if any(k.startswith('estimation.')
                          for k in state_dict) else 'cvpr'


def convert_state_dict(
    official: Mapping[str, torch.Tensor],
    target: Mapping[str, torch.Tensor],
    scene_only: bool = False,
    source: str = 'the checkpoint'
) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Map an official state dict onto a target state dict, strictly.

    Args:
        official (Mapping[str, Tensor]): the official state dict.
        target (Mapping[str, Tensor]): the state dict of the model the
            result must load into (``strict=True``); gives keys and shapes.
        scene_only (bool): drop the official keys outside ``enhance_net.``
            instead of mapping them. Defaults to False.
        source (str): name of the source, for error messages.

    Returns:
        tuple[OrderedDict, list[str]]: the converted state dict in the
        target's key order, and the official keys dropped by
        ``scene_only``.

    Raises:
        ValueError: official keys no rule maps ("unexpected"), mapped keys the
            target lacks, target keys nothing provides ("missing"), or
            shape mismatches; the message lists every category found.
    """
    dropped = [
        k for k in official
        if scene_only and not k.startswith('enhance_net.')
    ]
    kept = OrderedDict((k, v) for k, v in official.items()
                       if k not in dropped)
    return strict_remap(kept, target, map_key, source), dropped


_SOURCE = ('the official repository (vis-opt-group/RUAS or '
           'KarelZhang/RUAS)')


def load_official(path: str, trust: bool) -> 'OrderedDict[str, torch.Tensor]':
    """Load an official checkpoint as a state dict.

    Safe loading (``weights_only=True``) is tried first and needs no flag;
    full unpickling happens only with ``trust`` and is announced (a
    :class:`~mmfusenas.utils.checkpoint.TrustedUnpicklingWarning`, every
    time).

    Raises:
        RuntimeError: the file needs full unpickling and ``trust`` is False.
        CorruptCheckpointError: the file is truncated or damaged.
        FileNotFoundError: ``path`` does not exist.
        TypeError: the file does not hold a mapping of names to tensors.
    """
    try:
        obj = load_legacy_checkpoint(path, trust=trust)
    except RuntimeError as err:
        if trust:
            raise
        raise RuntimeError(
            f'{path} cannot be loaded safely (weights_only=True) and '
            'refusing to unpickle this third-party file without --trust: '
            'unpickling an untrusted file can execute arbitrary code. '
            f'Pass --trust only if it comes from {_SOURCE}.') from err
    if not isinstance(obj, Mapping) or not obj or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor)
            for k, v in obj.items()):
        raise TypeError(
            f'{path} does not hold a state dict (a mapping of parameter '
            f'names to tensors) but a {type(obj).__name__}; expected an '
            'official RUAS weights file')
    return OrderedDict(obj)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert an official RUAS checkpoint (TPAMI '
        'weights/*.pt or CVPR ckpt/*.pt) to an MMFuseNAS checkpoint')
    parser.add_argument('src', help='official checkpoint (.pt)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument(
        '--trust',
        action='store_true',
        help='state that SRC comes from a trusted source: allows full '
        'unpickling when SRC does not load with weights_only=True (announced '
        'on stderr); not needed for plain-tensor files')
    parser.add_argument(
        '--config',
        help='target config (default: configs/ruas/ruas_a_lol.py for TPAMI '
        'files, ruas_lol.py for CVPR files, ruas_s_lol.py with '
        '--scene-only)')
    parser.add_argument(
        '--scene-only',
        action='store_true',
        help='keep only the scene module (enhance_net.*), for RUAS_s')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Convert; return the ``meta`` written with the checkpoint."""
    args = parse_args(argv)
    official = load_official(args.src, args.trust)
    layout = detect_layout(official)
    config = args.config or osp.join(
        ROOT, DEFAULT_CONFIGS['scene' if args.scene_only else layout])
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    model = MODELS.build(Config.fromfile(config).model)
    state_dict, dropped = convert_state_dict(
        official, model.state_dict(), args.scene_only, source=args.src)
    # the converted weights must load strictly into the target model
    model.load_state_dict(state_dict, strict=True)
    meta = dict(
        source=osp.basename(args.src),
        source_sha256=file_sha256(args.src),
        source_layout=layout,
        config=osp.relpath(config, ROOT)
        if osp.abspath(config).startswith(ROOT) else config,
        num_tensors=len(state_dict),
        dropped_official_keys=dropped,
        converter='tools/model_converters/ruas_official_to_mmfusenas.py',
        mmfusenas_version=__version__)
    save_converted_checkpoint(state_dict, meta, args.dst)
    print(f'converted {len(official)} official tensors ({layout} layout'
          f'{", scene module only" if args.scene_only else ""}) into '
          f'{len(state_dict)} tensors for {meta["config"]}: {args.dst}')
    return meta


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, PermissionError, TypeError, ValueError) as err:
        sys.exit(f'error: {err}')
