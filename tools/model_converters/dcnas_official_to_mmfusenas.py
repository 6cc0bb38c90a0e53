"""Convert official DCNAS ``StaticModel`` weights to MMFuseNAS.

``python tools/model_converters/dcnas_official_to_mmfusenas.py SRC DST
--arch ARCH [--num-features C] [--data-config CFG] [--trust]``

* ``SRC``: a state dict of the official ``StaticModel`` (``torch.save``;
  a plain tensor dict, or under ``'state_dict'`` / ``'model'``; a
  ``module.`` prefix from DDP is stripped). Plain tensor files load with
  ``weights_only=True``; anything else needs ``--trust``.
* ``ARCH``: the official architecture dict as JSON / YAML (``rgb_encoder``,
  ``dep_encoder``, ``rec_decoder``, ``fuse_op``), or a MMFuseNAS genotype
  file (``format: mmfusenas-genotype/1``).
* ``DST``: ``{'state_dict': {'network.<key>': ...}, 'meta': ...}``
  (atomic), and beside it ``DST`` with ``.py``: a config of
  :class:`~mmfusenas.models.gisr.GuidedDepthSR` around the fixed
  :class:`~mmfusenas.models.gisr.DCNASNet`, on the test data of
  ``--data-config`` (default NYU v2), so ``python tools/test.py DST.py
  DST`` evaluates it.

Key rules (official -> ``network.``)::

    FeatureInitialization.depth_head.<j>.layers.*  -> dep_head.<j>.conv.*
    FeatureInitialization.guidance_head.<j>.*      -> rgb_head.<j>.*
    {dep,rgb}_encoder.<s>.mb_blocks.<b>.mb_layers.layers.{0,1,2}.layers.*
                                -> {dep,rgb}_encoder.<s>.<b>.{expand,dw,project}.conv.*
    ....mb_layers.layers.{0,1}.act.*  -> ....{expand,dw}.act.*
    ....mb_layers.SE.conv_du.{0,2}.*  -> ....se.{reduce,expand}.*
    reconstruction.<i>.*              -> decoder.<i>.* (same block rules)
    down_sample.<s>.{dep,rgb}_layers.1.layers.* -> down_{dep,rgb}.<s>.conv.*
    up_sample.<i>.layers.0.layers.*   -> up.<i>.conv.*
    fusion_layer.<i>.fuse_layers.compress_layer.layers.* -> fusion.<i>.conv.*
    fusion_layer.<i>.fuse_layers.filter_conv{,1}.{Attention.0,Feature.0,Feature.1}.*
                                -> fusion.<i>.gate_{g,d}.{att,feat,act}.*
    fusion_layer.<i>.fuse_layers.attention_layer.squeeze.{layers,act}.*
                                -> fusion.<i>.squeeze.{conv,act}.*
    fusion_layer.<i>.fuse_layers.attention_layer.excitation{1,2}.layers.*
                                -> fusion.<i>.excite_{d,g}.*
    middle_layer.{layers,act}.*       -> middle.{conv,act}.*
    tail.layers.<j>.{layers,act}.*    -> tail.<j>.{conv,act}.*

``filter_conv`` gates the guidance (``gate_g``), ``filter_conv1`` the
depth. When every RGB stage is pruned the official model still holds an
unused guidance head; it is dropped (listed in ``meta['dropped']``). Any
other unmapped, missing or mis-shaped key is an error naming it.
"""
import argparse
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: ``--data-config`` default, relative to the repository root
DEFAULT_DATA_CONFIG = 'configs/_base_/datasets/gisr_nyu.py'

from mmfusenas.models.gisr import DCNASNet, arch_to_choices  # noqa: E402
from mmfusenas.models.mutables import Genotype  # noqa: E402
from mmfusenas.models.mutables.space import load_data_file  # noqa: E402
from mmfusenas.utils.checkpoint import (  # noqa: E402
    load_legacy_checkpoint, save_converted_checkpoint)
from mmfusenas.utils.fileio import atomic_write  # noqa: E402

_BLOCK = [
    (r'\.mb_blocks\.(\d+)\.mb_layers\.layers\.0\.layers\.', r'.\1.expand.conv.'),
    (r'\.mb_blocks\.(\d+)\.mb_layers\.layers\.0\.act\.', r'.\1.expand.act.'),
    (r'\.mb_blocks\.(\d+)\.mb_layers\.layers\.1\.layers\.', r'.\1.dw.conv.'),
    (r'\.mb_blocks\.(\d+)\.mb_layers\.layers\.1\.act\.', r'.\1.dw.act.'),
    (r'\.mb_blocks\.(\d+)\.mb_layers\.layers\.2\.layers\.',
     r'.\1.project.conv.'),
    (r'\.mb_blocks\.(\d+)\.mb_layers\.SE\.conv_du\.0\.', r'.\1.se.reduce.'),
    (r'\.mb_blocks\.(\d+)\.mb_layers\.SE\.conv_du\.2\.', r'.\1.se.expand.'),
]
RULES: List[Tuple[str, str]] = [
    (r'^FeatureInitialization\.depth_head\.(\d+)\.layers\.',
     r'dep_head.\1.conv.'),
    (r'^FeatureInitialization\.depth_head\.(\d+)\.act\.', r'dep_head.\1.act.'),
    (r'^FeatureInitialization\.guidance_head\.(\d+)\.layers\.',
     r'rgb_head.\1.conv.'),
    (r'^FeatureInitialization\.guidance_head\.(\d+)\.act\.',
     r'rgb_head.\1.act.'),
    (r'^reconstruction\.', 'decoder.'),
    (r'^down_sample\.(\d+)\.dep_layers\.1\.layers\.', r'down_dep.\1.conv.'),
    (r'^down_sample\.(\d+)\.rgb_layers\.1\.layers\.', r'down_rgb.\1.conv.'),
    (r'^up_sample\.(\d+)\.layers\.0\.layers\.', r'up.\1.conv.'),
    (r'^fusion_layer\.(\d+)\.fuse_layers\.compress_layer\.layers\.',
     r'fusion.\1.conv.'),
    (r'^fusion_layer\.(\d+)\.fuse_layers\.filter_conv\.Attention\.0\.',
     r'fusion.\1.gate_g.att.'),
    (r'^fusion_layer\.(\d+)\.fuse_layers\.filter_conv\.Feature\.0\.',
     r'fusion.\1.gate_g.feat.'),
    (r'^fusion_layer\.(\d+)\.fuse_layers\.filter_conv\.Feature\.1\.',
     r'fusion.\1.gate_g.act.'),
    (r'^fusion_layer\.(\d+)\.fuse_layers\.filter_conv1\.Attention\.0\.',
     r'fusion.\1.gate_d.att.'),
    (r'^fusion_layer\.(\d+)\.fuse_layers\.filter_conv1\.Feature\.0\.',
     r'fusion.\1.gate_d.feat.'),
    (r'^fusion_layer\.(\d+)\.fuse_layers\.filter_conv1\.Feature\.1\.',
     r'fusion.\1.gate_d.act.'),
    (r'^fusion_layer\.(\d+)\.fuse_layers\.attention_layer\.squeeze\.layers\.',
     r'fusion.\1.squeeze.conv.'),
    (r'^fusion_layer\.(\d+)\.fuse_layers\.attention_layer\.squeeze\.act\.',
     r'fusion.\1.squeeze.act.'),
    (r'^fusion_layer\.(\d+)\.fuse_layers\.attention_layer\.excitation1\.'
     r'layers\.', r'fusion.\1.excite_d.'),
    (r'^fusion_layer\.(\d+)\.fuse_layers\.attention_layer\.excitation2\.'
     r'layers\.', r'fusion.\1.excite_g.'),
    (r'^middle_layer\.layers\.', 'middle.conv.'),
    (r'^middle_layer\.act\.', 'middle.act.'),
    (r'^tail\.layers\.(\d+)\.layers\.', r'tail.\1.conv.'),
    (r'^tail\.layers\.(\d+)\.act\.', r'tail.\1.act.'),
]


def map_key(key: str) -> Optional[str]:
    """Official key -> ours (without ``network.``), None if no rule."""
    if re.match(r'^(dep_encoder|rgb_encoder|reconstruction)\.', key):
        new = re.sub(r'^reconstruction\.', 'decoder.', key)
        for pat, rep in _BLOCK:
            out, n = re.subn(pat, rep, new)
            if n:
                return out
        return None
    for pat, rep in RULES:
        out, n = re.subn(pat, rep, key)
        if n:
            return out
    return None


def load_arch(path: str) -> Dict[str, str]:
    """Architecture file (official dict or genotype) -> choices."""
    data = load_data_file(path, '--arch')
    if isinstance(data, dict) and str(data.get('format')).startswith(
            'mmfusenas-genotype'):
        return dict(Genotype.load(path).choices)
    if isinstance(data, dict) and 'fuse_op' in data:
        return arch_to_choices(data)
    raise ValueError(f'{path}: expected the official arch dict (rgb_encoder, '
                     'dep_encoder, rec_decoder, fuse_op) or a genotype file')


def load_official(path: str, trust: bool) -> 'OrderedDict[str, torch.Tensor]':
    obj = load_legacy_checkpoint(path, trust=trust)
    if isinstance(obj, dict):
        for k in ('state_dict', 'model'):
            if k in obj and isinstance(obj[k], dict):
                obj = obj[k]
                break
    if not isinstance(obj, dict) or not all(
            isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f'{path} holds no state dict of tensors')
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in obj.items())


def convert(src: 'OrderedDict[str, torch.Tensor]',
            choices: Dict[str, str],
            num_features: Optional[int] = None):
    """Returns ``(network state dict, DCNASNet, dropped keys)``."""
    if num_features is None:
        key = 'FeatureInitialization.depth_head.0.layers.weight'
        if key not in src:
            raise KeyError(f'{key} not in the source; is it a DCNAS '
                           'StaticModel? (or pass --num-features)')
        num_features = int(src[key].shape[0])
    net = DCNASNet(choices, num_features=num_features)
    target = net.state_dict()
    out, unmapped, dropped = OrderedDict(), [], []
    for k, v in src.items():
        new = map_key(k)
        if new is None:
            unmapped.append(k)
        elif new not in target:
            if new.startswith('rgb_head.') and net.rgb_head is None:
                dropped.append(k)
                continue
            raise KeyError(f'official key {k} maps to {new}, which the '
                           f'fixed network does not have (wrong --arch?)')
        elif tuple(target[new].shape) != tuple(v.shape):
            raise ValueError(f'{k} -> {new}: shape {tuple(v.shape)} vs '
                             f'{tuple(target[new].shape)} (wrong --arch or '
                             '--num-features?)')
        else:
            out[new] = v.detach().clone().float()
    if unmapped:
        raise KeyError(f'{len(unmapped)} official keys have no rule: '
                       f'{unmapped[:6]}')
    missing = [k for k in target if k not in out]
    if missing:
        raise KeyError(f'the source lacks {len(missing)} keys of the fixed '
                       f'network: {missing[:6]} (wrong --arch?)')
    for k, v in out.items():
        if not torch.isfinite(v).all():
            raise ValueError(f'{k} has non-finite values')
    net.load_state_dict(out)
    return out, net, dropped


CONFIG_TEMPLATE = '''# Written by tools/model_converters/dcnas_official_to_mmfusenas.py
# Test: python tools/test.py {cfg} {dst}
_base_ = [{data!r}, {runtime!r}]
model = dict(
    type='GuidedDepthSR',
    network=dict(
        type='DCNASNet',
        num_features={c},
        arch={arch!r}))
load_from = {dst!r}
test_cfg = dict(type='TestLoop')
'''


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('src', help='official StaticModel state dict')
    p.add_argument('dst', help='output checkpoint (.pth)')
    p.add_argument('--arch', required=True,
                   help='official arch dict (JSON/YAML) or genotype file')
    p.add_argument('--num-features', type=int,
                   help='C (default: read from the weights)')
    p.add_argument('--data-config',
                   help='dataset _base_ of the written config (default: '
                   f'the repository\'s {DEFAULT_DATA_CONFIG})')
    p.add_argument('--trust', action='store_true',
                   help='allow full unpickling of a non-tensor file')
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    choices = load_arch(args.arch)
    src = load_official(args.src, args.trust)
    state, net, dropped = convert(src, choices, args.num_features)
    meta = dict(
        source=osp.abspath(args.src),
        converter='dcnas_official_to_mmfusenas',
        num_features=net.num_features,
        arch=choices,
        dropped=dropped)
    save_converted_checkpoint({f'network.{k}': v for k, v in state.items()},
                              meta, args.dst)
    cfg_path = osp.splitext(args.dst)[0] + '.py'
    atomic_write(
        CONFIG_TEMPLATE.format(
            cfg=cfg_path,
            dst=osp.abspath(args.dst),
            data=osp.abspath(args.data_config or osp.join(
                ROOT, DEFAULT_DATA_CONFIG)),
            runtime=osp.join(ROOT, 'configs', '_base_',
                             'default_runtime.py'),
            c=net.num_features,
            arch=choices), cfg_path)
    print(f'wrote {args.dst} ({len(state)} tensors) and {cfg_path}')
    return meta


if __name__ == '__main__':
    main()
