"""Test/benchmark-only re-implementation of the official RUAS TPAMI network.

Written after ``model_enhance/{model,operations,genotypes}.py`` of the
authors' github.com/vis-opt-group/RUAS (Liu et al., "Learning with Nested
Scene Modeling and Cooperative Architecture Search for Low-Light Vision",
TPAMI 2022; inference code and weights only) and, for the CVPR network,
github.com/KarelZhang/RUAS (Liu et al., "Retinex-inspired Unrolling with
Cooperative Prior Architecture Search for Low-light Image Enhancement",
CVPR 2021), with the **official module and attribute names**
(``enhance_net.iems.k.cell.c1_r.op.weight``, ``denoise_net.nrms.k...``,
``estimation.estimation.i``),
so that the authors' ``weights/{lol,mit,darkface}.pt`` load into it strictly,
and with the official forward as coded (``max_operation`` by pad + row /
column maxima, ``noise_label.item()`` gate, ``ones_like`` initial ``u``).
It imports nothing from ``mmfusenas``: the toolbox network
(``configs/ruas/ruas_a_lol.py``) is tested and benchmarked against it.
Not part of the package.
"""
from collections import namedtuple

import torch
import torch.nn as nn

Genotype = namedtuple('Genotype', 'normal normal_concat')
IEM = Genotype(
    normal=[('skip_connect', 0), ('resconv_1x1', 1), ('resdilconv_3x3', 2),
            ('conv_3x3', 3), ('conv_3x3', 4), ('skip_connect', 5),
            ('conv_3x3', 6)],
    normal_concat=None)
NRM = Genotype(
    normal=[('resconv_1x1', 0), ('resconv_3x3', 1), ('dilconv_3x3', 2),
            ('resconv_1x1', 3), ('resconv_3x3', 4), ('conv_3x3', 5),
            ('resconv_3x3', 6)],
    normal_concat=None)
#: CVPR 2021 NRM genotype (KarelZhang/RUAS genotypes.py)
NRM_CVPR = Genotype(
    normal=[('resconv_1x1', 0), ('resconv_1x1', 1), ('resdilconv_3x3', 2),
            ('skip_connect', 3), ('resconv_1x1', 4), ('resconv_1x1', 5),
            ('skip_connect', 6)],
    normal_concat=None)


class Identity(nn.Module):

    def forward(self, x):
        return x


class ConvBlock(nn.Module):
    """``Conv`` / ``DilConv`` (``residual=False``) and ``ResConv`` /
    ``ResDilConv`` (``residual=True``) of ``operations.py``."""

    def __init__(self, C, k, dilation=1, residual=False):
        super().__init__()
        self.op = nn.Conv2d(C, C, k, 1, (k - 1) // 2 * dilation, dilation)
        self.residual = residual

    def forward(self, x):
        return x + self.op(x) if self.residual else self.op(x)


OPS = {
    'skip_connect': lambda C: Identity(),
    'conv_1x1': lambda C: ConvBlock(C, 1),
    'conv_3x3': lambda C: ConvBlock(C, 3),
    'dilconv_3x3': lambda C: ConvBlock(C, 3, 2),
    'resconv_1x1': lambda C: ConvBlock(C, 1, residual=True),
    'resconv_3x3': lambda C: ConvBlock(C, 3, residual=True),
    'resdilconv_3x3': lambda C: ConvBlock(C, 3, 2, residual=True),
}


class SearchBlock(nn.Module):

    def __init__(self, channel, genotype):
        super().__init__()
        names = [name for name, _ in genotype.normal]
        for attr, name in zip(
                ('c1_d', 'c1_r', 'c2_d', 'c2_r', 'c3_d', 'c3_r', 'c4'), names):
            setattr(self, attr, OPS[name](channel))
        self.act = nn.LeakyReLU(negative_slope=0.05)
        self.c5 = nn.Conv2d(channel * 4, channel, 1)

    def forward(self, x):
        d1 = self.act(self.c1_d(x))
        r1 = self.act(self.c1_r(x) + x)
        d2 = self.act(self.c2_d(r1))
        r2 = self.act(self.c2_r(r1) + r1)
        d3 = self.act(self.c3_d(r2))
        r3 = self.act(self.c3_r(r2) + r2)
        r4 = self.act(self.c4(r3))
        return self.c5(torch.cat([d1, d2, d3, r4], dim=1))


def max_operation(x):
    """Official 2x2 local maximum: pad, drop first row/column, pair maxima."""
    pad = nn.ZeroPad2d(1)
    tmp = pad(x)[:, :, 1:, 1:]
    x1 = tmp[:, :, :-1, :]
    x2 = tmp[:, :, 1:, :]
    m = torch.max(x1, x2)
    y1 = m[:, :, :, :-1]
    y2 = m[:, :, :, 1:]
    return torch.max(y1, y2)


class IEMModule(nn.Module):
    """Official ``IEM`` (one illumination stage)."""

    def __init__(self, channel, genotype, t_min=0.0001):
        super().__init__()
        self.cell = SearchBlock(channel, genotype)
        self.activate = nn.Sigmoid()
        self.t_min = t_min  # TPAMI 0.0001, CVPR 0.001

    def forward(self, input_y, input_u, k):
        if k == 0:
            t_hat = max_operation(input_y)
        else:
            t_hat = max_operation(input_u) - 0.5 * (input_u - input_y)
        t = self.activate(self.cell(t_hat))
        t = torch.clamp(t, self.t_min, 1.0)
        u = torch.clamp(input_y / t, 0.0, 1.0)
        return u, t


class EnhanceNetwork(nn.Module):

    def __init__(self, iteration=3, channel=3, genotype=IEM, t_min=0.0001):
        super().__init__()
        self.iem_nums = iteration
        self.iems = nn.ModuleList(
            IEMModule(channel, genotype, t_min) for _ in range(iteration))

    def forward(self, x):
        t_list, u_list = [], []
        u = torch.ones_like(x)
        for i in range(self.iem_nums):
            u, t = self.iems[i](x, u, i)
            u_list.append(u)
            t_list.append(t)
        return u_list, t_list


class DenoiseNetwork(nn.Module):

    def __init__(self, layers=3, channel=6, genotype=NRM):
        super().__init__()
        self.stem = nn.Conv2d(3, channel, 3, 1, 1)
        self.nrms = nn.ModuleList(
            SearchBlock(channel, genotype) for _ in range(layers))
        self.activate = nn.Sequential(nn.Conv2d(channel, 3, 3, 1, 1))

    def forward(self, x):
        feat = self.stem(x)
        for nrm in self.nrms:
            feat = nrm(feat)
        noise = self.activate(feat)
        return x - noise, noise


class Estimation(nn.Module):

    def __init__(self):
        super().__init__()
        layers = [nn.Conv2d(3, 32, 3, 1, 1)]
        for _ in range(3):
            layers += [nn.ReLU(), nn.Conv2d(32, 32, 3, 1, 1)]
        layers += [nn.ReLU(), nn.Conv2d(32, 3, 3, 1, 1)]
        self.estimation = nn.Sequential(*layers)

    def forward(self, x):
        es = self.estimation(x)
        _, c, h, w = x.shape
        return torch.norm(es, 1) / (c * h * w)


class Network(nn.Module):
    """Official TPAMI ``Network`` (RUAS_A)."""

    def __init__(self):
        super().__init__()
        self.enhance_net = EnhanceNetwork(3, 3, IEM)
        self.denoise_net = DenoiseNetwork(3, 6, NRM)
        self.estimation = Estimation()

    def forward(self, x):
        u_list, t_list = self.enhance_net(x)
        noise_label = self.estimation(u_list[-1])
        if noise_label.item() >= 0.035:
            u_d, _ = self.denoise_net(u_list[-1])
            u_list.append(u_d)
        return u_list, t_list, noise_label


class CVPRNetwork(nn.Module):
    """Official CVPR 2021 ``Network`` (the RUAS variant): t >= 0.001, the
    denoiser always runs; LOL prediction ``u_list[-1]``."""

    def __init__(self):
        super().__init__()
        self.enhance_net = EnhanceNetwork(3, 3, IEM, t_min=0.001)
        self.denoise_net = DenoiseNetwork(3, 6, NRM_CVPR)

    def forward(self, x):
        u_list, t_list = self.enhance_net(x)
        u_d, _ = self.denoise_net(u_list[-1])
        u_list.append(u_d)
        return u_list, t_list


class RUASsOfficial(nn.Module):
    """The scene module alone, as the official test would run RUAS_s."""

    def __init__(self):
        super().__init__()
        self.enhance_net = EnhanceNetwork(3, 3, IEM)

    def forward(self, x):
        return self.enhance_net(x)[0][-1]


class RUASOfficialPred(nn.Module):
    """``Network`` returning the official prediction ``u_list[-1]``."""

    def __init__(self):
        super().__init__()
        self.net = Network()

    def forward(self, x):
        return self.net(x)[0][-1]
