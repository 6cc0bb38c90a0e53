"""The toolbox RUAS networks equal the authors' networks
(github.com/vis-opt-group/RUAS, TPAMI 2022; github.com/KarelZhang/RUAS,
CVPR 2021; rebuilt in ``tests/helpers/ruas_official_reference.py``) on
real LOL images: the official TPAMI ``lol.pt`` for RUAS_A (noise gate open
and closed) and seeded CVPR weights for RUAS. Bit for bit with the
convolutions on ATen as in the authors' code (the switch
``direct_conv=False`` of :mod:`cpu_kernels.switches`);
within float rounding with the direct few-channel convolutions of the
CPU kernel plugin (``projects/cpu_kernels/cpu_kernels/direct_conv.py``).
The toolbox networks run with their kernel classes swapped in
(:func:`cpu_kernels.apply_cpu_kernels`, as ``init_model(...,
optimize='cpu_kernels')`` does); the plain networks equal the authors' bit
for bit either way."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

import cpu_kernels.direct_conv as DC
from cpu_kernels import apply_cpu_kernels
from mmfusenas.registry import MODELS
from helpers import REPO_ROOT, load_tool
from helpers import ruas_official_reference as REF
from cpu_kernels.switches import cpu_kernels

pytestmark = pytest.mark.usefixtures('one_thread')

CONV = load_tool('tools/model_converters/ruas_official_to_mmfusenas.py')
WEIGHTS = osp.join(
    osp.dirname(REPO_ROOT), 'shared', 'checkpoints', 'ruas_official',
    'lol.pt')


def toolbox(config, official_sd):
    """The toolbox network with the official weights: ``(plain network,
    the network with its CPU kernel classes)``."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'ruas', config))
    model = MODELS.build(cfg.model)
    sd, _ = CONV.convert_state_dict(official_sd, model.state_dict())
    model.load_state_dict(sd, strict=True)
    plain = copy.deepcopy(model.network).eval()
    report = apply_cpu_kernels(model)
    assert any(k == 'CpuRUASDistillationCell' for _, _, k in report.swapped)
    return plain, model.network.eval()


def lol(shared_data, stem):
    arr = np.array(
        Image.open(
            osp.join(shared_data, 'lowlight', 'lol', 'test',
                     f'{stem}.png')).convert('RGB'))[:160, :240]
    return torch.from_numpy(arr).permute(2, 0, 1)[None].float() / 255


def same(a, b, exact):
    if exact:
        assert torch.equal(a, b)
    else:
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


@pytest.fixture(params=[True, False], ids=['aten', 'direct'])
def exact(request, monkeypatch):
    """True: ATen's convolutions (``direct_conv=False``, bit for bit);
    False: the direct few-channel convolutions, on these 160 x 240 crops
    too."""
    if request.param:
        with cpu_kernels(direct_conv=False):
            yield True
    else:
        monkeypatch.setattr(DC, 'DIRECT_MIN_PIXELS', 1)
        yield False


def test_ruas_a_equals_official_network(shared_data, exact):
    if not osp.isfile(WEIGHTS):
        pytest.skip(f'official RUAS weights not found: {WEIGHTS}')
    official = REF.Network().eval()
    official.load_state_dict(
        torch.load(WEIGHTS, map_location='cpu', weights_only=True))
    plain, ours = toolbox('ruas_a_lol.py', official.state_dict())
    with torch.no_grad():
        for stem, denoised in (('00271', True), ('00001', False)):
            x = lol(shared_data, stem)
            u_list, _, level = official(x)
            ref = plain(x, return_all=True)
            assert ref.noise_level.item() == level.item()
            same(ref.pred, u_list[-1], True)
            out = ours(x, return_all=True)
            assert (len(u_list) == 4) == denoised
            assert len(out.u_list) == len(u_list)
            if exact:
                assert out.noise_level.item() == level.item()
            else:  # the gate's margin on these images is far larger
                assert out.noise_level.item() == pytest.approx(
                    level.item(), rel=1e-5)
            same(out.pred, u_list[-1], exact)


def test_ruas_cvpr_equals_official_network(shared_data, exact):
    torch.manual_seed(0)
    official = REF.CVPRNetwork().eval()
    plain, ours = toolbox('ruas_lol.py', official.state_dict())
    x = lol(shared_data, '00451')
    with torch.no_grad():
        u_list, t_list = official(x)
        ref = plain(x, return_all=True)
        out = ours(x, return_all=True)
    assert len(out.u_list) == len(ref.u_list) == 4
    for a, b in zip(ref.u_list + ref.t_list, u_list + t_list):
        same(a, b, True)
    for a, b in zip(out.u_list + out.t_list, u_list + t_list):
        same(a, b, exact)
