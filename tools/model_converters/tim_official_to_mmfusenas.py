"""Convert official TIM weights (LiuZhu-CV/TIMFusion) to MMFuseNAS checkpoints.

``python tools/model_converters/tim_official_to_mmfusenas.py MODEL
--stage1 weights_1_*.pt [--stage2 weights_2_*.pt] OUT.pth [--config CFG]
[--trust]``

``MODEL`` is one of the official test scripts' models; each has a target
config (its ``model`` must build an ``ImageFusor`` around the network):

========= ============================== ============================
MODEL     official files (Google Drive)  target config (configs/tim/)
========= ============================== ============================
ivif      IVIF/weights_{1,2}_1059.pt     fusion_ivif_official.py
light     IVIF/light/weights_1_1169.pt   fusion_ivif_light_official.py
ct        weights_{1,2}_1149.pt (MRI-CT) fusion_mri_ct_official.py
pet       weights_{1,2}_1149.pt (PET)    fusion_mri_pet_official.py
spect     MRISPECT/weights_{1,2}_1149.pt fusion_mri_spect_official.py
========= ============================== ============================

The files are plain state dicts of ``Network_Fusion9_Meta`` (stage 1, and
the light model) and ``Network_Fusion9_3`` / ``Network_Fusion9_2`` (stage
2); they load with ``weights_only=True``. Anything else (a pickled module)
needs ``--trust``. A ``module.`` prefix (``nn.DataParallel``) is removed.

Key rules (official -> ours; ``<op>`` as in ``model/operations.py`` of
github.com/LiuZhu-CV/TIMFusion)::

    stem.<i>.conv2d.*           -> stem.<i>.conv.*        (stage 1)
    stem_out.<i>.*              -> head.<i>.*
    stem2.* / stem3.*           -> first_stem.* / second_stem.*  (stage 2)
    cells3.<i>.* / cells2.<i>.* -> first_cells.<i>.* / second_cells.<i>.*
    stem_out2/3/4.*             -> first_head / second_head / final_head
    spa.spatial.conv.weight     -> mask.conv.weight
    preprocess1.op.<i>.*        -> preprocess.layers.<i>.*
    down_2 / down_4 / upsample_2 / upsample_4 / SKFF
                                -> down2 / down4 / up2 / up4 / skff
    ...filt (anti-alias blur)   -> ...kernel
    _ops / _ops_1 / _ops_2.<j>._op.<op>
                                -> ops / ops_down2 / ops_down4.<j>.<op'>
    <op>: op.<i>.conv.weight -> layers.<i>.weight, op.<i>.* -> layers.<i>.*,
          conv<k>.conv.weight -> conv<k>.weight (dense), lrelu/relu -> act,
          conv1.weight -> conv.weight and se.conv.* -> eca.conv.* (ECA),
          se.spatial.conv.weight -> mask.conv.weight (spatial attention)

Stage-1 keys go under ``fusion_net.stage1.`` (``fusion_net.`` for the light
model), stage-2 keys under ``fusion_net.stage2.``. Coverage is strict: an
official key that maps to no target key, a target key no official key
provides, or a shape mismatch is an error naming the keys; the result
loads into the target model with ``strict=True``. The output is
``{'state_dict': ..., 'meta': ...}`` (sources, SHA-256, config), written
atomically. Run the converted model with the official test protocols
(quirks included) via ``tools/fuse.py --tim-official MODEL`` or
:func:`mmfusenas.models.fusion.tim_official.fuse_tim_official`; see
``docs/user_guides/official_weights.md``.
"""
import argparse
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Sequence, Tuple

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.utils.progress import end_progress, start_progress  # noqa
from mmfusenas.registry import MODELS  # noqa: E402
from mmfusenas.models.fusion.tim_official import TIM_OFFICIAL  # noqa: E402
from mmfusenas.utils.checkpoint import (  # noqa: E402
    load_legacy_checkpoint, save_converted_checkpoint)
from mmfusenas.utils.state_dict_conversion import (  # noqa: E402
    file_sha256, strict_remap)
from mmfusenas.version import __version__  # noqa: E402

_OP_RULES = [
    (r'op\.(\d+)\.conv\.weight', r'layers.\1.weight'),
    (r'op\.(\d+)\.(\w+)', r'layers.\1.\2'),
    (r'conv([123])\.conv\.weight', r'conv\1.weight'),
    (r'(?:lrelu|relu)\.weight', r'act.weight'),
    (r'conv1\.weight', r'conv.weight'),
    (r'se\.conv\.weight', r'eca.conv.weight'),
    (r'se\.spatial\.conv\.weight', r'mask.conv.weight'),
]
_OPS_NAMES = {'_ops': 'ops', '_ops_1': 'ops_down2', '_ops_2': 'ops_down4'}
_SAMPLERS = {
    'down_2': 'down2',
    'down_4': 'down4',
    'upsample_2': 'up2',
    'upsample_4': 'up4'
}
_STAGE2_PARTS = {
    'stem2': 'first_stem',
    'stem3': 'second_stem',
    'stem_out2': 'first_head',
    'stem_out3': 'second_head',
    'stem_out4': 'final_head',
    'cells3': 'first_cells',
    'cells2': 'second_cells'
}


def map_op_key(key: str) -> Optional[str]:
    """Our key of an operator key (relative to ``_op.``), or None."""
    for pattern, repl in _OP_RULES:
        if re.fullmatch(pattern, key):
            return re.sub(pattern, repl, key)
    return None


def map_cell_key(key: str) -> Optional[str]:
    """Our key of a cell key (relative to the cell), or None."""
    m = re.fullmatch(r'preprocess1\.op\.(\d)\.(\w+)', key)
    if m:
        return f'preprocess.layers.{m[1]}.{m[2]}'
    m = re.fullmatch(r'(_ops(?:_1|_2)?)\.(\d+)\._op\.(.+)', key)
    if m:
        op = map_op_key(m[3])
        return None if op is None else f'{_OPS_NAMES[m[1]]}.{m[2]}.{op}'
    m = re.fullmatch(r'(down_[24]|upsample_[24])\.(body\.\d+\.(?:top|bot)'
                     r'\.\d+)\.(weight|filt)', key)
    if m:
        leaf = 'kernel' if m[3] == 'filt' else 'weight'
        return f'{_SAMPLERS[m[1]]}.{m[2]}.{leaf}'
    m = re.fullmatch(r'SKFF\.(conv_du\.\d|fcs\.\d)\.weight', key)
    if m:
        return f'skff.{m[1]}.weight'
    return None


def _map_seq(key: str) -> Optional[str]:
    """Stem / head layer keys: ``<i>.conv2d.* -> <i>.conv.*``."""
    m = re.fullmatch(r'(\d)\.conv2d\.(weight|bias)', key)
    if m:
        return f'{m[1]}.conv.{m[2]}'
    if re.fullmatch(r'\d\.(weight|bias|running_mean|running_var|'
                    r'num_batches_tracked)', key):
        return key
    return None


def map_stage_key(key: str, stage: int) -> Optional[str]:
    """Our key (relative to the stage's network) of an official key.

    Args:
        key (str): key of the official stage-1 (``Network_Fusion9_Meta``)
            or stage-2 (``Network_Fusion9_3`` / ``_2``) state dict.
        stage (int): 1 or 2.
    """
    part, _, rest = key.partition('.')
    if stage == 1:
        if part in ('stem', 'stem_out'):
            sub = _map_seq(rest)
            return None if sub is None else \
                f'{"stem" if part == "stem" else "head"}.{sub}'
        m = re.fullmatch(r'cells\.(\d+)\.(.+)', key)
        if m:
            cell = map_cell_key(m[2])
            return None if cell is None else f'cells.{m[1]}.{cell}'
        return None
    if key == 'spa.spatial.conv.weight':
        return 'mask.conv.weight'
    ours = _STAGE2_PARTS.get(part)
    if ours is None:
        return None
    if part.startswith('cells'):
        m = re.fullmatch(r'(\d+)\.(.+)', rest)
        cell = map_cell_key(m[2]) if m else None
        return None if cell is None else f'{ours}.{m[1]}.{cell}'
    sub = _map_seq(rest)
    return None if sub is None else f'{ours}.{sub}'


def convert_state_dicts(
    stages: Sequence[Tuple[int, str, Mapping[str, torch.Tensor]]],
    target: Mapping[str, torch.Tensor],
    source: str = 'the official weights'
) -> 'OrderedDict[str, torch.Tensor]':
    """Map official stage state dicts onto a target state dict, strictly.

    Args:
        stages: ``(stage, prefix, state_dict)`` per official file, e.g.
            ``(1, 'fusion_net.stage1.', sd1)``.
        target (Mapping[str, Tensor]): state dict of the target model
            (keys and shapes).
        source (str): name of the sources, for error messages.

    Returns:
        OrderedDict: the converted state dict in the target's key order.

    Raises:
        ValueError: official keys no rule maps, mapped keys the target
            lacks, target keys nothing provides, or shape mismatches (every
            category found is listed).
    """
    official: Dict[str, torch.Tensor] = {}
    ours: Dict[str, Optional[str]] = {}
    for stage, prefix, state_dict in stages:
        for key, value in state_dict.items():
            name, mapped = f'stage {stage}: {key}', map_stage_key(key, stage)
            official[name] = value
            ours[name] = None if mapped is None else prefix + mapped
    return strict_remap(official, target, ours.get, source)


def load_official(path: str, trust: bool) -> 'OrderedDict[str, torch.Tensor]':
    """Load an official TIM weights file as a state dict.

    Plain state dicts load with ``weights_only=True``; other pickles only
    with ``trust``. A ``module.`` prefix on every key is removed.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        TypeError: the file does not hold a mapping of names to tensors.
    """
    obj = load_legacy_checkpoint(path, trust=trust)
    if isinstance(obj, Mapping) and 'state_dict' in obj and isinstance(
            obj['state_dict'], Mapping):
        obj = obj['state_dict']
    if not isinstance(obj, Mapping) or not obj or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor)
            for k, v in obj.items()):
        raise TypeError(
            f'{path} does not hold a state dict (a mapping of parameter '
            f'names to tensors) but a {type(obj).__name__}; expected an '
            'official TIM weights_*.pt file')
    if all(k.startswith('module.') for k in obj):
        obj = {k[len('module.'):]: v for k, v in obj.items()}
    return OrderedDict(obj)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert official TIM weights (weights_1/2_*.pt) to an '
        'MMFuseNAS checkpoint')
    parser.add_argument(
        'model', choices=sorted(TIM_OFFICIAL), help='official model')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument(
        '--stage1', required=True, help='official stage-1 file '
        '(weights_1_*.pt; the light model has only this one)')
    parser.add_argument(
        '--stage2', help='official stage-2 file (weights_2_*.pt)')
    parser.add_argument(
        '--config', help='target config (default: the model\'s official '
        'config, see the table in the module docstring)')
    parser.add_argument(
        '--trust',
        action='store_true',
        help='allow a full unpickling when a file is not a plain state '
        'dict (can execute code: only for files from a trusted source)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Convert; return the ``meta`` written with the checkpoint."""
    from mmengine.config import Config
    args = parse_args(argv)
    spec = TIM_OFFICIAL[args.model]
    two_stage = spec['stages'] == 2
    if two_stage and not args.stage2:
        raise ValueError(f'{args.model} is a two-stage model: give --stage2 '
                         '(the weights_2_*.pt file)')
    if not two_stage and args.stage2:
        raise ValueError(f'{args.model} has one stage; drop --stage2')
    config = args.config or osp.join(ROOT, spec['config'])
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    model = MODELS.build(Config.fromfile(config).model)
    files = [(1, args.stage1)] + ([(2, args.stage2)] if two_stage else [])
    prefixes = {1: 'fusion_net.stage1.', 2: 'fusion_net.stage2.'} \
        if two_stage else {1: 'fusion_net.'}
    stages = []
    progress = start_progress('converting', len(files) + 1)
    for stage, path in files:
        stages.append((stage, prefixes[stage], load_official(path,
                                                             args.trust)))
        progress.update()
    state_dict = convert_state_dicts(
        stages, model.state_dict(),
        source=' + '.join(path for _, path in files))
    model.load_state_dict(state_dict, strict=True)
    progress.update()
    end_progress(progress)
    meta = dict(
        model=args.model,
        sources=[osp.basename(p) for _, p in files],
        sources_sha256=[file_sha256(p) for _, p in files],
        config=osp.relpath(config, ROOT)
        if osp.abspath(config).startswith(ROOT) else config,
        num_tensors=len(state_dict),
        converter='tools/model_converters/tim_official_to_mmfusenas.py',
        mmfusenas_version=__version__)
    save_converted_checkpoint(state_dict, meta, args.dst)
    print(f'converted {sum(len(sd) for _, _, sd in stages)} official '
          f'tensors ({args.model}) into {len(state_dict)} tensors for '
          f'{meta["config"]}: {args.dst}')
    return meta


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, PermissionError, RuntimeError, TypeError,
            ValueError) as err:
        sys.exit(f'error: {err}')
