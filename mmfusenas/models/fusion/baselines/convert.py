"""Official weight files of the baseline networks -> MMFuseNAS checkpoints
(``fusion_net.*`` keys, checked and loaded strictly).
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, Mapping, Optional

import torch
import torch.nn as nn

from mmfusenas.utils.checkpoint import (read_checkpoint,
                                        identify_official_weights,
                                        load_legacy_checkpoint)
from mmfusenas.utils.state_dict_conversion import file_sha256, strict_remap
from .ifcnn import IFCNN
from .seafusion import SeAFusionNet
from .tardal import TarDALGenerator

#: converter name -> (network factory, description of the official file);
#: the keys that identify its files are in ``OFFICIAL_WEIGHT_FILES``
BASELINE_NETWORKS: Dict[str, dict] = OrderedDict(
    seafusion=dict(
        build=SeAFusionNet,
        official='SeAFusion FusionNet state dict (Linfeng-Tang/SeAFusion, '
        '72 tensors)'),
    tardal=dict(
        build=TarDALGenerator,
        official='TarDAL Generator(dim=32, depth=3) state dict '
        '(JinyuanLiu-CV/TarDAL tardal.pt / tardal+.pt / tardal++.pt, 46 '
        'tensors)'),
    ifcnn_max=dict(
        build=lambda: IFCNN(fuse_rule='max'),
        official='IFCNN state dict (uzeful/IFCNN IFCNN-MAX.pth, 13 '
        'tensors)'),
)

#: prefix of the network's keys in an ImageFusor checkpoint
PREFIX = 'fusion_net.'


def identify_baseline(state_dict: Mapping[str, torch.Tensor]
                      ) -> Optional[str]:
    """The :data:`BASELINE_NETWORKS` converter whose signature keys
    ``state_dict`` has, else None.
    """
    name = identify_official_weights(state_dict)
    return name if name in BASELINE_NETWORKS else None


def _load_official(src: str, trust: bool) -> 'OrderedDict[str, torch.Tensor]':
    # missing, empty, truncated or not a torch file: a clear error naming
    # the file (without trust, a legacy pickle is refused naming --trust)
    what = 'official weight file'
    obj = load_legacy_checkpoint(src, True, what) if trust else \
        read_checkpoint(src, what)
    if isinstance(obj, Mapping) and 'state_dict' in obj and isinstance(
            obj['state_dict'], Mapping):
        obj = obj['state_dict']
    if not isinstance(obj, Mapping) or not obj or not all(
            isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(
            f'official weight file {src} holds a {type(obj).__name__}, not a '
            'state dict of tensors')
    return OrderedDict(obj)


def convert_fusion_baseline(name: str, src: str, trust: bool = False,
                            network: Optional[nn.Module] = None) -> dict:
    """Convert one official weight file.

    Args:
        name (str): ``'seafusion'``, ``'tardal'`` or ``'ifcnn_max'``.
        src (str): the official file.
        trust (bool): allow full unpickling. Defaults to False.
        network (nn.Module, optional): the target network; defaults to the
            released architecture.

    Returns:
        dict: ``dict(state_dict=..., meta=...)`` with ``fusion_net.*`` keys.

    Raises:
        KeyError: unknown ``name``.
        FileNotFoundError / ValueError / RuntimeError: the file is missing,
            unreadable or holds another network.
    """
    if name not in BASELINE_NETWORKS:
        raise KeyError(f'unknown baseline {name!r}; expected one of '
                       f'{list(BASELINE_NETWORKS)}')
    spec = BASELINE_NETWORKS[name]
    official = _load_official(src, trust)
    found = identify_baseline(official)
    if found != name:
        what = 'no known baseline network'
        if found:
            what = (f'the weights of {found!r} '
                    f'({BASELINE_NETWORKS[found]["official"]})')
        raise ValueError(
            f'{src} is not a {name!r} weight file: expected a '
            f'{spec["official"]}, found {what} ({len(official)} tensors, '
            f'first key {next(iter(official))!r})')
    net = network if network is not None else spec['build']()
    target = net.state_dict()
    # pre-0.4.1 BatchNorm entries lack num_batches_tracked (IFCNN): the
    # counter does not enter the forward pass; load_state_dict fills 0
    filled = [k for k in target if k.endswith('num_batches_tracked')
              and k not in official
              and k.replace('num_batches_tracked', 'running_mean')
              in official]
    for key in filled:
        official[key] = torch.zeros_like(target[key])
    state = strict_remap(official, target, lambda k: k, source=src)
    net.load_state_dict(state, strict=True)
    state_dict = OrderedDict(
        (PREFIX + k, v.detach().to('cpu', copy=True))
        for k, v in state.items())
    meta = dict(
        baseline=name,
        source=osp.basename(src),
        source_sha256=file_sha256(src),
        num_tensors=len(state_dict),
        filled_keys=filled,
        converter='tools/model_converters/fusion_baselines_to_mmfusenas.py')
    return dict(state_dict=state_dict, meta=meta)
