"""The official HBL network, rebuilt for the tests and benchmarks.

A functional re-implementation of the official final network
(``operations.py``, ``genotypes.py`` and ``model.py`` of
github.com/zhudear/HBLALS_pytorch, the code of Zhu et al., "Hierarchical
Bilevel Learning with Architecture and Loss Search for Hadamard-Based Image
Restoration", IJCAI 2022) that reads an
*official-layout* state dict (``e.encode.*``, ``p.hnus.*``, ``d.decode.*``)
directly with ``torch.nn.functional`` — no MMFuseNAS module is used, so the
goldens test the converter and the MMFuseNAS network independently.
The goldens (``tests/data/hbl/make_hbl_goldens.py``), the converter and
deployment tests and the latency benchmark
(``benchmarks/bench_inference.py``) use it. Not part of the package.
"""
import os.path as osp
from collections import OrderedDict

import torch
import torch.nn.functional as F
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ENC = ('head', 'conv1', 'conv1_2', 'conv2', 'conv2_2', 'conv3', 'conv3_2',
       'conv4', 'conv4_2')
DEC = ('conv5', 'conv5_2', 'conv6', 'conv6_2', 'conv7', 'conv7_2', 'conv8',
       'conv8_2', 'tail')
SEED = 2022


def _op_kind(name):
    """(kind, kernel, dilation, residual) of an official op name."""
    if name == 'skip_connect':
        return 'skip', 0, 1, False
    kind = 'dense' if name.startswith('denseblocks') else 'conv'
    k = int(name[-1])
    return kind, k, 2 if 'dil' in name else 1, name.startswith('res')


def _op_keys(prefix, name, cin, cout):
    kind, k, _, _ = _op_kind(name)
    if kind == 'skip':
        return []
    if kind == 'conv':
        return [(f'{prefix}.op.weight', (cout, cin, k, k))]
    return [(f'{prefix}.conv1.weight', (cout, cin, k, k)),
            (f'{prefix}.conv2.weight', (cout, cin + cout, k, k))]


def official_keys(genotype):
    """(key, shape) of the official state dict, in the official order."""
    keys = []
    widths = [(3, 16)] + [(16, 16)] * 4 + [(32, 32)] * 4
    for i, (pos, name) in enumerate(zip(ENC, genotype['encoder'])):
        keys += _op_keys(f'e.encode.{pos}', name, *widths[i])
        if pos == 'conv2_2':
            keys.append(('e.encode.down1.weight', (32, 16, 2, 2)))
    keys.append(('e.encode.down2.weight', (32, 32, 2, 2)))
    for u, ops in enumerate(genotype['units']):
        for b, names in (('r', ops[:4]), ('i', ops[4:])):
            for k, name in enumerate(names):
                keys += _op_keys(f'p.hnus.{u}.c{b}.{3 * k}', name, 32, 32)
                bn = f'p.hnus.{u}.c{b}.{3 * k + 1}'
                keys += [(f'{bn}.running_mean', (32, )),
                         (f'{bn}.running_var', (32, )),
                         (f'{bn}.num_batches_tracked', ())]
    keys.append(('d.decode.up1.weight', (32, 32, 2, 2)))
    widths = [(32, 32)] * 4 + [(16, 16)] * 4 + [(16, 3)]
    for i, (pos, name) in enumerate(zip(DEC, genotype['decoder'])):
        keys += _op_keys(f'd.decode.{pos}', name, *widths[i])
        if pos == 'conv6_2':
            keys.append(('d.decode.up2.weight', (32, 16, 2, 2)))
    return keys


def official_state_dict(genotype, seed=SEED):
    """Seeded official-layout state dict (weights ~ N(0, 1/fan_in))."""
    gen = torch.Generator().manual_seed(seed)
    sd = OrderedDict()
    for key, shape in official_keys(genotype):
        if key.endswith('num_batches_tracked'):
            sd[key] = torch.tensor(100)
        elif key.endswith('running_mean'):
            sd[key] = 0.1 * torch.randn(shape, generator=gen)
        elif key.endswith('running_var'):
            sd[key] = 0.5 + torch.rand(shape, generator=gen)
        else:
            fan_in = shape[1] * shape[2] * shape[3]
            if key.endswith(('up1.weight', 'up2.weight')):
                fan_in = shape[0] * shape[2] * shape[3]
            sd[key] = torch.randn(shape, generator=gen) / fan_in**0.5
    return sd


def weights_checksum(sd):
    return float(sum(v.double().abs().sum() for v in sd.values()))


def _op(sd, prefix, name, x):
    kind, k, d, res = _op_kind(name)
    if kind == 'skip':
        return x
    pad = d * (k - 1) // 2
    if kind == 'conv':
        y = F.conv2d(x, sd[f'{prefix}.op.weight'], padding=pad, dilation=d)
        return y + x if res else y
    x1 = F.relu(F.conv2d(x, sd[f'{prefix}.conv1.weight'], padding=pad))
    return F.conv2d(torch.cat([x, x1], 1), sd[f'{prefix}.conv2.weight'],
                    padding=pad)


def _bn(sd, prefix, x, mode):
    if mode == 'batch':
        return F.batch_norm(x, None, None, training=True, eps=1e-5)
    mean = sd[f'{prefix}.running_mean'].view(1, -1, 1, 1)
    var = sd[f'{prefix}.running_var'].view(1, -1, 1, 1)
    return (x - mean) / torch.sqrt(var + 1e-5)


def _branch(sd, u, b, names, x, mode):
    h = x
    for k, name in enumerate(names):
        h = _bn(sd, f'p.hnus.{u}.c{b}.{3 * k + 1}',
                _op(sd, f'p.hnus.{u}.c{b}.{3 * k}', name, h), mode)
        if k < 3:
            h = F.relu(h)
    return F.relu(h + x)


def official_forward(sd, genotype, x, mode):
    """The official forward pass (see the module docstring)."""
    h, w = x.shape[-2:]
    pads = []
    for size in (w, h):  # official pad_tensor: floor half left / top
        res = size % 4
        div = 4 - res if res else 0
        pads += [div // 2, div - div // 2]
    x = F.pad(x, pads, mode='reflect')
    e, g = 'e.encode', genotype['encoder']
    y = _op(sd, f'{e}.head', g[0], x)
    for a, b in ((1, 2), (3, 4)):
        y = y + _op(sd, f'{e}.{ENC[b]}', g[b],
                    F.relu(_op(sd, f'{e}.{ENC[a]}', g[a], y)))
    e1 = F.conv2d(y, sd[f'{e}.down1.weight'], stride=2)
    y = e1
    for a, b in ((5, 6), (7, 8)):
        y = y + _op(sd, f'{e}.{ENC[b]}', g[b],
                    F.relu(_op(sd, f'{e}.{ENC[a]}', g[a], y)))
    e2 = F.conv2d(y, sd[f'{e}.down2.weight'], stride=2)
    h_ = e2
    for u, ops in enumerate(genotype['units']):
        r = _branch(sd, u, 'r', ops[:4], h_, mode)
        i = _branch(sd, u, 'i', ops[4:], h_, mode)
        h_ = r / torch.max(torch.sigmoid(i), torch.full_like(i, 0.01))
    dd, g = 'd.decode', genotype['decoder']
    y = F.conv_transpose2d(h_ + e2, sd[f'{dd}.up1.weight'], stride=2)
    for a, b in ((0, 1), (2, 3)):
        y = y + _op(sd, f'{dd}.{DEC[b]}', g[b],
                    F.relu(_op(sd, f'{dd}.{DEC[a]}', g[a], y)))
    y = F.conv_transpose2d(y + e1, sd[f'{dd}.up2.weight'], stride=2)
    for a, b in ((4, 5), (6, 7)):
        y = y + _op(sd, f'{dd}.{DEC[b]}', g[b],
                    F.relu(_op(sd, f'{dd}.{DEC[a]}', g[a], y)))
    y = _op(sd, f'{dd}.tail', g[8], y)
    left, right, top, bottom = pads
    return y[..., top:y.shape[-2] - bottom, left:y.shape[-1] - right]


def genotype_of(name):
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/_base_/models/hbl_genotypes.py'))
    return cfg[f'hbl_{name}_genotype'].to_dict()
