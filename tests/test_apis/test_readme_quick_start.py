"""The README's Python quick start runs as written: SeAFusion's official
weights converted with the README's command, then the five lines."""
import os
import os.path as osp
import re
import shlex

import cv2
import numpy as np
import pytest
import torch

from mmfusenas.models.fusion.baselines import SeAFusionNet
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_readme_quick_start(shared_data, tmp_path, monkeypatch):
    official = osp.join(osp.dirname(shared_data), 'checkpoints',
                        'fusion_baselines', 'seafusion.pth')
    if not osp.isfile(official):
        pytest.skip(f'official weights not found: {official}')
    with open(osp.join(REPO, 'README.md')) as f:
        text = f.read()
    section = text[text.index('### Quick start from Python'):]
    command = re.search(r'```bash\n(.*?)```', section, re.S)[1].strip()
    code = re.search(r'```python\n(.*?)```', section, re.S)[1]
    assert len(code.strip().splitlines()) == 5
    words = shlex.split(command)
    assert words[:3] == ['python', 'tools/model_converters/'
                         'fusion_baselines_to_mmfusenas.py', 'seafusion']
    os.symlink(osp.join(REPO, 'configs'), tmp_path / 'configs')
    monkeypatch.chdir(tmp_path)
    # the README's command, ../shared as seen from the repository root
    load_tool(words[1]).main(
        [w.replace('../shared', osp.dirname(shared_data)) for w in words[2:]])
    assert osp.isfile(words[-1])
    code = code.replace('../shared/data', shared_data)
    code = code.replace('/01.png', '/07.png')  # 256 x 256 instead of 768 x 576
    torch.set_num_threads(1)
    exec(compile(code, 'README quick start', 'exec'), {})
    written = re.search(r"cv2\.imwrite\('([^']+)'", code)[1]
    assert written.startswith('work_dirs/')  # not into the repository root
    fused = cv2.imread(str(tmp_path / written), cv2.IMREAD_UNCHANGED)
    # by hand: the official network on (IR, VIS) in [0, 1], the image
    # min-max stretched and truncated to 8 bits (configs/baselines/
    # seafusion_ivif.py); both TNO images are grey
    ir, vi = (cv2.imread(osp.join(shared_data, 'fusion', 'TNO', m, '07.png'),
                         0) / 255. for m in ('ir', 'vi'))
    net = SeAFusionNet().eval()
    state = torch.load(official, map_location='cpu', weights_only=True)
    net.load_state_dict(state, strict=True)
    with torch.no_grad():
        out = net(torch.from_numpy(np.stack([ir, vi])).float()[None])[0, 0]
    out = (out - out.min()) / (out.max() - out.min())
    ref = torch.floor(out * 255).to(torch.uint8).numpy()
    assert fused.shape == ir.shape and fused.dtype == np.uint8
    assert np.abs(fused.astype(int) - ref).max() <= 1
