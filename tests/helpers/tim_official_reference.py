"""Test-only re-implementation of the official TIM networks and test scripts.

Written after ``genotypes.py``, ``model/{operations,model_searched,
antialias}.py`` and the test scripts of the authors' github.com/LiuZhu-CV/
TIMFusion (Liu et al., "A Task-guided, Implicitly-searched and Meta-initialized
Deep Model for Image Fusion", TPAMI 2024; the searched networks and test
scripts, no training code) with the **official module and attribute names**, so
that ``state_dict()`` has the key layout of the authors' ``weights_{1,2}_*.pt``
files (``stem.0.conv2d.weight``, ``cells.0._ops.0._op.op.0.conv.weight``, ...).
It imports nothing from ``mmfusenas``: the converter and its official
protocol (``tools/model_converters/tim_official_to_mmfusenas.py``) are
tested against it. Not part of the package (the official weights are not
downloadable here; seeded weights through both code paths are the goldens).
"""
from collections import namedtuple

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

Genotype = namedtuple('Genotype', 'normal chain_model chain_fusion')
Genotype2 = namedtuple('Genotype2', 'normal')
fusion_M = Genotype(
    normal=[('Denseblocks_3_1', 0), ('DilConv_3_2', 1)],
    chain_model=[('Residualblocks_3_1', 0), ('Residualblocks_3_1', 1)],
    chain_fusion=[('Residualblocks_3_1', 0), ('DilConv_3_2', 1)])
fusion_light = Genotype(
    normal=[('Residualblocks_3_1', 0), ('ECAattention_3', 1)],
    chain_model=[('Denseblocks_5_1', 0), ('Denseblocks_5_1', 1)],
    chain_fusion=[('Residualblocks_3_1', 0), ('Denseblocks_3_1', 1)])
G2 = {
    'fusion_ir_proposed': ['SPAattention_3', 'DilConv_3_2'],
    'fusion_vis_proposed': ['ECAattention_3', 'SPAattention_3'],
    'fusion_mri': ['Residualblocks_5_1', 'Residualblocks_5_1'],
    'fusion_ct': ['Residualblocks_5_1', 'SPAattention_3'],
    'fusion_mri_pet': ['SepConv_3_1', 'Residualblocks_5_1'],
    'fusion_pet': ['Residualblocks_3_1', 'Residualblocks_5_1'],
    'fusion_mri_spect': ['Residualblocks_5_1', 'Denseblocks_3_1'],
    'fusion_spect': ['Residualblocks_3_1', 'SPAattention_3'],
}
G2 = {k: Genotype2([(n, i) for i, n in enumerate(v)]) for k, v in G2.items()}


def _pad(k, d):
    return {(3, 1): 1, (3, 2): 2, (5, 1): 2, (5, 2): 4, (7, 1): 3,
            (7, 2): 6}.get((k, d), 0)


class ConvLayer(nn.Module):

    def __init__(self, cin, cout, k, stride=1, dilation=1):
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(int(dilation * (k - 1) / 2))
        self.conv2d = nn.Conv2d(cin, cout, k, stride, dilation=dilation)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class BasicConv(nn.Module):

    def __init__(self, cin, cout, k, dilation=1, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, 1, _pad(k, dilation), dilation,
                              groups, bias=False)

    def forward(self, x):
        return self.conv(x)


class ReLUConvBN(nn.Module):

    def __init__(self, C):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(False), nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C))

    def forward(self, x):
        return self.op(x)


class ResidualDenseBlock(nn.Module):

    def __init__(self, C, k, d):
        super().__init__()
        self.conv1 = BasicConv(C, C, k, d, groups=C)
        self.conv2 = BasicConv(2 * C, C, k, d, groups=C)
        self.conv3 = BasicConv(3 * C, C, k, d, groups=C)
        self.lrelu = nn.PReLU()

    def forward(self, x):
        x1 = self.lrelu(self.conv1(x))
        x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        return x3 * 0.333 + x


class ResidualModule(nn.Module):

    def __init__(self, C, k, d):
        super().__init__()
        self.op = nn.Sequential(
            BasicConv(C, C, k, d, groups=C),
            nn.Conv2d(C, C, 3, 1, 2, 2, groups=C, bias=False),
            nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C), nn.PReLU())

    def forward(self, x):
        return x + self.op(x)


class DilConv(nn.Module):

    def __init__(self, C, k, d):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(False), BasicConv(C, C, k, d, groups=C),
            nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C))

    def forward(self, x):
        return self.op(x) + x


class SepConv(nn.Module):

    def __init__(self, C, k, d):
        super().__init__()
        # quirk: the genotype's "dilation" is the stride, padding fixed at 1
        self.op = nn.Sequential(
            nn.ReLU(False),
            nn.Conv2d(C, C, k, d, 1, groups=C, bias=False),
            nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C),
            nn.ReLU(False), nn.Conv2d(C, C, k, 1, 1, groups=C, bias=False),
            nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C))

    def forward(self, x):
        return self.op(x)


class ECALayer(nn.Module):

    def __init__(self, k):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, k, padding=(k - 1) // 2, bias=False)

    def forward(self, x):
        y = F.adaptive_avg_pool2d(x, 1)
        y = self.conv(y.squeeze(-1).transpose(-1, -2))
        y = y.transpose(-1, -2).unsqueeze(-1)
        return x * torch.sigmoid(y)


class ECABasicBlock(nn.Module):

    def __init__(self, C, k, d):
        super().__init__()
        self.se = ECALayer(k)
        self.conv1 = nn.Conv2d(C, C, 3, 1, 1, bias=False)
        self.relu = nn.PReLU()

    def forward(self, x):
        return self.relu(self.conv1(self.se(x)))


class SpatialGate(nn.Module):

    def __init__(self, k):
        super().__init__()
        self.spatial = BasicConv(2, 1, k)

    def forward(self, x):
        z = torch.cat((x.max(1, keepdim=True)[0], x.mean(1, keepdim=True)), 1)
        return torch.sigmoid(self.spatial(z))


class SpatialBasicBlock(nn.Module):

    def __init__(self, C, k, d):
        super().__init__()
        self.se = SpatialGate(k)

    def forward(self, x):
        return x * self.se(x)


OPS = dict(
    Denseblocks=ResidualDenseBlock,
    Residualblocks=ResidualModule,
    DilConv=DilConv,
    SepConv=SepConv,
    ECAattention=ECABasicBlock,
    SPAattention=SpatialBasicBlock)


class MixedOp(nn.Module):

    def __init__(self, C, primitive):
        super().__init__()
        split = primitive.split('_')
        dilation = 1 if 'attention' in primitive else int(split[2])
        self._op = OPS[split[0]](C, int(split[1]), dilation)

    def forward(self, x):
        return self._op(x)


class Cell_Chain2(nn.Module):

    def __init__(self, genotype, C):
        super().__init__()
        self.preprocess1 = ReLUConvBN(C)
        self._ops = nn.ModuleList(MixedOp(C, n) for n, _ in genotype.normal)

    def forward(self, x):
        x = self.preprocess1(x)
        for op in self._ops:
            x = op(x)
        return x


class AADown(nn.Module):

    def __init__(self, n):
        super().__init__()
        a = torch.tensor([1., 2., 1.])
        filt = (a[:, None] * a[None, :]) / 16
        self.register_buffer('filt', filt[None, None].repeat(n, 1, 1, 1))

    def forward(self, x):
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode='reflect'), self.filt,
                        stride=2, groups=x.shape[1])


class ResidualDownSample(nn.Module):

    def __init__(self, n):
        super().__init__()
        self.top = nn.Sequential(
            nn.Conv2d(n, n, 1, bias=False), nn.PReLU(),
            nn.Conv2d(n, n, 3, 1, 1, bias=False), nn.PReLU(), AADown(n),
            nn.Conv2d(n, 2 * n, 1, bias=False))
        self.bot = nn.Sequential(AADown(n), nn.Conv2d(n, 2 * n, 1, bias=False))

    def forward(self, x):
        return self.top(x) + self.bot(x)


class ResidualUpSample(nn.Module):

    def __init__(self, n):
        super().__init__()
        self.top = nn.Sequential(
            nn.Conv2d(n, n, 1, bias=False), nn.PReLU(),
            nn.ConvTranspose2d(n, n, 3, 2, 1, output_padding=1, bias=False),
            nn.PReLU(), nn.Conv2d(n, n // 2, 1, bias=False))
        self.bot = nn.Sequential(
            nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False),
            nn.Conv2d(n, n // 2, 1, bias=False))

    def forward(self, x):
        return self.top(x) + self.bot(x)


class DownSample(nn.Module):

    def __init__(self, n, scale):
        super().__init__()
        blocks, steps = [], int(np.log2(scale))
        for i in range(steps):
            blocks.append(ResidualDownSample(n * 2**i))
        self.body = nn.Sequential(*blocks)

    def forward(self, x):
        return self.body(x)


class UpSample(nn.Module):

    def __init__(self, n, scale):
        super().__init__()
        blocks, steps = [], int(np.log2(scale))
        for i in range(steps):
            blocks.append(ResidualUpSample(n // 2**i))
        self.body = nn.Sequential(*blocks)

    def forward(self, x):
        return self.body(x)


class SKFF(nn.Module):

    def __init__(self, C, height=3, reduction=8):
        super().__init__()
        d = max(int(C / reduction), 4)
        self.conv_du = nn.Sequential(nn.Conv2d(C, d, 1, bias=False),
                                     nn.PReLU())
        self.fcs = nn.ModuleList(
            nn.Conv2d(d, C, 1, bias=False) for _ in range(height))

    def forward(self, feats):
        u = feats[0] + feats[1] + feats[2]
        z = self.conv_du(F.adaptive_avg_pool2d(u, 1))
        att = torch.stack([fc(z) for fc in self.fcs], 1).softmax(1)
        return (torch.stack(feats, 1) * att).sum(1)


class Cell_Fusion(nn.Module):

    def __init__(self, genotype, C):
        super().__init__()
        names = [n for n, _ in genotype.chain_fusion]
        self.preprocess1 = ReLUConvBN(C)
        self.down_2 = DownSample(C, 2)
        self.down_4 = DownSample(C, 4)
        self.upsample_2 = UpSample(2 * C, 2)
        self.upsample_4 = UpSample(4 * C, 4)
        self.SKFF = SKFF(C)
        self._ops = nn.ModuleList(MixedOp(C, n) for n in names)
        self._ops_1 = nn.ModuleList(MixedOp(2 * C, n) for n in names)
        self._ops_2 = nn.ModuleList(MixedOp(4 * C, n) for n in names)

    def forward(self, x):
        p = self.preprocess1(x)
        s = [p, self.down_2(p), self.down_4(p)]
        for i, ops in enumerate((self._ops, self._ops_1, self._ops_2)):
            for op in ops:
                s[i] = op(s[i])
        return p + self.SKFF([s[0], self.upsample_2(s[1]),
                              self.upsample_4(s[2])])


CELLS = dict(Cell_Fusion=Cell_Fusion, Cell_Chain2=Cell_Chain2)


def _stem(cin, C, bn=False):
    layers = [ConvLayer(cin, 2 * C, 3), nn.PReLU(), ConvLayer(2 * C, C, 3)]
    if bn:
        layers.append(nn.BatchNorm2d(C))
    return nn.Sequential(*layers, nn.PReLU())


def _stem_out(C, cin=None, act=True):
    layers = [ConvLayer(cin or C, C, 3)] + ([nn.PReLU()] if act else [])
    return nn.Sequential(*layers, ConvLayer(C, C // 2, 3),
                         ConvLayer(C // 2, 1, 1))


class Network_Fusion9_Meta(nn.Module):

    def __init__(self, C, layers, genotype, cell_names):
        super().__init__()
        self.stem = _stem(2, C)
        self.cells = nn.ModuleList(
            CELLS[cell_names[i]](genotype, C) for i in range(layers + 1))
        self.stem_out = _stem_out(C)

    def forward(self, a, b):
        x = self.stem(torch.cat((a, b), 1))
        for cell in self.cells:
            x = cell(x)
        return self.stem_out(x)


class _Stage2(nn.Module):

    def __init__(self, C, genotypes):
        super().__init__()
        self.stem2 = _stem(2, C, bn=True)
        self.stem3 = _stem(2, C, bn=True)
        self.cells2 = nn.ModuleList(
            Cell_Chain2(genotypes[0], C) for _ in range(2))
        self.cells3 = nn.ModuleList(
            Cell_Chain2(genotypes[1], C) for _ in range(2))
        self.stem_out2 = _stem_out(C)
        self.stem_out3 = _stem_out(C)

    def branches(self, p, q, f):
        fp, fq = self.stem2(torch.cat((p, f), 1)), self.stem3(
            torch.cat((q, f), 1))
        for cell in self.cells2:
            fq = cell(fq)
        for cell in self.cells3:
            fp = cell(fp)
        return fp, fq


class Network_Fusion9_3(_Stage2):
    """IVIF stage 2 (mask merge, no final activation)."""

    def __init__(self, C, genotypes):
        super().__init__(C, genotypes)
        self.stem_out4 = _stem_out(C, act=False)
        self.spa = SpatialGate3()

    def forward(self, p, q, f):
        fp, fq = self.branches(p, q, f)
        m = self.spa(fp)
        return (torch.tanh(self.stem_out2(fp)), torch.tanh(
            self.stem_out3(fq)), self.stem_out4(m * fp + (1 - m) * fq))


class SpatialGate3(nn.Module):

    def __init__(self):
        super().__init__()
        self.spatial = BasicConv(3, 1, 1)

    def forward(self, x):
        mx = x.max(1, keepdim=True)[0]
        return torch.sigmoid(
            self.spatial(torch.cat((mx, mx, x.mean(1, keepdim=True)), 1)))


class Network_Fusion9_2(_Stage2):
    """Medical stage 2 (concat merge, tanh output)."""

    def __init__(self, C, genotypes):
        super().__init__(C, genotypes)
        self.stem_out4 = _stem_out(C, cin=2 * C, act=False)

    def forward(self, p, q, f):
        fp, fq = self.branches(p, q, f)
        return (torch.tanh(self.stem_out2(fp)), torch.tanh(self.stem_out3(fq)),
                torch.tanh(self.stem_out4(torch.cat((fp, fq), 1))))


def build_official(name):
    """``(model_1, model_2)`` of an official script (model_2 None: light)."""
    stage1 = Network_Fusion9_Meta(48, 1, fusion_M,
                                  ['Cell_Fusion', 'Cell_Chain2'])
    if name == 'light':
        return Network_Fusion9_Meta(48, 1, fusion_light,
                                    ['Cell_Chain2', 'Cell_Chain2']), None
    if name == 'ivif':
        return stage1, Network_Fusion9_3(
            48, [G2['fusion_ir_proposed'], G2['fusion_vis_proposed']])
    g = dict(ct=('fusion_mri', 'fusion_ct'),
             pet=('fusion_mri_pet', 'fusion_pet'),
             spect=('fusion_mri_spect', 'fusion_spect'))[name]
    return stage1, Network_Fusion9_2(48, [G2[g[0]], G2[g[1]]])


def perturb_(model, seed):
    """Randomise every parameter and BN statistic (exercise all of them)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point() or name.endswith('filt'):
                continue
            noise = torch.randn(t.shape, generator=gen) * 0.05
            if name.endswith('running_var'):
                t.copy_(t.abs() * 0.5 + 0.5 + noise.abs())
            else:
                t.add_(noise)
    return model


def seeded_official(name, seed=0):
    """``(model_1, model_2)`` of ``name`` with the weights of the tests and
    goldens: ``torch.manual_seed(seed)`` initialisation, :func:`perturb_`
    with seeds ``seed + 7`` / ``seed + 8`` and the stage-2 final bias set to
    0.5 (keeps the fused image in mid-range)."""
    torch.manual_seed(seed)
    m1, m2 = build_official(name)
    perturb_(m1, seed + 7)
    if m2 is not None:
        perturb_(m2, seed + 8)
        with torch.no_grad():
            m2.stem_out4[2].conv2d.bias.fill_(0.5)
    return m1, m2


# ---------------------------------------------------------------------------
# the official test scripts (IVIF/testFusion*.py,
# MmIF/test_fusion_Medical_*.py), CPU, batch 1
# ---------------------------------------------------------------------------
def _t(arr):
    return torch.from_numpy(np.ascontiguousarray(arr, np.float32))[None, None]


def save_image_array(x):
    """torchvision.utils.save_image of a (1, 1, H, W) tensor -> BGR uint8."""
    arr = x[0, 0].clamp(0, 1).mul(255).add(0.5).clamp(0, 255)
    arr = arr.to(torch.uint8).numpy()
    return np.repeat(arr[..., None], 3, axis=2)


def run_official_script(name, model_1, model_2, paths, pad=(0, 0),
                        pad_mode='reflect'):
    """The output image (what the script writes) of one pair.

    ``paths``: ivif ``(ir, vis)``, light ``(ir, vis)``, ct ``(mri, ct)``,
    pet ``(mri, pet)``, spect ``(mri, spect)``. ``pad`` = ``(new_h,
    new_w)``: the IVIF inputs are pre-padded bottom/right (offline in the
    official release) and the output cropped back.
    """
    with torch.no_grad():
        if name == 'ivif':
            imgs = []
            for p in paths:
                a = cv2.imread(p)[:, :, 0] / 255.
                a = np.pad(a, ((0, pad[0]), (0, pad[1])),
                           mode='reflect' if pad_mode == 'reflect' else
                           'edge')
                imgs.append(_t(a))
            ir, vis = imgs
            model_1.eval()
            model_2.train()  # quirk: model_2.eval() is commented out
            f = model_1(ir, vis)
            _, _, fused = model_2(vis, ir, f)
            h, w = fused.shape[-2:]
            return save_image_array(fused[:, :, :h - pad[0], :w - pad[1]])
        if name == 'light':
            ir, vis = (_t(cv2.imread(p, 0) / 255.) for p in paths)
            model_1.eval()
            return save_image_array(model_1(vis, ir))
        if name == 'ct':
            mri = _t(cv2.imread(paths[0])[:, :, 0] / 255.)
            ct = _t(cv2.imread(paths[1], 0) / 255.)
            model_1.eval()
            model_2.eval()
            _, _, fused = model_2(mri, ct, model_1(mri, ct))
            res = fused[0, 0].numpy()
            return (np.clip(res, 0, 1) * 255).astype(np.uint8)
        color = cv2.imread(paths[1])
        yuv = cv2.cvtColor(color, cv2.COLOR_BGR2YUV)
        y = _t(yuv[:, :, 0] / 255.)
        if name == 'pet':
            mri = _t(cv2.imread(paths[0], 0) / 255.)
            model_1.eval()
            model_2.eval()
            _, _, fused = model_2(y, mri, model_1(y, mri))
        else:  # spect: plt.imread (float in [0, 1]) then / 255. again
            from PIL import Image
            raw = np.asarray(Image.open(paths[0]))
            mri_f = np.divide(raw, 255, dtype=np.float32)
            mri_f = mri_f[:, :, 0] if mri_f.ndim == 3 else mri_f
            mri = _t(mri_f / 255.)
            model_1.train()  # quirk: neither model is put in eval mode
            model_2.train()
            _, _, fused = model_2(mri, y, model_1(mri, y))
        res = (np.clip(fused[0, 0].numpy(), 0, 1) * 255).astype(np.uint8)
        yuv[:, :, 0] = res
        return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR)
