"""Independent references of the published baselines, for the parity tests.

Each function reproduces what the authors' test script writes for one pair,
from the official state dict (plain ``torch.nn.functional`` ops on its
tensors, no MMFuseNAS module) and the script's own reading, colour and
saving conventions (PIL / OpenCV as the script uses them), in float32 on
the CPU. What the scripts do that is left out here is noted per function
(and in docs/methods/fusion_baselines.md).
"""
from typing import Mapping

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

Tensor = torch.Tensor


def _t(img: np.ndarray) -> Tensor:
    """(H, W) uint8 -> (1, 1, H, W) float in [0, 1]."""
    return torch.from_numpy(img.astype(np.float32) / 255.0)[None, None]


# ----------------------------------------------------------------- SeAFusion
def _sea_conv(sd, key, x, act):
    x = F.conv2d(x, sd[key + '.weight'], sd[key + '.bias'],
                 padding=sd[key + '.weight'].shape[-1] // 2)
    if act == 'lrelu':
        return F.leaky_relu(x, 0.2)
    if act == 'tanh':
        return torch.tanh(x) / 2 + 0.5
    return x


def _sea_grdb(sd, p, x):
    d1 = _sea_conv(sd, p + '.dense.conv1.conv', x, 'lrelu')
    x1 = torch.cat([x, d1], 1)
    x2 = torch.cat([x1, _sea_conv(sd, p + '.dense.conv2.conv', x1, 'lrelu')],
                   1)
    main = _sea_conv(sd, p + '.convdown.conv', x2, None)
    c = x.shape[1]
    gx = F.conv2d(x, sd[p + '.sobelconv.convx.weight'], padding=1, groups=c)
    gy = F.conv2d(x, sd[p + '.sobelconv.convy.weight'], padding=1, groups=c)
    grad = _sea_conv(sd, p + '.convup.conv', gx.abs() + gy.abs(), None)
    return F.leaky_relu(main + grad, 0.1)


def seafusion_forward(sd: Mapping[str, Tensor], vis_y: Tensor,
                      ir: Tensor) -> Tensor:
    feats = []
    for branch, x in (('vis', vis_y), ('inf', ir)):
        x = _sea_conv(sd, f'{branch}_conv.conv', x, 'lrelu')
        x = _sea_grdb(sd, f'{branch}_rgbd1', x)
        feats.append(_sea_grdb(sd, f'{branch}_rgbd2', x))
    x = torch.cat(feats, 1)
    for name in ('decode4', 'decode3', 'decode2'):
        x = _sea_conv(sd, name + '.conv', x, 'lrelu')
    return _sea_conv(sd, 'decode1.conv', x, 'tanh')


def seafusion_reference(sd, ir_path: str, vi_path: str) -> np.ndarray:
    """SeAFusion's test script: PIL RGB visible / L infrared, Y + chroma with
    the script's gains (0.713 / 0.564; inverse 1.403, -0.714, -0.344,
    1.773), clamps, min-max normalisation of the RGB image, truncation.
    Returns (H, W, 3) RGB uint8 (what the script saves, before the file
    format: it saves under the input's name, JPEG for a .jpg input)."""
    vi = torch.from_numpy(
        np.asarray(Image.open(vi_path).convert('RGB'), np.float32) /
        255.0).permute(2, 0, 1)[None]
    ir = _t(np.asarray(Image.open(ir_path).convert('L')))
    r, g, b = vi[:, 0:1], vi[:, 1:2], vi[:, 2:3]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cr = ((r - y) * 0.713 + 0.5).clamp(0, 1)
    cb = ((b - y) * 0.564 + 0.5).clamp(0, 1)
    y = y.clamp(0, 1)
    with torch.no_grad():
        fy = seafusion_forward(sd, y, ir)
    rgb = torch.cat([
        fy + 1.403 * (cr - 0.5), fy - 0.714 * (cr - 0.5) - 0.344 *
        (cb - 0.5), fy + 1.773 * (cb - 0.5)
    ], 1).clamp(0, 1)[0].numpy().transpose(1, 2, 0)
    rgb = (rgb - rgb.min()) / (rgb.max() - rgb.min()) * 255.0
    return rgb.astype(np.uint8)


# -------------------------------------------------------------------- TarDAL
def _bn(sd, key, x, train):
    if train:
        return F.batch_norm(x, None, None, sd[key + '.weight'],
                            sd[key + '.bias'], True, 0.0, 1e-5)
    return F.batch_norm(x, sd[key + '.running_mean'],
                        sd[key + '.running_var'], sd[key + '.weight'],
                        sd[key + '.bias'], False, 0.0, 1e-5)


def _tardal_block(sd, p, x, bn, train, act=F.relu):
    x = F.conv2d(x, sd[p + '.0.weight'], sd[p + '.0.bias'], padding=1)
    if bn:
        x = _bn(sd, p + '.1', x, train)
    return act(x)


def tardal_forward(sd, ir: Tensor, vi: Tensor, train: bool) -> Tensor:
    x = _tardal_block(sd, 'encoder', torch.cat([ir, vi], 1), True, train)
    for i in range(3):
        x = torch.cat([x, _tardal_block(sd, f'dense.{i}', x, True, train)], 1)
    x = _tardal_block(sd, 'fuse.0', x, False, train)
    x = _tardal_block(sd, 'fuse.1', x, True, train)
    x = _tardal_block(sd, 'fuse.2', x, True, train)
    return _tardal_block(sd, 'fuse.3', x, False, train, torch.tanh)


def tardal_reference(sd, ir_path: str, vi_path: str,
                     train: bool) -> np.ndarray:
    """VIF-Benchmark's TarDAL script in float32 (it runs float16 on a GPU):
    OpenCV grey infrared, OpenCV BGR2GRAY visible, output clipped to [0, 1],
    ``* 255`` truncated to uint8, put into the visible image's OpenCV YCrCb
    and converted back. Returns (H, W, 3) BGR uint8 (``cv2.imwrite``)."""
    ir_c = cv2.imread(ir_path, cv2.IMREAD_GRAYSCALE)
    vi_c = cv2.imread(vi_path, cv2.IMREAD_COLOR)
    with torch.no_grad():
        fus = tardal_forward(sd, _t(ir_c),
                             _t(cv2.cvtColor(vi_c, cv2.COLOR_BGR2GRAY)),
                             train).clip(0, 1)
    fus = (fus[0, 0].numpy() * 255.0).astype(np.uint8)
    ycrcb = cv2.cvtColor(vi_c, cv2.COLOR_BGR2YCrCb)
    ycrcb[..., 0] = fus
    return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2BGR)


# --------------------------------------------------------------------- IFCNN
def _ifcnn_block(sd, p, x):
    x = F.conv2d(F.pad(x, (1, 1, 1, 1), mode='replicate'),
                 sd[p + '.conv.weight'])
    x = F.batch_norm(x, sd[p + '.bn.running_mean'],
                     sd[p + '.bn.running_var'], sd[p + '.bn.weight'],
                     sd[p + '.bn.bias'], False, 0.0, 1e-5)
    return F.relu(x)


MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def ifcnn_reference(sd, ir_path: str, vi_path: str) -> np.ndarray:
    """VIF-Benchmark's IFCNN script (fuse_scheme 0, MAX): both images read
    with ``cv2.imread(path, 0)``, GRAY2BGR, ToTensor + ImageNet Normalize;
    output de-normalised, clamped, ``* 255`` truncated, OpenCV BGR2GRAY;
    colour: PIL YCbCr merge with the visible image's Cb, Cr. (The script
    saves the grey image under the input's name and re-reads it for the
    colour step; for a .jpg input that round trip is JPEG-lossy, left out
    here.) Returns (H, W, 3) RGB uint8."""
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    feats = []
    for path in (ir_path, vi_path):
        g = cv2.imread(path, 0)
        x = (_t(g).repeat(1, 3, 1, 1) - mean) / std
        with torch.no_grad():
            x = F.conv2d(F.pad(x, (3, 3, 3, 3), mode='replicate'),
                         sd['conv1.weight'])
            feats.append(_ifcnn_block(sd, 'conv2', x))
    with torch.no_grad():
        x = torch.max(feats[0], feats[1])
        x = _ifcnn_block(sd, 'conv3', x)
        x = F.conv2d(x, sd['conv4.weight'], sd['conv4.bias'])
        x = (x * std + mean).clamp(0, 1) * 255
    img = x[0].numpy().astype(np.uint8).transpose(1, 2, 0)
    grey = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_BGR2GRAY)
    _, cb, cr = Image.open(vi_path).convert('YCbCr').split()
    fused = Image.merge('YCbCr', (Image.fromarray(grey), cb, cr))
    return np.asarray(fused.convert('RGB'))


def load_official(path: str) -> dict:
    return {
        k: v.float() if v.is_floating_point() else v
        for k, v in torch.load(path, map_location='cpu',
                               weights_only=True).items()
    }
