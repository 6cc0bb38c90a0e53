"""The official DCNAS ``StaticModel``, rebuilt for the tests and benchmarks.

A re-implementation written after the authors' code
(github.com/zhwzhong/DCNAS, in its history at commit 1728e03; Zhong et al.,
"Dual-Level Cross-Modality Neural Architecture Search for Guided Image
Super-Resolution", TPAMI 2025) with the official module tree, hence the
official state-dict key names (``FeatureInitialization.depth_head.0.
layers.weight``, ...). It imports nothing from ``mmfusenas``. The goldens
(``tests/data/dcnas/make_goldens.py``), the deployment tests and the latency
benchmark (``benchmarks/bench_inference.py``) use it. Not part of the
package.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

MB = ['skip'] + [(k, r) for k in (3, 5, 7) for r in range(2, 7)]
FUSE = ['skip', 'cat', 'sum', 'energy', 'mmaf', 'skip_dep', 'skip_rgb']


class CBR(nn.Module):  # official ConvBNReLU2D: .layers (conv) + .act

    def __init__(self, cin, cout, k, padding=0, groups=1, bias=True,
                 act=None):
        super().__init__()
        self.layers = nn.Conv2d(cin, cout, k, 1, padding, groups=groups,
                                bias=bias)
        self.act = {None: None, 'PReLU': nn.PReLU(),
                    'Sigmoid': nn.Sigmoid()}[act]

    def forward(self, x):
        x = self.layers(x)
        return x if self.act is None else self.act(x)


class CALayer(nn.Module):

    def __init__(self, c):
        super().__init__()
        self.conv_du = nn.Sequential(
            nn.Conv2d(c, c // 4, 1), nn.ReLU(), nn.Conv2d(c // 4, c, 1),
            nn.Sigmoid())

    def forward(self, x):
        return x * self.conv_du(x.mean((2, 3), keepdim=True))


class InvertedResidual(nn.Module):

    def __init__(self, c, k, r):
        super().__init__()
        h = c * r
        self.layers = nn.Sequential(
            CBR(c, h, 1, bias=False, act='PReLU'),
            CBR(h, h, k, k // 2, groups=h, bias=False, act='PReLU'),
            CBR(h, c, 1, bias=False))
        self.SE = CALayer(c)

    def forward(self, x):
        return x + self.SE(self.layers(x))


class MBlock(nn.Module):

    def __init__(self, c, code):
        super().__init__()
        op = MB[code]
        self.mb_layers = nn.Identity() if op == 'skip' else \
            InvertedResidual(c, *op)

    def forward(self, x):
        return self.mb_layers(x)


class MBlocks(nn.Module):

    def __init__(self, c, codes):
        super().__init__()
        self.mb_blocks = nn.ModuleList(MBlock(c, code) for code in codes)

    def forward(self, x):
        for b in self.mb_blocks:
            x = b(x)
        return x


class GateConv2D(nn.Module):

    def __init__(self, c):
        super().__init__()
        self.Attention = nn.Sequential(nn.Conv2d(c, c, 3, padding=1),
                                       nn.Sigmoid())
        self.Feature = nn.Sequential(nn.Conv2d(c, c, 3, padding=1),
                                     nn.PReLU())

    def forward(self, x):
        return self.Attention(x) * self.Feature(x)


class MMAB(nn.Module):

    def __init__(self, c):
        super().__init__()
        self.squeeze = CBR(2 * c, 2 * c // 4, 3, 1, act='PReLU')
        self.excitation1 = CBR(2 * c // 4, c, 1, act='Sigmoid')
        self.excitation2 = CBR(2 * c // 4, c, 1, act='Sigmoid')

    def forward(self, d, g):
        z = self.squeeze(torch.cat((d, g), 1))
        m = z.mean((2, 3), keepdim=True)
        v = m + ((z - m)**2).mean((2, 3), keepdim=True)
        return self.excitation1(v) * d / 2, self.excitation2(v) * g / 2


class MMAF(nn.Module):

    def __init__(self, c):
        super().__init__()
        self.filter_conv = GateConv2D(c)
        self.filter_conv1 = GateConv2D(c)
        self.attention_layer = MMAB(c)

    def forward(self, d, g):
        g = self.filter_conv(g)
        d = self.filter_conv1(d)
        d, g = self.attention_layer(d, g)
        return d + g


class Cat(nn.Module):

    def __init__(self, c):
        super().__init__()
        self.compress_layer = CBR(2 * c, c, 1, bias=False)

    def forward(self, d, g):
        return self.compress_layer(torch.cat((d, g), 1))


class Fn(nn.Module):

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, d, g):
        return self.fn(d, g)


def energy(d, g):
    b, c, h, w = d.shape
    ud = F.unfold(d, 5, padding=2).view(b, c, -1, h, w)
    ug = F.unfold(g, 5, padding=2).view(b, c, -1, h, w)
    return torch.where((ud * ud).sum(2) > (ug * ug).sum(2), d, g)


class FusionBlock(nn.Module):

    def __init__(self, c, code):
        super().__init__()
        name = FUSE[code]
        self.fuse_layers = dict(
            skip=lambda: Fn(lambda d, g: 0),
            cat=lambda: Cat(c),
            sum=lambda: Fn(lambda d, g: (d + g) / 2),
            energy=lambda: Fn(energy),
            mmaf=lambda: MMAF(c),
            skip_dep=lambda: Fn(lambda d, g: g),
            skip_rgb=lambda: Fn(lambda d, g: d))[name]()

    def forward(self, d, g):
        return self.fuse_layers(d, g)


class Down(nn.Module):

    def __init__(self, c, rgb):
        super().__init__()
        self.dep_layers = nn.Sequential(nn.PixelUnshuffle(2),
                                        CBR(4 * c, 2 * c, 1, bias=False))
        if rgb:
            self.rgb_layers = nn.Sequential(nn.PixelUnshuffle(2),
                                            CBR(4 * c, 2 * c, 1, bias=False))

    def forward(self, d, g):
        return self.dep_layers(d), (self.rgb_layers(g) if hasattr(
            self, 'rgb_layers') else g)


class Up(nn.Module):

    def __init__(self, c):
        super().__init__()
        self.layers = nn.Sequential(CBR(c, 2 * c, 1, bias=False),
                                    nn.PixelShuffle(2))

    def forward(self, x):
        return self.layers(x)


class FeatureInitialization(nn.Module):

    def __init__(self, c):
        super().__init__()
        self.depth_head = nn.Sequential(
            CBR(1, c, 3, 1, bias=False, act='PReLU'),
            CBR(c, c, 3, 1, bias=False, act='PReLU'))
        self.guidance_head = nn.Sequential(
            CBR(3, c, 3, 1, bias=False, act='PReLU'),
            CBR(c, c, 3, 1, bias=False, act='PReLU'))


class StaticModel(nn.Module):

    def __init__(self, arch, c):
        super().__init__()
        S = 4
        cs = [c * 2**s for s in range(S)]
        self.n_rgb = S
        for op in arch['fuse_op']:
            if op in (0, 6):
                self.n_rgb -= 1
            else:
                break
        self.FeatureInitialization = FeatureInitialization(c)
        self.dep_encoder = nn.ModuleList()
        self.rgb_encoder = nn.ModuleList()
        self.reconstruction = nn.ModuleList()
        self.fusion_layer = nn.ModuleList()
        self.down_sample = nn.ModuleList()
        self.up_sample = nn.ModuleList()
        for s in range(S):
            i_s = S - 1 - s
            self.dep_encoder.append(MBlocks(cs[s], arch['dep_encoder'][s]))
            if s < self.n_rgb:
                self.rgb_encoder.append(
                    MBlocks(cs[s], arch['rgb_encoder'][s]))
            self.reconstruction.append(
                MBlocks(cs[i_s], arch['rec_decoder'][s]))
            self.fusion_layer.append(FusionBlock(cs[i_s],
                                                 arch['fuse_op'][s]))
            if s != S - 1:
                self.down_sample.append(Down(cs[s], s < self.n_rgb - 1))
                self.up_sample.append(Up(cs[i_s]))
        self.middle_layer = CBR(cs[-1], cs[-1], 1, bias=False, act='PReLU')
        self.tail = nn.Module()
        self.tail.layers = nn.Sequential(
            CBR(c, c, 3, 1, bias=False, act='PReLU'),
            CBR(c, 1, 3, 1, bias=False, act='PReLU'))

    def forward(self, dep, rgb):
        lr_up = dep
        fi = self.FeatureInitialization
        dep, rgb = fi.depth_head(dep), fi.guidance_head(rgb)
        dep_out, rgb_out = [], []
        for s in range(4):
            if s < self.n_rgb:
                rgb = self.rgb_encoder[s](rgb)
                rgb_out.append(rgb)
            else:
                rgb_out.append(None)
            dep = self.dep_encoder[s](dep)
            dep_out.append(dep)
            if s != 3:
                dep, rgb = self.down_sample[s](dep, rgb)
        dep_out, rgb_out = dep_out[::-1], rgb_out[::-1]
        rec = self.middle_layer(dep_out[0])
        for i in range(4):
            rec = self.reconstruction[i](
                rec + self.fusion_layer[i](dep_out[i], rgb_out[i]))
            if i != 3:
                rec = self.up_sample[i](rec)
        return self.tail.layers(rec) + lr_up


EXAMPLE = dict(
    rgb_encoder=[[0, 3], [0, 2], [6, 3], [0, 4]],
    dep_encoder=[[1, 3], [4, 2], [6, 6], [2, 0]],
    rec_decoder=[[6, 1], [1, 4], [1, 4], [6, 4]],
    fuse_op=[6, 6, 3, 6])
# every fusion op that reads both features, k7 blocks, no pruning
MIXED = dict(
    rgb_encoder=[[11, 0], [15, 7], [1, 0], [1, 2]],
    dep_encoder=[[14, 5], [0, 3], [12, 8], [1, 0]],
    rec_decoder=[[2, 0], [0, 6], [11, 2], [15, 0]],
    fuse_op=[5, 1, 2, 4])
