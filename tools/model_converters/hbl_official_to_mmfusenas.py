"""Convert official HBL (HBLALS) weights to MMFuseNAS checkpoints.

``python tools/model_converters/hbl_official_to_mmfusenas.py SRC DST
--genotype {lol,mit,sihr,uie} [--config CFG] [--trust]``

Sources: the state dicts of the official final network
(``zhudear/HBLALS_pytorch`` ``model.py`` ``Network``, saved by ``train.py``
with ``torch.save(model.state_dict())``; ``test.py`` reads
``weights/<task>/weights_<dataset>.pt``). The genotype names the official
set the network was built with (``get_genname``) and the target config
``configs/hbl/hbl_<genotype>.py`` (or ``--config``). Plain tensor state
dicts load with ``weights_only=True``; anything else (a pickled model) is
unpickled only with ``--trust``.

Key rule (official -> ours; ``<i>`` = the position index of the official
attribute in ``HBL_ENCODER_POSITIONS`` / ``HBL_DECODER_POSITIONS``; the
official HNU branch ``cr`` / ``ci`` is an ``nn.Sequential`` op, BN, ReLU,
op, BN, ReLU, op, BN, ReLU, op, BN, so its index ``j`` is op ``j / 3`` or
BN ``(j - 1) / 3``)::

    e.encode.<pos>.op.weight          -> network.encoder.ops.<i>.conv.weight
    e.encode.<pos>.conv{1,2}.weight   -> network.encoder.ops.<i>.conv{1,2}.weight
    e.encode.down{1,2}.weight         -> network.encoder.down{1,2}.weight
    p.hnus.<u>.c{r,i}.<j>.op.weight   -> network.units.<u>.{r,i}_ops.<j/3>.conv.weight
    p.hnus.<u>.c{r,i}.<j>.conv{1,2}.weight
                                      -> network.units.<u>.{r,i}_ops.<j/3>.conv{1,2}.weight
    p.hnus.<u>.c{r,i}.<j>.running_{mean,var} | num_batches_tracked
                                      -> network.units.<u>.{r,i}_norms.<(j-1)/3>.*
    d.decode.up{1,2}.weight           -> network.decoder.up{1,2}.weight
    d.decode.<pos>.{op,conv1,conv2}.weight
                                      -> network.decoder.ops.<i>.{conv,conv1,conv2}.weight

A ``module.`` prefix (DataParallel) is stripped. The coverage is strict (see
:func:`mmfusenas.utils.state_dict_conversion.strict_remap`): converting with
the wrong ``--genotype`` fails with the keys and shapes that disagree. The
output ``{'state_dict': ..., 'meta': ...}`` is written atomically and loads
with ``weights_only=True``.
"""
import argparse
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Mapping, Optional, Sequence

import torch
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.models.restoration import (  # noqa: E402
    HBL_DECODER_POSITIONS, HBL_ENCODER_POSITIONS)
from mmfusenas.registry import MODELS  # noqa: E402
from mmfusenas.utils.checkpoint import (  # noqa: E402
    load_legacy_checkpoint, save_converted_checkpoint)
from mmfusenas.utils.state_dict_conversion import (  # noqa: E402
    file_sha256, strict_remap)
from mmfusenas.version import __version__  # noqa: E402

GENOTYPES = ('lol', 'mit', 'sihr', 'uie')
_ENC = {name: i for i, name in enumerate(HBL_ENCODER_POSITIONS)}
_DEC = {name: i for i, name in enumerate(HBL_DECODER_POSITIONS)}
_OP_PARAM = r'(op|conv1|conv2)\.weight'
_BN_STAT = r'(running_mean|running_var|num_batches_tracked)'


def _op_param(name: str) -> str:
    return 'conv.weight' if name == 'op' else f'{name}.weight'


def _hnu(m: re.Match) -> Optional[str]:
    u, branch, j, rest = m[1], m[2], int(m[3]), m[4]
    op = re.fullmatch(_OP_PARAM, rest)
    if op and j % 3 == 0:
        return f'network.units.{u}.{branch}_ops.{j // 3}.{_op_param(op[1])}'
    if re.fullmatch(_BN_STAT, rest) and j % 3 == 1:
        return f'network.units.{u}.{branch}_norms.{(j - 1) // 3}.{rest}'
    return None


_RULES = [
    (re.compile(r'e\.encode\.(down[12])\.weight'),
     lambda m: f'network.encoder.{m[1]}.weight'),
    (re.compile(rf'e\.encode\.(\w+?)\.{_OP_PARAM}'),
     lambda m: f'network.encoder.ops.{_ENC[m[1]]}.{_op_param(m[2])}'
     if m[1] in _ENC else None),
    (re.compile(r'd\.decode\.(up[12])\.weight'),
     lambda m: f'network.decoder.{m[1]}.weight'),
    (re.compile(rf'd\.decode\.(\w+?)\.{_OP_PARAM}'),
     lambda m: f'network.decoder.ops.{_DEC[m[1]]}.{_op_param(m[2])}'
     if m[1] in _DEC else None),
    (re.compile(r'p\.hnus\.(\d+)\.c([ri])\.(\d+)\.(.+)'), _hnu),
]


def map_key(key: str) -> Optional[str]:
    """Our key of an official key, or None when no rule maps it."""
    if key.startswith('module.'):
        key = key[len('module.'):]
    for pattern, target in _RULES:
        match = pattern.fullmatch(key)
        if match:
            return target(match)
    return None


def convert_state_dict(official: Mapping[str, torch.Tensor],
                       target: Mapping[str, torch.Tensor],
                       source: str = 'the checkpoint'
                       ) -> 'OrderedDict[str, torch.Tensor]':
    """Map an official HBL state dict onto ``target`` strictly."""
    return strict_remap(official, target, map_key, source)


def load_official(path: str,
                  trust: bool = False) -> 'OrderedDict[str, torch.Tensor]':
    """Load an official weights file as a state dict.

    Plain tensor state dicts load with ``weights_only=True``; other pickles
    need ``trust`` (see :func:`load_legacy_checkpoint`). A whole pickled
    network (an object with ``state_dict()``) is accepted with ``trust``.
    """
    obj = load_legacy_checkpoint(path, trust=trust)
    if hasattr(obj, 'state_dict') and callable(obj.state_dict):
        obj = obj.state_dict()
    if isinstance(obj, Mapping) and 'state_dict' in obj:
        obj = obj['state_dict']
    if not isinstance(obj, Mapping) or not obj or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor)
            for k, v in obj.items()):
        raise TypeError(
            f'{path} does not hold a state dict (a mapping of parameter '
            f'names to tensors) but a {type(obj).__name__}; expected the '
            'official HBL weights (weights/<task>/weights_<dataset>.pt)')
    return OrderedDict(obj)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert official HBL (HBLALS_pytorch) weights to an '
        'MMFuseNAS checkpoint')
    parser.add_argument('src', help='official weights (.pt / .pth)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument(
        '--genotype',
        required=True,
        choices=GENOTYPES,
        help='the official genotype set of the weights (get_genname): '
        'picks configs/hbl/hbl_<genotype>.py')
    parser.add_argument('--config', help='another target config')
    parser.add_argument(
        '--trust',
        action='store_true',
        help='allow unpickling SRC when it is not a plain tensor state '
        'dict (only for files from a trusted source)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Convert; return the ``meta`` written with the checkpoint."""
    args = parse_args(argv)
    official = load_official(args.src, args.trust)
    config = args.config or osp.join(ROOT, 'configs', 'hbl',
                                     f'hbl_{args.genotype}.py')
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    model = MODELS.build(Config.fromfile(config).model)
    state_dict = convert_state_dict(
        official, model.state_dict(), source=args.src)
    model.load_state_dict(state_dict, strict=True)
    meta = dict(
        source=osp.basename(args.src),
        source_sha256=file_sha256(args.src),
        genotype=args.genotype,
        config=osp.relpath(config, ROOT)
        if osp.abspath(config).startswith(ROOT) else config,
        num_tensors=len(state_dict),
        converter='tools/model_converters/hbl_official_to_mmfusenas.py',
        mmfusenas_version=__version__)
    save_converted_checkpoint(state_dict, meta, args.dst)
    print(f'converted {len(official)} official tensors ({args.genotype} '
          f'genotype) for {meta["config"]}: {args.dst}')
    return meta


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, PermissionError, RuntimeError, TypeError,
            ValueError) as err:
        sys.exit(f'error: {err}')
