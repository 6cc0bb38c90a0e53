"""The official TIM test protocols (LiuZhu-CV/TIMFusion) on converted
models, for ``tools/fuse.py --tim-official`` and the TIM converter; see
``docs/user_guides/official_weights.md``."""
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

from mmfusenas.utils.fileio import read_image, to_uint8

#: official model -> target config, stage count and protocol defaults
TIM_OFFICIAL: Dict[str, dict] = {
    name: dict(config=f'configs/tim/{cfg}_official.py', stages=stages,
               read=read, batch_stats=bn, pad_multiple=pad, save=save)
    for name, cfg, stages, read, bn, pad, save in (
        ('ivif', 'fusion_ivif', 2, ('blue', 'blue'), ('stage2', ), 4,
         'save_image'),
        ('light', 'fusion_ivif_light', 1, ('gray', 'gray'), (), 1,
         'save_image'),
        ('ct', 'fusion_mri_ct', 2, ('blue', 'gray'), (), 1, 'gray_floor'),
        ('pet', 'fusion_mri_pet', 2, ('gray', 'yuv'), (), 1, 'yuv_floor'),
        ('spect', 'fusion_mri_spect', 2, ('plt_twice', 'yuv'),
         ('stage1', 'stage2'), 1, 'yuv_floor'))
}
READS = ('blue', 'gray', 'yuv', 'plt_twice')
SAVES = ('save_image', 'gray_floor', 'yuv_floor')


def read_official(path: str, mode: str) -> np.ndarray:
    """One source as the official scripts read it, float32 ``(H, W)``:
    ``'blue'`` channel / 255, ``'gray'`` / 255, ``'yuv'`` Y / 255, or
    ``'plt_twice'`` (red / 255 / 255: matplotlib already scales PNGs)."""
    if mode not in READS:
        raise ValueError(f'read mode must be one of {READS}, got {mode!r}')
    img = read_image(path, 'grayscale' if mode == 'gray' else 'color')
    if mode == 'plt_twice':
        return np.divide(img[:, :, 2], 255, dtype=np.float32) / 255.
    if mode == 'blue':
        img = img[:, :, 0]
    elif mode == 'yuv':
        img = cv2.cvtColor(img, cv2.COLOR_BGR2YUV)[:, :, 0]
    return (img / 255.).astype(np.float32)


def fuse_tim_official(model: nn.Module,
                      paths: Sequence[str],
                      protocol: str,
                      read: Optional[Sequence[str]] = None,
                      batch_stats: Optional[Sequence[str]] = None,
                      pad_multiple: Optional[int] = None,
                      pad_mode: str = 'reflect',
                      save: Optional[str] = None) -> np.ndarray:
    """Fuse one pair as the official TIM test script of ``protocol`` does.

    Args:
        model (nn.Module): an ``ImageFusor`` of the protocol's official
            config (its ``fusion_net`` is run directly).
        paths (Sequence[str]): the two sources in config order.
        protocol (str): a key of :data:`TIM_OFFICIAL`, whose entry gives
            the defaults of ``read``, ``batch_stats``, ``pad_multiple`` and
            ``save``.
        read (Sequence[str], optional): reading per source (:data:`READS`).
        batch_stats (Sequence[str], optional): stages (``'stage1'``,
            ``'stage2'``) whose BNs use per-image batch statistics.
        pad_multiple (int, optional): pad bottom / right to a multiple of
            this (``pad_mode``: ``'reflect'`` or ``'replicate'``), crop back.
        save (str, optional): ``'save_image'`` (clamp, round half up, grey
            as BGR), ``'gray_floor'`` (clip, truncate) or ``'yuv_floor'``
            (truncated into the Y of the second source's YUV, as BGR).

    Returns:
        np.ndarray: the image the official script writes (OpenCV layout).
    """
    if protocol not in TIM_OFFICIAL:
        raise ValueError(f'protocol must be one of {sorted(TIM_OFFICIAL)}, '
                         f'got {protocol!r}')
    spec = TIM_OFFICIAL[protocol]
    read = tuple(read or spec['read'])
    batch_stats = spec['batch_stats'] if batch_stats is None else batch_stats
    pad = spec['pad_multiple'] if pad_multiple is None else pad_multiple
    save = save or spec['save']
    if len(paths) != 2 or len(read) != 2:
        raise ValueError(f'TIM fuses two sources, got paths={paths} and '
                         f'read={read}')
    if save not in SAVES:
        raise ValueError(f'save must be one of {SAVES}, got {save!r}')
    if pad_mode not in ('reflect', 'replicate'):
        raise ValueError("pad_mode must be one of ('reflect', 'replicate'), "
                         f'got {pad_mode!r}')
    srcs = [read_official(p, m) for p, m in zip(paths, read)]
    if srcs[0].shape != srcs[1].shape:
        raise ValueError(f'the sources differ in size: {paths[0]} is '
                         f'{srcs[0].shape}, {paths[1]} is {srcs[1].shape}')
    h, w = srcs[0].shape
    inputs = torch.from_numpy(np.stack(srcs))[None].to(
        next(model.parameters()).device)
    if -h % pad or -w % pad:
        inputs = F.pad(inputs, (0, -w % pad, 0, -h % pad), mode=pad_mode)
    net = model.fusion_net
    # a one-stage (light) network is its only stage
    stages = [getattr(net, s) if hasattr(net, 'stage1') else net
              for s in batch_stats]
    bns = list(dict.fromkeys(m for s in stages for m in s.modules()
                             if isinstance(m, _BatchNorm)))
    saved = [(m.training, m.track_running_stats) for m in bns]
    try:
        for m in bns:  # batch statistics, running ones not updated
            m.training, m.track_running_stats = True, False
        with torch.no_grad():
            fused = net(inputs)[0, 0, :h, :w].float().cpu()
    finally:
        for m, state in zip(bns, saved):
            m.training, m.track_running_stats = state
    if save == 'save_image':
        return np.repeat(to_uint8(fused, 'round').numpy()[..., None], 3, 2)
    res = to_uint8(fused).numpy()
    if save == 'gray_floor':
        return res
    yuv = cv2.cvtColor(read_image(paths[1], 'color'), cv2.COLOR_BGR2YUV)
    yuv[:, :, 0] = res
    return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR)
